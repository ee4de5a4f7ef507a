"""CSV: one row per op for a simulation; one row per chip (plus normalised columns) for a comparison."""
from __future__ import annotations

import csv
import io

from archsim.reports import csv_report


def _read(text):
    return list(csv.DictReader(io.StringIO(text)))


def test_ops_rows(result):
    rows = _read(csv_report.render_csv(result))
    assert len(rows) == len(result.ops)
    assert rows[0]["name"] == "layer0.matmul" and rows[0]["bytes[hbm]"] == "8000000"
    assert rows[-1]["bytes[l2]"] == "0"                      # lm_head touches only hbm
    assert float(rows[0]["latency_s"]) == float(f"{result.ops[0].latency_s:.12g}")


def test_comparison_rows(comparison):
    rows = _read(csv_report.render_csv(comparison))
    assert [r["hw"] for r in rows] == ["h200-sxm", "pim-gpt", "stm32f746"]
    assert rows[0]["speedup"] == "1.0" and rows[2]["fits"] == "false"
    assert rows[2]["speedup"] == "" and "short by" in rows[2]["does_not_fit"]
    assert rows[1]["area_mm2"] == "120.0" and rows[0]["capacity_bytes[hbm]"] == "141000000000"


def test_sweep_rows_and_determinism(sweep, tmp_path):
    text = csv_report.render_csv(sweep)
    rows = _read(text)
    assert [(r["batch"], r["context"]) for r in rows] == [
        ("1", "128"), ("1", "1024"), ("1", "4096"), ("8", "128"), ("8", "1024"), ("8", "4096")]
    assert csv_report.write_csv(sweep, tmp_path / "s.csv").read_text() == text
