"""HBM accesses of standard attention (Dao et al., FlashAttention, NeurIPS 2022, arXiv 2205.14135,
Algorithm 0) and of FlashAttention (Algorithm 1), counted by walking the algorithms as written,
block by block, with their closed forms — Θ(Nd + N²) and Θ(N²d²/M). Not a study (the study,
`flashattention.py`, asks the engine): the unit tests hold the walks to the closed forms and the
engine's attention traffic to Algorithm 0's count.

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

__all__ = [
    "AttentionIO", "block_sizes", "standard_attention_io", "flash_attention_io",
    "standard_accesses_formula", "flash_accesses_formula",
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
