"""Long DRAM streams cost the number of distinct streams, not their length (issue #20), exactly:

- refreshes caught up over an idle gap or a backlog are issued in closed form
  (`commands.refresh_if_due`); a plain-Python twin issuing them one by one gives the same state;
- the exact skips (`skips.py`) equal the row-by-row command loop on random sequences of streams on
  one channel: every DRAM type of dram_types.py, refresh off / all-bank / per-bank, reads, writes
  and PIM MAC rows, streams that follow streams of the other mode (whose stale read/write times
  once kept every state from repeating), overlapping rows (hits), idle gaps;
- the Numba engine with both equals the SimPy engine, which refreshes one at a time;
- the skips fire: the row bursts run one by one do not grow with a stream's length after a stream
  of the other mode (the pim-gpt long-prompt case), with all-bank or per-bank refresh.
"""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from archsim.engine.dram import dram_params
from archsim.engine.execute import run_numba
from archsim.engine.reference import run_simpy
from archsim.engine.trace import MODE_PIM_MAC, MODE_READ, MODE_WRITE, TraceBuilder
from archsim.kernels import dram as kd
from archsim.kernels.dram import commands as kcommands
from archsim.kernels.dram import stream as kstream

from .dram_types import all_dram_types

TYPES = all_dram_types()
REFRESH = ("off", "all-bank", "per-bank")


def _variant(t, refresh: str, refi_scale: float = 1.0):
    """`t` with refresh off, all-bank or per-bank (tRFCpb = tRFC/2 where the type has none: a test
    value), tREFI scaled so short streams span many refreshes."""
    if refresh == "off" or not t.trefi:
        return dataclasses.replace(t, trefi=0, refresh_per_bank=False)
    trefi = max(int(t.trefi * refi_scale), t.trfc + 50)
    if refresh == "all-bank":
        return dataclasses.replace(t, trefi=trefi, refresh_per_bank=False)
    trefi = max(trefi, 2 * t.banks_per_channel)
    return dataclasses.replace(t, trefi=trefi, refresh_per_bank=True,
                               trfc_pb=t.trfc_pb or max(1, t.trfc // 2))


# ------------------------------------------------------------------ refreshes, one by one
def _precharge_time(P, bank_st, b, floor):
    return max(floor, bank_st[b, kd.B_ACT] + P[kd.P_RAS], bank_st[b, kd.B_RD] + P[kd.P_RTP],
               bank_st[b, kd.B_WR] + P[kd.P_CWL] + P[kd.P_BL] + P[kd.P_WR])


def refresh_one_by_one(P, bank_st, chan, t, pim):
    """Plain-Python twin of `refresh_if_due`: every refresh due by t, one per iteration."""
    nb = int(P[kd.P_NBANKS])
    while t >= chan[kd.C_NEXTREF]:
        due = int(chan[kd.C_NEXTREF])
        if P[kd.P_REFPB] and not pim:
            if chan[kd.C_REFMASK] == (1 << nb) - 1:
                chan[kd.C_REFMASK] = 0
            free = [b for b in range(nb) if not (int(chan[kd.C_REFMASK]) >> b) & 1]
            b = max(free, key=lambda b: (bank_st[b, kd.B_ACT], -b))
            chan[kd.C_REFMASK] |= 1 << b
            ref_t = max(due, bank_st[b, kd.B_RDY])
            if bank_st[b, kd.B_ROW] >= 0:
                ref_t = max(ref_t, _precharge_time(P, bank_st, b, due) + P[kd.P_RP])
                chan[kd.C_PRES] += 1
            bank_st[b, kd.B_ROW] = -1
            bank_st[b, kd.B_RDY] = ref_t + P[kd.P_RFCPB]
            chan[kd.C_PBREFS] += 1
            chan[kd.C_NEXTREF] += P[kd.P_REFI]
            continue
        ref_t = due
        for b in range(nb):
            if bank_st[b, kd.B_ROW] >= 0:
                ref_t = max(ref_t, _precharge_time(P, bank_st, b, due) + P[kd.P_RP])
                chan[kd.C_PRES] += 1
            ref_t = max(ref_t, bank_st[b, kd.B_RDY])
        end = ref_t + P[kd.P_RFC]
        bank_st[:, kd.B_ROW] = -1
        bank_st[:, kd.B_RDY] = end
        chan[kd.C_REFS] += 1
        if P[kd.P_REFPB]:
            chan[kd.C_NEXTREF] += P[kd.P_REFI] * nb
            chan[kd.C_REFMASK] = 0
        else:
            chan[kd.C_NEXTREF] += P[kd.P_REFI]
        t = max(t, end)


@settings(max_examples=60, deadline=None)
@given(name=st.sampled_from(sorted(n for n, t in TYPES.items() if t.trefi)),
       refresh=st.sampled_from(REFRESH[1:]), pim=st.booleans(), seed=st.integers(0, 10**6),
       refi_scale=st.sampled_from([0.1, 1.0]),
       gaps=st.lists(st.floats(0, 300), min_size=1, max_size=3))
def test_refreshes_in_closed_form_equal_one_by_one(name, refresh, pim, seed, refi_scale, gaps):
    """Random bank states (open or closed rows, ready times before or after the dues, a backlog
    of dues in the past or none, a round half done), then refreshes due by later and later times:
    the kernel's state equals the one-by-one twin's after each."""
    P = dram_params(_variant(TYPES[name], refresh, refi_scale))
    rng = np.random.default_rng(seed)
    nb, refi = int(P[kd.P_NBANKS]), int(P[kd.P_REFI])
    bank_st, bg_last, chan = kd.new_state(P)
    now = int(rng.integers(0, 50 * refi))
    span = 4 * refi * (nb if P[kd.P_REFPB] else 1)
    bank_st[:, kd.B_ROW] = np.where(rng.random(nb) < 0.5, rng.integers(0, 8, nb), -1)
    bank_st[:, kd.B_ACT] = now - rng.integers(0, span, nb)
    bank_st[:, kd.B_RD] = now - rng.integers(-span // 4, span, nb)
    bank_st[:, kd.B_WR] = np.where(rng.random(nb) < 0.5, kd.NEG, now - rng.integers(0, span, nb))
    bank_st[:, kd.B_RDY] = now - rng.integers(-span // 4, span, nb)
    chan[kd.C_NEXTREF] = now - int(rng.integers(-refi, 60 * refi))     # up to 60 dues behind
    chan[kd.C_REFMASK] = int(rng.integers(0, 1 << nb))
    twin_b, twin_c = bank_st.copy(), chan.copy()
    for g in gaps:
        now += int(g * refi * (nb if P[kd.P_REFPB] and not pim else 1))
        kd.refresh_if_due(P, bank_st, chan, now, pim)
        refresh_one_by_one(P, twin_b, twin_c, now, pim)
        assert np.array_equal(bank_st, twin_b) and np.array_equal(chan, twin_c), (now, chan, twin_c)


def test_an_idle_gap_is_caught_up_in_a_few_steps(monkeypatch):
    """However long the gap, the kernel issues a few refreshes one by one (all-bank: one, then a
    backlog and the on-time ones in closed form; per-bank: until a whole round is regular)."""
    for refresh in ("all-bank", "per-bank"):
        P = dram_params(_variant(TYPES["hbm2"], refresh))
        calls = {"n": 0}
        for fn in ("_refresh_bank", "_refreshes_in_closed_form"):
            real = getattr(kcommands, fn)

            def counting(*args, _real=real):
                calls["n"] += 1
                return _real(*args)
            monkeypatch.setattr(kcommands, fn, counting)
        steps = []
        for gap in (1000, 100_000):
            bank_st, _, chan = kd.new_state(P)
            bank_st[:, kd.B_ROW] = 3                       # every bank open: the first refreshes
            calls["n"] = 0                                 # precharge, later ones are regular
            kcommands.refresh_if_due.py_func(P, bank_st, chan, gap * int(P[kd.P_REFI]), False)
            steps.append(calls["n"])
            assert chan[kd.C_REFS] + chan[kd.C_PBREFS] >= gap
        monkeypatch.undo()
        bound = 1 if refresh == "all-bank" else 3 * int(P[kd.P_NBANKS])
        assert max(steps) <= bound, (refresh, steps)


# ------------------------------------------------------------------ streams: skips vs row by row
def _streams(t, rng):
    """1-5 random burst tasks on one channel: (slot, row, ncols, span, mode, nrows, ready rule)."""
    nb, nbg = t.banks_per_channel, t.ranks * t.bank_groups
    cols = max(1, t.row_size_bytes // t.burst_bytes)
    tasks = []
    for _ in range(int(rng.integers(1, 6))):
        mode = int(rng.choice([MODE_READ, MODE_WRITE, MODE_PIM_MAC]))
        most = nb if mode == MODE_PIM_MAC else nbg        # a row burst's banks: distinct groups
        span = int(rng.choice([s for s in (1, 2, 4, 8, 16) if s <= most and nb % s == 0]))
        ncols = int(rng.integers(1, 2 * cols + 1)) * (span if mode != MODE_PIM_MAC else 1)
        nrows = int(rng.choice([rng.integers(1, 40), rng.integers(40, 3000)]))
        if tasks and rng.random() < 0.3:                  # the rows of an earlier task: hits
            slot, row = tasks[-1][0], tasks[-1][1]
        else:
            slot, row = int(rng.integers(0, 64 * nb)), int(rng.integers(0, 4))
        ready = str(rng.choice(["zero", "after", "idle"]))
        tasks.append((slot, row, ncols, span, mode, nrows, ready))
    return tasks


def _run_streams(t, tasks, periodic, idle):
    P = dram_params(t)
    bank_st, bg_last, chan = kd.new_state(P)
    work = np.zeros(kd.work_size(P), dtype=np.int64)
    out, end = [], 0
    for slot, row, ncols, span, mode, nrows, rule in tasks:
        ready = {"zero": 0, "after": end, "idle": end + idle}[rule]
        s, end = kd.burst(P, bank_st, bg_last, chan, slot, row, ncols, span, mode, nrows, ready,
                          periodic, work)
        out.append((s, end))
    return out, bank_st, bg_last, chan


@settings(max_examples=40, deadline=None)
@given(name=st.sampled_from(sorted(TYPES)), refresh=st.sampled_from(REFRESH),
       refi_scale=st.sampled_from([0.05, 0.2, 1.0]), seed=st.integers(0, 10**6),
       idle_refis=st.sampled_from([0, 3, 2000]))
def test_skips_equal_row_by_row_on_random_stream_sequences(name, refresh, refi_scale, seed,
                                                          idle_refis):
    """The exact skips (both, on any stream length) give the command loop's times, counts and
    final channel state, stale fields and all."""
    t = _variant(TYPES[name], refresh, refi_scale)
    tasks = _streams(t, np.random.default_rng(seed))
    idle = idle_refis * max(t.trefi, 1000)
    fast, slow = _run_streams(t, tasks, kd.ALWAYS, idle), _run_streams(t, tasks, False, idle)
    assert fast[0] == slow[0]
    for a, b in zip(fast[1:], slow[1:]):
        assert np.array_equal(a, b)


@settings(max_examples=6, deadline=None)
@given(name=st.sampled_from(sorted(TYPES)), refresh=st.sampled_from(REFRESH[1:]),
       seed=st.integers(0, 10**6))
def test_engine_equals_simpy_on_streams_with_idle_gaps(name, refresh, seed):
    """Streams (reads, writes, PIM MACs, some on rows an earlier one left open) separated by
    compute up to 100 tREFI long: the Numba engine catches refreshes up in closed form (and runs
    the steady-state skip); SimPy issues every refresh and row burst one at a time."""
    t = _variant(TYPES[name], refresh, 0.2)
    rng = np.random.default_rng(seed)
    b = TraceBuilder()
    dram = b.resource("dram", dram_params(t))
    core = b.resource("core")
    prev = ()
    for slot, row, ncols, span, mode, nrows, _ in _streams(t, rng):
        task = b.task(dram, 0, prev, slot=slot, row=row, ncols=ncols, span=span, mode=mode,
                      nrows=min(nrows, 200))
        prev = (b.task(core, int(rng.integers(0, 100)) * t.trefi, (task,)),)
    tr = b.build()
    a, s = run_numba(tr), run_simpy(tr)
    assert np.array_equal(a.start, s.start) and np.array_equal(a.finish, s.finish)
    assert np.array_equal(a.dram_counts, s.dram_counts)


# ------------------------------------------------------------------ the skips fire
@pytest.mark.parametrize("refresh", ["all-bank", "per-bank"])
def test_a_stream_after_one_of_the_other_mode_runs_a_bounded_number_of_row_bursts(monkeypatch,
                                                                                  refresh):
    """pim-gpt's long-prompt case: attention scores written, then read back after compute. The
    read stream finds every bank's write time of the write stream behind it; still, the row
    bursts run one by one stay the same for a stream 8x longer (and the result is the loop's)."""
    t = _variant(TYPES["gddr6"], refresh)
    P = dram_params(t)
    calls = {"rows": 0}
    real = kstream.row_burst

    def counting(*args):
        calls["rows"] += 1
        return real(*args)
    ran, ends = [], []
    for nrows in (kd.REFRESH_SKIP_MIN_ROWS, 8 * kd.REFRESH_SKIP_MIN_ROWS):
        bank_st, bg_last, chan = kd.new_state(P)
        work = np.zeros(kd.work_size(P), dtype=np.int64)
        _, end = kd.burst(P, bank_st, bg_last, chan, 0, 0, 256, 4, MODE_WRITE, 3000, 0, True, work)
        monkeypatch.setattr(kstream, "row_burst", counting)
        calls["rows"] = 0
        ends.append(kd.burst.py_func(P, bank_st, bg_last, chan, 17, 0, 256, 4, MODE_READ, nrows,
                                     end + 500 * t.trefi, True, work)[1])
        monkeypatch.setattr(kstream, "row_burst", real)
        ran.append(calls["rows"])
        assert chan[kd.C_REFS] + chan[kd.C_PBREFS] > nrows // 10
    assert ran[1] < 2 * ran[0] < 20_000, ran
    bank_st, bg_last, chan = kd.new_state(P)
    work = np.zeros(kd.work_size(P), dtype=np.int64)
    _, end = kd.burst(P, bank_st, bg_last, chan, 0, 0, 256, 4, MODE_WRITE, 3000, 0, False, work)
    long = 8 * kd.REFRESH_SKIP_MIN_ROWS
    assert kd.burst(P, bank_st, bg_last, chan, 17, 0, 256, 4, MODE_READ, long, end + 500 * t.trefi,
                    False, work)[1] == ends[1]
