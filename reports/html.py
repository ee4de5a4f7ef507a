"""One self-contained, offline HTML file per simulation, sweep or comparison.

plotly.js is embedded once in the page head (the same bytes `include_plotlyjs=True` writes), every
figure is a `<div class="plotly-graph-div">` with a fixed id, no script or font is fetched from the
network, and every user-supplied string (model, hardware, op names) is escaped with html.escape."""
from __future__ import annotations

from pathlib import Path

import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from archsim import __version__
from archsim.comparison import Comparison, Sweep
from archsim.result import SimResult

from .figures import PALETTE, Roof, esc, result_figures
from .table import (comparison_gap, fidelity_label, format_bytes, gap_parts, misfit_reason, op_gap,
                    other_label, si, used_share)

__all__ = ["render_html", "write_html", "write_plotly_js", "comparison_figures", "sweep_figures",
           "PLOTLY_JS"]

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px auto;max-width:1200px;
color:#222;padding:0 16px}
h1{font-size:1.5em;margin-bottom:4px} h2{font-size:1.15em;margin-top:28px}
.sub{color:#555;margin-top:0} table{border-collapse:collapse;margin:8px 0 16px;font-size:.92em}
th,td{border:1px solid #ddd;padding:4px 8px;text-align:left} td.num{text-align:right}
th{background:#f4f6f8} .row{display:flex;flex-wrap:wrap;gap:0 32px;align-items:flex-start}
.bad{color:#b00020;font-weight:600} .note{background:#fff8e1;padding:4px 8px;margin:4px 0} footer{color:#777;font-size:.85em;margin-top:32px}
"""
_CONFIG = {"responsive": True, "displaylogo": False}


def _table(header: list[str], rows: list[list], numeric: set[int] | None = None) -> str:
    numeric = numeric or set()
    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    body = []
    for row in rows:
        cells = "".join(f'<td class="num">{esc(c)}</td>' if i in numeric else f"<td>{esc(c)}</td>"
                        for i, c in enumerate(row))
        body.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _figure_div(fig: go.Figure, div_id: str) -> str:
    return fig.to_html(full_html=False, include_plotlyjs=False, div_id=div_id, config=_CONFIG)


PLOTLY_JS = "plotly.min.js"


def write_plotly_js(folder: str | Path) -> Path:
    """plotly.js as one file in `folder`, for pages rendered with `plotly_src` (a study's many
    pages share it instead of embedding 3.5 MB each). Written only when missing or different."""
    path = Path(folder) / PLOTLY_JS
    text = get_plotlyjs()
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return path


def _page(title: str, subtitle: str, sections: list[tuple[str, str]], plotly_src: str | None = None) -> str:
    """A whole page; plotly.js embedded in the head, or loaded from the relative path `plotly_src`
    (a file `write_plotly_js` wrote next to the pages)."""
    body = "\n".join(f'<section id="{esc(sid)}">{content}</section>' for sid, content in sections)
    if plotly_src is None:
        script, footer = f"<script type=\"text/javascript\">{get_plotlyjs()}</script>", "self-contained report"
    else:
        script, footer = f'<script type="text/javascript" src="{esc(plotly_src)}"></script>', \
            f"plotly.js from {plotly_src}"
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<title>{esc(title)}</title>\n<style>{_CSS}</style>\n{script}\n</head>\n<body>\n"
        f"<h1>{esc(title)}</h1>\n<p class=\"sub\">{esc(subtitle)}</p>\n{body}\n"
        f"<footer>archsim {esc(__version__)} · {esc(footer)}, works offline</footer>\n"
        "</body>\n</html>\n")


def _workload(r: SimResult) -> str:
    parts = [r.phase, f"batch {r.batch}"]
    if r.seq:
        parts.append(f"seq {r.seq}")
    if r.context:
        parts.append(f"context {r.context}")
    if r.dtype:
        parts.append(r.dtype)
    return " · ".join(parts + [fidelity_label(r)])


def _summary_section(r: SimResult) -> str:
    unit = "token" if r.phase in ("prefill", "decode") else "inference"
    if r.fits:
        rows = [["latency", si(r.latency_s, "s")], ["cycles", f"{r.cycles:,}"],
                ["throughput", si(r.throughput_per_s, unit + "s/s")],
                ["energy", si(r.energy_j, "J")],
                [f"energy per {unit}", si(r.energy_j / r.tokens if r.tokens else None, "J")],
                ["average power", si(r.avg_power_w, "W")], ["peak power", si(r.peak_power_w, "W")],
                ["power budget", si(r.power_budget_w, "W") if r.power_budget_w > 0 else "–"],
                ["static / active / dynamic energy",
                 " / ".join(f"{v:.0%}" for v in r.energy_share().values())]]
        if r.analytic_vs_cycle_gap is not None:
            rows.append(["cycle vs analytic gap", f"{100 * r.analytic_vs_cycle_gap:+.1f} %"])
            if r.gap_attribution:
                rows.append(["gap by effect", gap_parts(r.gap_attribution, other_label(r))])
        head = _table(["quantity", "value"], rows, numeric={1})
    else:
        head = f'<p class="bad">Does not fit: {esc(misfit_reason(r))}</p>'
    levels = _table(["level", "peak buffer", "capacity", "used"], [
        [lv.level, format_bytes(lv.peak_buffer_bytes), format_bytes(lv.capacity_bytes),
         used_share(lv.peak_buffer_bytes, lv.capacity_bytes)]
        for lv in r.levels], numeric={1, 2, 3}) if r.levels else ""
    top = sorted(r.ops, key=lambda op: (-op.latency_s, op.name))[:10]
    gaps = r.fidelity == "cycle" and bool(r.gap_attribution)
    ops = _table(["op", "kind", "unit", "latency", "energy", "bound"]
                 + (["gap vs analytic (named effects)"] if gaps else []), [
        [op.name, op.kind, op.unit, si(op.latency_s, "s"), si(op.energy_j, "J"), op.bound]
        + ([op_gap(op, r.freq_hz, other_label(r))] if gaps else [])
        for op in top], numeric={3, 4}) if top else ""
    notes = "".join(f'<p class="note">note: {esc(n)}</p>' for n in r.notes)
    columns = [f"<div><h2>Summary</h2>{head}</div>", f"<div><h2>Memory levels</h2>{levels}</div>"]
    if ops:
        columns.append(f"<div><h2>Top ops by time</h2>{ops}</div>")
    return f'{notes}<div class="row">{"".join(columns)}</div>'



_TITLES = {"latency": "Latency by layer / op", "energy": "Energy breakdown", "power": "Power over time",
           "buffers": "Buffer occupancy", "roofline": "Roofline", "timeline": "Resource timeline",
           "normalised": "Normalised to the baseline", "absolute": "Absolute latency and energy",
           "series": "Series", "system-timeline": "Devices and links over time"}


def _figure_sections(figs: list[tuple[str, go.Figure]], prefix: str = "") -> list[tuple[str, str]]:
    return [(f"{prefix}{sid}", f"<h2>{esc(_TITLES.get(sid, sid))}</h2>" +
             _figure_div(fig, f"fig-{prefix}{sid}")) for sid, fig in figs]


def comparison_figures(c: Comparison) -> list[tuple[str, go.Figure]]:
    fitting = [row for row in c.rows if row.result.fits]
    names = [esc(row.hw) for row in fitting]
    metrics = (("speedup", "speedup"), ("energy_efficiency", "energy efficiency"),
               ("perf_per_w_vs_baseline", "perf/W"), ("perf_per_mm2_vs_baseline", "perf/mm²"))
    norm = go.Figure()
    for attr, label in metrics:
        values = [getattr(row, attr) for row in fitting]
        if any(v is not None for v in values):
            norm.add_bar(x=names, y=values, name=label)
    norm.update_layout(title=f"Normalised to {esc(c.baseline)} (higher is better)", barmode="group",
                       yaxis=dict(type="log", title="× baseline"), xaxis=dict(title="chip"),
                       template="plotly_white", height=440)
    from plotly.subplots import make_subplots
    per = _per(fitting[0].result) if fitting else "token"
    absolute = make_subplots(rows=1, cols=2, subplot_titles=["latency", f"energy per {per}"])
    absolute.add_bar(x=names, y=[row.result.latency_s for row in fitting], name="latency (s)",
                     row=1, col=1)
    absolute.add_bar(x=names, y=[row.result.energy_j / max(row.result.tokens, 1) for row in fitting],
                     name=f"energy per {per} (J)", row=1, col=2)
    absolute.update_yaxes(type="log", title_text="latency (s)", row=1, col=1)
    absolute.update_yaxes(type="log", title_text=f"energy per {per} (J)", row=1, col=2)
    absolute.update_xaxes(title_text="chip")
    absolute.update_layout(title="Absolute latency and energy (log scales, one axis each)",
                           template="plotly_white", height=440, showlegend=False)
    energy = go.Figure()
    components = sorted({k for row in fitting for k, _ in row.result.energy_breakdown_j})
    for comp in components:
        energy.add_bar(y=names, x=[dict(row.result.energy_breakdown_j).get(comp, 0.0)
                                   / max(row.result.tokens, 1) for row in fitting],
                       name=esc(comp), orientation="h")
    energy.update_layout(title="Energy per token or inference by component (J)", barmode="stack",
                         template="plotly_white", height=max(360, 60 * len(names) + 160),
                         yaxis=dict(autorange="reversed", title="chip"),
                         xaxis=dict(title=f"energy per {per} (J)"))
    return [("normalised", norm), ("absolute", absolute), ("energy", energy)]


def sweep_figures(s: Sweep) -> list[tuple[str, go.Figure]]:
    from plotly.subplots import make_subplots
    length = "context" if s.results and s.results[0].phase == "decode" else "seq"
    x_name = length if length in s.parameters or "batch" not in s.parameters else "batch"
    groups: dict[int | str, list[SimResult]] = {}
    for r in s.results:
        key = r.batch if x_name != "batch" else (r.context or r.seq)
        groups.setdefault(key, []).append(r)
    fig = make_subplots(rows=1, cols=3, subplot_titles=["latency (s)", "throughput (/s)",
                                                        "energy per token or inference (J)"])
    for i, (key, rs) in enumerate(sorted(groups.items())):
        rs = [r for r in rs if r.fits]
        x = [getattr(r, x_name) if x_name == "batch" else (r.context or r.seq) for r in rs]
        label = f"batch {key}" if x_name != "batch" else f"{length} {key}"
        for col, values in enumerate(([r.latency_s for r in rs], [r.throughput_per_s for r in rs],
                                      [r.energy_j / max(r.tokens, 1) for r in rs]), start=1):
            fig.add_scatter(x=x, y=values, mode="lines+markers", name=esc(label), legendgroup=str(i),
                            showlegend=col == 1, row=1, col=col,
                            line=dict(color=PALETTE[i % len(PALETTE)]))
    fig.update_xaxes(type="log", title_text=x_name)
    per = _per(s.results[0]) if s.results else "token"
    for col, title in enumerate(("latency (s)", f"throughput ({per}s/s)", f"energy per {per} (J)"), start=1):
        fig.update_yaxes(title_text=title, row=1, col=col)
    fig.update_layout(title=f"Sweep over {esc(', '.join(s.parameters))}", template="plotly_white",
                      height=440)
    return [("series", fig)]


def _comparison_table(c: Comparison) -> str:
    def ratio(x):
        return "–" if x is None else f"{x:.3g}×"
    rows = []
    for row in c.rows:
        r = row.result
        if not r.fits:
            rows.append([r.hw, r.hw_kind, "does not fit: " + misfit_reason(r)] + ["–"] * 7)
            continue
        rows.append([r.hw + (" (baseline)" if r.hw == c.baseline else "") + (" *" if row.fallbacks else ""), r.hw_kind,
                     si(r.latency_s, "s"), si(r.throughput_per_s, _per(r) + "s/s"),
                     si(r.energy_j / max(r.tokens, 1), "J"), si(r.avg_power_w, "W"),
                     ratio(row.speedup), ratio(row.energy_efficiency),
                     ratio(row.perf_per_w_vs_baseline), ratio(row.perf_per_mm2_vs_baseline)])
    per = _per(c.rows[0].result) if c.rows else "token"
    table = _table(["hw", "kind", "latency", "throughput", f"energy/{per}", "power", "speedup",
                    "energy eff.", "perf/W", "perf/mm²"], rows, numeric=set(range(3, 10)))
    assumptions = _table(["assumption", "value"], [list(kv) for kv in c.assumptions])
    notes = "".join(f'<p class="note">note: {esc(n)}</p>' for n in c.notes)
    flag = ("<p>* ran ops on a fallback unit or at another dtype's rate (see the notes)</p>"
            if any(row.fallbacks for row in c.rows) else "")
    gap_header, gap_rows = comparison_gap(c)
    gaps = ("<h2>Cycle vs analytic gap</h2><p>By part; the parts add up to cycle − analytic "
            "latency.</p>" + _table(gap_header, gap_rows, numeric=set(range(1, len(gap_header))))
            if gap_rows else "")
    return f"<h2>Comparison</h2>{notes}{table}{flag}{gaps}<h2>Assumptions</h2>{assumptions}"


def _sweep_table(s: Sweep) -> str:
    rows = [[r.batch, r.context or r.seq, si(r.latency_s, "s") if r.fits else "does not fit",
             si(r.throughput_per_s, _per(r) + "s/s") if r.fits else "–",
             si(r.energy_j / max(r.tokens, 1), "J") if r.fits else "–",
             si(r.avg_power_w, "W") if r.fits else "–"] for r in s.results]
    per = _per(s.results[0]) if s.results else "token"
    return "<h2>Points</h2>" + _table(["batch", "context / seq", "latency", "throughput",
                                       f"energy/{per}", "power"], rows, numeric={0, 1, 2, 3, 4, 5})


def _per(r: SimResult) -> str:
    """What throughput and energy are counted per: a token (prefill, decode) or an inference."""
    return "token" if r.phase in ("prefill", "decode") else "inference"


def render_html(obj, roof: Roof | None = None, plotly_src: str | None = None,
                title: str | None = None) -> str:
    """The page for a SimResult, Sweep or Comparison. `roof` (from `figures.roof_from_hardware`)
    draws the chip's roofs on a single simulation's roofline; `plotly_src` loads plotly.js from a
    shared file instead of embedding it; `title` replaces the default heading."""
    from archsim.system.result import SystemResult, as_sim_result
    if isinstance(obj, SystemResult):
        from .system_report import system_table_rows, system_timeline_figure
        one = as_sim_result(obj)
        header, rows = system_table_rows(obj)
        table = (f"<p>placement '{esc(obj.placement)}', {obj.sub_batches} sub-batch(es), "
                 f"{obj.shards} shard(s); the token is bound by <b>{esc(obj.bound_by)}</b></p>"
                 + _table(header, rows, numeric={2, 3, 4, 5}))
        figs = [("system-timeline", system_timeline_figure(obj))] + \
            [(n, f) for n, f in result_figures(one, None)
             if n not in ("roofline", "timeline", "buffers")]      # per device: its own results
        sections = [("summary", _summary_section(one)),
                    ("devices", "<h2>Devices and links</h2>" + table)] + _figure_sections(figs)
        return _page(title or f"{obj.model} on {obj.system}", f"system · {_workload(one)}", sections,
                     plotly_src)
    if isinstance(obj, SimResult):
        sections = [("summary", _summary_section(obj))] + _figure_sections(result_figures(obj, roof))
        return _page(title or f"{obj.model} on {obj.hw}", f"{obj.hw_kind} · {_workload(obj)}", sections,
                     plotly_src)
    if isinstance(obj, Comparison):
        figs = comparison_figures(obj)
        sections = [("comparison", _comparison_table(obj))] + _figure_sections(figs)
        return _page(title or f"{obj.model}: comparison", f"normalised to {obj.baseline}", sections,
                     plotly_src)
    if isinstance(obj, Sweep):
        sections = [("points", _sweep_table(obj))] + _figure_sections(sweep_figures(obj))
        return _page(title or f"{obj.model} on {obj.hw}: sweep", "over " + ", ".join(obj.parameters),
                     sections, plotly_src)
    raise TypeError(f"cannot render {type(obj).__name__} as HTML")


def write_html(obj, path: str | Path, roof: Roof | None = None, plotly_src: str | None = None,
               title: str | None = None) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html(obj, roof, plotly_src, title), encoding="utf-8")
    return path
