"""archsim side by side with Vidur (Agrawal et al., MLSys 2024; `vidur` on PyPI) on the same GPU and
model: Llama-2-7B on an H100. Prints one JSON line.

    python benchmarks/vidur_compare.py

Vidur predicts serving from kernel times profiled on real GPUs (its `data/profiling/compute/<gpu>/
<model>/{mlp,attention}.csv`), archsim from its own simulation of each step. Two levels:

1. Kernel level (runs whenever Vidur's profile CSV is at hand): the per-layer kernels Vidur profiled
   for H100 + Llama-2-7B (QKV projection, output projection, gated up projection, down projection,
   SwiGLU, RMSNorm, RoPE) at each profiled token count, against archsim's simulated time of the same
   ops in a prefill of that many tokens; both and the ratio archsim / Vidur.
2. Serving level (Vidur's simulator on a shared trace and vLLM scheduler): runs only when Vidur and
   its attention profile are present. Here they are not, and the JSON says exactly why: the PyPI
   package (0.0.26) downloads its profiles and trained predictors from Hugging Face datasets at run
   time (`project-vajra/...`), which this machine cannot reach; the GitHub source reads local CSVs,
   but its `attention.csv` files are Git LFS objects that a source snapshot does not carry.

`ARCHSIM_VIDUR_DATA` points at a Vidur checkout's root (holding `data/profiling`); default
/tmp/or-cache-dir/vidur-src. `ARCHSIM_VIDUR_PYTHON`: a Python with `vidur` installed (default
/tmp/or-cache-dir/vidur-venv/bin/python; vidur's pins clash with archsim's, so it lives in its
own venv like SCALE-Sim).
"""
from __future__ import annotations

import csv
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

DATA = Path(os.environ.get("ARCHSIM_VIDUR_DATA", "/tmp/or-cache-dir/vidur-src"))
PYTHON = os.environ.get("ARCHSIM_VIDUR_PYTHON", "/tmp/or-cache-dir/vidur-venv/bin/python")
PROFILE = DATA / "data/profiling/compute/h100/meta-llama/Llama-2-7b-hf"
TOKENS = (1, 16, 64, 256, 512, 1024, 2048, 4096)
#: Vidur's profiled op → archsim's ops in layer 0 of the same model
GROUPS = {
    "attn_pre_proj": ("L0.attn.q", "L0.attn.k", "L0.attn.v"),
    "attn_post_proj": ("L0.attn.o",),
    "mlp_up_proj": ("L0.mlp.gate", "L0.mlp.up"),
    "mlp_down_proj": ("L0.mlp.down",),
    "mlp_act": ("L0.mlp.act",),
    "input_layernorm": ("L0.norm1",),
    "attn_rope": ("L0.attn.rope_q", "L0.attn.rope_k"),
}


def vidur_rows() -> dict[int, dict[str, float]]:
    """num_tokens → Vidur's median time per op (seconds), one GPU (no tensor parallelism)."""
    out = {}
    with open(PROFILE / "mlp.csv", newline="") as f:
        for row in csv.DictReader(f):
            if int(row["num_tensor_parallel_workers"]) != 1:
                continue
            out[int(row["num_tokens"])] = {g: float(row[f"time_stats.{g}.median"]) * 1e-3 for g in GROUPS}
    return out


def kernel_level() -> dict:
    from archsim import api
    profiled = vidur_rows()
    rows = []
    for tokens in TOKENS:
        if tokens not in profiled:
            continue
        r = api.simulate("llama2-7b", "h100-sxm", phase="prefill", seq=tokens)
        ops = {o.name: o.latency_s for o in r.ops}
        archsim = {g: sum(ops[n] for n in names) for g, names in GROUPS.items()}
        total_a, total_v = sum(archsim.values()), sum(profiled[tokens].values())
        rows.append({"tokens": tokens, "archsim_layer_s": total_a, "vidur_layer_s": total_v,
                     "ratio": total_a / total_v,
                     "ops": {g: {"archsim_s": archsim[g], "vidur_s": profiled[tokens][g],
                                 "ratio": archsim[g] / profiled[tokens][g]} for g in GROUPS}})
    by_op = {g: statistics.median(r["ops"][g]["ratio"] for r in rows) for g in GROUPS}
    return {"rows": rows, "median_ratio_layer": statistics.median(r["ratio"] for r in rows),
            "median_ratio_by_op": by_op}


def serving_level_blocker() -> str | None:
    """Why Vidur's serving simulation cannot run here (None: it can)."""
    try:
        probe = subprocess.run([PYTHON, "-c", "import vidur, sys; print(vidur.__file__)"],
                               capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"no Python with vidur at {PYTHON} ({exc})"
    if probe.returncode != 0:
        return f"vidur does not import with {PYTHON}"
    attention = PROFILE / "attention.csv"
    if not attention.is_file():
        return (f"Vidur's attention profile {attention} is missing: in microsoft/vidur it is a Git LFS "
                "object (10.8 MB) that source snapshots do not carry, and the PyPI package "
                f"({probe.stdout.strip()}) instead downloads profiles and trained predictors from "
                "Hugging Face datasets (project-vajra/...) at run time, unreachable from this machine")
    return None


def main() -> None:
    out = {"benchmark": "vidur_compare", "model": "llama2-7b (Vidur: meta-llama/Llama-2-7b-hf)",
           "hw": "h100-sxm (Vidur: h100 profile)"}
    if (PROFILE / "mlp.csv").is_file():
        out["kernel_level"] = kernel_level()
    else:
        out["kernel_level"] = None
        out["kernel_level_blocker"] = f"no Vidur profile at {PROFILE / 'mlp.csv'} (set ARCHSIM_VIDUR_DATA)"
    blocker = serving_level_blocker()
    out["serving_level"] = None if blocker else "not implemented: Vidur is runnable here, add the run"
    out["serving_level_blocker"] = blocker
    print(json.dumps(out, sort_keys=True))


if __name__ == "__main__":
    main()
