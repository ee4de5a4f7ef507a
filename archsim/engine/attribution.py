"""Where the analytic-vs-cycle gap comes from, op by op.

An op's gap is its exclusive time — its share of the run's critical path (`exclusive`), so the
ops' times sum to the makespan exactly — minus its analytic time; summed over ops it is the run's
gap, with no overlap term left over (op spans overlap; exclusive times do not).

Op overlap (with `attribute_gap`, one more event-loop run): the analytic form runs ops back to
back; the cycle run overlaps them (independent ops side by side, one op's loads under the previous
op's compute, one op's transfers queued behind another's). An op's `op_overlap_s` is its exclusive
time minus its exclusive time in the trace re-run with the ops serialised (`exclusive.serial_trace`);
the effects below are then measured on that serialised trace, so each is a share of the op's own
gap (serialised exclusive − analytic) and none counts the overlap again.

DRAM effects: counterfactual runs of the same trace with one effect removed at a time, cumulatively,
in a fixed order — refresh, read/write turnaround, row activation (bank conflicts and row misses:
tRCD, tRP, tRAS, tRRD, tFAW), access latency (CL, CWL: paid per dependent access by the cycle run,
once per stream by the closed form; a chain of small loads each waiting for the last, as an
elementwise op streaming from HBM3 tile by tile, pays it per tile). The analytic closed form
models most of them itself (refresh as 1/(1 − tRFC/tREFI), a row cycle per PIM row burst,
activations in the streaming rate), so an effect's
share of the *gap* is what its removal saves the cycle run minus what the same removal saves the
analytic form: the part of the effect the closed form misses (negative: over-counts). The order
matters where effects interact (a refresh also closes rows): stated, fixed. The analytic
counterfactual zeroes the same `DramTiming` fields, except that its closed forms keep tRRD ≥ 1 DRAM
cycle (`dram.dram_params`).

SRAM ports (with `attribute_gap` only, one more event-loop run): the trace re-run with every on-chip
port access taking no time, against the analytic form without its port bound (same plans): the
op's share is what that saves its exclusive time minus what it saves its analytic time, like the
DRAM effects (not cumulative with them). Without `attribute_gap` the ports are not named: the port
stall of the op's tasks on the critical path is shown (`port_wait_s`), not added. Read off the path
it is not the ports' share: a compute tile waiting for a port lane that a DRAM-paced load holds
stalls on the path, yet removing the port time leaves it waiting for the DRAM (bert-base encode:
on edge-npu +9.8 ms on the path, net of the analytic port bound, against a share of −1 µs; on
simba +1.5 ms against +0.22 ms; read off every task, as before, +20 ms and +255 ms).

The NoC (with `attribute_gap`, one more run) the same way as the ports (`noc_s`): every NoC link
task taking no time, against the closed form without its distribute and collect phases.

PIM command issue (`pim_issue_waits`) and NoC link contention (`noc_stall_s`), read off the task
times: how long an op's tasks waited, ready, behind another op's on a PIM channel's command bus or
a NoC link. Shown, not added: on the critical path those ticks are the other op's work (which its
analytic time counts), and with `attribute_gap` their cost is part of the overlap. The issue-rate
floor itself (`dram_layout.pim_issue_cycles`) is not a gap effect: it is the PIM unit's MAC rate, timed
alike by both forms.

The closed form's pipeline-fill allowance (`fill_ticks`, every cycle run, analytic only): a unit
that overlaps loads with compute is charged max(compute, load) + min(compute, load) / 8; the
cycle run replaces that eighth by the real fill and drain of its tile stream (one tile's load
before the first compute, its last compute after the last load), so the allowance is named as
its own part of the gap, negative: `analytic_fill_s`. That real fill and drain is named beside
it with `attribute_gap` (`pipeline_fill_s`): the op's critical-path ticks while its stream's
bottleneck side sat idle (`exclusive`), on the serialised run without DRAM effects (the last DRAM
counterfactual), so the first load's row activation and CL stay the DRAM shares'. Plain runs do
not name it: on the overlapped run the fill also holds the contention its neighbours cause.

What remains (`other_s`) is none of these: dependencies inside an op, the closed forms' own error;
without `attribute_gap` also the overlap, the fill and the DRAM and NoC effects (the reports label it so:
`SimResult.attribute_gap`). No cheap exact split of the overlap exists without the serialised
re-run: an op's exclusive time in the overlapped run already holds its neighbours' hidden work
wherever the path went through it, and what the op would take alone is the serialised run."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from archsim.hardware import Hardware
from archsim.ir import OpGraph
from archsim.mapping import Mapping
from archsim.result import ADDITIVE_GAP_EFFECTS, RUN_GAP_PARTS

from .analytic import analytic_ticks
from .dram import PARAM_NAMES
from .exclusive import ExclusiveTime, exclusive_cycles, exclusive_time, serial_trace
from .execute import run_numba
from .lower import lower
from .trace import MODE_PIM_MAC
from .plan import plan_ops

__all__ = ["EFFECTS", "EFFECT_KEYS", "GapAttribution", "dram_gap_attribution", "dram_effect_ticks",
           "analytic_effect_ticks", "gap_share_cycles", "port_share_ticks", "fill_ticks",
           "pim_issue_waits", "gap_effects", "attribute", "noc_share_ticks",
           "port_bound_ticks"]

#: DRAM effect → the DRAM parameters zeroed to remove it from the cycle run (cumulatively, in
#: this order; `_TIMING_FIELDS` the `DramTiming` fields zeroed to remove it from the analytic form)
EFFECTS = (("refresh", ("trefi", "trfc", "trfc_pb", "refpb")),
           ("turnaround", ("twtr_s", "twtr_l", "trtw")),
           ("row_activation", ("trcd", "trp", "tras", "trrd_s", "trrd_l", "tfaw")),
           ("access_latency", ("cl", "cwl")))
_TIMING_FIELDS = {"refresh": dict(trefi=0, trfc=0, trfc_pb=0, refresh_per_bank=False),
                  "turnaround": dict(twtr_s=0, twtr_l=0),
                  "row_activation": dict(trcd=0, trp=0, tras=0, trrd_s=0, trrd_l=0, tfaw=0),
                  "access_latency": dict(cl=0)}
#: effect → its key in `OpResult.gap_effects` (`archsim.result.GAP_EFFECTS`)
EFFECT_KEYS = {name: f"dram_{name}_s" for name, _ in EFFECTS}


@dataclass(frozen=True, slots=True)
class GapAttribution:
    """Cycles (hw clock) of the cycle run, the analytic total, and per DRAM effect (`EFFECTS`) the
    cycles its removal saved the cycle run (`effects_cycles`) and the analytic form (`analytic_effects_cycles`); an effect's share of
    the gap is the difference, and `other_cycles` = cycle − analytic − Σ shares. `ops`: per op
    (name, cycle exclusive time, analytic, {effect: share of the op's gap in cycles})."""
    cycles: int
    analytic_cycles: int
    effects_cycles: tuple[tuple[str, int], ...]
    analytic_effects_cycles: tuple[tuple[str, int], ...]
    other_cycles: int
    ops: tuple[tuple[str, int, int, tuple[tuple[str, int], ...]], ...]

    @property
    def shares_cycles(self) -> tuple[tuple[str, int], ...]:
        """Each effect's share of the gap: cycle-run saving − analytic saving."""
        ana = dict(self.analytic_effects_cycles)
        return tuple((k, v - ana.get(k, 0)) for k, v in self.effects_cycles)


def _rerun(tr, dram_model: str, controller):
    """A counterfactual run of `tr` on the same DRAM path as the run it is compared with
    (`execute.run_numba`'s `dram_model`, and the controller parameters of `controller`)."""
    if dram_model == "burst":
        return run_numba(tr)
    return run_numba(tr, dram_model=dram_model, controller=controller)


def _exclusive(trace, run, n_ops: int, sub: int) -> np.ndarray:
    """Per op, hw cycles of its exclusive time in `run` (`exclusive.exclusive_time`: the critical
    path's split of the makespan, so a saving summed over ops is the run's saving exactly)."""
    return exclusive_cycles(exclusive_time(trace, run, n_ops).ticks, sub)


def dram_effect_ticks(tr, base, n_ops: int, sub: int, dram_model: str = "burst", controller=None):
    """The trace `tr` (whose run is `base`) re-run with each DRAM effect of `EFFECTS` removed in
    turn, cumulatively: ([(effect, hw cycles of the run it saved)], [per-op cycles of its exclusive
    time it saved, one array per effect]). Costs one event-loop run per effect, on the DRAM path
    `base` ran on (`dram_model`, `controller`: `execute.run_numba`'s)."""
    effects, per_op, _ = _dram_effect_runs(tr, base, n_ops, sub, dram_model, controller)
    return effects, per_op


def _dram_effect_runs(tr, base, n_ops: int, sub: int, dram_model: str, controller):
    """`dram_effect_ticks`, and the last counterfactual run (every DRAM effect removed)."""
    prev_total = -(-int(base.makespan) // sub)
    prev_ops = _exclusive(tr, base, n_ops, sub)
    params = tr.dram_params.copy()
    effects, per_op = [], []
    run = base
    for name, keys in EFFECTS:
        for k in keys:
            params[:, PARAM_NAMES.index(k)] = 0
        run = _rerun(dataclasses.replace(tr, dram_params=params.copy()), dram_model, controller)
        total = -(-int(run.makespan) // sub)
        ops = _exclusive(tr, run, n_ops, sub)
        effects.append((name, prev_total - total))
        per_op.append(prev_ops - ops)
        prev_total, prev_ops = total, ops
    return effects, per_op, run


def _without(hw: Hardware, name: str) -> Hardware:
    """`hw` with the DRAM effect `name` removed from the timing the plan and closed forms read."""
    fields = _TIMING_FIELDS[name]
    return dataclasses.replace(hw, levels=tuple(
        dataclasses.replace(lv, dram=dataclasses.replace(lv.dram, **fields)) if lv.dram is not None else lv
        for lv in hw.levels))


def analytic_effect_ticks(graph: OpGraph, hw: Hardware, mapping: Mapping | None, names, stack=None,
                          plans=None) -> list[np.ndarray]:
    """Per effect in `names` (cumulatively, in that order), the hw cycles its removal saves each
    op's analytic time; ops are re-planned on each counterfactual chip (the plan reads the DRAM
    level's timing)."""
    plans = plans if plans is not None else plan_ops(graph, hw, mapping, stack)
    prev = np.array([int(analytic_ticks(p, hw)) for p in plans], dtype=np.int64)
    cur = hw
    out = []
    for name in names:
        cur = _without(cur, name)
        plans = plan_ops(graph, cur, mapping, stack)
        now = np.array([int(analytic_ticks(p, cur)) for p in plans], dtype=np.int64)
        out.append(prev - now)
        prev = now
    return out


def gap_share_cycles(graph: OpGraph, hw: Hardware, mapping: Mapping | None, lw, run, plans,
                     stack=None, dram_model: str = "burst", controller=None) -> dict[str, np.ndarray]:
    """`gap_effects` key → per-op hw cycles of that effect's share of the op's analytic-vs-cycle
    gap for the lowered trace `lw` whose run is `run`. First the ops' overlap (`op_overlap_s`):
    each op's exclusive time minus its exclusive time with the ops run back to back, as the
    analytic form runs them (`exclusive.serial_trace`, one run; negative where the op's work hid
    under its neighbours', positive where it queued behind theirs). The rest of the op's gap is its
    serialised exclusive time − its analytic time, and the effects are shares of that, measured on
    the serialised trace (cycle-run saving − analytic saving). Measured on the overlapped run, an
    op hidden under another's had its DRAM effects cost nothing on the path while its analytic
    time still counted them: the overlap was counted twice, as itself and as negative shares.
    Every re-run takes the DRAM path `run` took (`dram_model`, `controller`: `execute.run_numba`'s),
    so a saving is never the difference between two DRAM models."""
    sub = lw.ticks_per_cycle
    n = len(plans)
    serial = serial_trace(lw.trace)
    srun = _rerun(serial, dram_model, controller)
    out = {"op_overlap_s": _exclusive(lw.trace, run, n, sub) - _exclusive(serial, srun, n, sub)}
    effects, saved, bare = _dram_effect_runs(serial, srun, n, sub, dram_model, controller)
    # the pipeline fill and drain of the serialised run without any DRAM effect (those are the
    # shares below, the first load's row activation and CL among them): cycles, fractional
    out["pipeline_fill_s"] = exclusive_time(serial, bare, n, lw.compute_res).fill_ticks / sub
    names = [name for name, _ in effects]
    ana = analytic_effect_ticks(graph, hw, mapping, names, stack, plans)
    out.update({EFFECT_KEYS[name]: s - a for name, s, a in zip(names, saved, ana)})
    out["sram_port_stall_s"] = port_share_ticks(serial, srun, plans, hw, sub, dram_model, controller)
    if lw.noc_res:
        out["noc_s"] = noc_share_ticks(serial, srun, plans, hw, sub, lw.noc_res, dram_model,
                                       controller)
    return out


def noc_share_ticks(tr, base, plans, hw: Hardware, sub: int, noc_res, dram_model: str = "burst",
                    controller=None) -> np.ndarray:
    """Per op, hw cycles of the NoC's share of its gap: what removing the NoC links' time saves
    its exclusive time (the trace re-run with every task on a NoC link taking no time: hops,
    link bandwidth, contention) minus what it saves its analytic time (`analytic_ticks(...,
    noc=False)`: without the distribute / collect phases, same plans)."""
    links = np.isin(tr.res, np.fromiter(noc_res, dtype=np.int64))
    run = _rerun(dataclasses.replace(tr, dur=np.where(links, 0, tr.dur)), dram_model, controller)
    n = len(plans)
    saved = _exclusive(tr, base, n, sub) - _exclusive(tr, run, n, sub)
    ana = np.array([int(analytic_ticks(p, hw)) - int(analytic_ticks(p, hw, noc=False)) for p in plans],
                   dtype=np.int64)
    return saved - ana


def fill_ticks(plans, hw: Hardware) -> np.ndarray:
    """Per op, hw cycles of the closed form's pipeline-fill allowance (`analytic_ticks` with and
    without it); zero where the op has none (GPU, PIM, in-order cores)."""
    return np.array([int(analytic_ticks(p, hw)) - int(analytic_ticks(p, hw, fill=False)) for p in plans],
                    dtype=np.int64)


def port_bound_ticks(plans, hw: Hardware) -> np.ndarray:
    """Per op, hw cycles the closed form's on-chip port bound adds to its analytic time
    (`analytic_ticks` with and without it): the analytic side of the ports' share."""
    return np.array([int(analytic_ticks(p, hw)) - int(analytic_ticks(p, hw, ports=False)) for p in plans],
                    dtype=np.int64)


def port_share_ticks(tr, base, plans, hw: Hardware, sub: int, dram_model: str = "burst",
                     controller=None) -> np.ndarray:
    """Per op, hw cycles of the on-chip ports' share of its gap: what removing the port time saves
    its exclusive time (the trace re-run with every port access taking no time) minus what it saves its
    analytic time (`analytic_ticks(..., ports=False)`, same plans)."""
    n = len(plans)
    if not tr.acc_dur.size:
        return np.zeros(n, dtype=np.int64)
    run = _rerun(dataclasses.replace(tr, acc_dur=np.zeros_like(tr.acc_dur)), dram_model, controller)
    saved = _exclusive(tr, base, n, sub) - _exclusive(tr, run, n, sub)
    return saved - port_bound_ticks(plans, hw)


def dram_gap_attribution(graph: OpGraph, hw: Hardware, mapping: Mapping | None = None) -> GapAttribution:
    """Attribute the DRAM part of the analytic-vs-cycle gap of `graph` on `hw` to named effects."""
    plans = plan_ops(graph, hw, mapping)
    ana = [int(analytic_ticks(p, hw)) for p in plans]
    lw = lower(graph, hw, mapping, plans)
    tr = lw.trace
    sub = lw.ticks_per_cycle
    base = run_numba(tr)
    total0 = -(-int(base.makespan) // sub)
    ops0 = _exclusive(tr, base, len(plans), sub)
    effects, per_op = dram_effect_ticks(tr, base, len(plans), sub)
    names = [name for name, _ in effects]
    ana_saved = analytic_effect_ticks(graph, hw, mapping, names, plans=plans)
    analytic = sum(ana)
    rows = tuple((p.op.name, int(ops0[p.index]), ana[p.index],
                  tuple((name, int(d[p.index] - a[p.index])) for name, d, a in zip(names, per_op, ana_saved)))
                 for p in plans)
    ana_effects = tuple((name, int(a.sum())) for name, a in zip(names, ana_saved))
    shares = sum(v for _, v in effects) - sum(v for _, v in ana_effects)
    return GapAttribution(cycles=total0, analytic_cycles=analytic, effects_cycles=tuple(effects),
                          analytic_effects_cycles=ana_effects,
                          other_cycles=total0 - analytic - shares, ops=rows)


def pim_issue_waits(tr, run, n_ops: int) -> np.ndarray:
    """Per op, ticks its all-bank PIM MAC row bursts waited, ready (their dependencies done), for
    their channel's command bus while a task of another op held it: on each DRAM resource, the part
    of [ready, start] before the preceding task (another op's) finished. Channel groups run side by
    side, so an op's wait is the largest over its resources, not their sum. An op's first task
    waiting is outside its span and not counted (its span starts there)."""
    out = np.zeros(n_ops, dtype=np.int64)
    pim = (tr.mode == MODE_PIM_MAC) & (tr.res_dram[tr.res] >= 0) & (tr.op >= 0)
    if not pim.any():
        return out
    first = np.full(n_ops, -1, dtype=np.int64)
    for i in np.nonzero(tr.op >= 0)[0][::-1]:
        first[tr.op[i]] = i
    for r in np.unique(tr.res[pim]):
        idx = np.nonzero(tr.res == r)[0]
        per = np.zeros(n_ops, dtype=np.int64)
        for prev, i in zip(idx[:-1], idx[1:]):
            o = int(tr.op[i])
            if not pim[i] or tr.op[prev] == o or first[o] == i:
                continue
            d = tr.deps(i)
            ready = int(run.finish[d].max()) if d.size else 0
            wait = min(int(run.start[i]), int(run.finish[prev])) - ready
            if wait > 0:
                per[o] += wait
        np.maximum(out, per, out=out)
    return out


def gap_effects(tr, run, compute_res, n_ops: int, tick_s: float, noc_res=(),
                path: ExclusiveTime | None = None) -> list[dict[str, float]]:
    """Per op, seconds of the symptoms (`archsim.result.GAP_EFFECTS`) read off the task times, shown
    beside the gap, not added into it: the port stalls of the op's tasks on the critical path
    (`port_wait_s`; `path`, `exclusive.exclusive_time`, computed if not given: not the ports'
    share, see the module docstring), the idle time of its compute unit between two of its own
    consecutive tasks (`load_wait_s`: a chunk waiting for its load), how long its NoC transfers
    waited, ready, for a link another op's transfer held (`noc_stall_s`), and how long its
    all-bank MAC row bursts waited, ready, for their channel's command bus another op's commands
    held (`pim_issue_s`, `pim_issue_waits`) — waits behind a neighbour's work, which the
    exclusive time gives to that neighbour (`exclusive`)."""
    path = path if path is not None else exclusive_time(tr, run, n_ops)
    wait = np.zeros(n_ops)
    for r in compute_res:
        idx = np.nonzero(tr.res == r)[0]
        if idx.size > 1:
            gaps = run.start[idx[1:]] - run.finish[idx[:-1]]
            same = (tr.op[idx[1:]] == tr.op[idx[:-1]]) & (gaps > 0)
            np.add.at(wait, tr.op[idx[1:]][same], gaps[same])
    noc = np.zeros(n_ops)
    for r in noc_res:                 # a link serves its transfers in order: a wait behind another
        idx = np.nonzero(tr.res == r)[0]      # op's transfer is contention
        ops = tr.op[idx]
        for i in idx[1:][(ops[1:] != ops[:-1]) & (ops[1:] >= 0)]:
            d = tr.deps(i)
            ready = int(run.finish[d].max()) if d.size else 0
            if run.start[i] > ready:
                noc[tr.op[i]] += run.start[i] - ready
    cols = (("port_wait_s", path.port_ticks), ("load_wait_s", wait), ("noc_stall_s", noc),
            ("pim_issue_s", pim_issue_waits(tr, run, n_ops)))
    return [{k: float(v[i]) * tick_s for k, v in cols if v[i]} for i in range(n_ops)]


def attribute(effects: list[dict[str, float]], exclusive, ana, total: int, tick_s: float):
    """Completes each op's `gap_effects` with `other_s` (its exclusive time − analytic time − the
    additive named effects) and returns the run's gap by `RUN_GAP_PARTS`: op overlap (makespan −
    Σ exclusive times: zero for one chip's run, whose exclusive times split the makespan) and each
    effect summed over ops; they add up to cycle − analytic latency."""
    run = dict.fromkeys(RUN_GAP_PARTS, 0.0)
    run["op_overlap_s"] = (total - float(sum(exclusive))) * tick_s      # + each op's, below
    for i, e in enumerate(effects):
        named = sum(e.get(k, 0.0) for k in ADDITIVE_GAP_EFFECTS)
        other = (float(exclusive[i]) - float(ana[i])) * tick_s - named
        if other:
            e["other_s"] = other
        for k in ADDITIVE_GAP_EFFECTS + ("other_s",):
            run[k] += e.get(k, 0.0)
    return tuple(run.items())
