"""The serving page renders offline in a real browser: every figure drawn with its traces, no
console errors, nothing fetched from the network."""
from __future__ import annotations

from archsim.cli import main
from tests.browser import launched, open_report
from tests.reports.test_charts_say_something import _PROBE
from tests.serving.test_cli import SMALL, cached  # noqa: F401  (fixture)


def test_serve_page_renders(cached, capsys):  # noqa: F811
    assert main(["serve", *SMALL, "--rate", "20", "--scheduler", "continuous", "chunked",
                 "--preemption", "recompute", "--html", "s.html", "--quiet"]) == 0
    with launched() as browser:
        check = open_report(browser, cached / "s.html", screenshot=cached / "s.png", probe_js=_PROBE)
    assert not check.problems and not check.requests
    for fig_id, titles, distinct in check.probe:      # data with more than one value, labelled axes
        assert distinct > 1, (fig_id, "plots one value")
        assert not [axis for axis, title in titles if axis.startswith("y") and not title], fig_id
    ids = {fid: traces for fid, svgs, traces in check.figures}
    assert set(ids) == {"cdf-ttft", "cdf-tpot", "cdf-e2e", "kv"}
    assert all(traces >= 2 for traces in ids.values())     # one curve per run
