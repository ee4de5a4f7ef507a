"""The steady-state skip of long DRAM streams (kernels.dram.burst, periodic=True) equals the
row-by-row path exactly, across refreshes, on every DRAM type; and agrees with the SimPy engine."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import example, given, settings, strategies as st

from archsim.engine.dram import dram_params
from archsim.engine.execute import run_numba
from archsim.engine.reference import run_simpy
from archsim.engine.trace import MODE_PIM_MAC, MODE_READ, MODE_WRITE, TraceBuilder
from archsim.kernels import dram as kd
from archsim.kernels.dram import stream as kstream

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


def _stream(t, periodic, tasks):
    P = dram_params(t)
    bank_st, bg_last, chan = kd.new_state(P)
    work = np.zeros(kd.work_size(P), dtype=np.int64)
    out = [kd.burst(P, bank_st, bg_last, chan, slot, 0, ncols, span, mode, nrows, ready, periodic,
                    work) for slot, ncols, span, mode, nrows, ready in tasks]
    return out, bank_st, bg_last, chan


@settings(max_examples=25, deadline=None)
@given(name=st.sampled_from(sorted(TYPES)), seed=st.integers(0, 10**6),
       refi_scale=st.sampled_from([0.05, 0.2, 1.0]))
@example(name="aim-gddr6:gddr6", seed=1, refi_scale=0.2)   # the skip left the last read's time behind
def test_refresh_period_skip_equals_row_by_row_on_random_streams(name, seed, refi_scale):
    """Long streams with refreshes inside them (tREFI scaled down so a stream spans hundreds):
    the refresh-period skip gives the command loop's times, counts and final state exactly."""
    rng = np.random.default_rng(seed)
    t = TYPES[name]
    if t.trefi:
        t = dataclasses.replace(t, trefi=max(int(t.trefi * refi_scale), t.trfc + 50))
    nb = t.banks_per_channel
    cols = max(1, t.row_size_bytes // t.burst_bytes)
    tasks, ready = [], 0
    for _ in range(int(rng.integers(1, 4))):
        span = int(rng.choice([s for s in (1, 2, 4, 8, 16) if s <= nb and nb % s == 0]))
        mode = int(rng.choice([MODE_READ, MODE_WRITE, MODE_PIM_MAC]))
        ncols = int(rng.integers(1, 2 * cols + 1)) * (span if mode != MODE_PIM_MAC else 1)
        nrows = int(rng.integers(50, 4000))
        tasks.append((int(rng.integers(0, 64)) * nb, ncols, span, mode, nrows, ready))
        ready = int(rng.integers(0, 2)) * ready
    fast, slow = _stream(t, kd.ALWAYS, tasks), _stream(t, False, tasks)
    assert fast[0] == slow[0]
    for a, b in zip(fast[1:], slow[1:]):
        assert np.array_equal(a, b)


def test_refresh_period_skip_fires_on_a_long_stream(monkeypatch):
    """A read stream of 4 banks × 256 columns per row burst, whose cycle of banks outlasts tREFI:
    once the state relative to the refresh schedule repeats, whole periods are skipped, so the
    row bursts the kernel runs one by one do not grow with the stream's length (10x longer)."""
    P = dram_params(TYPES["gddr6"])
    calls = {"rows": 0}
    real = kstream.row_burst

    def counting(*args):
        calls["rows"] += 1
        return real(*args)
    monkeypatch.setattr(kstream, "row_burst", counting)
    ran, ends = [], []
    for nrows in (kd.REFRESH_SKIP_MIN_ROWS, 10 * kd.REFRESH_SKIP_MIN_ROWS):
        calls["rows"] = 0
        bank_st, bg_last, chan = kd.new_state(P)
        work = np.zeros(kd.work_size(P), dtype=np.int64)
        ends.append(kd.burst.py_func(P, bank_st, bg_last, chan, 0, 0, 256, 4, MODE_READ, nrows,
                                     0, True, work)[1])
        assert chan[kd.C_REFS] > nrows // 2
        ran.append(calls["rows"])
    assert ran[1] < 2 * ran[0] < 20_000, ran
    monkeypatch.setattr(kstream, "row_burst", real)
    bank_st, bg_last, chan = kd.new_state(P)
    work = np.zeros(kd.work_size(P), dtype=np.int64)
    long = 10 * kd.REFRESH_SKIP_MIN_ROWS
    assert kd.burst(P, bank_st, bg_last, chan, 0, 0, 256, 4, MODE_READ, long, 0, False,
                    work)[1] == ends[1]
