"""The co-search HTML page in a real headless Chromium: every Pareto plot and the parallel-coordinates
figure render, no console errors, no network requests, user strings escaped, design links present."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from archsim.cosearch import run_study
from tests.cosearch.toy_eval import toy_evaluate, toy_space

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
pytestmark = pytest.mark.browser

if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
    pytest.skip("chromium is not installed (Debian package `chromium`; .ci/run installs it)",
                allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright python package is missing")

EVIL = '<script>alert("x")</script>'


def test_cosearch_page_renders(tmp_path):
    from reports.cosearch_html import write_cosearch_html
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
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM if Path(CHROMIUM).exists()
                                    else shutil.which("chromium"), args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        problems, requests = [], []
        # parallel coordinates draw with WebGL; headless Chromium's software GL logs performance
        # notes ("GPU stall due to ReadPixels") that say nothing about the page
        page.on("console", lambda m: problems.append(m.text)
                if m.type in ("error", "warning") and "GL Driver Message" not in m.text else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.on("dialog", lambda d: (problems.append(d.message), d.dismiss()))
        page.on("request", lambda r: requests.append(r.url)
                if not r.url.startswith(("file:", "data:", "blob:")) else None)
        page.goto(path.as_uri())
        page.wait_for_function(
            "() => { const d = [...document.querySelectorAll('.plotly-graph-div')];"
            " return d.length > 0 && d.every(x => x.querySelector('.main-svg')); }", timeout=60_000)
        ids = page.evaluate("() => [...document.querySelectorAll('.plotly-graph-div')].map(d => d.id)")
        page.screenshot(path=str(tmp_path / "cosearch.png"), full_page=True)
        browser.close()
    assert problems == [] and requests == []
    assert ids == ["fig-pareto-latency_s-energy_j", "fig-pareto-latency_s-area_mm2",
                   "fig-pareto-energy_j-area_mm2", "fig-parallel"]
