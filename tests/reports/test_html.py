"""HTML structure without a browser: self-contained, escaped, one div per figure."""
from __future__ import annotations

import re

from plotly.offline import get_plotlyjs

from archsim.reports import html
from archsim.reports.figures import Roof, roofline_figure

from .conftest import make_result

EVIL = '<script>alert("x")</script>&<img src=x onerror=alert(1)>'


def _divs(page: str) -> list[str]:
    return re.findall(r'<div id="(fig-[^"]+)" class="plotly-graph-div"', page)


def test_self_contained_and_offline(result):
    page = html.render_html(result)
    assert page.count(get_plotlyjs()[:200]) == 1                # plotly.js embedded exactly once
    assert not re.search(r'<script[^>]+src=', page)              # no external script
    assert not re.search(r'<link[^>]+href=', page)               # no external stylesheet / font
    assert _divs(page) == ["fig-latency", "fig-energy", "fig-buffers", "fig-roofline", "fig-timeline"]


def test_user_strings_are_escaped():
    page = html.render_html(make_result(model=EVIL, hw=EVIL))
    body = page.split("</script>\n</head>", 1)[1]                 # after the embedded plotly.js
    assert EVIL not in body and "<img src=x" not in body
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in body
    assert body.count("<script") == len(_divs(page))             # only plotly's own figure scripts


def test_comparison_and_sweep_pages(comparison, sweep):
    page = html.render_html(comparison)
    assert _divs(page) == ["fig-normalised", "fig-absolute", "fig-energy"]
    assert "does not fit" in page and "Assumptions" in page and "(baseline)" in page
    s = html.render_html(sweep)
    assert _divs(s) == ["fig-series"] and "Points" in s


def test_does_not_fit_page_shows_buffers_only():
    page = html.render_html(make_result(fits=False))
    assert "Does not fit" in page and _divs(page) == ["fig-buffers"]


def test_roofline_places_every_op_and_draws_roofs(result):
    roof = Roof(peak_flops_per_s=1.98e15, bandwidths_bytes_per_s=(("hbm", 4.8e12), ("l2", 2e13)))
    fig = roofline_figure(result, roof)
    ops = [t for t in fig.data if not t.name.startswith("roof")]
    assert sum(len(t.x) for t in ops) == len(result.ops)
    roofs = [t for t in fig.data if t.name.startswith("roof")]
    assert len(roofs) == 2 and max(max(t.y) for t in roofs) <= 1.98e15 * (1 + 1e-12)
    # no op above the compute roof in this fixture
    assert all(y <= 1.98e15 for t in ops for y in t.y)


def test_write_html(tmp_path, result):
    path = html.write_html(result, tmp_path / "deep" / "r.html")
    assert path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_sweep_series_share_colours_across_panels(sweep):
    from archsim.reports.html import sweep_figures
    (_, fig), = sweep_figures(sweep)
    by_group: dict[str, set] = {}
    for trace in fig.data:
        by_group.setdefault(trace.legendgroup, set()).add(trace.line.color)
    assert len(by_group) == 2 and all(len(colours) == 1 for colours in by_group.values())
    assert len({c for cs in by_group.values() for c in cs}) == 2
