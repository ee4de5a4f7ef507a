"""At most 8 refreshes are ever owed (JEDEC DDR4 JESD79-4 §4.9; DDR5, LPDDR4/5, GDDR6 and HBM allow
the same 8 postponed REF commands). A PIM all-bank MAC row burst used to defer every refresh to the
next row burst: one burst of ~2 M columns on pim-gpt postponed ~1,000. Now the burst stops when the
8th owed refresh falls due (`kernels.dram.commands.postponed_limit`): its banks precharge, the 8
refreshes are issued back to back, the row reopens and the columns go on, in the Numba kernel and in
the SimPy reference alike."""
from __future__ import annotations

import dataclasses
import functools

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from archsim.engine.dram import PARAM_NAMES, dram_params
from archsim.engine.execute import run_numba
from archsim.engine.reference import run_simpy
from archsim.engine.trace import MODE_PIM_MAC, TraceBuilder
from archsim.kernels.dram.state import MAX_POSTPONED

from .dram_types import FACTS


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
