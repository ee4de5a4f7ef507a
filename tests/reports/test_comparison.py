"""Normalisation of a comparison (archsim/comparison.py)."""
from __future__ import annotations

import math

import pytest
from hypothesis import given, strategies as st

from archsim.comparison import compare_results

from .conftest import make_result


def test_baseline_is_one_and_ratios_follow(comparison):
    base, pim, mcu = comparison.rows
    assert base.speedup == 1.0 and base.energy_efficiency == 1.0
    assert math.isclose(pim.speedup, base.result.latency_s / pim.result.latency_s)
    assert math.isclose(pim.energy_efficiency, 2.0)
    assert pim.perf_per_mm2 is not None and pim.perf_per_mm2_vs_baseline is not None
    assert mcu.speedup is None and mcu.perf_per_w is None and not mcu.result.fits
    assert dict(comparison.assumptions)["technology"] == "h200-sxm: 4 nm, pim-gpt: 28 nm"


def test_unknown_area_and_misfit_baseline():
    rows = compare_results([make_result(hw="a", fits=False), make_result(hw="b")], "a").rows
    assert rows[1].speedup is None and rows[1].perf_per_mm2 is None
    assert rows[1].perf_per_w is not None


def test_bad_baseline():
    with pytest.raises(ValueError, match="baseline"):
        compare_results([make_result(hw="a")], "z")


@given(scales=st.lists(st.floats(min_value=1e-3, max_value=1e3), min_size=2, max_size=5))
def test_speedup_is_inverse_latency_ratio(scales):
    rs = [make_result(hw=f"hw{i}", scale=s, layers=1) for i, s in enumerate(scales)]
    c = compare_results(rs, "hw0")
    for row in c.rows:
        assert math.isclose(row.speedup * row.result.latency_s, rs[0].latency_s, rel_tol=1e-9)
        assert math.isclose(row.energy_efficiency * row.result.energy_j, rs[0].energy_j, rel_tol=1e-9)
