"""Power as a result: time-proportional power (static/idle, active floor, DRAM background), each
component's maximum, the power profile over a run, and the board power limit.

Components (the names of `SimResult.energy_breakdown_j`): `compute`, one per memory level,
`dram_act_pre`, `dram_refresh`, `interconnect` (per action) and `static`, `active`, `dram_background`
(power × time). `STATIC_COMPONENTS` are drawn whether or not the chip computes; `active` is drawn
while it runs (GPU active floor, MCU run-mode power above static); the rest is dynamic.
"""
from __future__ import annotations

import numpy as np

from archsim.energy import dram as _dram
from archsim.result import ACTIVE_COMPONENTS, STATIC_COMPONENTS

__all__ = ["STATIC_COMPONENTS", "TIME_COMPONENTS", "time_power_w", "part_max_w", "power_profile",
           "throttled_latency", "dram_background_w", "powerdown_fraction"]

TIME_COMPONENTS = STATIC_COMPONENTS + ACTIVE_COMPONENTS


def _dq_bits(lv) -> tuple[float, int]:
    """(data pins per rank, ranks) of a DRAM level; from the pin rate of its technology when the
    description has no DRAM geometry."""
    d = _dram.device_for(lv.memory_type, lv.kind)
    if lv.dram is not None:
        return lv.dram.channels * lv.dram.bus_width_bits, lv.dram.ranks
    return lv.bandwidth_bytes_per_s * 8 / (d.gbps_per_pin * 1e9), 1


def dram_background_w(lv, active_fraction: float, powerdown_fraction: float = 0.0) -> float:
    """Background power of one DRAM level (all its devices), active standby for `active_fraction`
    of the time, precharge power-down (IDD2P) for `powerdown_fraction` and precharge standby for
    the rest."""
    d = _dram.device_for(lv.memory_type, lv.kind)
    bits, ranks = _dq_bits(lv)
    return _dram.background_w(d, _dram.devices_in(d, bits, ranks), active_fraction, powerdown_fraction)


def powerdown_fraction(lv, counts: dict[str, float], latency_s: float) -> float:
    """The share of the run a DRAM level's channels spent powered down: the cycle engine's
    simulated residency (`LEVEL.powerdown_channel_s`, `engine.accounting.powerdown_counts`, when
    the description sets `powerdown_idle`). Analytic fidelity (and a level without a power-down
    timer) has no such count: no power-down during the run (assumption: the closed forms have no
    per-channel idle gaps to place one in)."""
    down = counts.get(f"{lv.name}.powerdown_channel_s", 0.0)
    if down <= 0 or latency_s <= 0:
        return 0.0
    channels = lv.dram.channels if lv.dram is not None else 1
    return min(1.0, down / (channels * latency_s))


def _is_dram(lv) -> bool:
    return lv.kind in _dram.KIND_DEFAULT


def time_power_w(hw, counts: dict[str, float], latency_s: float) -> dict[str, float]:
    """Power drawn for the whole run: `static` = max(static + leakage, idle); `active` = the active
    floor; `dram_background` = IDD background of every DRAM level (active standby for the fraction of
    the run its banks are busy: bytes moved ÷ (bandwidth × latency), PIM in-bank reads included;
    precharge power-down for its simulated power-down residency, `powerdown_fraction`),
    zero when the board's measured idle already covers the DRAM."""
    leak = sum(lv.leakage_w * max(1, lv.instances) for lv in hw.levels)
    out = {"static": max(hw.static_power_w + leak, hw.idle_power_w), "active": hw.active_power_w,
           "dram_background": 0.0}
    if not hw.idle_covers_dram:
        for lv in hw.levels:
            if not _is_dram(lv):
                continue
            moved = sum(counts.get(f"{lv.name}.{v}", 0.0) for v in ("read", "write", "pim_read"))
            busy = moved / (lv.bandwidth_bytes_per_s * latency_s) if latency_s > 0 else 0.0
            out["dram_background"] += dram_background_w(lv, busy,
                                                         powerdown_fraction(lv, counts, latency_s))
    return out


def part_max_w(hw, prices: dict[str, float]) -> dict[str, float]:
    """Each component's maximum power: units at their peak rate × their dearest MAC; a level reading
    and writing its bandwidth at once (bandwidth is per direction; plus PIM units reading their operands in-bank at their
    peak rate); one ACT per burst and refresh at its rate for DRAM; links at full bandwidth; the
    time components at their (fully active) power."""
    out: dict[str, float] = {"compute": 0.0}
    for cu in hw.compute:
        per_mac = [prices.get(f"{cu.name}.mac.{d}", 0.0) * r for d, r in cu.macs_per_cycle]
        out["compute"] += cu.count * cu.freq_hz * max(per_mac, default=0.0) * 1e-12
    act = ref = 0.0
    for lv in hw.levels:
        e = prices.get(f"{lv.name}.read", 0.0) + prices.get(f"{lv.name}.write", 0.0)
        w = lv.bandwidth_bytes_per_s * e * 1e-12
        for cu in hw.compute:
            if cu.type == "pim_bank" and cu.attached_to == lv.name:
                lanes_bytes = max(r for _, r in cu.macs_per_cycle) * 2      # two bf16/int8-wide operands
                w += cu.count * cu.freq_hz * lanes_bytes * prices.get(f"{lv.name}.pim_read", 0.0) * 1e-12
        out[lv.name] = w
        if lv.dram is not None:
            t = lv.dram
            act += lv.bandwidth_bytes_per_s / max(t.burst_bytes, 1) * t.act_energy_pj * 1e-12
            if t.trefi:
                ref += t.channels * t.ranks * t.refresh_energy_pj * 1e-12 / (t.trefi * t.tck_s)
    if any(lv.dram is not None for lv in hw.levels):
        out["dram_act_pre"], out["dram_refresh"] = act, ref
    out["interconnect"] = sum(l.bandwidth_bytes_per_s * l.links * l.energy_pj_per_bit * 8e-12
                              for l in hw.interconnect)
    if hw.noc is not None:     # every link busy at once
        from archsim.engine.noc import links
        out["noc"] = (len(links(hw.noc)) * hw.noc.link_bandwidth_bytes_per_s
                      * prices.get("noc.byte_hop", 0.0) * 1e-12)
    full = time_power_w(hw, {}, 0.0)
    full["dram_background"] = 0.0 if hw.idle_covers_dram else sum(
        dram_background_w(lv, 1.0) for lv in hw.levels if _is_dram(lv))
    out.update(full)
    return out


def power_profile(comps: list[str], op_energy_j: np.ndarray, start_s: np.ndarray, span_s: np.ndarray,
                  time_w: dict[str, float], end_s: float, points: int = 256):
    """Power over the run in `points` equal windows: each op's energy spread evenly over its span
    (ops may overlap), plus the time components; a window's power is the energy in it ÷ its width.
    Returns (peak window power per component, (window start times, chip power per window))."""
    k = len(comps)
    base = np.array([time_w.get(c, 0.0) for c in comps])
    live = span_s > 0
    end = max(end_s, float((start_s + span_s).max()) if span_s.size else 0.0)
    if not live.any() or end <= 0:
        return dict(zip(comps, base.tolist())), ((0.0,), (float(base.sum()),))
    s, e = start_s[live], start_s[live] + span_s[live]
    rate = op_energy_j[live].reshape(-1, k) / span_s[live, None]
    edges = np.unique(np.concatenate([s, e, [0.0, end]]))
    delta = np.zeros((edges.size, k))
    np.add.at(delta, np.searchsorted(edges, s), rate)
    np.add.at(delta, np.searchsorted(edges, e), -rate)
    level = np.cumsum(delta, axis=0)[:-1]                 # dynamic power on [edges[i], edges[i+1])
    cum = np.vstack([np.zeros(k), np.cumsum(level * np.diff(edges)[:, None], axis=0)])
    grid = np.linspace(0.0, end, min(points, max(1, edges.size - 1)) + 1)
    energy = np.diff(np.column_stack([np.interp(grid, edges, cum[:, j]) for j in range(k)]), axis=0)
    window = (energy / np.diff(grid)[:, None]) + base
    peaks = dict(zip(comps, window.max(axis=0).tolist()))
    return peaks, (tuple(float(x) for x in grid[:-1]), tuple(float(x) for x in window.sum(axis=1)))


def throttled_latency(limit_w: float, time_w: float, dynamic_j: float, latency_s: float) -> float:
    """Latency of a run clock-throttled to average at most `limit_w`: per-action energy unchanged
    (assumption: no voltage drop credited), time power drawn for longer, so
    (dynamic + time_w·L′) / L′ = limit ⇒ L′ = dynamic / (limit − time_w). Never below `latency_s`;
    infinite when the time power alone reaches the limit."""
    if limit_w <= 0 or latency_s <= 0 or dynamic_j / latency_s + time_w <= limit_w:
        return latency_s
    if time_w >= limit_w:
        return float("inf")
    return max(latency_s, dynamic_j / (limit_w - time_w))
