"""`archsim compare` shows each chip's analytic-vs-cycle gap by named part (#18): a section of the
terminal table, `gap_<part>_s` CSV columns, each row's `gap_attribution` in the JSON and a table in
the HTML; nothing of it at analytic fidelity."""
from __future__ import annotations

import csv
import io
import json

import pytest

import archsim
from archsim.api import ArgumentError
from archsim.cli import main
from archsim.reports.csv_report import render_csv
from archsim.reports.html import render_html
from archsim.reports.json_report import dumps
from archsim.reports.table import render_text
from archsim.result import RUN_GAP_PARTS

KW = dict(phase="decode", context=128, overrides={"layers": 2}, budget=50)
HWS = ["pim-gpt", "hbm3-pim"]


@pytest.fixture(scope="module")
def cycle():
    return archsim.compare("gpt2-small", HWS, fidelity="cycle", attribute_gap=True, **KW)


def test_terminal_table_has_a_gap_section(cycle):
    text = render_text(cycle)
    section = text.split("cycle vs analytic gap by part")[1].split("assumptions:")[0]
    lines = section.strip().splitlines()
    head = lines[1]
    for label in ("gap", "op overlap", "SRAM port stalls", "row activation", "other"):
        assert label in head
    assert [ln.split()[0] for ln in lines[3:]] == HWS
    r = cycle.row("hbm3-pim").result
    assert f"{100 * r.analytic_vs_cycle_gap:+.1f} %" in lines[4]


def test_csv_json_html_carry_the_parts(cycle):
    rows = list(csv.DictReader(io.StringIO(render_csv(cycle))))
    assert [row["hw"] for row in rows] == HWS
    for row, crow in zip(rows, cycle.rows):
        r = crow.result
        parts = {k: float(row[f"gap_{k}"]) for k in RUN_GAP_PARTS}
        analytic_s = sum(op.analytic_cycles for op in r.ops) / r.freq_hz
        assert sum(parts.values()) == pytest.approx(r.latency_s - analytic_s, rel=1e-6, abs=1e-12)
        assert parts["dram_row_activation_s"] != 0          # named: the compare passed attribute_gap
    doc = json.loads(dumps(cycle))
    for res in doc["results"]:
        assert set(res["gap_attribution"]) == set(RUN_GAP_PARTS)
    html = render_html(cycle)
    assert "Cycle vs analytic gap" in html and "row activation" in html


def test_analytic_compare_has_no_gap_parts():
    c = archsim.compare("gpt2-small", HWS, **KW)
    assert "gap by part" not in render_text(c)
    assert "Cycle vs analytic gap" not in render_html(c)
    rows = list(csv.DictReader(io.StringIO(render_csv(c))))
    assert all(row[f"gap_{k}"] == "" for row in rows for k in RUN_GAP_PARTS)
    with pytest.raises(ArgumentError, match="attribute_gap applies to chips at fidelity 'cycle'"):
        archsim.compare("gpt2-small", HWS, attribute_gap=True, **KW)


def test_cli_passes_attribute_gap(tmp_path, capsys):
    out = tmp_path / "c.csv"
    code = main(["compare", "--model", "gpt2-small", "--hw", "hbm3-pim", "--phase", "decode",
                 "--context", "64", "--model-set", "layers=1", "--budget", "20", "--fidelity", "cycle",
                 "--attribute-gap", "--quiet", "--csv", str(out)])
    assert code == 0
    row = next(csv.DictReader(out.open()))
    assert row["gap_dram_refresh_s"] not in ("", "0", "0.0")
    code = main(["compare", "--model", "gpt2-small", "--hw", "hbm3-pim", "--attribute-gap", "--quiet"])
    assert code != 0
    assert "attribute_gap applies to chips at fidelity 'cycle'" in capsys.readouterr().err
