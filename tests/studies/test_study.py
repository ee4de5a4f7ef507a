"""Study result rows: band arithmetic, categorical and informational rows, statuses, JSON."""
from __future__ import annotations

import json

from hypothesis import given, strategies as st

from archsim.studies.study import (
    EXACT, FACTOR_1_5, ONE_PERCENT, as_dict, compare, finish, format_value, info, match, not_run,
)


def test_factor_band_edges():
    assert compare("x", 100, 150, FACTOR_1_5).within_band
    assert compare("x", 100, 66.7, FACTOR_1_5).within_band
    assert not compare("x", 100, 151, FACTOR_1_5).within_band
    assert not compare("x", 100, 66.6, FACTOR_1_5).within_band


@given(st.integers(1, 10**12))
def test_exact_band_accepts_identical_integers_only(n):
    assert compare("n", n, n, EXACT).within_band
    assert not compare("n", n, n + 1, EXACT).within_band


def test_one_percent_band_and_text():
    row = compare("c", 1000, 1009, ONE_PERCENT)
    assert row.within_band and row.band_text == "±1%"
    assert not compare("c", 1000, 1011, ONE_PERCENT).within_band
    assert compare("c", 1, 1, FACTOR_1_5).band_text == "×1.5"
    assert compare("c", 1, 1, EXACT).band_text == "exact"


def test_match_and_info_rows():
    assert match("fit", True, True).within_band is True
    assert match("fit", True, False).archsim == "does not fit"
    row = info("kv", 12.3, unit="GB")
    assert row.within_band is None and row.ratio is None
    assert info("x", 2.0, published=4.0).ratio == 0.5


def test_status_from_rows():
    ok = [compare("a", 1, 1, EXACT)]
    assert finish("s", "t", "src", ok).status == "ok"
    assert finish("s", "t", "src", ok, missing=["part: waiting for X"]).status == "partial"
    bad = ok + [compare("b", 1, 3, FACTOR_1_5)]
    res = finish("s", "t", "src", bad, missing=["x"])
    assert res.status == "out-of-band" and len(res.failed) == 1 and len(res.checked) == 2
    assert not_run("s", "t", "src", "not-run", "waiting for mapper.map_graph").rows == ()


def test_as_dict_is_json_and_keeps_non_finite():
    res = finish("s", "t", "src", [compare("zero", 0, 1, FACTOR_1_5), info("i", "fits")],
                 assumptions=["a"])
    text = json.dumps(as_dict(res))
    back = json.loads(text)
    assert back["rows"][0]["ratio"] == "inf" and back["rows"][0]["within_band"] is False
    assert back["rows"][1]["archsim"] == "fits"


def test_format_value():
    assert format_value(1179648.0) == "1,179,648"
    assert format_value(0.123456) == "0.1235"
    assert format_value(None) == "—"
    assert format_value(2.5e-6) == "2.5e-06"


def test_measured_rows_carry_their_results_and_recompute():
    import pytest

    from archsim.studies.study import arithmetic, measured
    from tests.studies.provenance import check_row

    class Fake:                       # stands in for a SimResult in the unit test only
        latency_s = 2.0
    row = compare("speedup", 2.0, measured(lambda a, b: a.latency_s / b.latency_s, Fake(), Fake()),
                  FACTOR_1_5)
    assert row.basis == "engine" and len(row.results) == 2 and row.archsim == 1.0
    assert row.derive(*row.results) == 1.0
    with pytest.raises(AssertionError, match="not archsim.simulate/compare results"):
        check_row(row, "toy")                          # a Fake is not a SimResult
    with pytest.raises(ValueError):
        measured(lambda: 1.0)                          # no results, no engine figure
    with pytest.raises(ValueError):
        measured(lambda r: 1.0, Fake(), basis="arithmetic")
    a = info("bound", arithmetic(3.5, "a peak analysis, as the paper's"))
    assert a.basis == "arithmetic" and a.why and a.archsim == 3.5
    check_row(a, "toy")
    with pytest.raises(ValueError):
        arithmetic(1.0, "")
    with pytest.raises(AssertionError, match="says nowhere"):
        check_row(info("bare", 1.0), "toy")
    assert as_dict(finish("t", "t", "s", [a]))["rows"][0]["basis"] == "arithmetic"


def test_a_recomputed_figure_must_equal_the_row():
    import dataclasses

    import pytest

    import archsim
    from archsim.studies.study import measured
    from tests.studies.provenance import check_row
    r = archsim.simulate("gpt2-small", "a100-80gb", phase="decode", context=128)
    row = info("latency", measured(lambda x: x.latency_s * 1e3, r), unit="ms")
    check_row(row, "toy")
    with pytest.raises(AssertionError, match="recomputed"):
        check_row(dataclasses.replace(row, archsim=row.archsim * 2), "toy")
