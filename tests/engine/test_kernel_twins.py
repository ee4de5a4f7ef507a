"""Plain-Python twins of the Numba kernels (the stumpy habit): the event loop on plain resources
against a textbook list scheduler, and the DRAM burst kernel against its own uncompiled source."""
from __future__ import annotations

import random

import numpy as np
from hypothesis import given, settings, strategies as st

from archsim.engine.execute import run_numba
from archsim.engine.trace import TraceBuilder
from archsim.kernels import dram as kd

from .traces import random_trace


def _list_schedule(tasks, nres):
    """Each resource serves its tasks in order; a task starts when its resource is free and its
    dependencies have finished."""
    free = [0] * nres
    finish = []
    start = []
    for res, dur, deps in tasks:
        s = max([free[res]] + [finish[d] for d in deps])
        start.append(s)
        finish.append(s + dur)
        free[res] = s + dur
    return start, finish


@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 10**6), n=st.integers(1, 200), nres=st.integers(1, 5))
def test_plain_loop_equals_list_scheduler(seed, n, nres):
    rng = random.Random(seed)
    b = TraceBuilder()
    rs = [b.resource(f"r{i}") for i in range(nres)]
    tasks = []
    for i in range(n):
        deps = tuple(sorted(rng.sample(range(i), min(i, rng.randint(0, 3)))))
        res, dur = rng.choice(rs), rng.randint(0, 100)
        b.task(res, dur, deps)
        tasks.append((res, dur, deps))
    run = run_numba(b.build())
    start, finish = _list_schedule(tasks, nres)
    assert list(run.start) == start and list(run.finish) == finish
    assert run.makespan == max(finish, default=0)


def test_dram_kernel_equals_its_python_source():
    """`burst.py_func` runs the same code uncompiled (with compiled callees); the compiled kernel
    must agree bit for bit."""
    tr = random_trace(3, 80, "gddr6", 500)
    P = tr.dram_params[0]
    outs = []
    for fn in (kd.burst, getattr(kd.burst, "py_func", kd.burst)):
        bank_st, bg_last, chan = kd.new_state(P)
        work = np.zeros(kd.work_size(P), dtype=np.int64)
        res = []
        for i in np.nonzero(tr.res_dram[tr.res] >= 0)[0]:
            res.append(fn(P, bank_st, bg_last, chan, int(tr.slot[i]), int(tr.row[i]), int(tr.ncols[i]),
                          int(tr.span[i]), int(tr.mode[i]), int(tr.nrows[i]), 0, True, work))
        outs.append((res, chan.copy(), bank_st.copy()))
    assert outs[0][0] == outs[1][0]
    assert np.array_equal(outs[0][1], outs[1][1]) and np.array_equal(outs[0][2], outs[1][2])
