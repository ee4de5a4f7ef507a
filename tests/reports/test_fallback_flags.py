"""Fallback notes are visible: the HTML report shows a result's notes before its summary, and a
comparison flags (*) the rows timed with a fallback unit or dtype, in text, HTML and JSON."""
from __future__ import annotations

from archsim.comparison import compare_results
from archsim.reports.html import render_html
from archsim.reports.json_report import comparison_to_dict
from archsim.reports.table import render_comparison

from .conftest import make_result

NOTE = "dtype fallback: pe has no bf16 rate: 3 op(s) with bf16 operands timed at its int16 rate (1 µs)"


def test_html_shows_notes_before_the_summary():
    html = render_html(make_result(notes=(NOTE,)))
    assert html.index("note: dtype fallback: pe has no bf16 rate") < html.index("<h2>Summary</h2>")


def test_compare_flags_rows_with_fallbacks():
    c = compare_results([make_result(hw="a"), make_result(hw="b", notes=(NOTE, "cycle engine: 3 tasks"))], "a")
    assert [row.fallbacks for row in c.rows] == [(), (NOTE,)]
    assert f"b (*): {NOTE}" in c.notes and not any(n.startswith("a (*)") for n in c.notes)
    text = render_comparison(c)
    assert "\nb *" in text and "\na (baseline) *" not in text and "* ran ops on a fallback unit" in text
    assert "b *" in render_html(c)
    assert [r["normalised"]["fallbacks"] for r in comparison_to_dict(c)["results"]] == [[], [NOTE]]
