"""Refreshes that fall due while a DRAM channel idles are issued on time, not saved up and replayed
back to back in front of the next access (a controller refreshes an idle channel on schedule)."""
from __future__ import annotations

import pytest

from archsim.engine.dram import dram_params
from archsim.engine.execute import run_numba
from archsim.engine.reference import run_simpy
from archsim.engine.trace import MODE_READ, TraceBuilder

from .dram_types import all_dram_types

TYPES = all_dram_types()


def _access_after_idle(t, idle_cycles: int):
    """One read, then a compute task of `idle_cycles`, then one read that depends on it."""
    b = TraceBuilder()
    dram = b.resource("dram", dram_params(t))
    core = b.resource("core")
    first = b.task(dram, 0, (), slot=0, row=0, ncols=1, mode=MODE_READ)
    wait = b.task(core, idle_cycles, (first,))
    b.task(dram, 0, (wait,), slot=0, row=1, ncols=1, mode=MODE_READ)
    return b.build()


@pytest.mark.parametrize("name", sorted(n for n, t in TYPES.items() if t.trefi and t.trfc))
def test_an_idle_channel_does_not_replay_missed_refreshes(name):
    t = TYPES[name]
    # Idle for 6.5 refresh intervals, so the second read lands mid-interval, well clear of the
    # last refresh (which ends tRFC after its due time).
    idle = int(6.5 * t.trefi)
    tr = _access_after_idle(t, idle)
    runs = (run_numba(tr), run_simpy(tr))
    for run in runs:
        wait_end = int(run.finish[1])
        second = int(run.finish[2]) - wait_end
        single = int(run.finish[0]) - int(run.start[0])
        # The late read costs about one isolated access (a row miss), never the ~6 x tRFC of
        # refreshes issued back to back when it arrives.
        assert second <= single + t.trp + t.tras + t.trfc // 2, (name, second, single)
        c = run.counts(0)     # per-bank refresh: a round of one REFpb per bank stands for one REF
        assert c["refs"] + c["pb_refs"] / t.banks_per_channel >= 6
