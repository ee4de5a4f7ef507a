"""Open generated reports in a real headless Chromium (Debian's `chromium`): no console errors, no
network requests, every figure rendered; saves screenshots under the pytest tmp dir."""
from __future__ import annotations

from pathlib import Path

import pytest

from archsim.reports import html
from archsim.reports.figures import Roof
from tests.browser import launched, open_report as check_page

from .conftest import make_result

pytestmark = pytest.mark.browser

EVIL = '<script>alert("x")</script>'


@pytest.fixture(scope="module")
def browser():
    with launched() as b:
        yield b


def open_report(browser, path: Path, screenshot: Path):
    """(problems, off-file requests, per-figure [id, svg count, trace count]) of a loaded report."""
    check = check_page(browser, path, screenshot)
    return list(check.problems), list(check.requests), [list(f) for f in check.figures]


def test_simulation_report_renders(browser, tmp_path):
    roof = Roof(peak_flops_per_s=1.98e15, bandwidths_bytes_per_s=(("hbm", 4.8e12),))
    path = html.write_html(make_result(model=EVIL), tmp_path / "sim.html", roof=roof)
    problems, requests, svgs = open_report(browser, path, tmp_path / "sim.png")
    assert problems == [] and requests == []
    assert [s[0] for s in svgs] == ["fig-latency", "fig-energy", "fig-buffers", "fig-roofline",
                                    "fig-timeline"]
    assert all(n_svg >= 1 and n_traces >= 1 for _, n_svg, n_traces in svgs), svgs
    assert (tmp_path / "sim.png").stat().st_size > 10_000


def test_comparison_and_sweep_reports_render(browser, tmp_path, comparison, sweep):
    for name, obj in (("compare", comparison), ("sweep", sweep)):
        path = html.write_html(obj, tmp_path / f"{name}.html")
        problems, requests, svgs = open_report(browser, path, tmp_path / f"{name}.png")
        assert problems == [] and requests == [], name
        assert svgs and all(n_svg >= 1 and n_traces >= 1 for _, n_svg, n_traces in svgs), svgs


def test_real_pipeline_report_renders(browser, tmp_path):
    """A report of a real cycle-accurate simulation (not hand-built values) renders every plot."""
    from .pipeline import require_pipeline
    require_pipeline("pim-gpt")
    import archsim
    from archsim.hardware import load_hardware
    from archsim.reports.figures import roof_from_hardware
    hw = load_hardware("pim-gpt")
    r = archsim.simulate("gpt2-small", hw, phase="decode", context=128, fidelity="cycle", budget=200)
    path = html.write_html(r, tmp_path / "real.html", roof=roof_from_hardware(hw, r.dtype))
    problems, requests, svgs = open_report(browser, path, tmp_path / "real.png")
    assert problems == [] and requests == []
    expected = ["fig-latency", "fig-energy", "fig-power", "fig-buffers", "fig-roofline", "fig-timeline"]
    assert [s[0] for s in svgs] == (expected if r.fits else ["fig-buffers"])
    assert all(n_svg >= 1 and n_traces >= 1 for _, n_svg, n_traces in svgs), svgs
