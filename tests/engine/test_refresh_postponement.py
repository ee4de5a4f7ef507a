"""At most 8 refreshes are ever owed (JEDEC DDR4 JESD79-4 §4.9; DDR5, LPDDR4/5, GDDR6 and HBM allow
the same 8 postponed REF commands). A PIM all-bank MAC row burst used to defer every refresh to the
next row burst: one burst of ~2 M columns on pim-gpt postponed ~1,000; so did a read/write stream
that only hits open rows (refresh was checked at its last ACT) and a PIM burst over fewer banks than
the channel has. Now every column command stops when the 8th owed refresh falls due
(`kernels.dram.commands.postponed_limit`): its banks precharge, the owed refreshes are issued, the
rows reopen and the columns go on, in the Numba kernel and in the SimPy reference alike."""
from __future__ import annotations

import dataclasses
import functools

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from archsim.engine.dram import PARAM_NAMES, dram_params
from archsim.engine.execute import run_numba
from archsim.engine.reference import run_simpy
from archsim.engine.trace import MODE_PIM_MAC, MODE_READ, MODE_WRITE, TraceBuilder
from archsim.kernels.dram.state import MAX_POSTPONED

from .dram_types import FACTS, all_dram_types


@functools.lru_cache(maxsize=None)
def _pim_gpt_timing():
    from archsim.hardware import load_hardware
    return load_hardware("pim-gpt").level("gddr6").dram


def _timing(name: str, all_bank: bool = True, per_bank: int = 0):
    t = _pim_gpt_timing() if name == "pim-gpt" else FACTS[name]
    t = dataclasses.replace(t, all_bank_activate=all_bank)
    if per_bank:
        t = dataclasses.replace(t, refresh_per_bank=True, trfc_pb=per_bank)
    return t


def _trace(t, ncols: int, nrows: int = 1):
    """One PIM MAC task over every bank of a fresh channel: `nrows` row bursts of `ncols` columns."""
    b = TraceBuilder()
    d = b.resource("dram", dram_params(t))
    b.task(d, 0, (), slot=0, row=0, ncols=ncols, span=t.banks_per_channel, mode=MODE_PIM_MAC,
           nrows=nrows)
    return b.build()


def _act_spread(p: dict) -> int:
    """From the first to the last ACT opening a row in every bank: 0 with one all-bank ACT, else
    one ACT per bank, slots alternating bank groups, tRRD_S apart (tRRD_L in one group), at most
    four per tFAW."""
    if p["act_ab"]:
        return 0
    acts = [0]
    for i in range(1, p["nbanks"]):
        same = i % p["n_bank_groups"] == (i - 1) % p["n_bank_groups"]
        a = acts[-1] + (p["trrd_l"] if same else p["trrd_s"])
        if len(acts) >= 4:
            a = max(a, acts[-4] + p["tfaw"])
        acts.append(a)
    return acts[-1]


def _closed_form(p: dict, ncols: int) -> tuple[int, int]:
    """(finish, refreshes) of one PIM row burst of `ncols` columns from a fresh channel (the row
    opened from time 0, `_act_spread` + tRCD to the first column, then one every tCCD_AB): the
    burst stops at the first column that would issue once the 8th owed refresh is due; the 8
    refreshes follow its last column's tRTP and the precharge's tRP back to back, and the row
    reopens after them. So the finish is the burst's own time + refreshes × tRFC + stops × (tRTP +
    tRP + ACT spread + tRCD − tCCD_AB)."""
    ccd, step = p["tccd_ab"], p["trefi"] * (p["nbanks"] if p["refpb"] else 1)
    opened = _act_spread(p) + p["trcd"]        # from the first ACT to the first column
    t, left, due, refs, stops = opened, ncols, p["trefi"], 0, 0
    while t + (left - 1) * ccd >= due + (MAX_POSTPONED - 1) * step:
        n = -(-(due + (MAX_POSTPONED - 1) * step - t) // ccd)      # columns before the stop
        left -= n
        refs += MAX_POSTPONED
        stops += 1
        due += MAX_POSTPONED * step
        t += (n - 1) * ccd + p["trtp"] + p["trp"] + MAX_POSTPONED * p["trfc"] + opened
    finish = opened + (ncols - 1) * ccd + p["burst_cycles"] + refs * p["trfc"] + \
        stops * (p["trtp"] + p["trp"] + opened - ccd)
    assert finish == t + (left - 1) * ccd + p["burst_cycles"]
    return finish, refs


def _owed(p: dict, counts: dict, at: int) -> int:
    """All-bank refreshes due by `at` (first at tREFI, then every tREFI) not yet issued."""
    step = p["trefi"] * (p["nbanks"] if p["refpb"] else 1)
    due = 0 if at < p["trefi"] else (at - p["trefi"]) // step + 1
    return due - counts["refs"]


@pytest.mark.parametrize("name", ["pim-gpt", "gddr6", "hbm2", "hbm3", "ddr4-3200", "lpddr5"])
@pytest.mark.parametrize("all_bank", [True, False])
def test_a_long_pim_burst_refreshes_as_the_closed_form_says(name, all_bank):
    """~2 M columns on pim-gpt (the burst the issue found): ~1,000 refreshes, not 0."""
    t = _timing(name, all_bank)
    p = dict(zip(PARAM_NAMES, (int(v) for v in dram_params(t))))
    ncols = 2_000_000
    run = run_numba(_trace(t, ncols))
    finish, refs = _closed_form(p, ncols)
    c = run.counts(0)
    assert c["refs"] == refs and refs >= ncols * p["tccd_ab"] // (p["trefi"] * MAX_POSTPONED) * 7
    assert int(run.finish[0]) == finish
    assert c["mac_cols"] == ncols
    assert c["ab_acts"] == (refs // MAX_POSTPONED + 1 if all_bank else 0)
    assert 0 <= _owed(p, c, finish) <= MAX_POSTPONED
    if name == "pim-gpt":        # 2 ms of MACs at tREFI 1.9 µs, plus the refreshes' own time
        assert 1050 <= refs <= 1200


@settings(max_examples=60, deadline=None)
@given(name=st.sampled_from(["pim-gpt", "gddr6", "hbm3", "lpddr5"]), ncols=st.integers(1, 40_000),
       per_bank=st.sampled_from([0, 60]))
def test_never_more_than_8_refreshes_owed(name, ncols, per_bank):
    """Every prefix of a long burst is a burst of its own (same start, same commands): at the end of
    each, at most MAX_POSTPONED refreshes are owed; so never more during the long one."""
    t = _timing(name, per_bank=per_bank)
    t = dataclasses.replace(t, trefi=400, trfc=30)     # short tREFI: many refreshes per burst
    p = dict(zip(PARAM_NAMES, (int(v) for v in dram_params(t))))
    run = run_numba(_trace(t, ncols))
    owed = _owed(p, run.counts(0), int(run.finish[0]))
    assert 0 <= owed <= MAX_POSTPONED
    if not per_bank:
        assert (int(run.finish[0]), run.counts(0)["refs"]) == _closed_form(p, ncols)


@settings(max_examples=25, deadline=None)
@given(name=st.sampled_from(["pim-gpt", "gddr6", "hbm3", "lpddr5", "ddr4-3200"]),
       ncols=st.integers(1, 6_000), nrows=st.integers(1, 3), all_bank=st.booleans(),
       per_bank=st.sampled_from([0, 40]))
def test_numba_and_simpy_stop_a_pim_burst_alike(name, ncols, nrows, all_bank, per_bank):
    t = _timing(name, all_bank, per_bank)
    t = dataclasses.replace(t, trefi=300, trfc=25)
    tr = _trace(t, ncols, nrows)
    a, b = run_numba(tr, periodic=False), run_simpy(tr)
    assert np.array_equal(a.start, b.start) and np.array_equal(a.finish, b.finish)
    assert np.array_equal(a.dram_counts, b.dram_counts)
    assert np.array_equal(run_numba(tr).finish, a.finish)       # the skips too


def test_a_short_pim_burst_is_unchanged():
    """A burst shorter than 7 tREFI never stops: its refreshes wait for the next row burst."""
    t = _timing("pim-gpt")
    p = dict(zip(PARAM_NAMES, (int(v) for v in dram_params(t))))
    ncols = 6 * p["trefi"] // p["tccd_ab"]
    run = run_numba(_trace(t, ncols))
    assert run.counts(0)["refs"] == 0
    assert int(run.finish[0]) == _act_spread(p) + p["trcd"] + (ncols - 1) * p["tccd_ab"] + p["burst_cycles"]


# ---------------------------------------------------------------- every command path, any span
def _hit_stream(t, ntasks: int, ncols: int, mode: int = MODE_READ):
    """`ntasks` read (write) tasks of `ncols` columns each, all on one row of one bank, all ready at
    0: after the first ACT every column hits; the old rule checked refresh only at that ACT."""
    b = TraceBuilder()
    d = b.resource("dram", dram_params(t))
    for _ in range(ntasks):
        b.task(d, 0, (), slot=0, row=0, ncols=ncols, span=1, mode=mode)
    return b.build()


def _hit_stream_closed_form(p: dict, total: int) -> tuple[int, int]:
    """(finish, refreshes) of `total` read columns in one open row of one bank from a fresh
    all-bank-refreshed channel: the ACT at 0, columns tRCD later and every tCCD_L (one bank group);
    the stream stops at its first column at or after the 8th owed refresh's due time: the bank
    precharges tRTP after the last column (tRP), the 8 owed refreshes run back to back (8 tRFC),
    the row reopens (ACT, tRCD) and the columns go on."""
    ccd, refi = p["tccd_l"], p["trefi"]
    t, left, due, refs, act = p["trcd"], total, refi, 0, 0
    while t + (left - 1) * ccd >= due + (MAX_POSTPONED - 1) * refi:
        n = -(-(due + (MAX_POSTPONED - 1) * refi - t) // ccd)
        last = t + (n - 1) * ccd
        end = max(act + p["tras"], last + p["trtp"]) + p["trp"] + MAX_POSTPONED * p["trfc"]
        assert end < due + MAX_POSTPONED * refi          # no 9th one falls due meanwhile
        left -= n
        refs += MAX_POSTPONED
        due += MAX_POSTPONED * refi
        act, t = end, end + p["trcd"]
    return t + (left - 1) * ccd + p["cl"] + p["burst_cycles"], refs


@pytest.mark.parametrize("name", sorted(FACTS))
def test_a_long_row_hit_stream_refreshes_as_the_closed_form_says(name):
    """Reads that only hit an open row: before, 0 refreshes over 20 tREFI; now 8 every 8 tREFI."""
    t = FACTS[name]
    p = dict(zip(PARAM_NAMES, (int(v) for v in dram_params(t))))
    per_task = max(1, t.row_size_bytes // t.burst_bytes)
    ntasks = 20 * p["trefi"] // (p["tccd_l"] * per_task)
    run = run_numba(_hit_stream(t, ntasks, per_task))
    finish, refs = _hit_stream_closed_form(p, ntasks * per_task)
    c = run.counts(0)
    assert refs == 2 * MAX_POSTPONED
    assert (int(run.finish.max()), c["refs"], c["rd_cols"]) == (finish, refs, ntasks * per_task)
    assert c["acts"] == 1 + refs // MAX_POSTPONED          # the row reopens after each stop
    assert 0 <= _owed(p, c, finish) <= MAX_POSTPONED


def test_the_row_hit_closed_form_agrees_with_simpy():
    t = dataclasses.replace(FACTS["hbm2"], trefi=300, trfc=20)
    p = dict(zip(PARAM_NAMES, (int(v) for v in dram_params(t))))
    tr = _hit_stream(t, 60, 32)
    a, b = run_numba(tr), run_simpy(tr)
    assert np.array_equal(a.finish, b.finish) and np.array_equal(a.dram_counts, b.dram_counts)
    assert (int(b.finish.max()), b.counts(0)["refs"]) == _hit_stream_closed_form(p, 60 * 32)


def _owed_any(p: dict, c: dict, at: int) -> int:
    """Refreshes owed at `at`, in per-bank units on a per-bank-refreshed channel (an all-bank one,
    issued during PIM MACs at the round's first due, counts the round: up to banks − 1 pulled in,
    so down to −banks), else all-bank ones."""
    if p["refpb"]:
        due = 0 if at < p["trefi"] else (at - p["trefi"]) // p["trefi"] + 1
        return due - c["pb_refs"] - c["refs"] * p["nbanks"]
    return _owed(p, c, at)


_TYPES = all_dram_types()


def _stream(t, ops):
    """A random stream of read/write/PIM tasks on one channel, all ready at 0 (hits, misses and
    long PIM bursts over 1, a bank group's worth or all the banks)."""
    b = TraceBuilder()
    d = b.resource("dram", dram_params(t))
    nb, nbg = t.banks_per_channel, t.ranks * t.bank_groups
    per_row = max(1, t.row_size_bytes // t.burst_bytes)
    for kind, slot, row, cols, span_pick, nrows in ops:
        if kind == 2:
            span = (nb, max(1, nb // nbg), 1)[span_pick % 3]
            b.task(d, 0, (), slot=slot * span, row=row, ncols=cols, span=span, mode=MODE_PIM_MAC,
                   nrows=nrows)
        else:
            span = min(nbg, 4, 1 << (span_pick % 3))
            b.task(d, 0, (), slot=slot, row=row, ncols=1 + cols % (per_row * span), span=span,
                   mode=MODE_WRITE if kind else MODE_READ, nrows=nrows)
    return b.build()


_OPS = st.lists(st.tuples(st.integers(0, 2), st.integers(0, 3), st.integers(0, 2),
                          st.integers(1, 3000), st.integers(0, 2), st.integers(1, 2)),
                min_size=1, max_size=40)


def _short_refresh(t, per_bank: bool):
    t = dataclasses.replace(t, trefi=max(t.trefi // 8, 60 * t.banks_per_channel if per_bank else 60),
                            trfc=min(t.trfc, 30))
    if per_bank:
        t = dataclasses.replace(t, refresh_per_bank=True, trfc_pb=min(t.trfc_pb or 20, 20))
    return t


@settings(max_examples=80, deadline=None)
@given(name=st.sampled_from(sorted(_TYPES)), ops=_OPS, per_bank=st.booleans())
def test_never_more_than_8_owed_on_any_stream(name, ops, per_bank):
    """Every prefix of a stream is a stream of its own (the same commands, in order): at the end of
    each, at most MAX_POSTPONED refreshes are owed (MAX_POSTPONED rounds of per-bank ones)."""
    t = _short_refresh(_TYPES[name], per_bank)
    p = dict(zip(PARAM_NAMES, (int(v) for v in dram_params(t))))
    bound = MAX_POSTPONED * (p["nbanks"] if p["refpb"] else 1)
    for m in range(1, len(ops) + 1):
        run = run_numba(_stream(t, ops[:m]))
        assert -p["nbanks"] * p["refpb"] <= _owed_any(p, run.counts(0), int(run.finish.max())) <= bound


@settings(max_examples=40, deadline=None)
@given(name=st.sampled_from(sorted(FACTS) + ["hbm3-pim-bg:hbm3", "pim-gpt:gddr6"]), ops=_OPS,
       per_bank=st.booleans(), all_bank=st.booleans())
def test_numba_and_simpy_agree_on_any_stream(name, ops, per_bank, all_bank):
    t = _TYPES.get(name) or FACTS[name]
    t = _short_refresh(dataclasses.replace(t, all_bank_activate=all_bank), per_bank)
    tr = _stream(t, ops)
    a, b = run_numba(tr, periodic=False), run_simpy(tr)
    assert np.array_equal(a.start, b.start) and np.array_equal(a.finish, b.finish)
    assert np.array_equal(a.dram_counts, b.dram_counts)
    assert np.array_equal(run_numba(tr).finish, a.finish)       # the skips too


def test_a_bank_group_pim_burst_stops_too():
    """A PIM burst over a bank group's banks (hbm3-pim-bg) of ~20 tREFI: refreshed, not deferred."""
    t = dataclasses.replace(FACTS["hbm3"], all_bank_activate=True)
    p = dict(zip(PARAM_NAMES, (int(v) for v in dram_params(t))))
    span = t.banks_per_group
    ncols = 20 * p["trefi"] // p["tccd_ab"]
    b = TraceBuilder()
    d = b.resource("dram", dram_params(t))
    b.task(d, 0, (), slot=0, row=0, ncols=ncols, span=span, mode=MODE_PIM_MAC)
    tr = b.build()
    run = run_numba(tr)
    c = run.counts(0)
    assert c["refs"] == 2 * MAX_POSTPONED and c["mac_cols"] == ncols
    assert 0 <= _owed(p, c, int(run.finish[0])) <= MAX_POSTPONED
    assert np.array_equal(run_simpy(tr).finish, run.finish)




@pytest.mark.parametrize("name", ["pim-gpt", "hbm3"])
def test_numba_and_simpy_agree_when_a_row_opens_just_before_the_stop(name):
    """A PIM task's second row opens a cycle or two before the 8th owed refresh falls due: the
    column that still issues before it counts (the count is rounded up), the new row's tRAS then
    times the precharge, and the refreshes follow. Both engines place every column alike, for
    every first-row length around that point."""
    t = dataclasses.replace(_timing(name), trefi=100, trfc=20)
    for ncols in range(330, 400):
        tr = _trace(t, ncols, nrows=2)
        a, s = run_numba(tr, periodic=False), run_simpy(tr)
        assert np.array_equal(a.finish, s.finish), ncols
        assert np.array_equal(a.dram_counts, s.dram_counts), ncols

@pytest.mark.parametrize("name", ["hbm3", "lpddr5"])
def test_a_per_bank_refreshed_row_hit_stream_stops_at_the_8th_round(name):
    """Per-bank refresh outside PIM: a row-hit read stream stops when 8 rounds of per-bank refreshes
    are owed (the 8·banks-th falls due), in the Numba kernel and its SimPy twin alike, and never
    owes more than 8 rounds."""
    t = dataclasses.replace(FACTS[name], refresh_per_bank=True, trfc_pb=12, trefi=40 * FACTS[name].banks_per_channel)
    p = dict(zip(PARAM_NAMES, (int(v) for v in dram_params(t))))
    per_task = max(1, t.row_size_bytes // t.burst_bytes)
    ntasks = 20 * p["trefi"] * p["nbanks"] // (p["tccd_l"] * per_task)
    tr = _hit_stream(t, ntasks, per_task)
    a, b = run_numba(tr), run_simpy(tr)
    assert np.array_equal(a.finish, b.finish) and np.array_equal(a.dram_counts, b.dram_counts)
    c = a.counts(0)
    assert c["pb_refs"] > 0
    assert 0 <= _owed_any(p, c, int(a.finish.max())) <= MAX_POSTPONED * p["nbanks"]
