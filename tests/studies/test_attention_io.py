"""FlashAttention IO study: the algorithms as written, walked block by block, must equal their
closed forms exactly (the paper's Θ(Nd + N²) and Θ(N²d²/M) made exact), for any N, d and M."""
from __future__ import annotations

import math

import pytest
from hypothesis import given, strategies as st

from archsim.studies.attention_io import (
    block_sizes, flash_accesses_formula, flash_attention_io, standard_accesses_formula,
    standard_attention_io,
)


@st.composite
def problems(draw):
    d = draw(st.integers(1, 64))
    n = draw(st.integers(1, 400))
    m = draw(st.integers(d, max(d, n * d)))
    return n, d, m


@given(problems())
def test_flash_walk_equals_formula(p):
    n, d, m = p
    assert flash_attention_io(n, d, m).accesses_elems == flash_accesses_formula(n, d, m)


@given(st.integers(1, 500), st.integers(1, 128), st.integers(1, 300))
def test_standard_walk_equals_formula_for_any_block(n, d, block):
    assert standard_attention_io(n, d, block_rows=block).accesses_elems == \
        standard_accesses_formula(n, d) == 4 * n * d + 4 * n * n


def test_block_sizes_as_in_algorithm_1():
    assert block_sizes(64, 98304) == (64, 384)        # Bc = ⌈M/4d⌉, Br = min(Bc, d)
    assert block_sizes(128, 1000) == (2, 2)
    assert block_sizes(8, 8) == (1, 1)


def test_known_small_case_by_hand():
    # N=4, d=2, M=8: Bc = 1, Br = 1, Tc = 4. init Nd+2N = 16; K,V 2Nd = 16;
    # per outer iteration: read Q,O,ℓ,m = 2Nd+2N = 24, write O,ℓ,m = Nd+2N = 16 → 4 × 40 = 160.
    io = flash_attention_io(4, 2, 8)
    assert io.accesses_elems == 16 + 16 + 160 == 192
    assert io.writes_elems == 8 + 8 + 4 * 16


@given(problems())
def test_on_chip_footprint_stays_order_m(p):
    n, d, m = p
    br, bc = block_sizes(d, m)
    io = flash_attention_io(n, d, m)
    # Kj, Vj ≤ 2Bc·d ≤ M/2 + 2d; Qi, Oi ≤ 2Br·d ≤ M/2 + 2d; S ≤ Br·Bc ≤ Bc·d; stats 6Br
    assert io.peak_sram_elems <= 2 * m + 4 * d + 6 * d + bc * d


def test_theta_n2d2_over_m_scaling():
    d, m = 64, 98304
    a, b = flash_attention_io(8192, d, m).accesses_elems, flash_attention_io(16384, d, m).accesses_elems
    assert 3.8 < b / a < 4.1                             # ∝ N²
    small = flash_attention_io(8192, d, m // 4).accesses_elems
    assert 3.5 < small / a < 4.1                         # ∝ 1/M
    const = a / (8192 ** 2 * d * d / m)
    assert 10 < const < 16                               # ≈ 12 N²d²/M


def test_flash_beats_standard_when_d_squared_much_less_than_m():
    for n in (1024, 4096, 16384):
        assert flash_attention_io(n, 64, 98304).accesses_elems < standard_accesses_formula(n, 64)
    # and loses when d² is not small against M (12d²/M > 4): the bound needs M ≫ d²
    assert flash_attention_io(4096, 128, 16384).accesses_elems > standard_accesses_formula(4096, 128)


@pytest.mark.parametrize("n,d,m", [(0, 4, 8), (4, 0, 8), (16, 8, 4)])
def test_bad_sizes_raise(n, d, m):
    with pytest.raises(ValueError):
        flash_attention_io(n, d, m)


def test_partial_last_blocks_are_counted():
    # N not a multiple of Bc or Br
    n, d, m = 1000, 16, 1000          # Bc = 16, Br = 16, Tc = 63 (last block 8 rows)
    assert math.ceil(n / block_sizes(d, m)[1]) == 63
    assert flash_attention_io(n, d, m).accesses_elems == flash_accesses_formula(n, d, m)
