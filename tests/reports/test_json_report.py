"""JSON: versioned, documented keys, deterministic bytes, sim_wall_s only with timing."""
from __future__ import annotations

import json
import math
from dataclasses import replace

from hypothesis import given, strategies as st

from archsim.result import SCHEMA_VERSION
from archsim.reports import json_report

from .conftest import make_result

ISSUE_KEYS = {"schema_version", "model", "hw", "phase", "batch", "seq", "context", "fidelity",
              "latency_s", "cycles", "throughput_per_s", "energy_j", "energy_breakdown_j",
              "avg_power_w", "levels", "fits", "ops", "analytic_vs_cycle_gap", "sim_wall_s"}
OP_KEYS = {"name", "kind", "cycles", "latency_s", "energy_j", "macs", "bytes_by_level", "bound"}


def test_result_has_every_key_the_issue_names(result):
    d = json.loads(json_report.dumps(result))
    assert ISSUE_KEYS <= set(d)
    assert d["schema_version"] == SCHEMA_VERSION
    assert {"level", "peak_buffer_bytes", "capacity_bytes"} <= set(d["levels"][0])
    assert [lv["level"] for lv in d["levels"]] == ["hbm", "l2", "smem"]   # outermost first
    assert all(OP_KEYS <= set(op) for op in d["ops"])
    assert d["ops"][0]["bytes_by_level"] == {"hbm": 8_000_000, "l2": 4_000_000, "smem": 2_000_000}
    assert math.isclose(d["energy_j"], sum(d["energy_breakdown_j"].values()))
    assert math.isclose(d["throughput_per_s"], result.tokens / result.latency_s, rel_tol=1e-9)


def test_same_inputs_give_identical_bytes(result):
    again = make_result()
    assert json_report.dumps(result) == json_report.dumps(again)
    # wall time is the only measured value: it differs between runs but not in the default output
    slower = replace(again, sim_wall_s=9.87)
    assert json_report.dumps(result) == json_report.dumps(slower)
    assert json.loads(json_report.dumps(result))["sim_wall_s"] is None
    assert json.loads(json_report.dumps(slower, timing=True))["sim_wall_s"] == 9.87


def test_keys_sorted_and_floats_rounded(result):
    text = json_report.dumps(replace(result, latency_s=1 / 3, freq_hz=float("nan")))
    d = json.loads(text)
    assert list(d) == sorted(d)
    assert d["latency_s"] == 0.333333333333
    assert d["freq_hz"] is None                       # NaN is not JSON; written as null


def test_does_not_fit_is_a_result(result):
    d = json.loads(json_report.dumps(make_result(fits=False)))
    assert d["fits"] is False and "short by" in d["does_not_fit"]
    assert d["energy_per_token_j"] is None and d["ops"] == []


def test_comparison_and_sweep(comparison, sweep, tmp_path):
    c = json.loads(json_report.dumps(comparison))
    assert c["kind"] == "comparison" and c["baseline"] == "h200-sxm"
    assert [r["hw"] for r in c["results"]] == ["h200-sxm", "pim-gpt", "stm32f746"]
    assert c["results"][0]["normalised"]["speedup"] == 1.0
    assert c["results"][1]["normalised"]["speedup"] > 1.0
    assert c["results"][2]["normalised"]["speedup"] is None and c["results"][2]["fits"] is False
    assert c["assumptions"]["phase"] == "decode"
    s = json.loads(json_report.dumps(sweep))
    assert s["kind"] == "sweep" and len(s["results"]) == 6
    path = json_report.write_json(sweep, tmp_path / "a" / "s.json")
    assert path.read_text() == json_report.dumps(sweep)


_floats = st.floats(min_value=1e-12, max_value=1e6, allow_nan=False, allow_infinity=False)


@given(latency=_floats, parts=st.lists(_floats, min_size=1, max_size=5), wall=_floats)
def test_deterministic_and_parseable_for_any_values(latency, parts, wall):
    r = replace(make_result(layers=1), latency_s=latency,
                energy_breakdown_j=tuple((f"c{i}", v) for i, v in enumerate(parts)), sim_wall_s=wall)
    text = json_report.dumps(r)
    assert text == json_report.dumps(replace(r, sim_wall_s=wall * 2))
    d = json.loads(text)
    assert math.isclose(d["latency_s"], latency, rel_tol=1e-11)
    assert math.isclose(d["energy_j"], sum(parts), rel_tol=1e-9)
    assert math.isclose(d["avg_power_w"], sum(parts) / latency, rel_tol=1e-9)


def test_numpy_scalars_are_written_as_plain_numbers(result):
    import numpy as np
    from archsim.result import LevelUse
    r = replace(result, cycles=np.int64(12), utilization=(("sm", np.float64(1 / 3)),),
                levels=(LevelUse("hbm", np.int64(100), np.int64(7), 0, 0),))
    d = json.loads(json_report.dumps(r))
    assert d["cycles"] == 12 and d["utilization"]["sm"] == 0.333333333333
    assert d["levels"][0]["capacity_bytes"] == 100 and isinstance(d["levels"][0]["peak_buffer_bytes"], int)
