"""Labels a user reads: what energy and throughput are counted per, and byte counts in misfits."""
from __future__ import annotations

from dataclasses import replace

import pytest

import archsim
from archsim.reports import html, table

ONE_BLOCK = {"layers": 1}


@pytest.fixture(scope="module")
def encode_comparison():
    return archsim.compare("bert-base", ["edge-npu", "stm32f746"], seq=16, overrides=ONE_BLOCK)


def test_comparison_header_names_the_unit(encode_comparison):
    text = table.render_comparison(encode_comparison)
    assert "energy/inference" in text and "energy/unit" not in text
    page = html._comparison_table(encode_comparison)
    assert "energy/inference" in page and "energy/unit" not in page
    assert "inferences/s" in page                       # was a bare '/s'


def test_decode_comparison_counts_tokens():
    c = archsim.compare("gpt2-small", ["edge-npu"], context=16, overrides=ONE_BLOCK)
    assert "energy/token" in table.render_comparison(c)


def test_sweep_page_names_the_unit():
    s = archsim.api.sweep("gpt2-small", "edge-npu", context=[8, 16], overrides=ONE_BLOCK)
    page = html._sweep_table(s)
    assert "energy/token" in page and "tokens/s" in page and "energy/unit" not in page


def test_misfit_bytes_are_readable(encode_comparison):
    misfit = next(row.result for row in encode_comparison.rows if not row.result.fits)
    raw = misfit.does_not_fit
    shown = table.misfit_reason(misfit)
    assert "iB (" in raw and "iB" in shown   # DoesNotFit: '12.55 GiB (13,476,831,232 B)'; table: '12.55 GiB'
    r = replace(misfit, does_not_fit="does not fit: w needs 13476831232 B in dram, has 1024 B "
                                     "(short by 13476830208 B)")
    assert table.misfit_reason(r) == "w needs 12.55 GiB in dram, has 1024 B (short by 12.55 GiB)"


def test_misfit_has_no_numbers_in_json_and_csv(encode_comparison):
    """A chip the model does not fit reported latency 0 s and energy 0 J — a silent 'infinitely
    fast' to anyone who plots the column without reading `fits`."""
    import csv
    import io
    import json

    from archsim.reports import csv_report, json_report
    doc = json.loads(json_report.dumps(encode_comparison))
    misfit = next(r for r in doc["results"] if not r["fits"])
    fitting = next(r for r in doc["results"] if r["fits"])
    for key in ("latency_s", "cycles", "throughput_per_s", "energy_j", "avg_power_w",
                "energy_per_token_j", "latency_per_token_s"):
        assert misfit[key] is None, key
        assert fitting[key] is not None and fitting[key] > 0, key
    rows = list(csv.DictReader(io.StringIO(csv_report.render_csv(encode_comparison))))
    bad = next(r for r in rows if r["fits"] == "false")
    assert bad["latency_s"] == bad["energy_j"] == bad["throughput_per_s"] == ""
    assert float(next(r for r in rows if r["fits"] == "true")["latency_s"]) > 0


def test_summary_dtype_is_the_workloads_not_the_first_ops():
    """hbm3-pim runs its embedding on an fp32 host unit; the summary said 'fp32' for a bf16 run."""
    r = archsim.simulate("gpt2-small", "hbm3-pim", context=16, overrides=ONE_BLOCK)
    assert r.dtype == "bf16"
    r = archsim.simulate("gpt2-small", "hbm3-pim", context=16, overrides=ONE_BLOCK,
                         dtype="weights=int4,activations=bf16,kv=bf16")
    assert r.dtype == "activations=bf16,kv=bf16,weights=int4"
