"""Every chart of every report kind a user gets from real runs shows something: data with more than one
distinct value and labelled axes (opened in headless Chromium), and at cycle fidelity on an NPU and
an MCU every buffer level's occupancy trace moves; the compare page puts seconds and
joules on separate, labelled axes; a PIM roofline has a roof above every op; a one-unit chip's
timeline is not one solid bar."""
from __future__ import annotations

import pytest

import archsim
from archsim.hardware import load_hardware
from archsim.reports import html
from archsim.reports.figures import _op_traffic, roof_from_hardware, timeline_figure

#: per figure: x title, y title (each axis of a subplot figure), and every plotted value as text
_PROBE = """() => [...document.querySelectorAll('.plotly-graph-div')].map(d => {
  const titles = Object.keys(d.layout).filter(k => /^[xy]axis\\d*$/.test(k)).map(k =>
      [k, (d.layout[k].title && d.layout[k].title.text) || '']);
  const values = d.data.flatMap(t => [...(t.x || []), ...(t.y || []), ...(t.base || []),
      ...(t.dimensions || []).flatMap(x => x.values)]).filter(v => v !== null).map(String);
  return [d.id, titles, [...new Set(values)].length];
})"""


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    folder = tmp_path_factory.mktemp("reports")
    pim = load_hardware("pim-gpt")
    mcu = load_hardware("stm32f746")
    pages = {}
    r = archsim.simulate("gpt2-small", pim, phase="decode", context=128, budget=50)
    pages["simulate-pim"] = html.write_html(r, folder / "pim.html", roof=roof_from_hardware(pim, r.dtype))
    m = archsim.simulate("mcuformer:depth=4,patch=32,embed=168,rank=0.5", mcu,
                         dtype="weights=int4,activations=int8", budget=10)   # fits 1 MB of flash
    pages["simulate-mcu"] = html.write_html(m, folder / "mcu.html", roof=roof_from_hardware(mcu, m.dtype))
    s = archsim.api.sweep("gpt2-small", pim, phase="decode", context=[64, 256], budget=50)
    pages["sweep"] = html.write_html(s, folder / "sweep.html")
    c = archsim.compare("gpt2-small", ["pim-gpt", "edge-npu"], phase="decode", context=128, budget=50)
    pages["compare"] = html.write_html(c, folder / "compare.html")
    # buffer occupancy from the cycle engine's events on an NPU and an MCU (issues #18, #19)
    npu = load_hardware("edge-npu")
    e = archsim.simulate("gpt2-small", npu, phase="prefill", seq=64, overrides={"layers": 2},
                         fidelity="cycle", budget=20)
    pages["cycle-npu"] = html.write_html(e, folder / "npu.html", roof=roof_from_hardware(npu, e.dtype))
    mc = archsim.simulate("mcuformer:depth=4,patch=32,embed=168,rank=0.5", mcu, fidelity="cycle",
                          dtype="weights=int4,activations=int8", budget=10)
    pages["cycle-mcu"] = html.write_html(mc, folder / "mcu-cycle.html", roof=roof_from_hardware(mcu, mc.dtype))
    return {"pages": pages, "pim": (r, pim), "mcu": m, "cycle": {"edge-npu": e, "stm32f746": mc}}


def test_pim_roofline_has_a_roof_above_every_op(reports):
    r, hw = reports["pim"]
    roof = roof_from_hardware(hw, r.dtype)
    assert any("internal" in name for name, _ in roof.bandwidths_bytes_per_s)
    level_order = [lv.level for lv in r.levels]
    checked = 0
    for op in r.ops:
        nbytes, _ = _op_traffic(op, level_order)
        if not (nbytes and op.flops and op.latency_s > 0):
            continue
        intensity, achieved = op.flops / nbytes, op.flops / op.latency_s
        best = max(min(roof.peak_flops_per_s, bw * intensity) for _, bw in roof.bandwidths_bytes_per_s)
        assert achieved <= best * 1.001, (op.name, achieved, best)
        checked += 1
    assert checked > 10


def test_one_unit_chip_timeline_has_a_row_per_op_kind(reports):
    m = reports["mcu"]
    assert len({op.unit for op in m.ops}) == 1
    fig = timeline_figure(m)
    lanes = {y for trace in fig.data for y in trace.y}
    assert len(lanes) == len({op.kind for op in m.ops}) > 1
    assert fig.layout.yaxis.title.text == "compute unit: op kind"


def test_compare_puts_seconds_and_joules_on_their_own_axes(reports):
    from archsim.comparison import Comparison  # noqa: F401  (the type the page is made from)
    text = reports["pages"]["compare"].read_text()
    assert '"title":{"text":"latency (s)"}' in text and '"title":{"text":"energy per token (J)"}' in text


#: per occupancy trace of the buffer chart: its name and how many distinct bytes values it plots
_OCCUPANCY = """() => document.getElementById('fig-buffers').data
  .filter(t => (t.name || '').endsWith(' occupancy')).map(t => [t.name, new Set(t.y).size])"""


@pytest.mark.parametrize("chip", ["edge-npu", "stm32f746"])
def test_cycle_occupancy_fills_and_drains(reports, chip):
    """Every on-chip level the engine's tasks hold is filled and drained over the run: more than
    one distinct value, empty again at the end, never above its capacity."""
    r = reports["cycle"][chip]
    capacity = {lv.level: lv.capacity_bytes for lv in r.levels}
    engine = [t for t in r.timelines if t.engine]
    assert engine, chip
    for t in engine:
        assert len(set(t.occupancy_bytes)) > 2, (chip, t.level)
        assert t.occupancy_bytes[-1] == 0 and max(t.occupancy_bytes) <= capacity[t.level], (chip, t.level)


@pytest.mark.browser
def test_every_chart_has_data_and_labelled_axes(reports):
    from tests.browser import launched, open_report
    with launched() as browser:
        for kind, page in reports["pages"].items():
            check = open_report(browser, page, probe_js=_PROBE)
            assert check.problems == () and check.requests == (), kind
            for fig_id, titles, distinct in check.probe:
                assert distinct > 1, (kind, fig_id, "plots one value")
                unlabelled = [axis for axis, title in titles if axis.startswith("y") and not title]
                assert not unlabelled, (kind, fig_id, unlabelled)      # every y axis says what it is
                assert any(t for axis, t in titles if axis.startswith("x")), (kind, fig_id)  # shared x: once
            if kind.startswith("cycle-"):     # each level's occupancy moves, not only the time axis
                traces = open_report(browser, page, probe_js=_OCCUPANCY).probe
                assert traces and all(distinct > 1 for _, distinct in traces), (kind, traces)
