"""GPU kernel timing (unit type `sm`): SM waves with wave quantisation (and split-K when a GEMM has
fewer output tiles than SMs), tensor-core rate, HBM streaming at an achievable fraction of peak,
a fixed per-kernel latency. L2: every kernel starts cold (as between layers of a real model) and
tile reuse inside a kernel is assumed to hit L2 (swizzled rasterisation), so HBM traffic is the
compulsory traffic.

A chip enters through two values: `GpuSpec` (its datasheet peaks, from the hardware description)
and `GpuCalibration` (a few efficiencies and latencies, dimensionless or in seconds, from the table
`archsim/engine/data/gpu-calibration.yaml`). The table's `h200-sxm` entry is produced by
`archsim.engine.calibration_fit.fit_calibration` from measured H200 kernels; every other GPU uses its
`transferred` entry (the same numbers, marked as an assumption) with its own datasheet peaks.
"""
from __future__ import annotations

from dataclasses import dataclass, fields, replace
from functools import lru_cache
from math import ceil
from pathlib import Path

__all__ = ["GpuSpec", "GpuCalibration", "ElementwiseCost", "gemm_seconds", "mixed_gemm_seconds", "attention_prefill_seconds",
           "attention_work_seconds", "attention_decode_seconds", "decode_work_seconds", "kv_splits",
           "elementwise_seconds", "load_gpu_calibration", "transfer_calibration", "CALIBRATION_TABLE"]

#: The calibration table (data, not code): one entry per calibrated GPU plus `transferred`.
CALIBRATION_TABLE = Path(__file__).resolve().parents[1] / "data" / "gpu-calibration.yaml"


@dataclass(frozen=True, slots=True)
class GpuSpec:
    sms: int
    tensor_flops_per_s: float       # dense, the op's dtype
    mem_bytes_per_s: float          # HBM/GDDR pin bandwidth
    launch_s: float                 # per-kernel launch latency under CUDA-graph replay
    alu_ops_per_s: float = 0.0      # CUDA-core (fp32) operations/s: in-kernel dequantisation


@dataclass(frozen=True, slots=True)
class ElementwiseCost:
    """One PyTorch-eager elementwise op: effective kernel launches and HBM bytes per element
    (both include the unfused intermediates of ops such as rmsnorm), and for a row reduction
    (layernorm) the time per element of one row that a CTA walks serially (0: none measured)."""
    op: str
    launches: float
    bytes_per_elem: float
    row_elem_s: float = 0.0


@dataclass(frozen=True, slots=True)
class GpuCalibration:
    """Fitted (F) and structural (S) constants of the kernel model; the YAML table says where each
    value came from. Defaults are the fit's starting point (a generic prior), not a fit."""
    launch_s: float = 2.0e-6                 # F per-kernel launch, CUDA-graph replay
    stream_eff: float = 0.8                  # F share of pin bandwidth a GEMM streams at
    tensor_eff: float = 0.7                  # F share of dense tensor peak in a full wave
    overlap_p: float = 4.0                   # F smooth-max exponent of compute vs memory time
    gemm_ramp_s: float = 2.0e-6              # F per-GEMM fixed time beyond launch
    splitk_reduce_s: float = 1e-6            # F fixed time of the split-K reduction kernel
    unaligned_compute_slowdown: float = 1.0  # F N or K not a multiple of 8 (no TMA path)
    unaligned_memory_slowdown: float = 1.0   # F same, on the streaming rate
    flash_score_rate: float = 5e9            # F prefill softmax score elements / s per SM, flash
    efficient_score_rate: float = 2.5e9      # F same, memory-efficient backend
    prefill_ramp_s: float = 10e-6            # F per-call fixed time of fused prefill attention
    decode_stream_eff: float = 0.6           # F share of pin bandwidth, split-KV (flash-decoding) decode
    decode_batched_stream_eff: float = 0.6   # F same, one CTA per (sequence, head), no KV split
    decode_ramp_s: float = 10e-6             # F per-call fixed time of decode attention
    kv_block_s: float = 1e-6                 # F one KV block of a mem-efficient decode CTA
    elementwise_stream_eff: float = 0.8      # F share of pin bandwidth for elementwise ops
    elementwise: tuple[ElementwiseCost, ...] = (ElementwiseCost("add", 1.0, 4.0),)
    aliases: tuple[tuple[str, str], ...] = ()  # S unmeasured op -> measured op of the same shape
    tile_m: int = 128                        # S CTA output tile (cuBLAS/CUTLASS Hopper default)
    tile_n: int = 128                        # S
    small_tile_m: int = 64                   # S tile height for M <= 64
    min_k_slice: int = 256                   # S shortest K slice split-K uses
    parallel_splitk_min: int = 4             # S from this many K slices partials go through a reduction kernel
    attn_tile_q: int = 128                   # S query rows per attention CTA (and kv rows per tile)
    kv_block: int = 64                       # S KV rows per step of the mem-efficient decode kernel
    split_kv_below: float = 0.8              # S flash decode splits the KV length while B·H < this × SMs
    max_kv_splits: int = 128                 # S at most this many KV splits (FlashAttention-2)

    def cost(self, op: str) -> ElementwiseCost:
        name = dict(self.aliases).get(op, op)
        for c in self.elementwise:
            if c.op == name:
                return c
        return self.elementwise[0]           # unknown op: one read + one write, one launch


_STRUCTURAL_INTS = {"tile_m", "tile_n", "small_tile_m", "min_k_slice", "parallel_splitk_min", "attn_tile_q",
                    "kv_block", "max_kv_splits"}


def _from_mapping(entry: dict, where: str) -> GpuCalibration:
    from archsim.errors import ConfigError, Problem, did_you_mean
    names = [f.name for f in fields(GpuCalibration)]
    bad = [Problem(file=where, line=None, key=k, problem="unknown constant", hint=did_you_mean(k, names) or None)
           for k in entry if k not in names]
    if bad:
        raise ConfigError(bad)
    vals = {k: int(v) if k in _STRUCTURAL_INTS else float(v) for k, v in entry.items()
            if k not in ("elementwise", "aliases")}
    elem = tuple(ElementwiseCost(op, float(v["launches"]), float(v["bytes_per_elem"]),
                                 float(v.get("row_elem_s", 0.0)))
                 for op, v in entry.get("elementwise", {}).items())
    return GpuCalibration(**vals, elementwise=elem or GpuCalibration().elementwise,
                          aliases=tuple(sorted(entry.get("aliases", {}).items())))


@lru_cache(maxsize=None)
def load_gpu_calibration(hw_name: str = "h200-sxm", path: Path = CALIBRATION_TABLE,
                         sm_clock_hz: float = 0.0) -> GpuCalibration:
    """The table entry for `hw_name`, or for a GPU nobody measured the `transferred` entry moved
    to its SM clock `sm_clock_hz` by the table's `transfer` rule (`transfer_calibration`)."""
    import yaml
    table = yaml.safe_load(Path(path).read_text())
    if hw_name in table and hw_name not in ("transferred", "transfer"):
        return _from_mapping(table[hw_name], f"{path}: {hw_name}")
    cal = _from_mapping(table["transferred"], f"{path}: transferred")
    rule = table.get("transfer") or {}
    ref = float(rule.get("reference_sm_clock_hz", 0.0))
    if not (sm_clock_hz and ref):
        return cal
    return transfer_calibration(cal, sm_clock_hz / ref, tuple(rule.get("times_scale_with_clock", ())),
                                tuple(rule.get("rates_scale_with_clock", ())))


def transfer_calibration(cal: GpuCalibration, clock_ratio: float, times: tuple[str, ...],
                         rates: tuple[str, ...]) -> GpuCalibration:
    """`cal` on a chip whose SM clock is `clock_ratio` × the calibrated one: the fixed times in
    `times` (pipeline fill, per-block steps: a number of cycles) divide by the ratio, the per-SM
    rates in `rates` multiply by it; `row_elem_s` stands for every elementwise op's row time.
    Everything else is unchanged (shares of the chip's own peaks, kernel structure)."""
    vals = {n: getattr(cal, n) / clock_ratio for n in times if n != "row_elem_s"}
    vals |= {n: getattr(cal, n) * clock_ratio for n in rates}
    if "row_elem_s" in times:
        vals["elementwise"] = tuple(replace(c, row_elem_s=c.row_elem_s / clock_ratio) for c in cal.elementwise)
    return replace(cal, **vals)


def _smooth_max(a: float, b: float, p: float) -> float:
    return (a ** p + b ** p) ** (1.0 / p)


#: CUDA-core operations to dequantise one packed weight element in a mixed-precision GEMM
#: (unpack: shift + mask, int->float convert, scale multiply-add). ASSUMPTION, from the structure
#: of Marlin's / AWQ's in-register dequantisation (Frantar et al., "MARLIN", PPoPP 2025,
#: arXiv 2408.11743; Lin et al., "AWQ", MLSys 2024).
DEQUANT_OPS_PER_WEIGHT = 4.0
#: Rows of X per tile of a weight-only-quantised GEMM kernel (Marlin's 16-row m-blocks); its
#: work is striped over all SMs (no wave quantisation, in-kernel reduction). STRUCTURAL, from
#: the Marlin paper's design, not fitted: no mixed-precision kernel was measured on the H200.
MIXED_TILE_M = 16


def gemm_seconds(M: int, N: int, K: int, spec: GpuSpec, bytes_per_elem: float = 2,
                 batch: int = 1, cal: GpuCalibration | None = None,
                 operand_bytes: tuple[float, float, float] | None = None) -> float:
    """Y[M,N] = X[M,K]·W[K,N] as one kernel (cold L2: operands come from HBM once). Output tiles
    run in waves over the SMs; when there are fewer tiles than SMs the K loop is split (split-K)
    to fill them, in slices of at least `min_k_slice`. `operand_bytes` (X, W, Y bytes per element;
    default all `bytes_per_elem`): each operand is read at its own width. W narrower than X is a
    weight-only-quantised GEMM (W4A16, W8A16; `mixed_gemm_seconds`)."""
    cal = cal or load_gpu_calibration()
    xb, wb, yb = operand_bytes or (bytes_per_elem,) * 3
    if wb < xb:
        return mixed_gemm_seconds(M, N, K, spec, (xb, wb, yb), batch, cal)
    tm = cal.small_tile_m if M <= cal.small_tile_m else cal.tile_m
    tiles = ceil(M / tm) * ceil(N / cal.tile_n) * batch
    split = max(1, min(spec.sms // max(1, tiles), K // cal.min_k_slice))
    waves = ceil(tiles * split / spec.sms)
    per_sm = spec.tensor_flops_per_s * cal.tensor_eff / spec.sms
    t_comp = waves * 2.0 * tm * cal.tile_n * ceil(K / split) / per_sm
    t_comp = max(t_comp, 2.0 * M * N * K * batch / (spec.tensor_flops_per_s * cal.tensor_eff))
    nbytes = (M * K * xb + K * N * wb + M * N * yb) * batch
    t_mem = nbytes / (spec.mem_bytes_per_s * cal.stream_eff)
    if N % 8 or K % 8:
        t_comp *= cal.unaligned_compute_slowdown
        t_mem *= cal.unaligned_memory_slowdown
    t = spec.launch_s + cal.gemm_ramp_s + _smooth_max(t_comp, t_mem, cal.overlap_p)
    if split >= cal.parallel_splitk_min:
        # partials reduced by a second kernel; they stay in L2 (at most sms*tile fp32 partials,
        # ~9 MB on 132 SMs), so only its fixed time counts
        t += spec.launch_s + cal.splitk_reduce_s
    return t


def mixed_gemm_seconds(M: int, N: int, K: int, spec: GpuSpec, operand_bytes: tuple[float, float, float],
                       batch: int = 1, cal: GpuCalibration | None = None) -> float:
    """A weight-only-quantised GEMM as Marlin-class kernels run it: the packed weights stream from
    HBM at the calibrated GEMM streaming rate, each is dequantised in registers
    (`DEQUANT_OPS_PER_WEIGHT` CUDA-core operations, once per 64 rows of X) and the tensor cores
    run at X's dtype on `MIXED_TILE_M`-row tiles striped over all SMs; one launch, no separate
    reduction kernel. The fixed times and efficiencies are the bf16 GEMM's (an assumption)."""
    cal = cal or load_gpu_calibration()
    xb, wb, yb = operand_bytes
    rows = ceil(M / MIXED_TILE_M) * MIXED_TILE_M
    t_comp = 2.0 * rows * N * K * batch / (spec.tensor_flops_per_s * cal.tensor_eff)
    if spec.alu_ops_per_s:
        t_comp += ceil(M / 64) * K * N * batch * DEQUANT_OPS_PER_WEIGHT / spec.alu_ops_per_s
    t_mem = (M * K * xb + K * N * wb + M * N * yb) * batch / (spec.mem_bytes_per_s * cal.stream_eff)
    return spec.launch_s + cal.gemm_ramp_s + _smooth_max(t_comp, t_mem, cal.overlap_p)


def attention_prefill_seconds(B: int, H: int, Sq: int, Skv: int, D: int, causal: bool, spec: GpuSpec,
                              backend: str = "flash", cal: GpuCalibration | None = None) -> float:
    """Fused attention in (attn_tile_q x attn_tile_q) score tiles, one q-tile per CTA, in waves.
    A causal square call computes only the tiles on and below the diagonal (diagonal ones whole)."""
    cal = cal or load_gpu_calibration()
    nq, nkv = ceil(Sq / cal.attn_tile_q), ceil(Skv / cal.attn_tile_q)
    pairs = nq * (nq + 1) // 2 if causal and Sq == Skv else nq * nkv
    scores = B * H * pairs * min(Sq, cal.attn_tile_q) * min(Skv, cal.attn_tile_q)
    nbytes = (2 * B * H * Sq * D + 2 * B * H * Skv * D) * 2
    return attention_work_seconds(4.0 * scores * D, nbytes, B * H * nq, spec, backend, cal, scores)


def attention_work_seconds(flops: float, nbytes: float, tiles: int, spec: GpuSpec,
                           backend: str = "flash", cal: GpuCalibration | None = None,
                           scores: float = 0.0) -> float:
    """Both matmuls at the GEMM tensor efficiency plus the softmax of every score element at the
    backend's per-SM score rate (what separates head sizes 64 and 128 in the measurements).
    `scores` unknown (0): a head size of 128 is assumed (flops = 4·scores·D)."""
    cal = cal or load_gpu_calibration()
    rate = cal.flash_score_rate if backend == "flash" else cal.efficient_score_rate
    scores = scores or flops / (4.0 * 128)
    waves = ceil(max(1, tiles) / spec.sms)
    q = waves * spec.sms / max(1, tiles)
    t_comp = (flops / (spec.tensor_flops_per_s * cal.tensor_eff) + scores / (spec.sms * rate)) * q
    t_mem = nbytes / (spec.mem_bytes_per_s * cal.stream_eff)
    return spec.launch_s + cal.prefill_ramp_s + max(t_comp, t_mem)


def attention_decode_seconds(B: int, H: int, Skv: int, D: int, spec: GpuSpec, backend: str = "flash",
                             bytes_per_elem: float = 2, cal: GpuCalibration | None = None) -> float:
    """q_len = 1: stream K and V of B sequences × H heads (`decode_work_seconds`)."""
    return decode_work_seconds(2.0 * B * H * Skv * D * bytes_per_elem, B * H, spec, backend, cal, Skv)


def kv_splits(ctas: int, kv_len: int, spec: GpuSpec, cal: GpuCalibration) -> int:
    """How many pieces flash-decoding cuts each head's KV into (FlashAttention-2's heuristic):
    none when the (sequence, head) CTAs already fill `split_kv_below` of the SMs; else enough to
    fill the SMs, at most one per `attn_tile_q` KV rows and `max_kv_splits`."""
    if ctas >= cal.split_kv_below * spec.sms or kv_len <= cal.attn_tile_q:
        return 1
    return max(1, min(ceil(spec.sms / max(1, ctas)), ceil(kv_len / cal.attn_tile_q), cal.max_kv_splits))


def decode_work_seconds(nbytes: float, ctas: int, spec: GpuSpec, backend: str = "flash",
                        cal: GpuCalibration | None = None, kv_len: int = 0,
                        split_kv: bool = True) -> float:
    """One decode attention call streaming `nbytes` of K and V over `ctas` (sequence, head)
    pairs. Flash: at small batch the KV length is split over CTAs (flash-decoding, `kv_splits`)
    and streams at `decode_stream_eff`, plus a combine kernel; at large batch one CTA per pair
    streams at `decode_batched_stream_eff`. Fewer CTAs than SMs stream at that share of the rate.
    The memory-efficient kernel never splits: each CTA walks its KV in `kv_block` rows serially,
    `kv_block_s` per block. `split_kv=False`: FlashAttention-2's own decode scheduling, one CTA
    per pair at any batch (the batched kernel's rate on the CTAs there are)."""
    cal = cal or load_gpu_calibration()
    split = kv_splits(ctas, kv_len, spec, cal) if backend == "flash" and kv_len and split_kv else 1
    eff = cal.decode_stream_eff if split > 1 else cal.decode_batched_stream_eff
    busy = min(1.0, ctas * split / spec.sms)
    t = nbytes / (spec.mem_bytes_per_s * eff * busy)
    if backend != "flash" and kv_len:
        t = max(t, ceil(kv_len / cal.kv_block) * cal.kv_block_s)
    combine = spec.launch_s if split > 1 else 0.0
    return spec.launch_s + cal.decode_ramp_s + combine + t


def elementwise_seconds(op: str, elems: int, spec: GpuSpec, bytes_per_elem: float = 2,
                        cal: GpuCalibration | None = None, row_len: int = 0) -> float:
    """One PyTorch-eager elementwise op over `elems` elements in rows of `row_len`; the table's
    bytes per element are for bf16 and scale with the element width. Rows run in parallel, so a
    reduction's serial walk along one row (`row_elem_s` per element) bounds it from below."""
    cal = cal or load_gpu_calibration()
    c = cal.cost(op)
    nbytes = elems * c.bytes_per_elem * bytes_per_elem / 2.0
    t = max(nbytes / (spec.mem_bytes_per_s * cal.elementwise_stream_eff), row_len * c.row_elem_s)
    return c.launches * spec.launch_s + t
