"""SM wave / occupancy arithmetic of the LeanAttention study on a synthetic GPU (no config needed)."""
from __future__ import annotations

from hypothesis import given, strategies as st

from archsim.studies.lean_attention import Gpu, TILE_TOKENS, fa2_decode_time_s, lean_decode_time_s

GPU = Gpu(name="toy", sms=100, hbm_bytes_per_s=2e12, flops_per_s=3e14, launch_s=0.0)


def test_few_ctas_leave_sms_idle():
    # 25 CTAs on 100 SMs: FA2 gets a quarter of the bandwidth, Lean all of it → ≈4× at long context
    n = 512 * 1024
    s = fa2_decode_time_s(GPU, 1, 25, n) / lean_decode_time_s(GPU, 1, 25, n)
    assert 3.95 < s <= 4.0


def test_full_waves_gain_nothing():
    n = 256 * 1024
    s = fa2_decode_time_s(GPU, 2, 50, n) / lean_decode_time_s(GPU, 2, 50, n)
    assert 0.99 < s <= 1.0                 # 100 CTAs = one full wave; only the reduction differs


def test_tail_wave():
    n = 64 * 1024                          # 150 CTAs: FA2 2 waves, Lean 1.5 waves' worth
    s = fa2_decode_time_s(GPU, 1, 150, n) / lean_decode_time_s(GPU, 1, 150, n)
    assert 1.3 < s < 1.34


@given(st.integers(1, 16), st.integers(1, 128), st.integers(1, 2048))
def test_stream_k_never_slower_beyond_reduction(batch, heads, tiles):
    n = tiles * TILE_TOKENS
    lean = lean_decode_time_s(GPU, batch, heads, n)
    reduce_s = 2 * (GPU.sms + batch * heads) * (128 + 2) * 4 / GPU.hbm_bytes_per_s
    assert lean - reduce_s <= fa2_decode_time_s(GPU, batch, heads, n) * (1 + 1e-12)
