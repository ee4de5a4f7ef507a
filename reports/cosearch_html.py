"""The co-search HTML page: 2-D Pareto plots for every pair of objectives (feasible and infeasible
trials, front highlighted), parallel coordinates over parameters and objectives, the Pareto table
with each design linked to its own simulate report, and the analytic-vs-cycle gap.

Takes the core `CoSearchResult` plus plain rows, so it knows nothing of how trials were evaluated."""
from __future__ import annotations

import itertools
import math
from pathlib import Path
from typing import Sequence

import plotly.graph_objects as go

from archsim.cosearch import CoSearchResult
from archsim.cosearch.space import METRICS

from .figures import _layout, esc
from .html import _figure_div, _page, _table
from .table import format_bytes

__all__ = ["cosearch_figures", "render_cosearch_html", "write_cosearch_html"]


def _value(t, metric):
    v = t.metric(metric)
    return None if v is None or not math.isfinite(v) else v


def metric_title(metric: str) -> str:
    """'latency_s' → 'latency (s)'; 'peak_sram_bytes' → 'peak sram (B)': an axis label with its unit."""
    if metric.startswith("tokens_per_"):
        return f"tokens/{metric.removeprefix('tokens_per_').upper().replace('S', 's')}"
    unit = METRICS.get(metric, ("", ""))[0]
    words = metric
    for suffix in ("_bytes", "_mm2", "_s", "_j", "_w"):
        if words.endswith(suffix) and unit:
            words = words[: -len(suffix)]
            break
    words = words.replace("_", " ")
    return f"{words} ({unit.replace('^2', '²')})" if unit else words


def bound_text(metric: str, value: float) -> str:
    """A constraint bound as a reader writes it: bytes with binary prefixes, else 4 significant digits."""
    if metric.endswith("_bytes"):
        return f"{format_bytes(int(value))} ({int(value):,} B)"
    unit = METRICS.get(metric, ("", ""))[0]
    return f"{value:.4g}" + (f" {unit}" if unit else "")


def constraint_text(c) -> str:
    return c.describe(lambda value: bound_text(c.metric, value), "≥", "≤")


def model_text(space) -> str:
    """The space's model; a template such as `{model}` names the values it takes."""
    import re
    names = re.findall(r"\{([A-Za-z_][A-Za-z0-9_]*)\}", space.model)
    if not names:
        return space.model
    takes = []
    for name in names:
        param = next((p for p in space.params if p.key.split(".", 1)[1] == name), None)
        values = ", ".join(map(str, param.choices)) if param is not None and param.choices else "searched"
        takes.append(f"{name}: {values}")
    return f"{space.model} ({'; '.join(takes)})"


def _label(t) -> str:
    return f"trial {t.number}<br>" + "<br>".join(f"{esc(k)} = {esc(v)}" for k, v in t.params)


def pareto_figures(result: CoSearchResult) -> list[tuple[str, go.Figure]]:
    objectives = [o.metric for o in result.space.objectives]
    front = set(result.pareto)
    figs = []
    for x, y in itertools.combinations(objectives, 2):
        fig = go.Figure()
        groups = (("infeasible", [t for t in result.trials if not t.feasible], "#bbbbbb", 6),
                  ("feasible", [t for t in result.trials if t.feasible and t.number not in front], "#4c78a8", 7),
                  ("Pareto front", [t for t in result.trials if t.number in front], "#e45756", 10))
        for name, trials, color, size in groups:
            pts = [(t, _value(t, x), _value(t, y)) for t in trials]
            pts = [p for p in pts if p[1] is not None and p[2] is not None]
            if name == "Pareto front":
                pts.sort(key=lambda p: p[1])
            fig.add_trace(go.Scatter(
                x=[p[1] for p in pts], y=[p[2] for p in pts], name=name, text=[_label(p[0]) for p in pts],
                hoverinfo="text+x+y", mode="markers+lines" if name == "Pareto front" and len(objectives) == 2 else "markers",
                marker={"color": color, "size": size}))
        _layout(fig, f"{metric_title(y)} vs {metric_title(x)}", height=420,
                xaxis_title=metric_title(x), yaxis_title=metric_title(y))
        figs.append((f"pareto-{x}-{y}", fig))
    return figs


def parallel_figure(result: CoSearchResult) -> go.Figure | None:
    feasible = [t for t in result.trials if t.feasible]
    if not feasible:
        return None
    dims = []
    for p in result.space.params:
        if len(p.choices) == 1:
            continue
        values = [dict(t.params)[p.key] for t in feasible]
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            dims.append({"label": p.key.split(".", 1)[1], "values": values})
        else:
            cats = sorted({str(v) for v in values})
            dims.append({"label": p.key.split(".", 1)[1], "values": [cats.index(str(v)) for v in values],
                         "tickvals": list(range(len(cats))), "ticktext": cats})
    for o in result.space.objectives:
        dims.append({"label": metric_title(o.metric), "values": [_value(t, o.metric) or 0.0 for t in feasible]})
    front = set(result.pareto)
    fig = go.Figure(go.Parcoords(
        line={"color": [1 if t.number in front else 0 for t in feasible],
              "colorscale": [[0, "#9ecae1"], [1, "#e45756"]]},
        dimensions=dims))
    _layout(fig, "Feasible trials: parameters and objectives (red: Pareto front)", height=460)
    return fig


def cosearch_figures(result: CoSearchResult) -> list[tuple[str, go.Figure]]:
    figs = pareto_figures(result)
    par = parallel_figure(result)
    if par is not None:
        figs.append(("parallel", par))
    return figs


def render_cosearch_html(result: CoSearchResult, table_header: Sequence[str], table_rows: Sequence[Sequence[str]],
                         links: dict[int, str] | None = None, accuracy_label: str = "",
                         gap_rows: Sequence[Sequence[str]] = (), plotly_src: str | None = None,
                         reruns: dict[int, str] | None = None) -> str:
    """The page. `table_rows[i][0]` is a trial number; `links` maps trial numbers to the relative
    path of that design's simulate report, `reruns` to the command that runs it on its own;
    `plotly_src` loads plotly.js from a shared file."""
    reruns = reruns or {}
    links = links or {}
    space = result.space
    feasible = sum(t.feasible for t in result.trials)
    intro = (f"<p>{len(result.trials)} trials, {feasible} feasible, {len(result.pareto)} on the Pareto "
             f"front. Model <b>{esc(model_text(space))}</b> ({esc(space.phase)}) on <b>{esc(space.hardware)}</b>. "
             f"Objectives: {esc(', '.join(f'{o.direction} {metric_title(o.metric)}' for o in space.objectives))}. "
             f"Constraints: {esc('; '.join(constraint_text(c) for c in space.constraints) or 'none')}.</p>")
    if accuracy_label:
        intro += f"<p>Accuracy column: {esc(accuracy_label)}.</p>"
    rows_html = []
    head = "".join(f"<th>{esc(h)}</th>" for h in list(table_header) + ["report", "run it on its own"])
    for row in table_rows:
        number = int(row[0])
        link = links.get(number)
        cell = f'<a href="{esc(link)}">simulate report</a>' if link else "–"
        rerun = f"<code>{esc(reruns[number])}</code>" if number in reruns else "–"
        rows_html.append("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) +
                         f"<td>{cell}</td><td>{rerun}</td></tr>")
    table = f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows_html)}</tbody></table>"
    sections = [("summary", "<h2>Study</h2>" + intro),
                ("pareto", "<h2>Pareto front</h2>" + table)]
    if gap_rows:
        sections.append(("fidelity", "<h2>Analytic vs cycle fidelity (Pareto designs)</h2>" + _table(
            ["trial", "analytic latency (s)", "cycle latency (s)", "gap"], [list(r) for r in gap_rows],
            numeric={1, 2, 3})))
    for sid, fig in cosearch_figures(result):
        sections.append((sid, _figure_div(fig, f"fig-{sid}")))
    return _page(f"Co-search: {space.name}", f"study {result.study_name} · seed {result.seed} · "
                 f"{result.sampler}", sections, plotly_src)


def write_cosearch_html(path: str | Path, result: CoSearchResult, table_header, table_rows,
                        links=None, accuracy_label: str = "", gap_rows=(), plotly_src: str | None = None,
                        reruns: dict[int, str] | None = None) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_cosearch_html(result, table_header, table_rows, links, accuracy_label, gap_rows,
                                         plotly_src, reruns), encoding="utf-8")
    return path
