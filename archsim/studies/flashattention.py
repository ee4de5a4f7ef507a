"""FlashAttention (Dao et al., NeurIPS 2022, arXiv 2205.14135): HBM accesses of standard attention
(the paper's Algorithm 0) and of FlashAttention (Algorithm 1), counted by walking the algorithms as
written, block by block, and compared with their closed forms — Θ(Nd + N²) and Θ(N²d²/M).

Counting conventions (all in matrix elements; multiply by the element width for bytes):
- Algorithm 0 reads Q, K (Nd each), writes S (N²); reads S, writes P (N² each); reads P (N²) and
  V (Nd), writes O (Nd): exactly 4Nd + 4N².
- Algorithm 1 line 2 initialises O (Nd), ℓ and m (N each) in HBM: Nd + 2N writes. Line 6 loads each
  Kj, Vj once (2Nd in total); for each of the Tc outer iterations line 8 reads all of Q, O, ℓ, m
  (2Nd + 2N) and lines 12–13 write all of O, ℓ, m (Nd + 2N). Total
  Nd + 2N + 2Nd + Tc·(3Nd + 4N) with Bc = ⌈M/4d⌉, Br = min(⌈M/4d⌉, d), Tc = ⌈N/Bc⌉.
"""
from __future__ import annotations

from dataclasses import dataclass
import math

from . import pipeline
from .study import EXACT, NotReady, compare, finish, info, match

__all__ = [
    "AttentionIO", "block_sizes", "standard_attention_io", "flash_attention_io",
    "standard_accesses_formula", "flash_accesses_formula", "run",
]


@dataclass(frozen=True, slots=True)
class AttentionIO:
    """HBM traffic of one attention head (elements), and the peak on-chip footprint (elements)."""
    reads_elems: int
    writes_elems: int
    peak_sram_elems: int = 0

    @property
    def accesses_elems(self) -> int:
        return self.reads_elems + self.writes_elems


def _check(n: int, d: int, m: int | None = None) -> None:
    if n < 1 or d < 1:
        raise ValueError(f"sequence length and head dim must be ≥ 1 (got N={n}, d={d})")
    if m is not None and m < d:
        raise ValueError(f"SRAM size M must be ≥ d (the paper's range d ≤ M ≤ Nd; got M={m}, d={d})")


def block_sizes(d: int, m: int) -> tuple[int, int]:
    """(Br, Bc) of Algorithm 1 line 1: Bc = ⌈M/4d⌉, Br = min(⌈M/4d⌉, d)."""
    bc = math.ceil(m / (4 * d))
    return min(bc, d), bc


def _blocks(n: int, b: int):
    """Sizes of the ⌈n/b⌉ blocks of n rows (the last one may be partial)."""
    for start in range(0, n, b):
        yield min(b, n - start)


def standard_attention_io(n: int, d: int, block_rows: int = 128) -> AttentionIO:
    """Walk Algorithm 0. Q, K and P, V are loaded "by blocks" of `block_rows` rows; S and P are
    materialised in HBM. `block_rows` only changes the walk, never the count (the paper's model)."""
    _check(n, d)
    reads = writes = 0
    peak = 0
    for rows in _blocks(n, block_rows):          # line 1: S = Q Kᵀ, one row block of S at a time
        reads += rows * d                         # Q block
        writes += rows * n                        # S block
        peak = max(peak, rows * d + rows * n)
    for rows in _blocks(n, block_rows):
        reads += rows * d                         # K block (each element of K once)
    for rows in _blocks(n, block_rows):          # line 2: P = softmax(S), row-wise
        reads += rows * n
        writes += rows * n
        peak = max(peak, 2 * rows * n)
    for rows in _blocks(n, block_rows):          # line 3: O = P V
        reads += rows * n                         # P block
        writes += rows * d                        # O block
        peak = max(peak, rows * n + rows * d)
    for rows in _blocks(n, block_rows):
        reads += rows * d                         # V block (each element of V once)
    return AttentionIO(reads, writes, peak)


def flash_attention_io(n: int, d: int, m: int) -> AttentionIO:
    """Walk Algorithm 1 with SRAM size M (elements), loop by loop, partial last blocks included."""
    _check(n, d, m)
    br, bc = block_sizes(d, m)
    reads = 0
    writes = n * d + 2 * n                        # line 2: O = 0, ℓ = 0, m = −∞ in HBM
    peak = 0
    for bc_j in _blocks(n, bc):                   # line 5
        reads += 2 * bc_j * d                     # line 6: Kj, Vj
        for br_i in _blocks(n, br):               # line 7
            reads += 2 * br_i * d + 2 * br_i      # line 8: Qi, Oi, ℓi, mi
            # lines 9–11 on chip: Sij / P̃ij (Br×Bc) and row statistics m̃, ℓ̃, m_new, ℓ_new
            on_chip = 2 * bc_j * d + 2 * br_i * d + 2 * br_i + br_i * bc_j + 4 * br_i
            peak = max(peak, on_chip)
            writes += br_i * d                    # line 12: Oi
            writes += 2 * br_i                    # line 13: ℓi, mi
    return AttentionIO(reads, writes, peak)


def standard_accesses_formula(n: int, d: int) -> int:
    """Θ(Nd + N²) made exact for Algorithm 0: 4Nd + 4N²."""
    return 4 * n * d + 4 * n * n


def flash_accesses_formula(n: int, d: int, m: int) -> int:
    """Θ(N²d²/M) made exact for Algorithm 1: Nd + 2N + 2Nd + Tc·(3Nd + 4N), Tc = ⌈N/Bc⌉."""
    _, bc = block_sizes(d, m)
    tc = math.ceil(n / bc)
    return n * d + 2 * n + 2 * n * d + tc * (3 * n * d + 4 * n)


# ---------------------------------------------------------------- the study

TITLE = "FlashAttention: HBM accesses of standard vs IO-aware attention"
SOURCE = ("Dao et al., FlashAttention, NeurIPS 2022 (arXiv 2205.14135): Algorithms 0 and 1, "
          "Theorem 2 (Θ(Nd+N²) vs Θ(N²d²/M))")

#: (N, d, M in elements) points of the access-count grid: d from GPT-2 (64) and LLaMA (128); M from
#: 16K to 96K elements (32–192 KB of fp16, the range of per-SM shared memory).
GRID = tuple((n, d, m) for n in (512, 2048, 8192) for d in (64, 128) for m in (16384, 98304))
TREND_N = (512, 1024, 2048, 4096, 8192, 16384)


def _sram_elems(hw, elem_bytes: int) -> tuple[int, str]:
    """Per-SM on-chip SRAM (elements) from the config: the smallest on-chip sram/cache level."""
    on_chip = [lv for lv in hw.levels if not lv.off_chip and lv.kind in ("sram", "cache")]
    if not on_chip:
        return 98304, "no on-chip SRAM level in the config; assumed 192 KB per SM (A100 L1/shared)"
    lv = min(on_chip, key=lambda lv: lv.size_bytes)
    return lv.size_bytes // elem_bytes, f"M = level {lv.name!r} of {hw.name} ({lv.size_bytes} B)"


def _times_s(hw, n: int, d: int, m: int, heads: int, elem_bytes: int) -> tuple[float, float]:
    """Roofline time of standard (three kernels, each bound by its own max) and FlashAttention
    (one fused kernel) for `heads` (batch × heads) attention problems on `hw`."""
    peak_flops = 2 * hw.peak_macs_per_s("fp16")
    bw = hw.off_chip.bandwidth_bytes_per_s
    qk_flops = 2 * n * n * d * heads
    softmax_flops = 5 * n * n * heads              # max, sub, exp, sum, div per score (assumption)
    s1 = max(qk_flops / peak_flops, (2 * n * d + n * n) * heads * elem_bytes / bw)
    s2 = max(softmax_flops / peak_flops, 2 * n * n * heads * elem_bytes / bw)
    s3 = max(qk_flops / peak_flops, (n * n + 2 * n * d) * heads * elem_bytes / bw)
    flash = flash_accesses_formula(n, d, m) * heads * elem_bytes
    t_flash = max((2 * qk_flops + softmax_flops) / peak_flops, flash / bw)
    return s1 + s2 + s3, t_flash


def run():
    rows = []
    for n, d in sorted({(n, d) for n, d, _ in GRID}):
        std = standard_attention_io(n, d)
        rows.append(compare(f"standard accesses N={n} d={d}", standard_accesses_formula(n, d),
                            std.accesses_elems, EXACT, unit="elements",
                            note="Algorithm 0 walked vs 4Nd + 4N²"))
    for n, d, m in GRID:
        fl = flash_attention_io(n, d, m)
        rows.append(compare(f"flash accesses N={n} d={d} M={m}", flash_accesses_formula(n, d, m),
                            fl.accesses_elems, EXACT, unit="elements",
                            note="Algorithm 1 walked vs Nd+2N+2Nd+Tc(3Nd+4N)"))
    fewer = all(flash_attention_io(n, d, m).accesses_elems < standard_attention_io(n, d).accesses_elems
                for n, d, m in GRID if n >= 2048 and m >= 98304)
    rows.append(match("flash < standard accesses, N ≥ 2K, M = 96K elements", "yes",
                      "yes" if fewer else "no",
                      note="paper: fewer accesses when d² ≪ M (d 64–128, M ≈ 100 KB); "
                           "at M = 16K and d = 128 flash needs more (12d²/M > 4)"))
    n, d = 8192, 64
    big, small = flash_attention_io(n, d, 98304), flash_attention_io(n, d, 16384)
    rows.append(info("flash accesses ÷ (N²d²/M), N=8K d=64 M=96K",
                     big.accesses_elems / (n * n * d * d / 98304), note="Θ constant (→12)"))
    rows.append(info("accesses at M=16K ÷ at M=96K, N=8K d=64",
                     small.accesses_elems / big.accesses_elems, note="∝ 1/M (→6)"))
    assumptions = [
        "Counts are per attention head in elements; fp16 (2 B) when turned into bytes.",
        "Algorithm 1 line 2 (initialising O, ℓ, m in HBM) is counted as Nd + 2N writes.",
        "Standard attention is three kernels (QKᵀ, softmax, PV), each roofline-bound by its own "
        "max(FLOPs/peak, bytes/bandwidth); FlashAttention one fused kernel; softmax = 5 FLOPs/score.",
        "Speedup trend: GPT-2-medium-like heads (d=64, batch 8 × 16 heads).",
    ]
    missing = []
    try:
        hw = pipeline.hardware("a100-80gb")
    except NotReady as exc:
        missing.append(f"speedup trend on a100-80gb: {exc}")
    else:
        m, how = _sram_elems(hw, 2)
        assumptions.append(how)
        speedups = []
        for n in TREND_N:
            t_std, t_flash = _times_s(hw, n, 64, m, 8 * 16, 2)
            speedups.append(t_std / t_flash)
            rows.append(info(f"a100-80gb speedup N={n}", t_std / t_flash, unit="×",
                             note=f"standard {t_std * 1e3:.3g} ms vs flash {t_flash * 1e3:.3g} ms"))
        rows.append(match("speedup > 1 at every N (paper: faster at all lengths)", "yes",
                          "yes" if min(speedups) > 1 else "no"))
    return finish("flashattention", TITLE, SOURCE, rows, assumptions, missing=missing)
