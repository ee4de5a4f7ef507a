"""From counts and task times to the result's energy breakdown, buffer occupancy, timelines and
utilisation. The engine only counts actions; prices come from `archsim.energy` (Accelergy style)
when present, else directly from the MemoryLevel/ComputeUnit per-access energies."""
from __future__ import annotations

import math

import numpy as np

from archsim.hardware import Hardware
from archsim.result import Timeline

__all__ = ["prices", "energy_breakdown_j", "occupancy", "with_plan", "downsample", "component_of",
           "op_component_energy_j", "powerdown_counts"]


def prices(hw: Hardware) -> dict[str, float]:
    """pJ per action, by action name (`LEVEL.read|write|activate|refresh|pim_read`,
    `UNIT.mac.DTYPE`, `LINK.transfer`)."""
    try:
        from archsim.energy import table_for
        table = dict(table_for(hw).entries)
    except ImportError:
        table = {}
        for lv in hw.levels:
            table[f"{lv.name}.read"] = lv.read_energy_pj_per_byte
            table[f"{lv.name}.write"] = lv.write_energy_pj_per_byte
            if lv.dram is not None:
                table[f"{lv.name}.activate"] = lv.dram.act_energy_pj
                table[f"{lv.name}.refresh"] = lv.dram.refresh_energy_pj
        for cu in hw.compute:
            for d, e in cu.energy_pj_per_mac:
                table[f"{cu.name}.mac.{d}"] = e
        for link in hw.interconnect:
            table[f"{link.name}.transfer"] = link.energy_pj_per_bit * 8
    for cu in hw.compute:
        if cu.type == "pim_bank":
            key = f"{cu.attached_to}.pim_read"
            try:
                from archsim.energy import pim_access_pj_per_byte
                table.setdefault(key, pim_access_pj_per_byte(getattr(cu, "placement", "") or "bank"))
            except (ImportError, KeyError):
                table.setdefault(key, table.get(f"{cu.attached_to}.read", 0.0))
    return table


def _price(table: dict[str, float], hw: Hardware, action: str) -> float:
    if action in table:
        return table[action]
    if ".mac." in action:   # a dtype the unit has no energy for
        unit, _, dtype = action.partition(".mac.")
        # first the dtype it RUNS at (the rate's alias, e.g. bf16 on a T4 runs on the fp16 tensor
        # path: Turing has no BF16 tensor cores), so time and energy use the same datapath
        cu = next((c for c in hw.compute if c.name == unit), None)
        used = cu.rate_dtype(dtype) if cu is not None else None
        if used is not None and f"{unit}.mac.{used}" in table:
            return table[f"{unit}.mac.{used}"]
        same = [v for k, v in table.items() if k.startswith(unit + ".mac.")]
        return min(same) if same else 0.0
    return 0.0


def component_of(action: str, hw: Hardware) -> str:
    name, _, verb = action.partition(".")
    if verb.startswith("mac"):
        return "compute"
    if verb == "activate":
        return "dram_act_pre"
    if verb == "refresh":
        return "dram_refresh"
    if verb == "transfer":
        return "interconnect"
    return name


def energy_breakdown_j(counts: dict[str, float], hw: Hardware, latency_s: float
                       ) -> tuple[tuple[str, float], ...]:
    """Σ count × price per component, plus the time components (`archsim.energy.power`: static or
    idle power, the active floor, DRAM background) × latency. Components: compute, each level,
    dram_act_pre, dram_refresh, interconnect, static, active, dram_background."""
    from archsim.energy.power import time_power_w
    table = prices(hw)
    comps: dict[str, float] = {"compute": 0.0}
    for lv in hw.levels:
        comps[lv.name] = 0.0
    if any(lv.dram is not None for lv in hw.levels):
        comps["dram_act_pre"] = 0.0
        comps["dram_refresh"] = 0.0
    for action, n in sorted(counts.items()):
        c = component_of(action, hw)
        comps[c] = comps.get(c, 0.0) + n * _price(table, hw, action) * 1e-12
    for name, watts in time_power_w(hw, counts, latency_s).items():
        if name == "static" or watts > 0:
            comps[name] = watts * latency_s
    return tuple((k, float(v)) for k, v in comps.items())


def powerdown_counts(hw: Hardware, lw, run, fine_total: int) -> dict[str, float]:
    """`LEVEL.powerdown_channel_s`: seconds in power-down summed over the level's channels, for
    every DRAM level whose description sets `powerdown_idle` (a run's simulated residency; priced
    as DRAM background power, `energy.power.time_power_w`). A slot's count stands for each channel
    of its group; a channel with no transfer in the run is down from `powerdown_idle` to the end."""
    from .dram import PARAM_NAMES, dram_params
    out: dict[str, float] = {}
    covered: dict[str, int] = {}
    for slot, scale in lw.dram_scale.items():
        lvn = lw.dram_level[slot]
        if hw.level(lvn).dram.powerdown_idle > 0:
            ticks = run.counts(slot)["pd_cycles"]
            out[f"{lvn}.powerdown_channel_s"] = out.get(f"{lvn}.powerdown_channel_s", 0.0) + (
                ticks * scale * lw.tick_s)
            covered[lvn] = covered.get(lvn, 0) + scale
    for lv in hw.levels:
        t = lv.dram
        if t is None or t.powerdown_idle <= 0:
            continue
        idle = int(dram_params(t, lw.tick_s)[PARAM_NAMES.index("powerdown_idle")])   # in ticks
        unused = t.channels - covered.get(lv.name, 0)
        if unused > 0 and fine_total > idle:
            key = f"{lv.name}.powerdown_channel_s"
            out[key] = out.get(key, 0.0) + unused * (fine_total - idle) * lw.tick_s
    return out


def op_component_energy_j(op_counts: list[dict[str, float]], hw: Hardware, table: dict[str, float],
                          comps: list[str]) -> np.ndarray:
    """Per-op energy by component (ops × components), per-action components only. Ops sharing
    one counts dict (ops alike, see `simulate`) are priced once."""
    col = {c: i for i, c in enumerate(comps)}
    out = np.zeros((len(op_counts), len(comps)))
    first: dict[int, int] = {}
    for i, oc in enumerate(op_counts):
        same = first.setdefault(id(oc), i)
        if same != i:
            out[i] = out[same]
            continue
        for a, n in oc.items():
            j = col.get(component_of(a, hw))
            if j is not None:
                out[i, j] += n * _price(table, hw, a) * 1e-12
    return out


def op_energy_j(counts: dict[str, float], hw: Hardware, table: dict[str, float]) -> float:
    return math.fsum(n * _price(table, hw, a) * 1e-12 for a, n in counts.items())


def occupancy(trace, start: np.ndarray, finish: np.ndarray, level: int
              ) -> tuple[np.ndarray, np.ndarray]:
    """(times, occupancy bytes after each event) of one level: a task's `occ_bytes` are held from its
    start to the finish of its `occ_release` task. Frees sort before allocations at equal times."""
    sel = np.nonzero((trace.occ_level == level) & (trace.occ_bytes > 0))[0]
    if sel.size == 0:
        return np.zeros(1, dtype=np.int64), np.zeros(1, dtype=np.int64)
    t_alloc = start[sel]
    t_free = finish[trace.occ_release[sel]]
    b = trace.occ_bytes[sel]
    times = np.concatenate([t_free, t_alloc])
    deltas = np.concatenate([-b, b])
    kind = np.concatenate([np.zeros(sel.size, np.int8), np.ones(sel.size, np.int8)])
    order = np.lexsort((kind, times))
    return times[order], np.cumsum(deltas[order])


def with_plan(times: np.ndarray, occ: np.ndarray, planned_bytes: int, end: int
              ) -> tuple[np.ndarray, np.ndarray]:
    """The occupancy timeline with the mapper's planned peak as a floor from time 0 to `end`: the
    plan (persistent tensors + a TFLite-Micro-style arena) is one static reservation for the run,
    so a level holds max(what the engine's tasks hold, the planned bytes) at every instant."""
    t = np.concatenate([np.zeros(1, np.int64), np.asarray(times, np.int64),
                        np.full(1, max(int(end), int(times[-1]) if times.size else 0), np.int64)])
    o = np.concatenate([np.zeros(1, np.int64), np.asarray(occ, np.int64),
                        np.asarray(occ[-1:] if occ.size else np.zeros(1), np.int64)])
    return t, np.maximum(o, int(planned_bytes))


def downsample(name: str, times: np.ndarray, occ: np.ndarray, tick_s: float,
               points: int = 256) -> Timeline:
    """At most `points` samples, each the peak of its time bin so no peak is lost, then the last
    event's value (the level's state at the end: drained, or what stays resident)."""
    if times.size <= points:
        return Timeline(level=name, time_s=tuple(float(t) * tick_s for t in times),
                        occupancy_bytes=tuple(int(v) for v in occ))
    edges = np.linspace(times[0], times[-1], points + 1)
    idx = np.clip(np.searchsorted(edges, times, side="right") - 1, 0, points - 1)
    peak = np.full(points, -1, dtype=np.int64)
    np.maximum.at(peak, idx, occ)
    keep = peak >= 0
    time_s = tuple(float(t) * tick_s for t in edges[:-1][keep]) + (float(times[-1]) * tick_s,)
    return Timeline(level=name, time_s=time_s,
                    occupancy_bytes=tuple(int(v) for v in peak[keep]) + (int(occ[-1]),))
