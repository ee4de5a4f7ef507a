"""The co-search HTML page in a real headless Chromium: every Pareto plot and the parallel-coordinates
figure render, no console errors, no network requests, user strings escaped, design links present."""
from __future__ import annotations

import pytest

from archsim.cosearch import run_study
from tests.browser import launched, open_report
from tests.cosearch.toy_eval import toy_evaluate, toy_space

pytestmark = pytest.mark.browser

EVIL = '<script>alert("x")</script>'


def test_cosearch_page_renders(tmp_path):
    from archsim.reports.cosearch_html import write_cosearch_html
    space = toy_space(name=EVIL, objectives={"latency_s": "minimize", "energy_j": "minimize",
                                             "area_mm2": "minimize"})
    result = run_study(space, toy_evaluate, trials=16, seed=1, storage=":memory:", jobs=1)
    rows = [[str(t.number), f"{t.metric('latency_s'):.3g}"] for t in result.pareto_trials]
    links = {t.number: f"designs/trial-{t.number}.html" for t in result.pareto_trials}
    path = write_cosearch_html(tmp_path / "cosearch.html", result, ["trial", "latency_s"], rows, links,
                               "a proxy", [["0", "1", "1.1", "+10%"]])
    text = path.read_text()
    assert EVIL not in text and "&lt;script&gt;" in text
    assert all(f'href="{link}"' in text for link in links.values())
    # parallel coordinates draw with WebGL; headless Chromium's software GL logs performance
    # notes ("GPU stall due to ReadPixels") that say nothing about the page
    with launched() as browser:
        check = open_report(browser, path, tmp_path / "cosearch.png", ignore_console=("GL Driver Message",))
    problems, requests, ids = check.problems, check.requests, [f[0] for f in check.figures]
    assert problems == () and requests == ()
    assert ids == ["fig-pareto-latency_s-energy_j", "fig-pareto-latency_s-area_mm2",
                   "fig-pareto-energy_j-area_mm2", "fig-parallel"]
