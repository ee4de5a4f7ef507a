"""CSV for a user's own plots. A simulation is written one row per op; a sweep or a comparison one
row per simulation (summary columns; a comparison adds the normalised columns and, at cycle
fidelity, the gap's parts `gap_<part>_s`, empty at analytic fidelity). Numbers use the same
rounding as the JSON, so the files are deterministic."""
from __future__ import annotations

import csv
import io
from pathlib import Path

from archsim.comparison import Comparison, Sweep
from archsim.result import GAP_EFFECTS, RUN_GAP_PARTS, SimResult

from .json_report import _num

__all__ = ["OP_COLUMNS", "SUMMARY_COLUMNS", "NORMALISED_COLUMNS", "render_csv", "write_csv"]

OP_COLUMNS = ("name", "kind", "unit", "layer", "cycles", "analytic_cycles", "latency_s", "start_s",
              "energy_j", "macs", "flops", "bound") + tuple(f"gap_{k}" for k in GAP_EFFECTS) + (
              "exclusive_cycles",)
SUMMARY_COLUMNS = ("model", "hw", "hw_kind", "phase", "batch", "seq", "context", "dtype", "fidelity",
                   "fits", "does_not_fit", "latency_s", "cycles", "throughput_per_s", "energy_j",
                   "energy_per_token_j", "avg_power_w", "analytic_vs_cycle_gap")
NORMALISED_COLUMNS = ("area_mm2", "speedup", "energy_efficiency", "perf_per_w",
                      "perf_per_w_vs_baseline", "perf_per_mm2", "perf_per_mm2_vs_baseline")


def _cell(v) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        v = _num(v)
        return "" if v is None else repr(v)
    return str(v)


def _level_names(results) -> list[str]:
    names: list[str] = []
    for r in results:
        for lv in r.levels:
            if lv.level not in names:
                names.append(lv.level)
        for op in r.ops:
            for lv, _ in op.bytes_by_level:
                if lv not in names:
                    names.append(lv)
    return names


def _summary(r: SimResult, levels: list[str]) -> list:
    per_token = r.energy_j / r.tokens if r.fits and r.tokens > 0 else None
    measured = [r.latency_s, r.cycles, r.throughput_per_s, r.energy_j, per_token, r.avg_power_w]
    if not r.fits:                      # nothing ran: empty cells, not a 0 s latency to plot
        measured = [None] * len(measured)
    row = [r.model, r.hw, r.hw_kind, r.phase, r.batch, r.seq, r.context, r.dtype, r.fidelity,
           r.fits, r.does_not_fit, *measured, r.analytic_vs_cycle_gap]
    use = {lv.level: lv for lv in r.levels}
    for name in levels:
        lv = use.get(name)
        row += [lv.peak_buffer_bytes if lv else None, lv.capacity_bytes if lv else None]
    return row


def _summary_header(levels: list[str]) -> list[str]:
    header = list(SUMMARY_COLUMNS)
    for name in levels:
        header += [f"peak_buffer_bytes[{name}]", f"capacity_bytes[{name}]"]
    return header


def _rows(obj) -> tuple[list[str], list[list]]:
    if isinstance(obj, SimResult):
        levels = _level_names([obj])
        header = list(OP_COLUMNS) + [f"bytes[{name}]" for name in levels]
        rows = []
        for op in obj.ops:
            moved = dict(op.bytes_by_level)
            rows.append([op.name, op.kind, op.unit, op.layer, op.cycles, op.analytic_cycles,
                         op.latency_s, op.start_s, op.energy_j, op.macs, op.flops, op.bound]
                        + [op.gap_effects.get(k) for k in GAP_EFFECTS]
                        + [op.exclusive_cycles if op.exclusive_cycles >= 0 else None]
                        + [moved.get(name, 0) for name in levels])
        return header, rows
    if isinstance(obj, Sweep):
        levels = _level_names(obj.results)
        return _summary_header(levels), [_summary(r, levels) for r in obj.results]
    if isinstance(obj, Comparison):
        results = [row.result for row in obj.rows]
        levels = _level_names(results)
        header = (_summary_header(levels) + list(NORMALISED_COLUMNS)
                  + [f"gap_{k}" for k in RUN_GAP_PARTS])
        rows = [_summary(row.result, levels)
                + [getattr(row, c) if c != "area_mm2" else (row.area_mm2 or None)
                   for c in NORMALISED_COLUMNS]
                + [dict(row.result.gap_attribution).get(k) for k in RUN_GAP_PARTS]
                for row in obj.rows]
        return header, rows
    raise TypeError(f"cannot write {type(obj).__name__} as CSV")


def render_csv(obj) -> str:
    from archsim.system.result import SystemResult, as_sim_result
    if isinstance(obj, SystemResult):
        obj = as_sim_result(obj)
    header, rows = _rows(obj)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    for row in rows:
        w.writerow([_cell(v) for v in row])
    return buf.getvalue()


def write_csv(obj, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_csv(obj), encoding="utf-8")
    return path
