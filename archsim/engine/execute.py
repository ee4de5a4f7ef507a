"""Run a `Trace` on the Numba loop: the thin wrapper that allocates state and converts results."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .trace import Trace

__all__ = ["TraceRun", "DRAM_COUNT_NAMES", "DRAM_MODELS", "DEFAULT_DRAM_MODEL", "SIMPY_DRAM_MODELS",
           "resolve_dram_model", "run_numba", "run_timed", "powerdown_tail"]

#: the engine's DRAM path at cycle fidelity: `burst` serves each channel's transfers in trace order
#: with the burst closed form (`kernels.eventloop`); `controller` lets the request-level controller's
#: rules serve transfers that overlap on a channel (`kernels.timeloop`, `kernels.dram.shared`)
DRAM_MODELS = ("burst", "controller")
#: the DRAM path of a cycle run that names none (`engine.simulate` and everything above it: the API,
#: the CLI, compare, systems, studies, co-search). `burst` stays an explicit choice.
DEFAULT_DRAM_MODEL = "controller"
#: the DRAM paths the SimPy reference engine (`reference.run_simpy`) has: both (the controller
#: path's twin is `reference_controller`). A path added without a twin goes out of this tuple; with
#: no DRAM path named SimPy then runs its first and says so (`resolve_dram_model`).
SIMPY_DRAM_MODELS = DRAM_MODELS


def resolve_dram_model(dram_model: str | None, engine: str = "numba") -> tuple[str, str]:
    """(the DRAM path a cycle run on `engine` takes, a note for the result when it is not the default
    because that engine lacks it, else ""). `dram_model` None: the default (`DEFAULT_DRAM_MODEL`).
    A name outside `DRAM_MODELS`, or one the SimPy engine does not have, is an `ArchsimError`."""
    from archsim.errors import ArchsimError, did_you_mean
    if dram_model is not None and dram_model not in DRAM_MODELS:
        hint = did_you_mean(str(dram_model), DRAM_MODELS) or ""
        raise ArchsimError(f"dram_model must be one of {', '.join(DRAM_MODELS)} (got {dram_model!r})"
                           + (f"; {hint}" if hint else ""))
    if engine != "simpy":
        return dram_model or DEFAULT_DRAM_MODEL, ""
    if dram_model is None:
        if DEFAULT_DRAM_MODEL in SIMPY_DRAM_MODELS:
            return DEFAULT_DRAM_MODEL, ""
        return SIMPY_DRAM_MODELS[0], (f"SimPy reference engine: DRAM path {SIMPY_DRAM_MODELS[0]!r}, "
                                      f"not the default {DEFAULT_DRAM_MODEL!r} (it has no twin of it)")
    if dram_model not in SIMPY_DRAM_MODELS:
        raise ArchsimError(f"the SimPy reference engine has no {dram_model!r} DRAM path (it has "
                           f"{', '.join(SIMPY_DRAM_MODELS)})")
    return dram_model, ""

#: Timing-dependent DRAM action counts, per DRAM resource, in this order.
DRAM_COUNT_NAMES = ("refs", "acts", "pres", "hits", "misses", "rd_cols", "wr_cols", "mac_cols",
                    "ab_acts", "pb_refs", "pd_entries", "pd_cycles")
# acts: banks activated; ab_acts: all-bank ACT commands among them; refs: all-bank refreshes; pb_refs:
# per-bank ones; pd_entries / pd_cycles: power-downs and their ticks from entry to wake
# (`kernels.dram.powerdown`), a channel still down at the makespan counted up to it (`powerdown_tail`)


@dataclass(frozen=True)
class TraceRun:
    start: np.ndarray            # int64 cycles per task
    finish: np.ndarray
    makespan: int
    dram_counts: np.ndarray      # [n_dram, len(DRAM_COUNT_NAMES)] int64
    port_stall: np.ndarray = None  # int64 ticks per task spent waiting on on-chip ports
    #: the time-ordered loop's request-level counts per DRAM slot ([n_dram, controller.N_K], in
    #: `controller.K_*` order: ACTs, PREs, hits, ... issued by request-level decisions only; a
    #: transfer served alone with the burst closed form adds none); None on the burst path
    controller_counts: np.ndarray | None = None

    def counts(self, slot: int) -> dict[str, int]:
        return {k: int(v) for k, v in zip(DRAM_COUNT_NAMES, self.dram_counts[slot])}

    @property
    def request_decisions(self) -> int:
        """Request-level decisions the controller path took: each picks one queued request (FR-FCFS)
        and issues its one column command, so it equals the request-level RD + WR columns
        (`controller.K_RD`, `K_WR`); 0 on the burst path."""
        if self.controller_counts is None:
            return 0
        from archsim.kernels.dram.controller import K_RD, K_WR
        return int(self.controller_counts[:, K_RD].sum() + self.controller_counts[:, K_WR].sum())


def _dram_state(trace: Trace):
    from archsim.kernels import dram as kd
    nd = trace.dram_params.shape[0]
    nb = int(trace.dram_params[:, kd.P_NBANKS].max()) if nd else 1
    ng = int(trace.dram_params[:, kd.P_NBG].max()) if nd else 1
    bank_st = np.zeros((max(nd, 1), nb, 5), dtype=np.int64)
    bg_last = np.zeros((max(nd, 1), ng), dtype=np.int64)
    chan = np.zeros((max(nd, 1), kd.N_CHAN), dtype=np.int64)
    params = trace.dram_params if nd else np.zeros((1, kd.N_PARAMS), dtype=np.int64)
    for d in range(nd):
        b, g, c = kd.new_state(trace.dram_params[d])
        bank_st[d, :b.shape[0]] = b
        bg_last[d, :g.shape[0]] = g
        chan[d] = c
    work = np.zeros((max(nd, 1), max([kd.work_size(p) for p in params] + [1])), dtype=np.int64)
    return nd, params, bank_st, bg_last, chan, work


def powerdown_tail(pd_idle: int, idle_from: int, makespan: int) -> tuple[int, int]:
    """(entries, ticks) of the power-down a channel idle since `idle_from` (its last data end or
    wake) is in when the run ends at `makespan`: entered after `pd_idle` ticks (0: never)."""
    entry = idle_from + pd_idle
    return (1, makespan - entry) if pd_idle > 0 and makespan > entry else (0, 0)


def _counts(chan, nd, params, makespan):
    from archsim.kernels import dram as kd
    out = np.concatenate([chan[:nd, kd.C_REFS:kd.C_MACCOLS + 1], chan[:nd, kd.C_ABACTS:kd.C_ABACTS + 1],
                          chan[:nd, kd.C_PBREFS:kd.C_PBREFS + 1], chan[:nd, kd.C_PDN:kd.C_PDCYC + 1]],
                         axis=1)
    for d in range(nd):
        n, ticks = powerdown_tail(int(params[d, kd.P_PDIDLE]),
                                  int(max(chan[d, kd.C_LASTEND], chan[d, kd.C_WAKE])), int(makespan))
        out[d, -2] += n
        out[d, -1] += ticks
    return out


def run_numba(trace: Trace, periodic: bool = True, dram_model: str = "burst",
              controller: np.ndarray | None = None, solo: bool = True) -> TraceRun:
    """`periodic=False` disables the exact steady-state skip of long DRAM streams (for tests).
    `dram_model` (`DRAM_MODELS`): `controller` runs the time-ordered loop with the request-level
    controller's rules where transfers overlap (`run_timed`). This trace-level runner takes `burst`
    (the event loop `kernels.eventloop`, which the SimPy twin and the kernel tests check) unless
    told otherwise; a cycle run's default path (`DEFAULT_DRAM_MODEL`) is chosen by
    `engine.simulate`, which always names the path."""
    if dram_model == "controller":
        return run_timed(trace, controller=controller, periodic=periodic, solo=solo)
    if dram_model != "burst":
        from archsim.errors import ArchsimError
        raise ArchsimError(f"dram_model must be one of {', '.join(DRAM_MODELS)} (got {dram_model!r})")
    from archsim.kernels.eventloop import run_trace

    nd, params, bank_st, bg_last, chan, work = _dram_state(trace)
    n = trace.n_tasks
    start = np.zeros(n, dtype=np.int64)
    finish = np.zeros(n, dtype=np.int64)
    stall = np.zeros(n, dtype=np.int64)
    makespan = run_trace(trace.res, trace.dur, trace.dep_ptr, trace.dep_idx, trace.slot, trace.row,
                         trace.ncols, trace.span, trace.mode, trace.nrows, trace.res_dram, params,
                         bank_st, bg_last, chan, work, start, finish, trace.acc_ptr, trace.acc_res,
                         trace.acc_dur, stall, trace.reps, periodic)
    return TraceRun(start=start, finish=finish, makespan=int(makespan),
                    dram_counts=_counts(chan, nd, params, makespan),
                    port_stall=stall)


def default_controller(nd: int) -> np.ndarray:
    """Controller parameters (`kernels.dram.controller.X_*`) per DRAM slot when the trace's
    descriptions are not at hand: the hardware schema's defaults (queue 32, row-hit cap 4, open
    page), no power-down."""
    from archsim.kernels.dram import controller as kc
    x = np.zeros((max(nd, 1), kc.N_X), dtype=np.int64)
    x[:, kc.X_QUEUE] = 32
    x[:, kc.X_CAP] = 4
    return x


def run_timed(trace: Trace, policy: str = "controller", controller: np.ndarray | None = None,
              periodic: bool = True, solo: bool = True, log: np.ndarray | None = None,
              plain: bool = False) -> TraceRun:
    """The time-ordered loop (`kernels.timeloop.run_timed`). `policy` "in_order": each channel
    serves its tasks in trace order (equal to `run_numba`'s burst path on every trace);
    "controller": overlapping transfers are served by the controller's rules. `controller`:
    [DRAM slots, controller.N_X] parameters (default `default_controller`); `solo`: a transfer alone
    on its channel is served with the burst closed form (False: every read/write transfer at
    request level, the controller itself, for tests against it). `log` (tests): an int64 array
    that receives the number of requests admitted to controller queues, then the task of each in
    admission order. `plain` (tests): the controller's FR-FCFS scan as written before its speed-ups
    (`shared.decide_run`; and `controller._serve` itself): the same results, slower."""
    from archsim.kernels.dram import controller as kc
    from archsim.kernels.timeloop import CONTROLLER, IN_ORDER, run_timed as kernel

    if policy not in ("controller", "in_order"):
        raise ValueError(f"policy {policy!r}")
    nd, params, bank_st, bg_last, chan, work = _dram_state(trace)
    x = default_controller(nd) if controller is None else np.ascontiguousarray(controller, np.int64)
    if x.shape[0] < nd:
        raise ValueError(f"controller parameters for {x.shape[0]} DRAM slots, the trace has {nd}")
    is_dram = trace.res_dram[trace.res] >= 0
    per_slot = np.bincount(trace.res_dram[trace.res[is_dram]], minlength=nd) if nd else np.zeros(0, np.int64)
    pend_base = np.zeros(max(nd, 1) + 1, dtype=np.int64)
    pend_base[1:nd + 1] = np.cumsum(per_slot)
    n = trace.n_tasks
    start = np.zeros(n, dtype=np.int64)
    finish = np.zeros(n, dtype=np.int64)
    stall = np.zeros(n, dtype=np.int64)
    kcount = np.zeros((max(nd, 1), kc.N_K), dtype=np.int64)
    makespan = kernel(trace.res, trace.dur, trace.dep_ptr, trace.dep_idx, trace.slot, trace.row,
                      trace.ncols, trace.span, trace.mode, trace.nrows, trace.res_dram, params,
                      bank_st, bg_last, chan, work, start, finish, trace.acc_ptr, trace.acc_res,
                      trace.acc_dur, stall, trace.reps, periodic,
                      CONTROLLER if policy == "controller" else IN_ORDER, x, solo, pend_base, kcount,
                      np.zeros(1, np.int64) if log is None else log, plain)
    if makespan < 0:
        raise RuntimeError("time-ordered loop: some task was never settled")
    return TraceRun(start=start, finish=finish, makespan=int(makespan),
                    dram_counts=_counts(chan, nd, params, makespan),
                    port_stall=stall, controller_counts=kcount[:nd])
