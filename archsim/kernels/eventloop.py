"""The cycle-accurate task loop (Numba). Arrays in, arrays out; nothing compiles at import time.

Each resource executes its tasks in trace order (in-order queues, as command queues and DMA engines
do). The trace is topologically ordered (every dependency has a lower index), so visiting tasks in
index order settles each task's start when it is visited: start = max(finish of its dependencies,
the resource's state). Plain resources are busy for `dur` cycles per task; DRAM-channel resources
time each burst with `archsim.kernels.dram.burst` (bank state machines, refresh, tFAW, ...).
A plain task with `reps` > 1 stands for that many tiles run back to back on its resource (tile k
starts when tile k-1 is done, its own ports included): its `dur` and accesses are split evenly, the
first `dur % reps` tiles one tick longer. It times exactly as `reps` consecutive tasks would.
A task's on-chip memory accesses (CSR `acc_*`) occupy the ports of SRAM levels
(`archsim.kernels.sram.port_finish`); a task whose accesses outlast its own work finishes late
(`stall`: the ticks it waited on ports).
A resource with `res_dram` -2 is the join resource (`engine.trace.JOIN`): its tasks take no time
and do not serialise (it never becomes busy), so each finishes when its dependencies are done.

Numba's on-disk cache keys a function on its own file only; `archsim.kernels` drops the caches
when any kernel source changed, so `run_trace` recompiles after an edit to kernels/dram/ or
kernels/sram.py.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from .dram import burst
from .plain import plain_finish
from .sram import port_finish


@njit(cache=True)
def run_trace(res, dur, dep_ptr, dep_idx, slot, row, ncols, span, mode, nrows, res_dram,
              params, bank_st, bg_last, chan, work, start, finish, acc_ptr, acc_res, acc_dur, stall,
              reps, periodic=True):
    """Fill start/finish (int64 cycles) for every task; DRAM state arrays are updated in place.

    res_dram[r] is the DRAM slot of resource r, -1 for a plain resource, -2 for the join resource
    (never busy); params/bank_st/bg_last/
    chan/work are stacked per DRAM slot (`work`: scratch of `dram.work_size`). Returns
    the makespan."""
    n = res.shape[0]
    nres = res_dram.shape[0]
    free = np.zeros(nres, dtype=np.int64)
    makespan = 0
    for i in range(n):
        ready = 0
        for k in range(dep_ptr[i], dep_ptr[i + 1]):
            f = finish[dep_idx[k]]
            if f > ready:
                ready = f
        r = res[i]
        d = res_dram[r]
        if d < 0:
            s = free[r]
            if ready > s:
                s = ready
            e = plain_finish(i, s, dur, reps, acc_ptr, acc_res, acc_dur, free, stall)
            if d == -1:            # the join resource (-2) stays free: its tasks never wait
                free[r] = e
            start[i] = s
            finish[i] = e
            if e > makespan:
                makespan = e
            continue
        s, e = burst(params[d], bank_st[d], bg_last[d], chan[d], slot[i], row[i], ncols[i],
                     span[i], mode[i], nrows[i], ready, periodic, work[d])
        e += dur[i]
        if acc_ptr[i + 1] > acc_ptr[i]:
            done = port_finish(i, s, e, acc_ptr, acc_res, acc_dur, free)
            stall[i] = done - e
            e = done
        start[i] = s
        finish[i] = e
        if e > makespan:
            makespan = e
    return makespan
