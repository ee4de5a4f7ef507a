"""How fast archsim estimates, against the targets of issue #20. Prints one JSON line.

    python benchmarks/simulate.py [--repeat 3] [--skip-cycle] [--dram-model burst] [--genz-python PATH]

Measured in this process unless said otherwise, with the Numba kernels compiled beforehand
(`archsim warmup`) and the persistent mapping cache in a fresh temporary folder:

- `cold_estimates_per_s`: a fixed mix of zoo models × chips (MIX) at analytic fidelity, every
  mapping searched (empty in-memory and on-disk caches). Target ≥ 3/s.
- `warm_estimates_per_s`: the same mix again, mappings from the persistent cache (in-memory cache
  emptied first: what a new process or another sweep point sees). Target ≥ 20/s (≤ 50 ms each).
- `process_wall_s`: whole-process wall time of `archsim simulate --model llama2-7b --hw h200-sxm
  --phase decode --context 1024 --json -` with a warm mapping cache, best of `--repeat`.
  Target ≤ 1.0 s. `help_wall_s`: `archsim --help` (target < 1 s).
- `pim_gpt_cycle_prefill_s`: llama2-7b prefill on pim-gpt enlarged (dram.rows=262144) at cycle
  fidelity, 2K / 8K / 32K tokens, warm mapping cache, on the default DRAM path (`controller`,
  `engine.execute.DEFAULT_DRAM_MODEL`) or the one `--dram-model` names; each point records the
  path it ran (`dram_model`). Target: 32K ≤ 4 × 8K. (Before the controller path became the
  default, session 8's 8.2 / 18.0 / 65.2 s CPU were the burst path's: `--dram-model burst`.)
- `genz`: GenZ's warm per-estimate time for LLaMA-2-7B decode 1K / prefill 2K (run in its own venv
  by `benchmarks/genz_llama.py`) next to archsim's for the same two estimates on h200-sxm (warm
  mapping cache); target archsim ÷ GenZ ≤ 2. Without a GenZ venv the line says why.

Every time is reported as wall (`*_s`) and, because the machine may be shared, also as this
process's CPU time (`*_cpu_s`, from `time.process_time` or the children's rusage); rates both
ways (`*_per_s` by wall, `*_per_cpu_s` by CPU). `load_average` samples the 1-minute load average
every second while the benchmark runs (min / mean / max, with the CPU count) and
`cpu_share_of_wall` is the in-process estimates' CPU time ÷ their wall time: on a loaded machine (load above
the CPU count, share well below 1) the wall figures are inflated by waiting for a CPU and the CPU
figures are the ones to judge by. `within_target` judges every target by CPU time (the
whole-process and `--help` targets by the child's user + system time), `within_target_wall` by
wall time. Exit code 0 even when a target is missed: the JSON line says which.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

#: (model, chip, phase, tokens) — decoders in both phases, an encoder, a ViT on an MCU
MIX = (
    ("llama2-7b", "h200-sxm", "decode", 1024),
    ("llama2-7b", "h200-sxm", "prefill", 2048),
    ("llama2-7b", "pim-gpt", "decode", 1024),
    ("gpt2-xl", "pim-gpt", "prefill", 512),
    ("bert-base", "tpu-v1", "encode", 128),
    ("gpt2-small", "edge-npu", "decode", 256),
    ("deit-tiny", "stm32f746", "encode", None),
    ("llama2-13b", "a100-80gb", "decode", 2048),
)
PROCESS = ["simulate", "--model", "llama2-7b", "--hw", "h200-sxm", "--phase", "decode",
           "--context", "1024", "--fidelity", "analytic", "--json", "-"]
CYCLE_TOKENS = (2048, 8192, 32768)
CYCLE_ROWS = 262144
TARGETS = {"cold_estimates_per_s": 3.0, "warm_estimates_per_s": 20.0, "process_wall_s": 1.0,
           "help_wall_s": 1.0, "cycle_32k_over_8k": 4.0, "genz_ratio": 2.0}
GENZ_PYTHON = "/tmp/or-cache-dir/genz-venv/bin/python"


def _kw(phase, tokens):
    if tokens is None:
        return {"phase": phase}
    return {"phase": phase, "context": tokens} if phase == "decode" else {"phase": phase, "seq": tokens}


def _timed(fn):
    w, c = time.perf_counter(), time.process_time()
    value = fn()
    return value, time.perf_counter() - w, time.process_time() - c


def run_mix(api, clear) -> tuple[float, float]:
    """(wall, cpu) seconds for one pass over MIX, `clear()` called before each estimate."""
    wall = cpu = 0.0
    for model, chip, phase, tokens in MIX:
        clear()
        _, w, c = _timed(lambda: api.simulate(model, chip, **_kw(phase, tokens)))
        wall, cpu = wall + w, cpu + c
    return wall, cpu


def child_wall(argv, repeat, env) -> tuple[float, float, int, str]:
    """Best wall and CPU (user + sys of the child) of `repeat` runs; exit code and last stderr line."""
    best_w = best_c = float("inf")
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        proc = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=ROOT)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if proc.returncode != 0:
            return wall, 0.0, proc.returncode, (proc.stderr.strip().splitlines() or [""])[-1]
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        best_w, best_c = min(best_w, wall), min(best_c, cpu)
    return best_w, best_c, 0, ""


class LoadSampler:
    """The 1-minute load average sampled every `every_s` seconds on a background thread."""

    def __init__(self, every_s: float = 1.0):
        self.samples: list[float] = [os.getloadavg()[0]]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(every_s,), daemon=True)

    def _run(self, every_s: float) -> None:
        while not self._stop.wait(every_s):
            self.samples.append(os.getloadavg()[0])

    def __enter__(self) -> "LoadSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.samples.append(os.getloadavg()[0])

    def summary(self) -> dict:
        s = self.samples
        return {"min": round(min(s), 1), "mean": round(sum(s) / len(s), 1), "max": round(max(s), 1),
                "samples": len(s), "cpus": os.cpu_count()}


def genz_side(python: str | None) -> dict:
    python = python or os.environ.get("ARCHSIM_GENZ_PYTHON") or GENZ_PYTHON
    if not Path(python).exists():
        return {"available": False, "why": f"no GenZ venv at {python} (see benchmarks/genz_llama.py"
                                           " for the two commands that create it)"}
    proc = subprocess.run([python, str(ROOT / "benchmarks" / "genz_llama.py")], capture_output=True,
                          text=True)
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return {"available": False, "why": f"GenZ failed to run: {last}"}
    return {"available": True, **json.loads(proc.stdout.strip().splitlines()[-1])}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-cycle", action="store_true", help="leave out the long cycle runs")
    parser.add_argument("--cycle-only", action="store_true", help="only the pim-gpt cycle prefill runs")
    parser.add_argument("--dram-model", default=None, help="the cycle runs' DRAM path (default: the "
                                                           "engine's default, controller)")
    parser.add_argument("--genz-python", help=f"GenZ venv's python (default {GENZ_PYTHON})")
    args = parser.parse_args(argv)
    cache = tempfile.mkdtemp(prefix="archsim-bench-cache-")
    os.environ["ARCHSIM_CACHE_DIR"] = cache
    os.environ.pop("ARCHSIM_NO_CACHE", None)
    line: dict = {"benchmark": "simulate", "mix": [" ".join(str(x) for x in m if x is not None)
                                                   for m in MIX]}
    sampler = LoadSampler()
    try:
        with sampler:
            measure(line, args)
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    line["load_average"] = sampler.summary()
    by_cpu, by_wall = {}, {}
    if not args.cycle_only:
        by_cpu, by_wall = _estimate_targets(line)
    if "cycle_32k_over_8k_cpu" in line:
        by_cpu["cycle_32k_over_8k"] = line["cycle_32k_over_8k_cpu"] <= TARGETS["cycle_32k_over_8k"]
        by_wall["cycle_32k_over_8k"] = line["cycle_32k_over_8k_wall"] <= TARGETS["cycle_32k_over_8k"]
    if "genz_ratio_cpu" in line:
        by_cpu["genz_ratio"] = max(line["genz_ratio_cpu"].values()) <= TARGETS["genz_ratio"]
        by_wall["genz_ratio"] = max(line["genz_ratio_wall"].values()) <= TARGETS["genz_ratio"]
    line["targets"] = TARGETS
    line["within_target"] = by_cpu
    line["within_target_wall"] = by_wall
    print(json.dumps(line, sort_keys=True))
    return 0


def _estimate_targets(line: dict) -> tuple[dict, dict]:
    """The analytic parts' targets, judged by CPU time and by wall time."""
    by_cpu = {
        "cold_estimates_per_s": line["cold_estimates_per_cpu_s"] >= TARGETS["cold_estimates_per_s"],
        "warm_estimates_per_s": line["warm_estimates_per_cpu_s"] >= TARGETS["warm_estimates_per_s"],
        "process_wall_s": line["process_cpu_s"] <= TARGETS["process_wall_s"],
        "help_wall_s": line["help_cpu_s"] < TARGETS["help_wall_s"],
    }
    by_wall = {
        "cold_estimates_per_s": line["cold_estimates_per_s"] >= TARGETS["cold_estimates_per_s"],
        "warm_estimates_per_s": line["warm_estimates_per_s"] >= TARGETS["warm_estimates_per_s"],
        "process_wall_s": line["process_wall_s"] <= TARGETS["process_wall_s"],
        "help_wall_s": line["help_wall_s"] < TARGETS["help_wall_s"],
    }
    return by_cpu, by_wall


def measure(line: dict, args) -> None:
    """Fill `line` with every measurement (see the module's docstring)."""
    from archsim import api
    if not args.cycle_only:
        estimates(line, api, args)
    if not args.skip_cycle:
        cycle_prefill(line, api, args.dram_model)


def estimates(line: dict, api, args) -> None:
    """The analytic-fidelity parts: cold and warm estimates per second over MIX, one process's wall
    time, `--help`, and archsim beside GenZ on LLaMA-2-7B."""
    import archsim.mapper.cache as C
    from archsim.mapper import persistent_cache as P

    api.simulate("gpt2-small", "h200-sxm", phase="decode", context=16)   # imports, kernels
    P.disk_clear()
    wall, cpu = run_mix(api, C.cache_clear)
    n = len(MIX)
    line.update(cold_estimates_per_s=round(n / wall, 2), cold_estimates_per_cpu_s=round(n / cpu, 2))
    best_w = best_c = float("inf")
    all_w, all_c = wall, cpu
    for _ in range(args.repeat):
        wall, cpu = run_mix(api, C.cache_clear)
        best_w, best_c = min(best_w, wall), min(best_c, cpu)
        all_w, all_c = all_w + wall, all_c + cpu
    line["cpu_share_of_wall"] = round(all_c / all_w, 2)       # of the in-process estimates
    line.update(warm_estimates_per_s=round(n / best_w, 2),
                warm_estimates_per_cpu_s=round(n / best_c, 2),
                warm_ms_per_estimate=round(1e3 * best_w / n, 1),
                warm_cpu_ms_per_estimate=round(1e3 * best_c / n, 1))

    env = dict(os.environ)
    exe = [sys.executable, "-m", "archsim"]
    w, c, code, err = child_wall(exe + PROCESS, 1, env)        # fills the cache for PROCESS
    w, c, code, err = child_wall(exe + PROCESS, args.repeat, env)
    line.update(process_command="archsim " + " ".join(PROCESS), process_wall_s=round(w, 3),
                process_cpu_s=round(c, 3))
    if code:
        line.update(process_exit_code=code, process_error=err)
    w, c, code, _ = child_wall(exe + ["--help"], args.repeat, env)
    line.update(help_wall_s=round(w, 3), help_cpu_s=round(c, 3))

    ours = {}
    for name, (phase, tokens) in {"decode_1k": ("decode", 1024),
                                  "prefill_2k": ("prefill", 2048)}.items():
        best_w = best_c = float("inf")
        for _ in range(max(args.repeat, 3)):
            C.cache_clear()
            _, w, c = _timed(lambda: api.simulate("llama2-7b", "h200-sxm", **_kw(phase, tokens)))
            best_w, best_c = min(best_w, w), min(best_c, c)
        ours[name] = {"wall_s": round(best_w, 4), "cpu_s": round(best_c, 4)}
    genz = genz_side(args.genz_python)
    line["archsim_llama2_7b_h200"] = ours
    line["genz"] = genz
    if genz.get("available"):
        line["genz_ratio_cpu"] = {k: round(ours[k]["cpu_s"] / genz[k]["cpu_s"], 2) for k in ours}
        line["genz_ratio_wall"] = {k: round(ours[k]["wall_s"] / genz[k]["wall_s"], 2) for k in ours}



def cycle_prefill(line: dict, api, dram_model: str | None = None) -> None:
    """llama2-7b prefill on the enlarged pim-gpt at cycle fidelity per CYCLE_TOKENS on the DRAM
    path `dram_model` (None: the default): wall and CPU seconds (mapped beforehand, kernels loaded
    by a small cycle run first) and the simulated latency; the 32K / 8K ratios."""
    hw = api.arguments.resolve_hardware("pim-gpt", {"dram.rows": CYCLE_ROWS})
    api.simulate("gpt2-small", hw, phase="decode", context=16, fidelity="cycle",
                 dram_model=dram_model)                                           # loads kernels
    cyc = {}
    for seq in CYCLE_TOKENS:
        api.simulate("llama2-7b", hw, phase="prefill", seq=seq)          # maps (analytic)
        r, w, c = _timed(lambda: api.simulate("llama2-7b", hw, phase="prefill", seq=seq,
                                              fidelity="cycle", dram_model=dram_model))
        cyc[str(seq)] = {"wall_s": round(w, 2), "cpu_s": round(c, 2), "latency_s": r.latency_s,
                         "dram_model": r.dram_model}
    line["pim_gpt_cycle_prefill"] = cyc
    line["cycle_32k_over_8k_cpu"] = round(cyc["32768"]["cpu_s"] / cyc["8192"]["cpu_s"], 2)
    line["cycle_32k_over_8k_wall"] = round(cyc["32768"]["wall_s"] / cyc["8192"]["wall_s"], 2)


if __name__ == "__main__":
    sys.exit(main())
