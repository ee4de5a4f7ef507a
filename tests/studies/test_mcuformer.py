"""The MCUFormer study's closed-form liveness estimate: each memory technique can only lower the
peak, all three together lower it most, and the numbers match a hand count."""
from __future__ import annotations

from itertools import combinations

import pytest
from hypothesis import given, strategies as st

from archsim.studies.mcuformer import TECHNIQUES, VitShape, peak_sram_bytes

shapes = st.builds(VitShape, name=st.just("v"), image=st.sampled_from((224, 240)),
                   patch=st.sampled_from((16, 20, 24, 28, 32)), dim=st.sampled_from((168, 192, 216)),
                   heads=st.sampled_from((3, 4)), mlp_ratio=st.sampled_from((3.5, 4.0)))


@given(shapes)
def test_techniques_never_raise_the_peak(shape):
    none = peak_sram_bytes(shape)
    for k in range(1, 4):
        for subset in combinations(TECHNIQUES, k):
            assert peak_sram_bytes(shape, subset) <= none
            assert peak_sram_bytes(shape, TECHNIQUES) <= peak_sram_bytes(shape, subset)


def test_hand_count_deit_tiny_at_240():
    s = VitShape("deit", image=240, patch=16, dim=192, heads=3)
    n, d = 226, 192
    attention = 4 * n * d + 3 * n * n + n * d          # x, QKV, all heads' scores, output
    mlp = n * d + n * d + n * 4 * d + n * d           # x, normed, hidden, output
    image = 240 * 240 * 3 + n * d
    assert peak_sram_bytes(s) == max(attention, mlp, image)


def test_unknown_technique():
    with pytest.raises(ValueError, match="unknown technique"):
        peak_sram_bytes(VitShape("v"), ("magic",))
