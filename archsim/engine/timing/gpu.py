"""GPU kernel timing (unit type `sm`): SM waves with wave quantisation (and split-K when a GEMM has
fewer output tiles than SMs), tensor-core rate, HBM streaming at an achievable fraction of peak,
per-kernel launch latency. L2: every kernel starts cold (as between layers of a real model) and
tile reuse inside a kernel is assumed to hit L2 (swizzled rasterisation), so HBM traffic is the
compulsory traffic.

The efficiencies below are calibrated against measured H200 kernels
(/work/shared/reference/h200-kernels.json: 105 GEMMs, 36 attention calls, 42 elementwise ops;
cold L2, CUDA-graph replay) and expressed as fractions of a chip's datasheet peaks, so the same
functions serve other GPUs. They are fits, not datasheet numbers: `tests/engine/test_gpu_calibration.py`
and `benchmarks/engine.py` report the error on every point.
"""
from __future__ import annotations

from dataclasses import dataclass
from math import ceil

__all__ = ["GpuSpec", "gemm_seconds", "attention_prefill_seconds", "attention_decode_seconds",
           "elementwise_seconds", "ELEMENTWISE_PASSES", "CAL", "DEFAULT_LAUNCH_S", "Calibration"]


@dataclass(frozen=True, slots=True)
class GpuSpec:
    sms: int
    tensor_flops_per_s: float       # dense, the op's dtype
    mem_bytes_per_s: float          # HBM/GDDR pin bandwidth
    launch_s: float                 # per-kernel fixed latency (launch + ramp), CUDA-graph replay


@dataclass(frozen=True, slots=True)
class Calibration:
    tc_eff: float = 0.80            # achieved share of dense tensor peak in a full wave
    bw_eff: float = 0.83            # achieved share of pin bandwidth when streaming
    tile_m: int = 128
    tile_n: int = 128
    small_tile_m: int = 64
    overlap_p: float = 3.6          # smooth max of compute and memory time
    unaligned_slowdown: float = 6.4  # a GEMM dim not a multiple of 8 loses the TMA/tensor-core path
    unaligned_mem_slowdown: float = 2.4
    min_k_slice: int = 256
    gemm_fixed_s: float = 2.74e-6
    attn_tile_q: int = 128
    attn_eff: float = 0.29
    attn_eff_efficient: float = 0.14
    attn_fixed_s: float = 15.1e-6
    decode_bw_eff: float = 0.62
    decode_fixed_s: float = 9.1e-6
    cta_bytes_per_s: float = 13.9e9   # per-CTA stream rate when a kernel launches only B·H CTAs
    elem_bw_eff: float = 0.84
    elem_fixed_s: float = 0.0


CAL = Calibration()
#: Per-kernel launch latency under CUDA-graph replay when the hardware description gives none (fit).
DEFAULT_LAUNCH_S = 1.2e-6

#: PyTorch eager elementwise ops: (launch latencies, bytes moved per element relative to one bf16
#: read + one bf16 write), fitted per op to the H200 measurements. rmsnorm runs unfused in fp32 (pow, mean, rsqrt,
#: two muls and casts); silu_mul and softmax are fused but heavier per byte.
ELEMENTWISE_PASSES = {
    "add": (1.16, 0.99), "gelu": (1.36, 1.32), "layernorm": (3.68, 1.57), "softmax": (2.74, 2.79),
    "silu_mul": (2.45, 2.22), "rmsnorm": (11.6, 11.1), "mul": (1.16, 0.99), "silu": (1.36, 1.32),
    "relu": (1.16, 0.99), "rope": (2.45, 2.22), "swiglu": (2.45, 2.22),
}


def _smooth_max(a: float, b: float, p: float) -> float:
    return (a ** p + b ** p) ** (1.0 / p)


def gemm_seconds(M: int, N: int, K: int, spec: GpuSpec, bytes_per_elem: int = 2,
                 batch: int = 1, cal: Calibration = CAL) -> float:
    """Y[M,N] = X[M,K]·W[K,N] as one kernel (cold L2: operands come from HBM once). Output tiles
    run in waves over the SMs; when there are fewer tiles than SMs the K loop is split (split-K)
    to fill them, in slices of at least `min_k_slice`."""
    tm = cal.small_tile_m if M <= cal.small_tile_m else cal.tile_m
    tiles = ceil(M / tm) * ceil(N / cal.tile_n) * batch
    split = max(1, min(spec.sms // max(1, tiles), K // cal.min_k_slice))
    waves = ceil(tiles * split / spec.sms)
    per_sm = spec.tensor_flops_per_s * cal.tc_eff / spec.sms
    t_comp = waves * 2.0 * tm * cal.tile_n * ceil(K / split) / per_sm
    t_comp = max(t_comp, 2.0 * M * N * K * batch / (spec.tensor_flops_per_s * cal.tc_eff))
    nbytes = (M * K + K * N + M * N) * bytes_per_elem * batch
    t_mem = nbytes / (spec.mem_bytes_per_s * cal.bw_eff)
    if N % 8 or K % 8:
        t_comp *= cal.unaligned_slowdown
        t_mem *= cal.unaligned_mem_slowdown
    return spec.launch_s + cal.gemm_fixed_s + _smooth_max(t_comp, t_mem, cal.overlap_p)


def attention_prefill_seconds(B: int, H: int, Sq: int, Skv: int, D: int, causal: bool,
                              spec: GpuSpec, backend: str = "flash", cal: Calibration = CAL) -> float:
    """Fused attention: work in q-tiles of `attn_tile_q` rows, one per CTA, in waves."""
    frac = 0.5 if causal and Sq == Skv else 1.0
    flops = 4.0 * B * H * Sq * Skv * D * frac
    tiles = B * H * ceil(Sq / cal.attn_tile_q)
    nbytes = (2 * B * H * Sq * D + 2 * B * H * Skv * D) * 2
    return attention_work_seconds(flops, nbytes, tiles, spec, backend, cal)


def attention_work_seconds(flops: float, nbytes: float, tiles: int, spec: GpuSpec,
                           backend: str = "flash", cal: Calibration = CAL) -> float:
    eff = cal.attn_eff if backend == "flash" else cal.attn_eff_efficient
    waves = ceil(max(1, tiles) / spec.sms)
    q = waves * spec.sms / max(1, tiles)
    t_comp = flops / (spec.tensor_flops_per_s * eff) * q
    t_mem = nbytes / (spec.mem_bytes_per_s * cal.bw_eff)
    return spec.launch_s + cal.attn_fixed_s + max(t_comp, t_mem)


def attention_decode_seconds(B: int, H: int, Skv: int, D: int, spec: GpuSpec,
                             backend: str = "flash", bytes_per_elem: int = 2,
                             cal: Calibration = CAL) -> float:
    """q_len = 1: stream K and V. Flash-decoding splits the KV length over CTAs and reaches the
    streaming rate; a kernel with only B·H CTAs is capped at `cta_bytes_per_s` per CTA."""
    return decode_work_seconds(2.0 * B * H * Skv * D * bytes_per_elem, B * H, spec, backend, cal)


def decode_work_seconds(nbytes: float, ctas: int, spec: GpuSpec, backend: str = "flash",
                        cal: Calibration = CAL) -> float:
    bw = spec.mem_bytes_per_s * cal.decode_bw_eff
    if backend != "flash":
        bw = min(bw, ctas * cal.cta_bytes_per_s)
    return spec.launch_s + cal.decode_fixed_s + nbytes / bw


def elementwise_seconds(op: str, elems: int, spec: GpuSpec, bytes_per_elem: int = 2,
                        cal: Calibration = CAL) -> float:
    """One PyTorch-eager elementwise op over `elems` elements (read + write)."""
    kernels, passes = ELEMENTWISE_PASSES.get(op, (1, 1.0))
    nbytes = 2.0 * elems * bytes_per_elem * passes
    return kernels * (spec.launch_s + cal.elem_fixed_s) + nbytes / (spec.mem_bytes_per_s * cal.elem_bw_eff)
