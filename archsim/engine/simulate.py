"""`simulate(graph, hw, mapping, fidelity)`: the engine's one public entry point.

fidelity="analytic": per-op closed forms (`analytic.py`), ops back to back.
fidelity="cycle": lower to a task trace, run the Numba loop (or the SimPy reference with
engine="simpy"), read per-op spans, DRAM counts and buffer occupancy off the task times. The result
also carries the analytic estimate so the gap between the two fidelities is always reported.
"""
from __future__ import annotations

import time
from dataclasses import replace
from math import ceil

import numpy as np

from archsim.errors import ArchsimError, DoesNotFit
from archsim.hardware import Hardware
from archsim.ir import OpGraph, Role, ops_in_order, unread_weight_bytes
from archsim.mapping import Mapping
from archsim.result import LevelUse, OpResult, PowerTimeline, PowerUse, SimResult

from .accounting import (
    downsample, energy_breakdown_j, occupancy, op_component_energy_j, op_energy_j, powerdown_counts,
    prices, with_plan,
)
from .analytic import analytic_ticks, roofline_ticks
from .attribution import attribute, gap_effects
from .dram import PARAM_NAMES
from .execute import resolve_dram_model, run_numba
from .lower import lower
from .notes import fallback_notes, pipeline_spill_note
from .gpu_kernels import gpu_kernels
from .plan import plan_key, plan_ops
from .stack import software_stack

__all__ = ["simulate", "FIDELITIES", "stack_note", "gap_effects", "attribute"]

FIDELITIES = ("analytic", "cycle")


def _resident_offchip(graph: OpGraph, hw: Hardware, mapping: Mapping | None) -> dict[str, int]:
    """Per off-chip level: bytes of weights and KV cache that live there (each tensor once; a
    tensor the mapping does not place lives in the outermost level), with the weights no op reads
    (idle MoE experts) where the weights are."""
    off = hw.levels[0].name
    off_chip = {lv.name for lv in hw.levels if lv.off_chip}
    seen: dict[str, tuple[str, int]] = {}
    for op in ops_in_order(graph):
        for o in op.operands:
            t = o.tensor
            if t.role in (Role.WEIGHT, Role.KV_CACHE):
                lv = mapping.placed(t.name) or mapping.placed(t.role.value) if mapping else None
                lv = off if lv is None else lv
                if lv in off_chip:
                    seen[t.name] = (lv, t.size_bytes)
    out = {lv.name: 0 for lv in hw.levels if lv.off_chip} or {off: 0}
    for lv, n in seen.values():
        out[lv] += n
    weights_at = (mapping.placed("weight") if mapping else None) or off
    if weights_at in out:           # + MoE experts idle this step, stored all the same
        out[weights_at] += unread_weight_bytes(graph)
    return out


def _bytes_by_level(op_counts: dict[str, float]) -> tuple[tuple[str, int], ...]:
    out: dict[str, int] = {}
    for action, n in op_counts.items():
        level, _, verb = action.rpartition(".")
        if verb in ("read", "write", "pim_read"):
            out[level] = out.get(level, 0) + int(n)
    return tuple(sorted(out.items()))


def _bound(p, hw: Hardware, ticks: int) -> str:
    tick = 1.0 / hw.freq_hz
    rate = p.unit.count * max(p.unit.macs_per_cycle_for(p.dtype), 1e-9) * p.unit.freq_hz
    from .timing.units import work_units
    comp = work_units(p.op) / rate / tick
    roof = roofline_ticks(p, hw)
    if p.noc is not None:       # the op's NoC phases outlast its compute and off-chip bytes
        from .noc import phase_seconds
        net = (phase_seconds(p.noc.distribute, hw.noc) + phase_seconds(p.noc.collect, hw.noc)) / tick
        if net >= max(comp, roof) * 0.999 and net > 0:
            return "noc"
    if roof and ticks > 4 * roof and ticks - roof > 1e-6 / tick:
        return "latency"
    return "compute" if comp >= roof * 0.999 else f"memory:{p.offchip.name}"


def simulate(graph: OpGraph, hw: Hardware, mapping: Mapping | None = None,
             fidelity: str = "analytic", progress=None, engine: str = "numba",
             stack: str | None = None, attribute_gap: bool = False,
             dram_model: str | None = None) -> SimResult:
    """`stack`: the software-stack preset a GPU runs the graph with (`stack.STACKS`; default
    `graph`); chips without `sm` units ignore it. An op's gap is its exclusive time
    (`OpResult.exclusive_cycles`: its share of the critical path, `exclusive.py`) − its analytic
    time. `attribute_gap` (cycle fidelity): name each op's overlap with its neighbours
    (`op_overlap_s`, against a re-run with the ops serialised) and, measured on that re-run, the
    DRAM effects (refresh, turnaround, row activation, access latency: each effect's share of the
    gap, what removing it saves the cycle run minus what it saves the analytic form), the SRAM
    ports' share and on a chip with a NoC the NoC's (`attribution.gap_share_cycles`: six or seven
    more event-loop runs, each on the DRAM path `dram_model`); without it those stay in `other_s`
    (the port stall on the critical path is shown as `port_wait_s`, not added).
    `dram_model` (cycle fidelity, `execute.DRAM_MODELS`; None = `execute.DEFAULT_DRAM_MODEL`):
    `controller` lets the request-level controller's rules (queue, FR-FCFS with the
    row-hit cap, write drain, turnaround, refresh) serve transfers that overlap on a channel, the
    burst closed form a transfer alone; `burst` serves each DRAM channel's transfers in issue order
    with the burst closed form. engine="simpy" with None runs the DRAM path the SimPy engine has
    (`execute.resolve_dram_model`) and says so in the notes."""
    if fidelity not in FIDELITIES:
        raise ArchsimError(f"fidelity must be one of {', '.join(FIDELITIES)} (got {fidelity!r})")
    dram_model, dram_note = resolve_dram_model(dram_model, engine)
    st = software_stack(stack)
    wall0 = time.perf_counter()
    say = progress or (lambda frac, msg: None)
    tick_s = 1.0 / hw.freq_hz
    plans = plan_ops(graph, hw, mapping, st)
    say(0.1, f"planned {len(plans)} ops")
    # plans alike (repeated layers) are timed and counted once: `plan_key` holds all they depend on
    first: dict[tuple, int] = {}
    alike = [first.setdefault(plan_key(p), i) for i, p in enumerate(plans)]   # one hash per plan
    ana_of = {i: analytic_ticks(plans[i], hw) for i in first.values()}
    ana = [ana_of[j] for j in alike]
    analytic_total = int(sum(ana))
    counts: dict[str, float] = {}
    table = prices(hw)
    notes: list[str] = list(graph.graph.get("notes", ()))
    if any(p.unit.type == "sm" for p in plans):
        notes.append(stack_note(plans, st, hw))
    timelines = []
    utilization: list[tuple[str, float]] = []
    peaks: dict[str, int] = {}
    planned = {k: int(v) for k, v in (mapping.peak_buffer_bytes if mapping is not None else ())}
    hit_rate = None
    dram_ran = False                 # a DRAM channel task ran on the path `dram_model`
    if fidelity == "analytic":
        starts = np.cumsum([0] + ana[:-1]) if ana else np.zeros(0)
        spans = list(ana)
        total = analytic_total
        from .actions import op_action_counts
        counts_of = {i: op_action_counts(plans[i]) for i in first.values()}
        op_counts = [counts_of[j] for j in alike]     # shared, never changed
        for oc in op_counts:
            for k, v in oc.items():
                counts[k] = counts.get(k, 0.0) + v
        for lv in hw.levels:
            if lv.dram is not None:
                t = lv.dram
                rd = counts.get(f"{lv.name}.read", 0.0) + counts.get(f"{lv.name}.write", 0.0)
                counts[f"{lv.name}.activate"] = ceil(rd / t.row_size_bytes)
                if t.trefi:
                    counts[f"{lv.name}.refresh"] = int(total * tick_s / (t.trefi * t.tck_s)) * t.channels * t.ranks
        gap = None
        exclusive = spans
        effects = [{} for _ in plans]
        attribution = ()
    else:
        lw = lower(graph, hw, mapping, plans)
        tr = lw.trace
        say(0.3, f"lowered to {tr.n_tasks} tasks")
        if engine == "simpy":
            from .reference import run_simpy
            run = run_simpy(tr, dram_model=dram_model, controller=_controller(hw, lw))
        else:
            run = run_numba(tr, dram_model=dram_model, controller=_controller(hw, lw))
        say(0.8, "event loop done")
        sub = lw.ticks_per_cycle            # the trace runs in ticks of 1/sub hw cycle
        fine_total = int(run.makespan)
        total = -(-fine_total // sub)
        counts = dict(lw.counts)
        op_counts = lw.op_counts
        starts = np.zeros(len(plans), dtype=np.int64)
        spans = [0] * len(plans)
        if tr.n_tasks:
            order = np.argsort(tr.op, kind="stable")
            ops_sorted = tr.op[order]
            bounds = np.searchsorted(ops_sorted, np.arange(len(plans) + 1))
            for i in range(len(plans)):
                idx = order[bounds[i]:bounds[i + 1]]
                if idx.size:
                    starts[i] = int(run.start[idx].min()) // sub
                    spans[i] = -(-int(run.finish[idx].max()) // sub) - int(starts[i])
        hits = misses = 0
        for slot, scale in lw.dram_scale.items():
            c = run.counts(slot)
            lvn = lw.dram_level[slot]
            ranks = hw.level(lvn).dram.ranks
            counts[f"{lvn}.activate"] = counts.get(f"{lvn}.activate", 0.0) + c["acts"] * scale
            refs = c["refs"] + c["pb_refs"] / hw.level(lvn).dram.banks_per_channel   # all-bank equivalents
            counts[f"{lvn}.refresh"] = counts.get(f"{lvn}.refresh", 0.0) + refs * scale * ranks
            p = dict(zip(PARAM_NAMES, tr.dram_params[slot]))
            misses += c["acts"]
            hits += c["rd_cols"] + c["wr_cols"] + c["mac_cols"] * p["nbanks"]
            busy = (c["rd_cols"] + c["wr_cols"]) * p["burst_cycles"] + c["mac_cols"] * p["tccd_ab"]
            utilization.append((f"mem:{lvn}", float(busy / fine_total) if fine_total else 0.0))
        counts.update(powerdown_counts(hw, lw, run, fine_total))    # DRAM power-down residency
        # row-buffer hit rate per bank column access: 1 - activations / column accesses
        hit_rate = max(0.0, 1.0 - misses / hits) if hits else None
        for r, name in enumerate(tr.resources):
            if tr.res_dram[r] != -1:          # DRAM channels above; the join resource does no work
                continue
            busy = int(tr.dur[tr.res == r].sum() + tr.acc_dur[tr.acc_res == r].sum())
            utilization.append((name, float(busy / fine_total) if fine_total else 0.0))
        for li, lv in enumerate(hw.levels):
            # what the tasks hold, filled and drained; the mapper's static plan rides beside it
            times, occ = occupancy(tr, run.start, run.finish, li)
            peaks[lv.name] = int(occ.max(initial=0))
            plan = 0 if lv.off_chip else planned.get(lv.name, 0)
            if times.size > 1:
                timelines.append(replace(downsample(lv.name, times, occ, lw.tick_s), planned_bytes=plan))
            elif plan > 0:
                times, occ = with_plan(times, occ, plan, fine_total)
                timelines.append(replace(downsample(lv.name, times, occ, lw.tick_s), planned_bytes=plan,
                                         engine=False))
        gap = (total - analytic_total) / analytic_total if analytic_total else None
        from .exclusive import exclusive_cycles, exclusive_time
        # the tile streams' real fill and drain (`pipeline_fill_s`) is named with `attribute_gap`
        # only, read off the serialised run: on the overlapped run an op's fill also holds the
        # contention its neighbours cause (gpt2-small decode on edge-npu, controller path: Σ|other|
        # 1.6 -> 5.2 % of the run with it), which is the overlap plain runs leave in other_s
        path = exclusive_time(tr, run, len(plans))
        exclusive = exclusive_cycles(path.ticks, sub)      # the ops' shares of `total`
        effects = gap_effects(tr, run, lw.compute_res, len(plans), lw.tick_s, lw.noc_res, path)
        from .attribution import fill_ticks
        fill = fill_ticks([plans[j] for j in first.values()], hw)
        fill_of = dict(zip(first.values(), fill))
        for i, j in enumerate(alike):
            if fill_of[j]:
                effects[i]["analytic_fill_s"] = -float(fill_of[j]) * tick_s
        if attribute_gap:
            from .attribution import gap_share_cycles
            for key, per_op in gap_share_cycles(graph, hw, mapping, lw, run, plans, st, dram_model,
                                                _controller(hw, lw)).items():
                for i, v in enumerate(per_op):
                    if v:
                        effects[i][key] = float(v) * tick_s
                    else:                 # measured again (the fill on the serialised run): none
                        effects[i].pop(key, None)
        attribution = attribute(effects, exclusive, ana, total, tick_s)
        groups = ", ".join(f"{lv} {sum(map(len, gs))} channels as {len(gs)} group(s)"
                           for lv, gs in lw.channel_groups.items())
        dram = (f"every DRAM channel simulated ({groups}; channels with identical task sequences "
                f"timed once), " if groups else "")
        net = (f"NoC {hw.noc.topology} {list(hw.noc.dimensions)} between the {hw.noc.unit} arrays "
               f"({len(lw.noc_res)} links in use, each a resource transfers contend for), "
               if lw.noc_res else "")
        real = tr.n_tasks - int(tr.joins.sum())      # join tasks only stand for dependencies
        dram_ran = bool(tr.dram_params.shape[0])
        if not dram_ran:
            served = f"no DRAM channel task (DRAM path {dram_model!r} unused)"
        elif dram_model == "controller":
            served = ("DRAM path 'controller': transfers overlapping on a channel served by the "
                      "request-level controller's rules, a transfer alone by the burst closed form")
        else:
            served = "DRAM path 'burst': each channel's transfers served in issue order (burst closed form)"
        notes.append(f"cycle engine: {real} tasks; {dram}{served}; {net}at most 8 chunks per op")
        if dram_note:
            notes.append(dram_note)
    if fidelity == "analytic":     # no engine timeline: the mapper's static plan, start to end
        for lv in hw.levels:
            if not lv.off_chip and planned.get(lv.name, 0) > 0:
                times, occ = with_plan(np.zeros(1, np.int64), np.zeros(1, np.int64), planned[lv.name], total)
                timelines.append(replace(downsample(lv.name, times, occ, tick_s),
                                         planned_bytes=planned[lv.name], engine=False))
    for name, b in planned.items():   # the mapper's planned peak counts even where the engine's is lower
        peaks[name] = max(peaks.get(name, 0), b)
    latency_s = total * tick_s
    notes[:0] = fallback_notes(plans, [spans[p.index] * tick_s for p in plans], hw,
                               dict(graph.graph.get("dtypes") or {}), alike)
    spill = pipeline_spill_note(plans, hw)
    if spill:
        notes.append(spill)
    breakdown = energy_breakdown_j(counts, hw, latency_s)
    throttle = _power_limit(hw, counts, breakdown, latency_s)
    if throttle > 1.0:
        notes.append(f"power limit {hw.power_limit_w:g} W: the run would average "
                     f"{sum(v for _, v in breakdown) / latency_s:.0f} W; clock throttled, latency "
                     f"×{throttle:.3f} ({latency_s * 1e3:.4g} → {latency_s * throttle * 1e3:.4g} ms)")
        total = int(ceil(total * throttle))
        latency_s = total * tick_s
        starts = np.asarray(starts, dtype=float) * throttle
        spans = [s * throttle for s in spans]
        breakdown = energy_breakdown_j(counts, hw, latency_s)
    power, timeline = _power(hw, counts, breakdown, op_counts, table, starts, spans, tick_s, latency_s)
    resident = _resident_offchip(graph, hw, mapping)
    unread = unread_weight_bytes(graph)
    if unread:
        held = (mapping.placed("weight") if mapping else None) or hw.levels[0].name
        notes.append(f"MoE: {unread:,} B of expert weights no token is routed to in this step are "
                     f"held in {held} with the other weights (counted toward fit; not read, not streamed)")
    fits, reason = True, ""
    for name, held_bytes in resident.items():    # every off-chip level holds what is placed in it
        lv = hw.level(name)
        peaks[name] = max(peaks.get(name, 0), held_bytes)
        if fits and held_bytes > lv.size_bytes:
            fits, reason = False, str(DoesNotFit(name, "weights and KV cache", held_bytes, lv.size_bytes))
    for lv in hw.levels[1:]:
        cap = lv.capacity_bytes
        if fits and planned.get(lv.name, 0) > cap:
            fits, reason = False, str(DoesNotFit(lv.name, "planned buffers", planned[lv.name], cap))
    mapped_reason = dict(mapping.attrs).get("does_not_fit") if mapping is not None else None
    if mapped_reason is not None:       # the mapper's verdict (level, tensor, shortfall) wins
        fits, reason = False, str(mapped_reason)
    levels = tuple(LevelUse(level=lv.name, capacity_bytes=lv.capacity_bytes,
                            peak_buffer_bytes=int(peaks.get(lv.name, 0)),
                            reads_bytes=int(counts.get(f"{lv.name}.read", 0)),
                            writes_bytes=int(counts.get(f"{lv.name}.write", 0)))
                   for lv in hw.levels)
    rows = []
    per_counts: dict[int, tuple] = {}        # id of an op's counts → (energy, bytes by level)
    bounds: dict[tuple, str] = {}
    for p in plans:
        i = p.index
        oc = op_counts[i]
        priced = per_counts.get(id(oc))
        if priced is None:
            priced = per_counts[id(oc)] = (op_energy_j(oc, hw, table), _bytes_by_level(oc))
        ticks = int(spans[i])
        bound = bounds.get((alike[i], ticks))
        if bound is None:
            bound = bounds[(alike[i], ticks)] = _bound(p, hw, ticks)
        rows.append(OpResult(
            name=p.op.name, kind=p.op.kind._value_, unit=p.unit.name, cycles=int(round(spans[i])),
            latency_s=spans[i] * tick_s, start_s=float(starts[i]) * tick_s,
            energy_j=priced[0], macs=p.op.macs, flops=p.op.flops, bytes_by_level=priced[1],
            bound=bound, analytic_cycles=int(ana[i]), layer=p.op.layer, gap_effects=effects[i],
            exclusive_cycles=int(exclusive[i])))
    meta = graph.graph
    phase = str(meta.get("phase", ""))
    batch = int(meta.get("batch", 1) or 1)
    seq = int(meta.get("seq", 0) or 0)
    tokens = batch * seq if phase == "prefill" and seq else batch
    say(1.0, "done")
    return SimResult(
        model=str(meta.get("model", "")), hw=hw.name, hw_kind=hw.kind, phase=phase, batch=batch,
        seq=seq, context=int(meta.get("context", 0) or 0), fidelity=fidelity, cycles=total,
        freq_hz=hw.freq_hz, latency_s=latency_s, energy_breakdown_j=breakdown, levels=levels,
        ops=tuple(rows), fits=fits, does_not_fit=reason,
        tokens=tokens, analytic_vs_cycle_gap=gap, dram_row_hit_rate=hit_rate,
        utilization=tuple(utilization), timelines=tuple(timelines),
        sim_wall_s=time.perf_counter() - wall0, dtype=plans[0].dtype if plans else "",
        notes=tuple(notes), power=power, power_budget_w=hw.power_limit_w or hw.tdp_w,
        power_timeline=timeline, throttle=throttle, actions=tuple(sorted(counts.items())),
        gap_attribution=attribution, dram_model=dram_model if dram_ran else "",
        attribute_gap=bool(attribute_gap) and fidelity == "cycle")


def _controller(hw: Hardware, lw):
    """Controller parameters (`kernels.dram.controller.X_*`) per DRAM slot of a lowered trace, from
    its level's description (queue depth, row-hit cap, page policy; power-down comes with the
    DRAM parameters, `dram.dram_params`, on every engine path)."""
    from .dram_controller import controller_params
    nd = lw.trace.dram_params.shape[0]
    if not nd:
        return None
    return np.stack([controller_params(hw.level(lw.dram_level[d]).dram, powerdown_idle=0)
                     for d in range(nd)])


def _power_limit(hw: Hardware, counts, breakdown, latency_s: float) -> float:
    """Latency factor (≥ 1) of a run that would average above the board's power limit."""
    from archsim.energy.power import TIME_COMPONENTS, throttled_latency, time_power_w
    if hw.power_limit_w <= 0 or latency_s <= 0:
        return 1.0
    time_w = sum(time_power_w(hw, counts, latency_s).values())
    dynamic = sum(v for k, v in breakdown if k not in TIME_COMPONENTS)
    new = throttled_latency(hw.power_limit_w, time_w, dynamic, latency_s)
    return new / latency_s if np.isfinite(new) else 1.0


def _power(hw: Hardware, counts, breakdown, op_counts, table, starts, spans, tick_s: float, latency_s: float):
    """Per-component average, peak and maximum power, and the chip's power over time."""
    from archsim.energy.power import part_max_w, power_profile, time_power_w
    comps = [k for k, _ in breakdown]
    per_op = op_component_energy_j(op_counts, hw, table, comps)
    # time components, and energy no op carries (run-level DRAM ACT/REF), spread over the run
    base = time_power_w(hw, counts, latency_s)
    if latency_s > 0:
        for j, (k, v) in enumerate(breakdown):
            if k not in base:
                base[k] = max(v - float(per_op[:, j].sum()), 0.0) / latency_s
    peaks, (t, w) = power_profile(comps, per_op, np.asarray(starts, dtype=float) * tick_s,
                                  np.asarray(spans, dtype=float) * tick_s, base, latency_s)
    limit = part_max_w(hw, table)
    power = tuple(PowerUse(component=k, avg_w=v / latency_s if latency_s > 0 else 0.0,
                           peak_w=peaks.get(k, 0.0), max_w=limit.get(k, 0.0)) for k, v in breakdown)
    return power, PowerTimeline(time_s=t, power_w=w)


def stack_note(plans, stack, hw: Hardware) -> str:
    """What the software stack did: its name, the kernels issued for the GPU ops, host time."""
    from .timing.sm import host_issue_s
    gpu = [p for p in plans if p.unit.type == "sm"]
    n = len(gpu_kernels(plans, stack))
    host = host_issue_s(hw, stack)
    text = (f"software stack {stack.name}: {stack.summary}; {len(gpu)} GPU ops run as {n} kernels")
    return text + (f", at least {host * 1e6:g} µs host time each" if host else "")
