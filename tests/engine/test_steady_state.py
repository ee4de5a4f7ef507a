"""The steady-state skip of long DRAM streams (kernels.dram.burst, periodic=True) equals the
row-by-row path exactly, across refreshes, on every DRAM type; and agrees with the SimPy engine."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from archsim.engine.dram import dram_params
from archsim.engine.execute import run_numba
from archsim.engine.reference import run_simpy
from archsim.engine.trace import MODE_PIM_MAC, MODE_READ, MODE_WRITE, TraceBuilder
from archsim.kernels import dram as kd

from .dram_types import all_dram_types

TYPES = all_dram_types()


def _burst(t, periodic, **kw):
    P = dram_params(t)
    bank_st, bg_last, chan = kd.new_state(P)
    work = np.zeros(kd.work_size(P), dtype=np.int64)
    out = []
    ready = 0
    for task in kw["tasks"]:
        s, e = kd.burst(P, bank_st, bg_last, chan, task["slot"], 0, task["ncols"], task["span"],
                        task["mode"], task["nrows"], ready, periodic, work)
        out.append((s, e))
        ready = task.get("after", 0) and e
    return out, bank_st, bg_last, chan


@pytest.mark.parametrize("name", sorted(TYPES))
def test_skip_equals_row_by_row(name):
    t = TYPES[name]
    nb = t.banks_per_channel
    nbg = t.ranks * t.bank_groups
    cols = max(1, t.row_size_bytes // t.burst_bytes)
    k = min(4, nbg)
    tasks = [dict(slot=0, ncols=k * cols, span=k, mode=MODE_READ, nrows=3000),
             dict(slot=5 * nb, ncols=nb and 7, span=nb, mode=MODE_PIM_MAC, nrows=900),
             dict(slot=900 * nb * 2, ncols=cols, span=1, mode=MODE_WRITE, nrows=2000, after=1),
             dict(slot=0, ncols=3, span=min(2, nbg), mode=MODE_READ, nrows=1000)]
    fast = _burst(t, True, tasks=tasks)
    slow = _burst(t, False, tasks=tasks)
    assert fast[0] == slow[0]
    for a, b in zip(fast[1:], slow[1:]):
        assert np.array_equal(a, b)
    assert fast[3][kd.C_REFS] > 0 or not t.trefi


def test_long_stream_matches_simpy():
    t = dataclasses.replace(TYPES["hbm2"], trefi=600, trfc=80)
    b = TraceBuilder()
    r = b.resource("dram", dram_params(t))
    b.task(r, 0, (), slot=0, ncols=16 * 4, span=4, nrows=200)
    b.task(r, 0, (0,), slot=3000, ncols=9, span=16, mode=MODE_PIM_MAC, nrows=120)
    tr = b.build()
    a, s = run_numba(tr), run_simpy(tr)
    assert np.array_equal(a.finish, s.finish) and np.array_equal(a.dram_counts, s.dram_counts)
