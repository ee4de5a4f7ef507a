"""Versioned, deterministic JSON for simulation results, sweeps and comparisons.

Same inputs → byte-identical text: keys sorted, floats rounded to 12 significant digits, NaN/inf
written as null, lists in the result's own order (levels outermost first, ops in execution order).
`sim_wall_s` is the only measured (non-reproducible) quantity; it is written as null unless
`timing=True` (the CLI's `--timing`). The schema is documented in docs/json-schema.md.
"""
from __future__ import annotations

import json
import math
import numbers
from pathlib import Path

from archsim.comparison import Comparison, ComparisonRow, Sweep
from archsim.result import SCHEMA_VERSION, SimResult

__all__ = ["result_to_dict", "sweep_to_dict", "comparison_to_dict", "to_dict", "dumps", "write_json"]

_SIGNIFICANT_DIGITS = 12


def _num(x):
    """A JSON-safe, platform-stable number: ints stay ints, floats keep 12 significant digits."""
    if x is None or isinstance(x, bool):
        return x
    if isinstance(x, numbers.Integral):          # int and numpy integers
        return int(x)
    x = float(x)
    if not math.isfinite(x):
        return None
    return float(f"{x:.{_SIGNIFICANT_DIGITS}g}") + 0.0   # + 0.0 turns -0.0 into 0.0


def _per_token(value: float, r: SimResult):
    return _num(value / r.tokens) if r.fits and r.tokens > 0 else None


def result_to_dict(r: SimResult, timing: bool = False) -> dict:
    levels = [{
        "level": lv.level,
        "capacity_bytes": lv.capacity_bytes,
        "peak_buffer_bytes": lv.peak_buffer_bytes,
        "reads_bytes": lv.reads_bytes,
        "writes_bytes": lv.writes_bytes,
        "fits": bool(lv.peak_buffer_bytes <= lv.capacity_bytes),
    } for lv in r.levels]
    ops = [{
        "name": op.name,
        "kind": op.kind,
        "unit": op.unit,
        "layer": op.layer,
        "cycles": op.cycles,
        "analytic_cycles": op.analytic_cycles,
        "latency_s": _num(op.latency_s),
        "start_s": _num(op.start_s),
        "energy_j": _num(op.energy_j),
        "macs": op.macs,
        "flops": op.flops,
        "bytes_by_level": {k: v for k, v in op.bytes_by_level},
        "bound": op.bound,
        "gap_effects": {k: _num(v) for k, v in sorted(op.gap_effects.items())},
        "exclusive_cycles": op.exclusive_cycles if op.exclusive_cycles >= 0 else None,
    } for op in r.ops]
    timelines = [{
        "level": t.level,
        "time_s": [_num(v) for v in t.time_s],
        "occupancy_bytes": list(t.occupancy_bytes),
        "planned_bytes": t.planned_bytes,
        "engine": t.engine,
    } for t in r.timelines]
    ran = r.fits                  # a workload that does not fit has no latency or energy: null, not 0
    return {
        "schema_version": SCHEMA_VERSION,
        "kind": "simulation",
        "model": r.model,
        "hw": r.hw,
        "hw_kind": r.hw_kind,
        "devices": r.devices,
        "phase": r.phase,
        "batch": r.batch,
        "seq": r.seq,
        "context": r.context,
        "dtype": r.dtype,
        "fidelity": r.fidelity,
        "dram_model": r.dram_model or None,
        "fits": r.fits,
        "does_not_fit": r.does_not_fit or None,
        "tokens": r.tokens,
        "latency_s": _num(r.latency_s) if ran else None,
        "cycles": r.cycles if ran else None,
        "freq_hz": _num(r.freq_hz),
        "throughput_per_s": _num(r.throughput_per_s) if ran else None,
        "energy_j": _num(r.energy_j) if ran else None,
        "energy_per_token_j": _per_token(r.energy_j, r) if ran else None,
        "latency_per_token_s": _per_token(r.latency_s, r) if ran else None,
        "energy_breakdown_j": {k: _num(v) for k, v in r.energy_breakdown_j},
        "avg_power_w": _num(r.avg_power_w) if ran else None,
        "peak_power_w": _num(r.peak_power_w) if ran else None,
        "power_budget_w": _num(r.power_budget_w) if r.power_budget_w > 0 else None,
        "power_throttle": _num(r.throttle),
        "power": {p.component: {"avg_w": _num(p.avg_w), "peak_w": _num(p.peak_w), "max_w": _num(p.max_w)}
                  for p in r.power} if ran else {},
        "power_timeline": ({"time_s": [_num(t) for t in r.power_timeline.time_s],
                            "power_w": [_num(w) for w in r.power_timeline.power_w]}
                           if ran and r.power_timeline is not None else None),
        "energy_share": {k: _num(v) for k, v in r.energy_share().items()} if ran else None,
        "levels": levels,
        "ops": ops,
        "analytic_vs_cycle_gap": _num(r.analytic_vs_cycle_gap),
        "gap_attribution": {k: _num(v) for k, v in r.gap_attribution},
        "attribute_gap": r.attribute_gap,
        "dram_row_hit_rate": _num(r.dram_row_hit_rate),
        "utilization": {k: _num(v) for k, v in r.utilization},
        "timelines": timelines,
        "notes": list(r.notes),
        "sim_wall_s": _num(r.sim_wall_s) if timing else None,
    }


def _row_to_dict(row: ComparisonRow, baseline: str, timing: bool) -> dict:
    d = result_to_dict(row.result, timing)
    d["normalised"] = {
        "baseline": baseline,
        "area_mm2": _num(row.area_mm2) if row.area_mm2 > 0 else None,
        "tech_node_nm": _num(row.tech_node_nm) if row.tech_node_nm > 0 else None,
        "speedup": _num(row.speedup),
        "energy_efficiency": _num(row.energy_efficiency),
        "perf_per_w": _num(row.perf_per_w),
        "perf_per_w_vs_baseline": _num(row.perf_per_w_vs_baseline),
        "perf_per_mm2": _num(row.perf_per_mm2),
        "perf_per_mm2_vs_baseline": _num(row.perf_per_mm2_vs_baseline),
        "fallbacks": list(row.fallbacks),
    }
    return d


def comparison_to_dict(c: Comparison, timing: bool = False) -> dict:
    return {
        "schema_version": SCHEMA_VERSION,
        "kind": "comparison",
        "model": c.model,
        "baseline": c.baseline,
        "assumptions": {k: v for k, v in c.assumptions},
        "notes": list(c.notes),
        "results": [_row_to_dict(row, c.baseline, timing) for row in c.rows],
    }


def sweep_to_dict(s: Sweep, timing: bool = False) -> dict:
    return {
        "schema_version": SCHEMA_VERSION,
        "kind": "sweep",
        "model": s.model,
        "hw": s.hw,
        "parameters": list(s.parameters),
        "results": [result_to_dict(r, timing) for r in s.results],
    }


def to_dict(obj, timing: bool = False) -> dict:
    from archsim.system.result import SystemResult, as_sim_result
    if isinstance(obj, SystemResult):
        from .system_report import system_dict
        return result_to_dict(as_sim_result(obj), timing) | {"system": system_dict(obj)}
    if isinstance(obj, SimResult):
        return result_to_dict(obj, timing)
    if isinstance(obj, Comparison):
        return comparison_to_dict(obj, timing)
    if isinstance(obj, Sweep):
        return sweep_to_dict(obj, timing)
    raise TypeError(f"cannot write {type(obj).__name__} as archsim JSON")


def _plain(value):
    """numpy scalars an engine left in a result → Python numbers (rounded like every float)."""
    item = getattr(value, "item", None)
    if item is not None:
        plain = item()
        return plain if isinstance(plain, (bool, str)) else _num(plain)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def dumps(obj, timing: bool = False) -> str:
    """The JSON text (ends with a newline)."""
    return json.dumps(to_dict(obj, timing), sort_keys=True, indent=2, ensure_ascii=False,
                      allow_nan=False, default=_plain) + "\n"


def write_json(obj, path: str | Path, timing: bool = False) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dumps(obj, timing), encoding="utf-8")
    return path
