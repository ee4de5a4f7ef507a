"""Each study's agreement band, asserted on the real pipeline, and where each of its archsim
figures comes from (tests/studies/provenance.py). A study that does not run fails
(every stage has landed), as does an archsim error. A row outside its band fails unless it is a
KNOWN gap below (matched by substring of the metric) — and then the study must explain it in its
`gaps`, which docs/validation.md shows. A known gap that closes raises a warning so this list and
the docs are updated."""
from __future__ import annotations

from functools import lru_cache
import re
import warnings

import pytest

from archsim.studies import scale_sim
from archsim.studies.registry import run_study
from archsim.studies.study import NotReady
from tests.studies.provenance import check_study

#: study → metric substrings known to be outside their band (reasons: the study's `gaps`)
KNOWN_OUT_OF_BAND: dict[str, tuple[str, ...]] = {
    # 32 heads assumed (the paper's count is not in its abstract): FA2 uses 32 of 108 SMs → ~5×
    "lean-attention": ("speedup at 512k, batch 1, 32 heads (a100-80gb)",),
    # forward-only proxies (no backward pass in the engine) for forward+backward / training figures
    "flashattention": ("attention speedup, 12 heads d=64 batch 8, N=", "end-to-end speedup vs HuggingFace"),
    # the FPGA now draws 10.1 W (DSPs with their fabric and the MPSoC's PS priced from the vendor
    # estimator, issue #12) against the CPU stand-in's 67 W, 60 W of it an assumed idle floor: 2.7x
    # against the paper's 4.9x (the study's gap says so); the GPU ratio, 1.75x vs 2.24x, is in band
    "edge-moe": ("energy efficiency vs CPU (xeon-gold-6154)",),
    # the paper's FPGA board is not identified; zcu102 stands in (its gaps give the numbers)
    "matmulfree-fpga": ("matmulfree-1.3b decode tokens/s", "matmulfree-1.3b board power"),
    # the engine times both LMs' decode as LPDDR4X-bound, where KV reads are ~10% of the bytes, and
    # the ViT on an HMX it keeps busy: 1.1x decode, 1.4x / 3.3x encoder, 1.5x end to end (the study's gaps)
    "autoneural": ("decode speed-up, hybrid vs Transformer", "vision encoder speed-up at 256 px",
                   "vision encoder speed-up at 768 px", "end-to-end speed-up"),
    "pim-gpt": ("speedup vs GPU, ", "speedup vs CPU, ", "energy efficiency vs GPU, ",
                "energy efficiency vs CPU, ", ": CPU ratios > GPU ratios", "ASIC clock ÷10",
                "speedup 8 → 16 channels",
                # on the system, gpt2-small at cycle fidelity: 1.60x once the ASIC's 64 B/cycle
                # SRAM (assumed) is timed at its ports (issue #18); the study's gap says so
                "channel scaling 8 → 16 on pim-gpt-system (gpt2-small"),
    # equal-batch comparison without AttAcc's FFN/pipeline overlap; the GPUs' FC work bounds the
    # token (the study's gap says where and by how much)
    "attacc": ("GPT-3 175B speedup, GPU+AttAcc",),
    # two sub-batches stream the NPU's weights twice (no reuse across sub-batches; see the gap)
    "neupims": ("NeuPIMs throughput vs NPU-only", "NeuPIMs throughput vs naive NPU+PIM"),
    # out-of-sample GPU check: the T4 rows follow its 70 W limit and its transferred (not measured)
    # MAC energy: x1.26-1.39 too slow once 16-bit MACs are priced at fp16 (they were at int4's
    # price: x0.55-0.59 too fast); PyTorch's reference attention runs ~2.8 more passes over S than
    # Algorithm 0 (x1.94); the study's gaps give the numbers
    # H100 FP8 first-token latency (TensorRT-LLM v0.5) x0.55-0.63: the fit saw no FP8 kernel
    "gpu-baselines": ("t4 bert-large s128 b1", "t4 bert-base s128 b128", "t4 bert-large s384 b128",
                      "h100 standard attention fwd, S=512 B=32",
                      "h100 llama2-7b first token, 128 prompt (FP8)",
                      "h100 llama2-7b first token, 2048 prompt (FP8)"),
}


def _known(name: str, metric: str) -> bool:
    return any(k in metric for k in KNOWN_OUT_OF_BAND.get(name, ()))


@lru_cache(maxsize=None)
def _result(name: str):
    return run_study(name)


def _check(name: str, res=None):
    res = res or _result(name)
    assert res.status != "not-run", f"{name} not run: {res.reason}"
    assert res.status != "error", res.reason
    failed = {r.metric for r in res.failed}
    unexpected = {m for m in failed if not _known(name, m)}
    assert not unexpected, [(r.metric, r.published, r.archsim, r.ratio, r.band)
                            for r in res.failed if r.metric in unexpected]
    closed = {r.metric for r in res.checked if r.within_band and _known(name, r.metric)
              and any(r.metric == k for k in KNOWN_OUT_OF_BAND[name])}
    if closed:
        warnings.warn(f"{name}: known gap now inside its band, update KNOWN_OUT_OF_BAND: {closed}")
    if failed:
        assert res.gaps, "out-of-band rows must be explained in the study's gaps"
    assert res.checked, "a study must check at least one row"
    check_study(res)          # every archsim figure: recomputed from its simulator results
    return res


def test_flashattention():
    res = _check("flashattention")
    rows = {r.metric.split(" (")[0]: r for r in res.rows}
    assert rows["attention speedup, GPT-2 medium N=1K batch 64"].within_band
    assert rows["FlashAttention moves fewer HBM bytes and runs faster"].within_band
    assert all(r.basis == "engine" for r in res.rows)


def test_gpu_baselines():
    res = _check("gpu-baselines")
    checked = res.checked
    assert len(checked) >= 12
    assert {r.metric.split(" ")[0] for r in checked} >= {"h100", "a100", "t4", "orin"}
    assert all(r.band == (0.75, 1.25) and r.basis == "engine" for r in checked)
    # the A100 end-to-end rows (lmdeploy, TensorRT-LLM, TensorRT BERT) and FlashAttention-2 on
    # the H100 all sit inside +-25 %: the transferred H200 fit holds on those chips
    inside = {r.metric for r in checked if r.within_band}
    assert {r.metric for r in checked if r.metric.startswith("a100 ")} <= inside
    assert {r.metric for r in checked if " FA2 " in r.metric} <= inside


def test_long_context():
    res = _check("long-context")
    kv = {r.metric: r.archsim for r in res.rows if r.metric.startswith("KV cache")}
    assert kv["KV cache at 50K"] / kv["KV cache at 4K"] == pytest.approx(50_000 / 4096, rel=1e-3)
    rows = {r.metric: r for r in res.rows}
    # 50K tokens do not fit in one pass; chunked prefill runs them, slower than the 4K pass × 12
    assert rows["prefill 50K in one pass, engine"].archsim == "does not fit"
    assert rows["prefill 50K fits one A100-80GB in chunks of 4,096 (engine)"].within_band
    assert rows["prefill 50K (chunks of 4,096), engine"].archsim > \
        50_000 / 4096 * rows["prefill 4K (one pass), engine"].archsim


def test_lean_attention():
    _check("lean-attention")


def test_pim_gpt():
    res = _check("pim-gpt")
    ranges = [r for r in res.rows if ", lowest of " in r.metric or ", highest of " in r.metric]
    assert len(ranges) == 8, "speedup and energy-efficiency ranges vs GPU and CPU"
    inside = {r.metric.split(" (")[0] for r in res.checked if r.within_band}
    assert "DRAM row-hit rate" in inside
    # diagnostics: info rows (no band) that put numbers on the gaps
    share = next(r for r in res.rows if "non-VMM" in r.metric)
    assert share.within_band is None and share.published == pytest.approx(1.16)
    assert share.metric.startswith("gpt3-1.3b") and 0 < share.archsim < 100
    implied = {r.metric.split(" (")[0]: r for r in res.rows if "roofline bound" in r.metric}
    assert set(implied) == {"T4", "Xeon"}
    failed = {r.metric for r in res.failed}
    speed_gap = next((g for g in res.gaps if g.startswith("Speedups fall")), "")
    assert bool(speed_gap) == any(m.startswith("speedup vs") for m in failed)
    for label, row in implied.items():
        assert row.within_band is None and 0 < row.archsim < 100
        lo, hi = (float(x) for x in row.note.split(" reaches ")[1].split("%")[0].split("–"))
        assert row.archsim < lo <= hi <= 100, "implied efficiency below archsim's own baseline's"
        if speed_gap:
            assert re.search(rf"{label} (ran )?at ≤ {row.archsim:.1f}%", speed_gap), label
            assert f"{lo:.0f}–{hi:.0f}%" in speed_gap
    clock_gap = next((g for g in res.gaps if g.startswith("The 10× slower ASIC")), "")
    assert bool(clock_gap) == any(m.startswith("ASIC clock") for m in failed)
    if clock_gap:
        assert f"{share.archsim:.1f}% on gpt3-1.3b" in clock_gap and "1.16%" in clock_gap
    # eager-framework sensitivity of the GPU baseline: more host time per kernel, higher speedups
    eager = [r for r in res.rows if "ran eagerly" in r.metric]
    assert len(eager) == 2
    lows = [float(r.archsim.split("–")[0]) for r in eager]
    assert lows[0] <= lows[1] and "ran eagerly" not in " ".join(r.metric for r in res.failed)
    # the what-if on the unpublished ASIC width: a wider ASIC makes the clock cost smaller
    what_if = {r.metric.split(" with a ")[0]: r for r in res.rows if " wider ASIC " in r.metric}
    base_cost = next(r.archsim for r in res.rows if r.metric == "ASIC 1 GHz → 100 MHz latency cost")
    assert 0 <= what_if["ASIC 1 GHz → 100 MHz latency cost"].archsim < base_cost
    assert any(r.metric.startswith("ASIC width for a ≤ 1.16% non-VMM share") for r in res.rows)
    assert any(g.startswith("What-if on the ASIC's width") for g in res.gaps)
    # on the system (ASIC + PIM as devices, ops streamed in slices) the ASIC's work overlaps the
    # PIM's: less of the token is left without VMM work than with whole ops
    exposed = next(r for r in res.rows if "exposed non-VMM share on pim-gpt-system" in r.metric)
    whole = float(exposed.note.split("no streaming: ")[1].split("%")[0])
    assert exposed.within_band is None and exposed.published == pytest.approx(1.16)
    assert 0 < exposed.archsim < whole
    scaling = [r for r in res.checked if r.metric.startswith("channel scaling 8 → 16 on pim-gpt-system")]
    assert len(scaling) == 2


def test_edge_moe():
    res = _check("edge-moe")
    assert sum(r.metric.startswith("energy efficiency vs") for r in res.checked) == 2


def test_mcuformer():
    _check("mcuformer")


def test_scale_sim():
    # a subset of the study's suite (the full one runs in `archsim reproduce scale-sim`)
    try:
        res = scale_sim.run(suite=((64, 64, 64), (100, 30, 50), (1, 512, 256)), arrays=((32, 32),))
    except NotReady as exc:
        from tests.requires import missing
        missing("SCALE-Sim (its venv)", f"{exc}; .ci/run creates it")
    res = _check("scale-sim", res)
    cycles = [r for r in res.checked if r.metric.endswith("cycles")]
    assert {r.metric.split()[0] for r in cycles} == {"OS", "WS", "IS"}


def test_attacc():
    res = _check("attacc")
    checked = {r.metric.split(",")[0] for r in res.checked}
    assert checked == {"GPT-3 175B speedup", "GPT-3 175B energy efficiency"}
    assert {r.published for r in res.checked} == {2.81, 2.67}
    per_point = [r for r in res.rows if "speedup vs 2xDGX" in r.metric]
    assert len(per_point) == 5 * 3, "bank, bank group (each with and without the limit), buffer × 3 batches"
    # the power limit never makes the same placement faster
    by = {r.metric: r.archsim for r in per_point}
    for b in (1, 16, 64):
        assert by[f"AttAcc bank, power-limited, batch {b}: speedup vs 2xDGX"] <= \
            by[f"AttAcc bank, batch {b}: speedup vs 2xDGX"] * (1 + 1e-9)


def test_neupims():
    res = _check("neupims")
    assert {r.published for r in res.checked} == {2.4, 1.6}
    steps = {r.metric: r.archsim for r in res.rows if r.metric.endswith("decode step")}
    assert len(steps) == 3 and all(v > 0 for v in steps.values())


def test_autoneural():
    res = _check("autoneural")
    rows = {r.metric: r for r in res.rows}
    speedup = [r.archsim for m, r in rows.items() if m.startswith("decode speed-up")]
    assert all(s > 1 for s in speedup) and speedup[1] > speedup[0]   # fewer KV reads, more so at 32K
    # the context ratio is the engine's KV bytes per token: 16 attention layers against 6
    assert rows["longest context, hybrid ÷ Transformer"].archsim == pytest.approx(16 / 6, rel=0.02)
    longest = [r for m, r in rows.items() if "longest context in" in m]
    assert len(longest) == 2 and all(r.archsim > 100_000 and "True" in r.note and r.note.endswith("False")
                                     for r in longest)
    encoder = [r.archsim for m, r in rows.items() if m.startswith("vision encoder speed-up at")]
    assert 1 < encoder[0] < encoder[1]                   # the ViT's attention grows with the square
    assert rows["op kinds without a unit on sa8295p-npu (fallbacks)"].archsim == 0


def test_melt():
    res = _check("melt")
    assert res.status == "partial" and res.missing     # MELT's own figures are not stored
    rows = {r.metric: r for r in res.rows}
    assert rows["on-device decode is largely memory-bound (MELT's conclusion)"].within_band
    for hw in ("jetson-agx-orin", "snapdragon-8-gen-2"):
        small = rows[f"tinyllama-1.1b decode on {hw}"].archsim
        large = rows[f"llama2-7b decode on {hw}"].archsim
        assert small > 3 * large > 0
        assert rows[f"llama2-7b energy per token on {hw}"].archsim > rows[f"tinyllama-1.1b energy per token on {hw}"].archsim
        traffic = rows[f"llama2-7b on {hw}: off-chip traffic"]
        assert 0 < traffic.archsim <= float(traffic.note.split("streams ")[1].split(" GB/s")[0])
