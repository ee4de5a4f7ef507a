"""A task on a plain resource (Numba), as both task loops time it (`eventloop.run_trace`,
`timeloop.run_timed`): its own cycles from its start, and its SRAM port accesses
(`sram.port_finish`). A task with `reps` > 1 stands for that many tiles run back to back: tile k
starts when tile k-1 is done, its accesses included; `dur` and the accesses are split evenly, the
first `dur % reps` tiles one tick longer (exactly as `reps` consecutive tasks would time).
`floor` (`timeloop`, controller path): the first tile's accesses are not done before it — the time
a transfer earlier on one of its lanes began (the loop learnt its start then)."""
from __future__ import annotations

from numba import njit

from .sram import port_finish


@njit(cache=True)
def plain_finish(i, s, dur, reps, acc_ptr, acc_res, acc_dur, free, stall, floor=0):
    """Finish of plain task i started at s; sets `stall[i]` (the ticks it waited on ports) when it
    has port accesses or stands for several tiles and advances the lanes' ledgers in `free`."""
    nrep = reps[i]
    has_acc = acc_ptr[i + 1] > acc_ptr[i]
    if nrep > 1:
        q = dur[i] // nrep
        extra = dur[i] % nrep
        t = s
        late = 0
        for k in range(nrep):
            ek = t + q + (1 if k < extra else 0)
            if has_acc:
                done = port_finish(i, t, ek, acc_ptr, acc_res, acc_dur, free, nrep)
                if k == 0 and floor > done:
                    done = floor
                late += done - ek
                ek = done
            t = ek
        stall[i] = late
        return t
    e = s + dur[i]
    if has_acc:
        done = port_finish(i, s, e, acc_ptr, acc_res, acc_dur, free)
        if floor > done:
            done = floor
        stall[i] = done - e
        e = done
    return e
