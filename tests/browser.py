"""Headless Debian Chromium for the HTML report tests, driven by the playwright package (no browser
download). One launch recipe and one page check, shared by the simulate, co-search and validation
report tests: console errors and warnings, page errors, dialogs, network requests that leave the
file, and each plotly figure's rendered SVGs and traces."""
from __future__ import annotations

import shutil
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
#: Without the background-networking flags Chromium keeps dialling Google hosts, which this
#: machine's closed network refuses.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]

_FIGURES_RENDERED = ("() => { const d = [...document.querySelectorAll('.plotly-graph-div')];"
                     " return d.length > 0 && d.every(x => x.querySelector('.main-svg')); }")
_FIGURES = ("() => [...document.querySelectorAll('.plotly-graph-div')].map(d =>"
            " [d.id, d.querySelectorAll('.main-svg').length, d.querySelectorAll('.trace').length])")


def chromium_path() -> str | None:
    return CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")


def require_browser():
    """The playwright sync API; without Chromium or playwright a skip saying how to install it
    (a failure under CI, `tests/requires.py`)."""
    from tests.requires import missing
    if chromium_path() is None:
        missing("chromium", "install the Debian package `chromium` (apt-get install chromium; "
                            ".ci/run does it)")
    try:
        import playwright.sync_api as sync_api
    except ImportError:
        missing("the playwright python package", "pip install playwright (in the `test` extra)")
    return sync_api


@contextmanager
def launched():
    sync_api = require_browser()
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@dataclass(frozen=True)
class PageCheck:
    problems: tuple[str, ...]                  # console errors/warnings, page errors, dialogs
    requests: tuple[str, ...]                  # URLs fetched that are not file:, data: or blob:
    figures: tuple[tuple[str, int, int], ...]  # (figure id, .main-svg count, .trace count)
    probe: object = None                       # the value of `probe_js`, when given


def open_report(browser, path: Path, screenshot: Path | None = None, probe_js: str | None = None,
                ignore_console: tuple[str, ...] = ()) -> PageCheck:
    """Load `path`, wait until every plotly figure has drawn, and report what went wrong."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    problems: list[str] = []
    requests: list[str] = []
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}")
            if m.type in ("error", "warning") and not any(s in m.text for s in ignore_console) else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("dialog", lambda d: (problems.append(f"dialog: {d.message}"), d.dismiss()))
    page.on("request", lambda r: requests.append(r.url)
            if not r.url.startswith(("file:", "data:", "blob:")) else None)
    try:
        page.goto(Path(path).resolve().as_uri())
        page.wait_for_function(_FIGURES_RENDERED, timeout=60_000)
        figures = tuple(tuple(f) for f in page.evaluate(_FIGURES))
        probe = page.evaluate(probe_js) if probe_js else None
        if screenshot is not None:
            page.screenshot(path=str(screenshot), full_page=True)
    finally:
        page.close()
    return PageCheck(tuple(problems), tuple(requests), figures, probe)
