"""Run a `Trace` on the Numba loop: the thin wrapper that allocates state and converts results."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .trace import Trace

__all__ = ["TraceRun", "DRAM_COUNT_NAMES", "run_numba"]

#: Timing-dependent DRAM action counts, per DRAM resource, in this order.
DRAM_COUNT_NAMES = ("refs", "acts", "pres", "hits", "misses", "rd_cols", "wr_cols", "mac_cols",
                    "ab_acts", "pb_refs")   # acts: banks activated; ab_acts: all-bank ACT commands among
                                            # them; refs: all-bank refreshes; pb_refs: per-bank ones


@dataclass(frozen=True)
class TraceRun:
    start: np.ndarray            # int64 cycles per task
    finish: np.ndarray
    makespan: int
    dram_counts: np.ndarray      # [n_dram, len(DRAM_COUNT_NAMES)] int64
    port_stall: np.ndarray = None  # int64 ticks per task spent waiting on on-chip ports

    def counts(self, slot: int) -> dict[str, int]:
        return {k: int(v) for k, v in zip(DRAM_COUNT_NAMES, self.dram_counts[slot])}


def run_numba(trace: Trace, periodic: bool = True) -> TraceRun:
    """`periodic=False` disables the exact steady-state skip of long DRAM streams (for tests)."""
    from archsim.kernels import dram as kd
    from archsim.kernels.eventloop import run_trace

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
    n = trace.n_tasks
    start = np.zeros(n, dtype=np.int64)
    finish = np.zeros(n, dtype=np.int64)
    stall = np.zeros(n, dtype=np.int64)
    makespan = run_trace(trace.res, trace.dur, trace.dep_ptr, trace.dep_idx, trace.slot, trace.row,
                         trace.ncols, trace.span, trace.mode, trace.nrows, trace.res_dram, params,
                         bank_st, bg_last, chan, work, start, finish, trace.acc_ptr, trace.acc_res,
                         trace.acc_dur, stall, trace.reps, periodic)
    counts = np.concatenate([chan[:nd, kd.C_REFS:kd.C_MACCOLS + 1], chan[:nd, kd.C_ABACTS:kd.C_ABACTS + 1],
                             chan[:nd, kd.C_PBREFS:kd.C_PBREFS + 1]], axis=1)
    return TraceRun(start=start, finish=finish, makespan=int(makespan), dram_counts=counts,
                    port_stall=stall)
