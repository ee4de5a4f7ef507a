"""`archsim simulate --system` at both fidelities (terminal, JSON with per-device and per-link
results, HTML with the device timeline) and `archsim compare` with a system beside chips."""
from __future__ import annotations

import json

import pytest

from archsim.cli import main


@pytest.mark.parametrize("fidelity", ["analytic", "cycle"])
def test_simulate_a_system_reports_devices_and_links(two_devices, tmp_path, capsys, fidelity):
    out = tmp_path / "r.json"
    page = tmp_path / "r.html"
    assert main(["simulate", "--system", two_devices(), "--model", "gpt2-small", "--phase", "decode",
                 "--batch", "8", "--context", "128", "--fidelity", fidelity, "--sub-batches", "2", "--stream-chunks", "2",
                 "--json", str(out), "--html", str(page), "--quiet"]) == 0
    data = json.loads(out.read_text())
    block = data["system"]
    assert [d["name"] for d in block["devices"]] == ["host", "pim"]
    assert all(d["busy_s"] > 0 and d["energy_j"] > 0 for d in block["devices"])
    assert {lk["name"] for lk in block["links"]} == {"bus:host->pim", "bus:pim->host"}
    assert block["bound_by"] in ("host", "pim") and block["sub_batches"] == 2
    assert data["fidelity"] == fidelity and data["hw_kind"] == "system"
    if fidelity == "cycle":
        assert all(gap is not None for d in block["devices"] for gap in d["analytic_vs_cycle_gap"])
    html = page.read_text()
    assert "Devices and links over time" in html and "bus:pim-&gt;host" in html


def test_system_flags_need_a_system(capsys):
    assert main(["simulate", "--hw", "edge-npu", "--model", "gpt2-small", "--placement",
                 "all on host"]) == 2
    assert "apply to a --system" in capsys.readouterr().err


def test_a_bad_placement_is_one_line(two_devices, capsys):
    assert main(["simulate", "--system", two_devices(), "--model", "gpt2-small", "--context", "64",
                 "--placement", "attention on gpu", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "unknown device 'gpu'" in err and "Traceback" not in err


def test_compare_takes_systems_beside_chips(two_devices, tmp_path):
    out = tmp_path / "c.json"
    assert main(["compare", "--model", "gpt2-small", "--phase", "decode", "--batch", "8",
                 "--context", "128", "--hw", "edge-npu", two_devices(), "--json", str(out),
                 "--quiet"]) == 0
    rows = json.loads(out.read_text())["results"]
    assert [r["hw"] for r in rows] == ["edge-npu", "npu-hbmpim"]
    assert rows[1]["hw_kind"] == "system" and rows[1]["latency_s"] > 0


@pytest.mark.browser
def test_system_report_charts_have_data_and_labelled_axes(two_devices, tmp_path):
    """The system page in headless Chromium: no console errors, nothing fetched, and every chart
    (the device/link timeline among them) has more than one value and labelled axes."""
    from tests.browser import launched, open_report
    from tests.reports.test_charts_say_something import _PROBE
    page = tmp_path / "s.html"
    assert main(["simulate", "--system", two_devices(), "--model", "gpt2-small", "--phase", "decode",
                 "--batch", "8", "--context", "128", "--sub-batches", "2", "--html", str(page),
                 "--quiet"]) == 0
    with launched() as browser:
        check = open_report(browser, page, probe_js=_PROBE)
    assert check.problems == () and check.requests == ()
    assert check.probe
    for fig_id, titles, distinct in check.probe:
        assert distinct > 1, (fig_id, "plots one value")
        assert not [axis for axis, title in titles if axis.startswith("y") and not title], fig_id
