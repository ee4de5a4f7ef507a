"""Plotly figures of one simulation: latency by layer and op kind, energy breakdown, buffer occupancy
over time per level against capacity, a roofline with every op placed, and a resource timeline.
Pure functions from result values to `go.Figure`; `reports.html` assembles them into a page.

User-visible strings go through `esc` (html.escape): plotly renders HTML entities as text, so a
model called `<b>x</b>` shows literally instead of as markup."""
from __future__ import annotations

import html

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from archsim.result import SimResult

from .roof import Roof, roof_from_hardware

__all__ = ["PALETTE", "Roof", "roof_from_hardware", "esc", "latency_figure", "energy_figure", "buffer_figure",
           "roofline_figure", "timeline_figure", "result_figures"]

_HEIGHT = 420
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
            "#bcbd22", "#17becf")


def esc(text) -> str:
    return html.escape(str(text), quote=True)


def _layout(fig: go.Figure, title: str, **kw) -> go.Figure:
    fig.update_layout(title=title, height=kw.pop("height", _HEIGHT), template="plotly_white",
                      margin=dict(l=60, r=20, t=60, b=50), **kw)
    return fig


def _kind_colors(kinds) -> dict[str, str]:
    return {k: PALETTE[i % len(PALETTE)] for i, k in enumerate(sorted(set(kinds)))}


def latency_figure(r: SimResult) -> go.Figure:
    """Stacked bars: latency per layer split by op kind (ops outside layers under 'other')."""
    layers = sorted({op.layer for op in r.ops if op.layer >= 0})
    labels = [f"L{i}" for i in layers] + (["other"] if any(op.layer < 0 for op in r.ops) else [])
    index = {lab: i for i, lab in enumerate(labels)}
    kinds = sorted({op.kind for op in r.ops})
    colors = _kind_colors(kinds)
    fig = go.Figure()
    for kind in kinds:
        y = [0.0] * len(labels)
        for op in r.ops:
            if op.kind == kind:
                y[index[f"L{op.layer}" if op.layer >= 0 else "other"]] += op.latency_s
        fig.add_bar(x=labels, y=y, name=esc(kind), marker_color=colors[kind])
    return _layout(fig, "Latency by layer and op kind", barmode="stack",
                   xaxis_title="layer", yaxis_title="latency (s)")


def energy_figure(r: SimResult) -> go.Figure:
    parts = sorted(r.energy_breakdown_j, key=lambda kv: -kv[1])
    fig = go.Figure(go.Bar(x=[v for _, v in parts], y=[esc(k) for k, _ in parts], orientation="h",
                           marker_color=PALETTE[0], name="energy"))
    return _layout(fig, f"Energy breakdown (total {r.energy_j:.4g} J)", xaxis_title="energy (J)",
                   yaxis=dict(autorange="reversed", title="component"))


def buffer_figure(r: SimResult) -> go.Figure:
    """Occupancy over time of each level (one panel each): the engine's fill and drain, the mapper's
    planned reservation dotted, the capacity dashed; when the engine recorded no timeline, peak
    against capacity per level."""
    if not r.timelines:
        names = [esc(lv.level) for lv in r.levels]
        fig = go.Figure([
            go.Bar(x=names, y=[lv.peak_buffer_bytes for lv in r.levels], name="peak"),
            go.Bar(x=names, y=[lv.capacity_bytes for lv in r.levels], name="capacity"),
        ])
        return _layout(fig, "Peak buffer use against capacity (no occupancy timeline recorded)",
                       barmode="group", yaxis_type="log", yaxis_title="bytes", xaxis_title="memory level")
    capacity = {lv.level: lv.capacity_bytes for lv in r.levels}
    n = len(r.timelines)
    fig = make_subplots(rows=n, cols=1, shared_xaxes=True, vertical_spacing=0.12 / max(n, 1),
                        subplot_titles=[esc(t.level) + ("" if t.engine else " (the mapper's static plan)")
                                        for t in r.timelines])
    for i, t in enumerate(r.timelines, start=1):
        fig.add_scatter(x=list(t.time_s), y=list(t.occupancy_bytes), mode="lines", line_shape="hv",
                        name=f"{esc(t.level)} occupancy", row=i, col=1,
                        line_color=PALETTE[(i - 1) % len(PALETTE)])
        if t.planned_bytes and t.engine and t.time_s:   # the mapper's static reservation beside the events
            fig.add_scatter(x=[t.time_s[0], t.time_s[-1]], y=[t.planned_bytes] * 2, mode="lines",
                            line=dict(dash="dot", color="#7f7f7f"), name=f"{esc(t.level)} planned",
                            row=i, col=1)
        cap = capacity.get(t.level)
        if cap and t.time_s:
            fig.add_scatter(x=[t.time_s[0], t.time_s[-1]], y=[cap, cap], mode="lines",
                            line=dict(dash="dash", color="#d62728"), name=f"{esc(t.level)} capacity",
                            row=i, col=1)
        fig.update_yaxes(title_text="bytes", row=i, col=1)
    fig.update_xaxes(title_text="time (s)", row=n, col=1)
    return _layout(fig, "Buffer occupancy over time against capacity", height=max(_HEIGHT, 220 * n))


def _op_traffic(op, level_order: list[str]) -> tuple[int, str]:
    """Bytes at the outermost level this op touches (the traffic its roofline is bound by)."""
    moved = dict(op.bytes_by_level)
    for name in level_order + sorted(set(moved) - set(level_order)):
        if moved.get(name, 0) > 0:
            return moved[name], name
    return 0, ""


def roofline_figure(r: SimResult, roof: Roof | None = None) -> go.Figure:
    """Every op placed at (FLOPs per byte of its outermost traffic, achieved FLOP/s). Ops without
    arithmetic or traffic sit on the floor of the axes, marked with an x."""
    level_order = [lv.level for lv in r.levels]
    points = []
    for op in r.ops:
        nbytes, level = _op_traffic(op, level_order)
        intensity = op.flops / nbytes if nbytes and op.flops else 0.0
        achieved = op.flops / op.latency_s if op.latency_s > 0 and op.flops else 0.0
        points.append((op, intensity, achieved, level))
    xs = [p[1] for p in points if p[1] > 0]
    ys = [p[2] for p in points if p[2] > 0]
    x_floor = min(xs) / 10 if xs else 1e-2
    y_floor = min(ys) / 10 if ys else 1.0
    kinds = sorted({op.kind for op in r.ops})
    colors = _kind_colors(kinds)
    fig = go.Figure()
    for kind in kinds:
        pts = [p for p in points if p[0].kind == kind]
        fig.add_scatter(
            x=[p[1] if p[1] > 0 else x_floor for p in pts],
            y=[p[2] if p[2] > 0 else y_floor for p in pts],
            mode="markers", name=esc(kind), marker=dict(
                color=colors[kind], size=8,
                symbol=["circle" if p[1] > 0 and p[2] > 0 else "x" for p in pts]),
            text=[f"{esc(p[0].name)}<br>bound: {esc(p[0].bound)}<br>traffic level: {esc(p[3] or '–')}"
                  for p in pts],
            hovertemplate="%{text}<br>%{x:.3g} FLOP/B, %{y:.3g} FLOP/s<extra></extra>")
    if roof is not None and roof.peak_flops_per_s > 0:
        lo = min([x_floor] + xs) / 2
        hi = max([x_floor] + xs) * 4
        for i, (name, bw) in enumerate(roof.bandwidths_bytes_per_s):
            knee = roof.peak_flops_per_s / bw
            x = sorted({lo, min(max(knee, lo), hi), hi})
            fig.add_scatter(x=x, y=[min(roof.peak_flops_per_s, bw * v) for v in x], mode="lines",
                            name=f"roof via {esc(name)}",
                            line=dict(dash="dot", color=PALETTE[(i + 3) % len(PALETTE)]))
    return _layout(fig, "Roofline: every op at its arithmetic intensity and achieved rate",
                   xaxis=dict(type="log", title="arithmetic intensity (FLOP/byte)"),
                   yaxis=dict(type="log", title="achieved (FLOP/s)"))


def timeline_figure(r: SimResult, max_ops: int = 4000) -> go.Figure:
    """Gantt chart: each op as a bar on the compute unit that ran it, from start to end. On a chip
    that ran everything on one unit (an MCU core, one array) that would be one solid bar, so there a
    row per op kind shows what the unit was doing when."""
    ops = sorted(r.ops, key=lambda op: (op.start_s, op.name))[:max_ops]
    kinds = sorted({op.kind for op in ops})
    one_unit = len({op.unit for op in ops}) == 1
    lane = (lambda op: f"{op.unit}: {op.kind}") if one_unit else (lambda op: op.unit)
    lanes = sorted({lane(op) for op in ops})
    colors = _kind_colors(kinds)
    fig = go.Figure()
    for kind in kinds:
        sel = [op for op in ops if op.kind == kind]
        fig.add_bar(base=[op.start_s for op in sel], x=[op.latency_s for op in sel],
                    y=[esc(lane(op)) for op in sel], orientation="h", name=esc(kind),
                    marker_color=colors[kind], text=[esc(op.name) for op in sel],
                    textposition="none", customdata=[op.start_s for op in sel],
                    hovertemplate="%{text}<br>start %{customdata:.3g} s, %{x:.3g} s<extra></extra>")
    util = dict(r.utilization)
    title = "Resource timeline"
    if util:
        title += " (busy: " + ", ".join(f"{esc(k)} {100 * v:.0f} %" for k, v in sorted(util.items())) + ")"
    return _layout(fig, title, barmode="overlay", xaxis_title="time (s)",
                   yaxis=dict(categoryorder="array", categoryarray=[esc(u) for u in lanes],
                              title="compute unit: op kind" if one_unit else "compute unit"),
                   height=max(_HEIGHT, 40 * len(lanes) + 160))


def power_figure(r: SimResult) -> go.Figure:
    """Chip power over the run (each window's energy ÷ its width) with the average and the chip's
    power budget (its limit, else its TDP) as lines."""
    t = r.power_timeline
    fig = go.Figure()
    fig.add_scatter(x=list(t.time_s) + [r.latency_s], y=list(t.power_w) + list(t.power_w[-1:]), mode="lines",
                    line_shape="hv", name="chip power", line_color=PALETTE[0])
    fig.add_scatter(x=[0, r.latency_s], y=[r.avg_power_w] * 2, mode="lines", name="average",
                    line=dict(dash="dot", color="#555"))
    if r.power_budget_w > 0:
        fig.add_scatter(x=[0, r.latency_s], y=[r.power_budget_w] * 2, mode="lines", name="budget",
                        line=dict(dash="dash", color="#d62728"))
    parts = ", ".join(f"{esc(k)} {v:.0%}" for k, v in r.energy_share().items())
    return _layout(fig, f"Power over time (energy: {parts})", xaxis_title="time (s)", yaxis_title="W")


def result_figures(r: SimResult, roof: Roof | None = None) -> list[tuple[str, go.Figure]]:
    """(section id, figure) for every plot of one simulation that has data to show."""
    if not r.fits:
        return [("buffers", buffer_figure(r))] if r.levels else []
    figs = []
    if r.ops:
        figs.append(("latency", latency_figure(r)))
    if r.energy_breakdown_j:
        figs.append(("energy", energy_figure(r)))
    if r.power_timeline is not None and r.power_timeline.power_w:
        figs.append(("power", power_figure(r)))
    if r.levels or r.timelines:
        figs.append(("buffers", buffer_figure(r)))
    if r.ops:
        figs.append(("roofline", roofline_figure(r, roof)))
        figs.append(("timeline", timeline_figure(r)))
    return figs
