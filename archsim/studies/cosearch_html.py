"""The co-search HTML report: the study page (reports.cosearch_html) plus one full simulate report per
Pareto design (reports.html), linked from the Pareto table. Designs re-simulated at cycle fidelity
link to that result; the others are simulated at analytic fidelity here."""
from __future__ import annotations

import math
from pathlib import Path

from archsim.studies.cosearch_eval import CoSearchReport, build_trial, pareto_table

__all__ = ["write_report_html"]


def write_report_html(report: CoSearchReport, path: str | Path) -> Path:
    from archsim.engine import simulate
    from reports.cosearch_html import write_cosearch_html
    from reports.figures import roof_from_hardware
    from reports.html import write_html

    path = Path(path)
    folder = path.with_name(path.stem + "_designs")
    res = report.result
    cycle = {g.number: g.cycle_result for g in report.gaps if g.cycle_result is not None}
    links = {}
    for t in res.pareto_trials:
        graph, hw, mapping = build_trial(res.space, dict(t.params))
        sim = cycle.get(t.number) or simulate(graph, hw, mapping, fidelity="analytic")
        page = write_html(sim, folder / f"trial-{t.number}.html", roof=roof_from_hardware(hw, sim.dtype or "bf16"))
        links[t.number] = f"{folder.name}/{page.name}"
    header, rows = pareto_table(report)
    gap_rows = [[str(g.number), f"{g.analytic_latency_s:.6g}", f"{g.cycle_latency_s:.6g}",
                 "–" if not math.isfinite(g.latency_gap) else f"{g.latency_gap:+.2%}"] for g in report.gaps]
    return write_cosearch_html(path, res, header, rows, links, report.accuracy_label, gap_rows)
