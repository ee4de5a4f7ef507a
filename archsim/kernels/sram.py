"""On-chip memory ports (Numba): the bytes a task moves through an SRAM level, on the level's ports.

A level with P ports over B banks serves min(P, B) accesses per cycle (a bank answers one access per
cycle; streams interleave over all banks, so only the number of banks caps the ports): min(P, B)
port lanes, each a plain resource whose `free` time is a ledger. The lowering picks a task's lane
(`archsim.engine.lower`): a task's access occupies its lane for `acc_dur` ticks from max(task
start, lane free), lanes served in trace order. A task finishes no earlier than its last access;
the difference is its port stall. A task standing for `reps` tiles run back to back (see
`archsim.engine.trace`) moves 1/`reps` of each access per tile: `div` = reps.
"""
from __future__ import annotations

from numba import njit


@njit(cache=True)
def port_finish(i, s, e, acc_ptr, acc_res, acc_dur, free, div=1):
    """Finish of task i (started at s, done with its own work at e) once its SRAM accesses are
    served (each `acc_dur // div` ticks: one tile of a task standing for `div` tiles); advances the
    lanes' ledgers in `free`."""
    end = e
    for k in range(acc_ptr[i], acc_ptr[i + 1]):
        r = acc_res[k]
        t = free[r]
        if s > t:
            t = s
        t += acc_dur[k] // div
        free[r] = t
        if t > end:
            end = t
    return end
