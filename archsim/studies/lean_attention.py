"""LeanAttention (Sanovar et al., arXiv 2405.10480): decode-phase attention at long context,
stream-K split of the KV length across every SM vs FlashAttention-2-style scheduling.

The model is SM wave / occupancy arithmetic on a GPU config:
- FlashAttention-2 in decode (one query token) parallelises over batch × heads only: B·H CTAs, each
  streaming its whole K and V; ⌈B·H / SMs⌉ waves. An SM can pull only its share (HBM bandwidth ÷
  SMs) of bandwidth, so when B·H < SMs the idle SMs' bandwidth is lost.
- LeanAttention cuts the B·H·⌈N/T⌉ LeanTiles of T tokens evenly across all SMs (stream-K), every
  SM busy to the end, then reduces the partial outputs (online-softmax rescaling is associative).
Per-CTA time is the max of its bytes at the per-SM bandwidth and its FLOPs at the per-SM peak;
each kernel pays the config's launch overhead once.
"""
from __future__ import annotations

from dataclasses import dataclass
import math

from . import pipeline
from .study import FACTOR_1_5, NotReady, compare, finish, info

__all__ = ["TITLE", "SOURCE", "ASSUMPTIONS", "Gpu", "gpu_from_hardware", "fa2_decode_time_s",
           "lean_decode_time_s", "run"]

TITLE = "LeanAttention: stream-K decode attention vs FlashAttention-2 at long context"
SOURCE = "Sanovar et al., Lean Attention, arXiv 2405.10480 v1 abstract (2.6× average, 8.33× at 512k)"

HEADS = 32
HEAD_DIM = 128
BATCHES = (1, 2, 4, 8)
CONTEXTS = (16_384, 32_768, 65_536, 131_072, 262_144, 524_288)
TILE_TOKENS = 256
KV_BYTES = 2                     # fp16 K and V
HOPPER = ("h100-sxm", "h200-sxm")

ASSUMPTIONS = (
    f"Attention shape: {HEADS} query heads = KV heads (MHA), head dim {HEAD_DIM}, fp16 KV "
    "(a LLaMA-2-7B-class layer); the paper's exact head counts are not in the stored abstract.",
    f"Average over batch {BATCHES} × context {', '.join(f'{c // 1024}k' for c in CONTEXTS)}; "
    "the 512k point is batch 1.",
    "Each SM sustains at most HBM bandwidth ÷ SM count (occupancy arithmetic: idle SMs leave "
    "their share of bandwidth unused).",
    f"LeanTile = {TILE_TOKENS} tokens; the reduction writes and re-reads one fp32 partial output "
    "(d + 2 values) per SM and per (batch, head); one kernel launch for each scheduler.",
)


@dataclass(frozen=True, slots=True)
class Gpu:
    name: str
    sms: int
    hbm_bytes_per_s: float
    flops_per_s: float
    launch_s: float

    @property
    def sm_bytes_per_s(self) -> float:
        return self.hbm_bytes_per_s / self.sms

    @property
    def sm_flops_per_s(self) -> float:
        return self.flops_per_s / self.sms


def gpu_from_hardware(hw) -> Gpu:
    sm_units = [cu for cu in hw.compute if cu.type == "sm"]
    if not sm_units:
        raise NotReady(f"an 'sm' compute unit in hardware config {hw.name!r}")
    # several 'sm' units (tensor-core and CUDA-core pipelines) describe the same SMs: count once
    return Gpu(name=hw.name, sms=max(cu.count for cu in sm_units),
               hbm_bytes_per_s=hw.off_chip.bandwidth_bytes_per_s,
               flops_per_s=2 * max(cu.peak_macs_per_s("fp16") for cu in sm_units),
               launch_s=max(cu.launch_overhead_s for cu in sm_units))


def _work_s(gpu: Gpu, tokens: int, d: int) -> float:
    """Time for one SM to stream `tokens` positions of K and V and do its 4·tokens·d FLOPs."""
    return max(2 * tokens * d * KV_BYTES / gpu.sm_bytes_per_s, 4 * tokens * d / gpu.sm_flops_per_s)


def fa2_decode_time_s(gpu: Gpu, batch: int, heads: int, context: int, d: int = HEAD_DIM) -> float:
    ctas = batch * heads
    waves = math.ceil(ctas / gpu.sms)
    return gpu.launch_s + waves * _work_s(gpu, context, d)


def lean_decode_time_s(gpu: Gpu, batch: int, heads: int, context: int, d: int = HEAD_DIM,
                       tile: int = TILE_TOKENS) -> float:
    tiles = batch * heads * math.ceil(context / tile)
    per_sm = math.ceil(tiles / gpu.sms)
    stream = _work_s(gpu, per_sm * tile, d)
    partials = gpu.sms + batch * heads
    reduce_s = 2 * partials * (d + 2) * 4 / gpu.hbm_bytes_per_s
    return gpu.launch_s + stream + reduce_s


def _speedups(gpu: Gpu) -> dict[tuple[int, int], float]:
    return {(b, n): fa2_decode_time_s(gpu, b, HEADS, n) / lean_decode_time_s(gpu, b, HEADS, n)
            for b in BATCHES for n in CONTEXTS}


def run():
    gpu = gpu_from_hardware(pipeline.hardware("a100-80gb"))
    s = _speedups(gpu)
    avg = sum(s.values()) / len(s)
    rows = [
        compare("average speedup over FA2 (a100-80gb)", 2.6, avg, FACTOR_1_5, unit="×",
                note=f"{len(s)} points, {gpu.sms} SMs"),
        compare("speedup at 512k, batch 1 (a100-80gb)", 8.33, s[(1, 524_288)], FACTOR_1_5,
                unit="×", note=f"FA2 uses {HEADS} of {gpu.sms} SMs"),
    ]
    for b in BATCHES:
        rows.append(info(f"speedup at 512k, batch {b}", s[(b, 524_288)], unit="×",
                         note=f"{b * HEADS} FA2 CTAs, {math.ceil(b * HEADS / gpu.sms)} wave(s)"))
    n = 524_288
    rows.append(info("FA2 decode attention 512k, batch 1", fa2_decode_time_s(gpu, 1, HEADS, n) * 1e3,
                     unit="ms"))
    rows.append(info("Lean decode attention 512k, batch 1",
                     lean_decode_time_s(gpu, 1, HEADS, n) * 1e3, unit="ms"))
    missing = []
    hopper = [n for n in HOPPER if n in pipeline.hardware_names()]
    if not hopper:
        missing.append(f"Hopper-class rows: waiting for one of {', '.join(HOPPER)} (hwconfigs/)")
    for name in hopper[:1]:
        h = gpu_from_hardware(pipeline.hardware(name))
        sh = _speedups(h)
        rows.append(info(f"average speedup over FA2 ({name})", sum(sh.values()) / len(sh),
                         unit="×", published=2.6, note=f"{h.sms} SMs; paper's numbers are A100"))
        rows.append(info(f"speedup at 512k, batch 1 ({name})", sh[(1, 524_288)], unit="×",
                         published=8.33))
    gaps = []
    if rows[1].within_band is False:
        gaps.append(
            f"8.33× at 512k needs FA2 to leave ≥ 88% of the SMs idle, i.e. ≤ {gpu.sms // 8} CTAs: the "
            f"paper's 512k point must use fewer heads × batch than the {HEADS} assumed here, or a "
            "single FA2 CTA reaches less than its bandwidth share; the head count is not in the "
            "stored abstract, and it is not fitted here.")
    return finish("lean-attention", TITLE, SOURCE, rows, ASSUMPTIONS, gaps, missing)
