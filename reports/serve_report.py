"""Serving results as JSON, CSV and a self-contained HTML page: a summary table, latency CDFs
(TTFT, TPOT, end-to-end), throughput and SLO attainment against offered load, and KV-cache use and
preemptions over time. Takes the core's serving results; knows nothing of how steps were timed."""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import plotly.graph_objects as go

from archsim.result import SCHEMA_VERSION
from archsim.serving.metrics import tpot

from .html import _figure_div, _page, _table
from .json_report import _num

__all__ = ["serve_document", "serve_csv", "render_serve_html", "write_serve_outputs"]

_MAX_POINTS = 2000                     # per curve in the page (runs of 100k steps stay light)


def _clean(value):
    """Floats rounded as in every archsim JSON (12 significant digits, NaN → null)."""
    if isinstance(value, float):
        return _num(value)
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


def serve_document(runs=(), capacities=(), sweep=()) -> dict:
    """One JSON-ready document, `kind: "serving"` (deterministic: sorted keys when dumped, floats
    rounded, no timings; docs/json-schema.md)."""
    return _clean({
        "schema_version": SCHEMA_VERSION, "kind": "serving",
        "runs": [r.as_dict() for r in runs],
        "capacity": [c.as_dict() for c in capacities],
        "sweep": [{"hw": p.hw, "scheduler": p.scheduler, "rate_rps": p.rate_rps, **p.metrics}
                  for p in sweep],
    })


_COLUMNS = ("hw", "scheduler", "rate_rps", "throughput_rps", "goodput_rps", "slo_attainment",
            "ttft_p50_s", "ttft_p90_s", "ttft_p99_s", "tpot_p50_s", "tpot_p90_s", "tpot_p99_s",
            "e2e_p50_s", "e2e_p99_s", "energy_per_request_j", "energy_per_token_j", "preemptions",
            "kv_peak_fraction", "rejected")


def _row(hw, policy, rate, m: dict) -> list:
    def pct(name, p):
        v = m.get(name)
        return v.get(f"p{p}") if isinstance(v, dict) else m.get(f"{name}_p{p}")
    return [hw, policy, rate, m["throughput_rps"], m["goodput_rps"], m["slo_attainment"],
            pct("ttft_s", 50), pct("ttft_s", 90), pct("ttft_s", 99), pct("tpot_s", 50),
            pct("tpot_s", 90), pct("tpot_s", 99), pct("e2e_s", 50), pct("e2e_s", 99),
            m["energy_per_request_j"], m["energy_per_token_j"], m["preemptions"],
            m["kv_peak_fraction"], m["rejected"]]


def serve_csv(runs=(), capacities=(), sweep=()) -> str:
    """One row per run and sweep point; capacity rows give the metrics at the largest rate."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(_COLUMNS)
    for r in runs:
        w.writerow(_row(r.hw, r.scheduler.policy, r.rate_rps, r.metrics.as_dict()))
    for p in sweep:
        w.writerow(_row(p.hw, p.scheduler, p.rate_rps, p.metrics))
    for c in capacities:
        if c.at_max is not None:
            w.writerow(_row(c.hw, c.scheduler.policy, c.max_rate_rps, c.at_max.as_dict()))
    return out.getvalue()


def _thin(xs, ys):
    step = max(1, len(xs) // _MAX_POINTS)
    return list(xs[::step]), list(ys[::step])


def _cdf(values):
    values = sorted(v for v in values if v is not None)
    n = len(values)
    return _thin(values, [(i + 1) / n for i in range(n)])


def _label(r) -> str:
    return f"{r.hw} · {r.scheduler.policy} · {r.rate_rps:.3g} req/s"


def _figures(runs, capacities, sweep) -> list[tuple[str, go.Figure]]:
    figs = []
    for sid, title, get in (("cdf-ttft", "time to first token", lambda f: f.first_token_s - f.arrival_s),
                            ("cdf-tpot", "time per output token", tpot),
                            ("cdf-e2e", "end-to-end latency", lambda f: f.finish_s - f.arrival_s)):
        fig = go.Figure()
        for r in runs:
            x, y = _cdf(get(f) for f in r.run.finished)
            fig.add_trace(go.Scatter(x=x, y=y, mode="lines", name=_label(r)))
        fig.update_layout(title=f"CDF of {title}", xaxis_title="seconds", xaxis_type="log",
                          yaxis_title="fraction of requests", height=380)
        figs.append((sid, fig))
    load = go.Figure()
    series: dict = {}
    for p in sweep:
        series.setdefault(f"{p.hw} · {p.scheduler}", []).append(
            (p.rate_rps, p.metrics["throughput_rps"], p.metrics["slo_attainment"]))
    for c in capacities:
        for rate, att in c.probes:
            series.setdefault(f"{c.hw} · {c.scheduler.policy} (SLO search)", []).append((rate, None, att))
    for name, pts in series.items():
        pts.sort()
        if any(t is not None for _, t, _ in pts):
            load.add_trace(go.Scatter(x=[r for r, _, _ in pts], y=[t for _, t, _ in pts],
                                      mode="lines+markers", name=f"{name} throughput"))
        load.add_trace(go.Scatter(x=[r for r, _, _ in pts], y=[a for _, _, a in pts], yaxis="y2",
                                  mode="markers" if "search" in name else "lines+markers",
                                  line={"dash": "dot"}, name=f"{name} SLO attainment"))
    load.update_layout(title="throughput and SLO attainment vs offered load",
                       xaxis_title="offered load (requests/s)", yaxis_title="throughput (requests/s)",
                       yaxis2={"title": "SLO attainment", "overlaying": "y", "side": "right",
                               "range": [0, 1.05]}, height=420)
    if series:
        figs.append(("load", load))
    kv = go.Figure()
    for r in runs:
        x, y = _thin([t for t, _ in r.run.kv_samples], [u for _, u in r.run.kv_samples])
        kv.add_trace(go.Scatter(x=x, y=y, mode="lines", name=_label(r)))
        if r.run.preemption_times_s:
            px, _ = _thin(r.run.preemption_times_s, r.run.preemption_times_s)
            kv.add_trace(go.Scatter(x=px, y=[1.02] * len(px), mode="markers", marker={"symbol": "x"},
                                    name=f"preemptions · {r.hw}"))
    kv.update_layout(title="KV-cache blocks in use over time (× = preemption)", xaxis_title="seconds",
                     yaxis_title="fraction of the cache", yaxis_range=[0, 1.08], height=380)
    if runs:
        figs.append(("kv", kv))
    return figs


def render_serve_html(runs=(), capacities=(), sweep=(), title: str = "archsim serve") -> str:
    sections = []
    if capacities:
        rows = [[c.hw, c.scheduler.policy, f"{c.max_rate_rps:.4g}", f"{c.saturated_rps:.4g}",
                 f"{c.at_max.energy_per_request_j:.4g}" if c.at_max else "–",
                 f"{c.at_max.ttft_s[1][1] * 1e3:.4g}" if c.at_max else "–",
                 f"{c.at_max.tpot_s[1][1] * 1e3:.4g}" if c.at_max else "–"] for c in capacities]
        slo = capacities[0].slo
        sections.append(("capacity", f"<h2>Capacity at the SLO (TTFT ≤ {slo.ttft_s * 1e3:g} ms, TPOT ≤ "
                         f"{slo.tpot_s * 1e3:g} ms for {slo.attainment:.0%} of requests)</h2>" + _table(
                             ["hw", "scheduler", "max rate (req/s)", "saturated (req/s)",
                              "energy/request (J)", "TTFT p90 (ms)", "TPOT p90 (ms)"], rows, {2, 3, 4, 5, 6})))
    raw = [_row(r.hw, r.scheduler.policy, r.rate_rps, r.metrics.as_dict()) for r in runs] + \
        [_row(p.hw, p.scheduler, p.rate_rps, p.metrics) for p in sweep]
    table_rows = [[f"{v:.4g}" if isinstance(v, float) else str(v) for v in row] for row in raw]
    if table_rows:
        sections.append(("runs", "<h2>Runs</h2>" + _table(list(_COLUMNS), table_rows,
                                                          set(range(2, len(_COLUMNS))))))
    for sid, fig in _figures(runs, capacities, sweep):
        sections.append((f"section-{sid}", _figure_div(fig, sid)))
    tables = {(r.table.hw, r.table.devices): r.table for r in runs}
    tables.update({(c.table.hw, c.table.devices): c.table for c in capacities})
    if tables:
        rows = []
        for t in tables.values():
            e = t.interpolation_error()
            rows.append([t.hw, t.devices, len(t.points), f"{t.kv_capacity_tokens:,}",
                         "–" if e["median"] is None else f"{e['median']:.2%}",
                         "–" if e["max"] is None else f"{e['max']:.2%}"])
        sections.append(("steps", "<h2>Step times</h2><p>Every step's latency and energy is archsim's "
                         "simulation of that step's shape on a grid, interpolated between points; the "
                         "error is measured at off-grid points simulated directly.</p>" + _table(
                             ["hw", "devices", "grid points", "KV capacity (tokens)",
                              "interpolation error (median)", "(max)"], rows, {1, 2, 3, 4, 5})))
    model = (runs[0].model if runs else capacities[0].model if capacities else "")
    return _page(title, f"{model}: serving simulated request by request", sections)


def write_serve_outputs(runs=(), capacities=(), sweep=(), json_path=None, csv_path=None,
                        html_path=None) -> list[str]:
    """Write the asked-for files ('-' = stdout for JSON and CSV); returns the paths written."""
    import sys
    written = []
    for path, text in ((json_path, lambda: json.dumps(serve_document(runs, capacities, sweep),
                                                       indent=1, sort_keys=True) + "\n"),
                       (csv_path, lambda: serve_csv(runs, capacities, sweep)),
                       (html_path, lambda: render_serve_html(runs, capacities, sweep))):
        if not path:
            continue
        if path == "-":
            sys.stdout.write(text())
        else:
            Path(path).write_text(text(), encoding="utf-8")
        written.append(path)
    return written
