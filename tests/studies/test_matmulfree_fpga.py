"""The MatMul-free FPGA study (issue #22): its bands, and every archsim figure read from the
`SimResult` the engine returned for that row."""
from __future__ import annotations

from functools import lru_cache

import pytest

from archsim.result import SimResult
from archsim.studies import matmulfree_fpga

from .test_study_bands import _check


@lru_cache(maxsize=None)
def _pairs():
    return matmulfree_fpga.engine_rows()


def test_study_bands_and_gaps():
    res = _check("matmulfree-fpga")
    assert any("beyond human reading speed" in r.metric for r in res.checked)


def test_every_archsim_figure_is_a_simulate_result_field():
    pairs = _pairs()
    assert {r.model for _, r in pairs} == set(matmulfree_fpga.MODELS)
    for row, r in pairs:
        assert isinstance(r, SimResult)
        if "tokens/s" in row.metric:
            assert row.archsim == pytest.approx(1.0 / r.latency_s, rel=1e-12)
        elif "board power" in row.metric:
            assert row.archsim == pytest.approx(r.avg_power_w, rel=1e-12)
        elif "reading speed" in row.metric:
            fast = 1.0 / r.latency_s > matmulfree_fpga.HUMAN_READING_TOKENS_PER_S
            assert row.archsim == ("yes" if fast else "no")
        elif "static share" in row.metric:
            assert row.archsim == pytest.approx(r.energy_share()["static"] * 100)
        else:
            raise AssertionError(f"row {row.metric!r} has no check of its source")


def test_bigger_models_decode_slower_on_the_same_fpga():
    tps = {r.model: 1.0 / r.latency_s for row, r in _pairs() if "tokens/s" in row.metric}
    assert tps["matmulfree-370m"] > tps["matmulfree-1.3b"] > tps["matmulfree-2.7b"]
