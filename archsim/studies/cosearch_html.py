"""The co-search HTML report: the study page (reports.cosearch_html) plus one full simulate report per
Pareto design (reports.html), linked from the Pareto table. Designs re-simulated at cycle fidelity
link to that result; the others are simulated at analytic fidelity here. Every page loads one shared
plotly.js from the designs folder, so a study of many designs stays a few hundred KB per page."""
from __future__ import annotations

import dataclasses
import math
from pathlib import Path

from archsim.studies.cosearch_eval import CoSearchReport, build_trial, design_for, pareto_table, rerun_command

__all__ = ["write_report_html"]


def write_report_html(report: CoSearchReport, path: str | Path) -> Path:
    from archsim.engine import simulate
    from archsim.reports.cosearch_html import write_cosearch_html
    from archsim.reports.roof import roof_from_hardware
    from archsim.reports.html import PLOTLY_JS, write_html, write_plotly_js

    path = Path(path)
    folder = path.with_name(path.stem + "_designs")
    write_plotly_js(folder)
    res = report.result
    cycle = {g.number: g.cycle_result for g in report.gaps if g.cycle_result is not None}
    links, reruns = {}, {}
    for t in res.pareto_trials:
        params = dict(t.params)
        graph, hw, mapping = build_trial(res.space, params)
        sim = cycle.get(t.number) or simulate(graph, hw, mapping, fidelity="analytic")
        sim = dataclasses.replace(sim, model=_design_label(res.space, params), hw=hw.name)
        page = write_html(sim, folder / f"trial-{t.number}.html", roof=roof_from_hardware(hw, sim.dtype or "bf16"),
                          plotly_src=PLOTLY_JS, title=f"Trial {t.number} of {res.space.name}: {sim.model} on {hw.name}")
        links[t.number] = f"{folder.name}/{page.name}"
        reruns[t.number] = rerun_command(res.space, params)
    header, rows = pareto_table(report)
    gap_rows = [[str(g.number), f"{g.analytic_latency_s:.6g}", f"{g.cycle_latency_s:.6g}",
                 "–" if not math.isfinite(g.latency_gap) else f"{g.latency_gap:+.2%}"] for g in report.gaps]
    return write_cosearch_html(path, res, header, rows, links, report.accuracy_label, gap_rows,
                               plotly_src=f"{folder.name}/{PLOTLY_JS}", reruns=reruns)


def _design_label(space, params: dict) -> str:
    """The design's own model: the filled model name plus its overrides (`mcuformer (hidden=168,
    layers=4, …)`), not the space's base model."""
    design = design_for(space, params)
    changes = [f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in design.overrides]
    changes += [f"{k}={v}" for k, v in design.dtypes]
    return f"{design.model} ({', '.join(changes)})" if changes else design.model
