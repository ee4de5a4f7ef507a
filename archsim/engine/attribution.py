"""Where the analytic-vs-cycle gap comes from, on the DRAM side: counterfactual runs of the same
trace with one DRAM effect removed at a time, cumulatively, in a fixed order — refresh, read/write
turnaround, then row activation (bank conflicts and row misses: tRCD, tRP, tRAS, tRRD, tFAW). The
cycles each removal saves are that effect's share; what remains of the gap after all three is not
DRAM timing (pipeline fill at chunk granularity, dependencies between ops, queueing of one op's
transfers behind another's on an in-order channel, compute closed forms). Per op as well as for the
run. The order matters where effects interact (a refresh also closes rows): stated, fixed."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from archsim.hardware import Hardware
from archsim.ir import OpGraph
from archsim.mapping import Mapping

from .analytic import analytic_ticks
from .dram import PARAM_NAMES
from .execute import run_numba
from .lower import lower
from .plan import plan_ops

__all__ = ["EFFECTS", "GapAttribution", "dram_gap_attribution", "dram_effect_ticks"]

#: effect → the DRAM parameters zeroed to remove it (cumulatively, in this order)
EFFECTS = (("refresh", ("trefi", "trfc", "trfc_pb", "refpb")),
           ("turnaround", ("twtr_s", "twtr_l", "trtw")),
           ("row_activation", ("trcd", "trp", "tras", "trrd_s", "trrd_l", "tfaw")))


@dataclass(frozen=True, slots=True)
class GapAttribution:
    """Cycles (hw clock) of the cycle run, the analytic total, and per named effect the cycles its
    removal saved; `other_cycles` = cycle − analytic − Σ effects. `ops`: the same per op (name,
    cycle span, analytic, {effect: cycles})."""
    cycles: int
    analytic_cycles: int
    effects_cycles: tuple[tuple[str, int], ...]
    other_cycles: int
    ops: tuple[tuple[str, int, int, tuple[tuple[str, int], ...]], ...]


def _spans(trace, run, n_ops: int, sub: int) -> np.ndarray:
    out = np.zeros(n_ops, dtype=np.int64)
    for i in range(n_ops):
        m = trace.op == i
        if m.any():
            out[i] = -(-int(run.finish[m].max()) // sub) - int(run.start[m].min()) // sub
    return out


def dram_effect_ticks(tr, base, n_ops: int, sub: int):
    """The trace `tr` (whose run is `base`) re-run with each DRAM effect of `EFFECTS` removed in
    turn, cumulatively: ([(effect, hw cycles of the run it saved)], [per-op cycles of its span it
    saved, one array per effect]). Costs one event-loop run per effect."""
    prev_total = -(-int(base.makespan) // sub)
    prev_ops = _spans(tr, base, n_ops, sub)
    params = tr.dram_params.copy()
    effects, per_op = [], []
    for name, keys in EFFECTS:
        for k in keys:
            params[:, PARAM_NAMES.index(k)] = 0
        run = run_numba(dataclasses.replace(tr, dram_params=params.copy()))
        total = -(-int(run.makespan) // sub)
        ops = _spans(tr, run, n_ops, sub)
        effects.append((name, prev_total - total))
        per_op.append(prev_ops - ops)
        prev_total, prev_ops = total, ops
    return effects, per_op


def dram_gap_attribution(graph: OpGraph, hw: Hardware, mapping: Mapping | None = None) -> GapAttribution:
    """Attribute the DRAM part of the analytic-vs-cycle gap of `graph` on `hw` to named effects."""
    plans = plan_ops(graph, hw, mapping)
    ana = [int(analytic_ticks(p, hw)) for p in plans]
    lw = lower(graph, hw, mapping, plans)
    tr = lw.trace
    sub = lw.ticks_per_cycle
    base = run_numba(tr)
    total0 = -(-int(base.makespan) // sub)
    ops0 = _spans(tr, base, len(plans), sub)
    effects, per_op = dram_effect_ticks(tr, base, len(plans), sub)
    analytic = sum(ana)
    rows = tuple((p.op.name, int(ops0[p.index]), ana[p.index],
                  tuple((name, int(d[p.index])) for (name, _), d in zip(EFFECTS, per_op)))
                 for p in plans)
    return GapAttribution(cycles=total0, analytic_cycles=analytic, effects_cycles=tuple(effects),
                          other_cycles=total0 - analytic - sum(v for _, v in effects), ops=rows)
