"""The HTML validation report: self-contained, escapes text, and renders in a headless Chromium
(Debian's /usr/bin/chromium through the playwright package) with its plotly chart drawn."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from archsim.studies.study import EXACT, FACTOR_1_5, as_dict, compare, finish, info, not_run
from archsim.reports.validation_html import render_validation_html, write_validation_html
from tests.browser import launched, open_report



def _studies() -> list[dict]:
    bad = finish("toy", "a <b>toy</b> study", "nowhere",
                 [compare("speedup", 8.33, 3.4, FACTOR_1_5, unit="×"), info("note only", "fits")],
                 assumptions=["an assumption"], gaps=["why it is out of band"])
    wait = not_run("waiting", "t", "s", "not-run", "waiting for mapper.map_graph")
    good = finish("counts", "exact counts", "a walk vs its formula",
                  [compare(f"count {i}", 4 * i + 4, 4 * i + 4, EXACT) for i in range(18)])
    return [as_dict(good), as_dict(bad), as_dict(wait)]


def test_html_is_self_contained_and_escaped():
    page = render_validation_html(_studies())
    assert "<b>toy</b>" not in page and "a &lt;b&gt;toy&lt;/b&gt; study" in page
    assert not re.search(r"<script[^>]+src=", page)         # plotly.js embedded, nothing fetched
    assert not re.search(r"<link[^>]+href=", page)
    assert page.count('<section id="study-') == 3
    assert "out-of-band" in page and "waiting for mapper.map_graph" in page


@pytest.mark.browser
def test_validation_html_renders_in_chromium(tmp_path: Path):
    studies = _studies()
    banded = sum(1 for s in studies for r in s["rows"] if r["band"] and r["ratio"] not in (None, "inf"))
    path = write_validation_html(studies, tmp_path / "validation.html")
    with launched() as browser:
        check = open_report(browser, path, tmp_path / "validation.png", probe_js=(
            "() => [document.querySelectorAll('#ratio-chart .scatterlayer .point').length,"
            " document.querySelectorAll('#summary tbody tr').length, document.title]"))
    points, summary_rows, title = check.probe
    errors = check.problems
    assert check.requests == ()
    assert not errors, errors
    assert title == "archsim validation report"
    assert summary_rows == 3
    assert points == banded == 19     # every banded numeric row: 18 exact counts + 1 toy
