"""NeuPIMs (Heo et al., ASPLOS 2024): an NPU for the GEMMs and dual-row-buffer PIM for the
attention GEMVs, with sub-batch interleaving, against NPU-only and a naive NPU+PIM (no
interleaving) — through the system simulator (`hwconfigs/systems/neupims.yaml`,
`simulate_system(sub_batches=2)`) and the NPU chip alone, against the abstract's throughput gains."""
from __future__ import annotations

from .study import FACTOR_1_5, compare, finish, info, measured

__all__ = ["TITLE", "SOURCE", "ASSUMPTIONS", "run", "PUBLISHED"]

TITLE = "NeuPIMs: NPU + dual-row-buffer PIM with sub-batch interleaving vs NPU-only and naive NPU+PIM"
SOURCE = ("Heo et al., NeuPIMs: NPU-PIM Heterogeneous Acceleration for Batched LLM Inferencing, ASPLOS "
          "2024 (doi 10.1145/3620666.3651380), abstract; configuration from casys-kaist/NeuPIMs "
          "(configs/, README)")
#: the abstract: "compared to GPU-only, NPU-only, and naive NPU+PIM integrated acceleration
#: approaches, NeuPIMs achieves 3x, 2.4x and 1.6x throughput improvement, respectively"
PUBLISHED = {"NPU-only": 2.4, "naive NPU+PIM": 1.6}
MODEL = "gpt3-1.3b"
#: GPT3-7B of configs/model_configs/gpt3-7B.json (n_embd 4096, n_head 32; 32 layers as GPT-3 6.7B)
GPT3_7B = {"layers": 32, "hidden": 4096, "heads": 32, "ffn": 4 * 4096}
BATCH = 256                   # the README: sub-batch interleaving is on only when batch >= 256
CONTEXT = 128
NPU, SYSTEM = "neupims-npu", "neupims"

ASSUMPTIONS = (
    "Model: GPT3-7B as NeuPIMs' config gives it (hidden 4,096, 32 heads) with GPT-3 6.7B's 32 "
    "layers, fp16, one device (the config's 4-way tensor parallelism is not modelled).",
    f"Workload: one decode step of batch {BATCH} (the README turns sub-batch interleaving on from "
    f"batch 256) at context {CONTEXT}, so the KV cache of the whole batch fits the 32 GiB HBM "
    "beside the weights; the paper's Alpaca/ShareGPT request mix is not modelled.",
    "NPU-only: the NPU chip runs every op from its HBM. Naive NPU+PIM: attention on PIM, one batch "
    "(NPU and PIM take turns, as a blocked single-row-buffer PIM must). NeuPIMs: the same placement "
    "with two sub-batches interleaved (`sub_batches=2`).",
    "The NPU and PIM share one HBM in NeuPIMs; here they are two devices (weights in the NPU's, the "
    "KV cache in the PIM's), channel contention between them not modelled; the GPU-only baseline "
    "(3x) is not run (its GPU is not stored).",
)



def _fit_text(r) -> str:
    return "fits" if r.fits else "does not fit"

def _ms(r) -> float:
    return r.latency_s * 1e3


def _gain(base, r) -> float:
    """Throughput of `r` over `base` at the same batch: the ratio of their step latencies."""
    return base.latency_s / r.latency_s


def run():
    from archsim import api
    from archsim.system import simulate_system
    kw = dict(phase="decode", batch=BATCH, context=CONTEXT, overrides=GPT3_7B)
    npu = api.simulate(MODEL, NPU, **kw)
    naive = simulate_system(MODEL, SYSTEM, **kw)
    neupims = simulate_system(MODEL, SYSTEM, sub_batches=2, **kw)
    rows = []
    for label, r in (("NPU-only", npu), ("naive NPU+PIM", naive), ("NeuPIMs", neupims)):
        if not r.fits:
            rows.append(info(f"{label} fits", measured(_fit_text, r), note=r.does_not_fit))
    if not (npu.fits and naive.fits and neupims.fits):
        return finish("neupims", TITLE, SOURCE, rows, ASSUMPTIONS)
    for label, r in (("naive NPU+PIM", naive), ("NeuPIMs (2 sub-batches)", neupims)):
        dev = {d.name: d for d in r.devices}
        rows.append(info(f"{label} decode step", measured(_ms, r), unit="ms",
                         note=f"NPU busy {dev['npu'].utilization:.0%}, PIM busy "
                              f"{dev['pim'].utilization:.0%}; bound by {r.bound_by}"))
    rows.append(info("NPU-only decode step", measured(_ms, npu), unit="ms"))
    gains = {"NPU-only": measured(_gain, npu, neupims),
             "naive NPU+PIM": measured(_gain, naive, neupims)}
    for base, gain in gains.items():
        rows.append(compare(f"NeuPIMs throughput vs {base}", PUBLISHED[base], gain, FACTOR_1_5,
                            unit="×", note=f"batch {BATCH}, context {CONTEXT}"))
    rows.append(info("naive NPU+PIM throughput vs NPU-only", measured(_gain, npu, naive), unit="×",
                     note="attention moved to PIM, no interleaving"))
    gaps = []
    if any(r.within_band is False for r in rows):
        one, two = naive.device("npu"), neupims.device("npu")
        fc = sum(1 for res in one.results for op in res.ops if op.kind in ("matmul", "lm_head"))
        shared = sum(len(res.ops) for res in two.results if res.batch == BATCH)
        gaps.append(
            f"Interleaving two sub-batches makes the NPU's share of the step grow from "
            f"{one.busy_s * 1e3:.3g} ms to {two.busy_s * 1e3:.3g} ms: {shared} of the {fc} FC ops "
            "(the QKV and output projections) keep their weights in the NPU's 128 MiB SRAM and read "
            "them once for both sub-batches, but an FFN matrix (128 MiB plus its bias) and the LM "
            "head do not fit it, so each sub-batch streams them from HBM again (at batch "
            f"{BATCH // 2} a GPT3-7B GEMM is still bound by its weight bytes on a 1 TB/s HBM), "
            f"while the PIM's attention that interleaving hides is "
            f"{naive.device('pim').busy_s * 1e3:.3g} ms. NeuPIMs' gain needs every GEMM to share a "
            "weight fetch (a tile at a time, the sub-batches' GEMMs issued together) and the NPU to "
            "be compute-bound. Nothing is fitted to close the gap.")
    return finish("neupims", TITLE, SOURCE, rows, ASSUMPTIONS, gaps)
