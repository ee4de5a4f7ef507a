"""All-bank activate for PIM MAC row bursts (`DramTiming.all_bank_activate`; GDDR6-AiM ACT4/ACT16,
AttAcc ACTAB, Samsung HBM-PIM HAB mode): one ACT per row burst, equal to its closed form on every
DRAM type; Numba == SimPy (and the kernel == its uncompiled source) on random PIM traces with it
on; ordinary ACTs keep tRRD/tFAW and are untouched by the flag."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from archsim.engine.dram import PARAM_NAMES, dram_params, faw_act_rate_per_s
from archsim.engine.execute import run_numba
from archsim.engine.reference import run_simpy
from archsim.engine.trace import MODE_PIM_MAC, MODE_READ, TraceBuilder
from archsim.kernels import dram as kd

from .dram_types import all_dram_types
from .traces import random_trace, trace_args

TYPES = all_dram_types()


def _pim_run(t, nrows, ncols, span, periodic=True, slot=0):
    b = TraceBuilder()
    r = b.resource("dram", dram_params(t))
    b.task(r, 0, (), slot=slot, ncols=ncols, span=span, mode=MODE_PIM_MAC, nrows=nrows)
    tr = b.build()
    return tr, run_numba(tr, periodic=periodic)


@pytest.mark.parametrize("name", sorted(TYPES))
def test_all_bank_row_bursts_equal_closed_form(name):
    """Row r: one ACT16 at a_r, MACs from a_r + tRCD every tCCD_AB; the next ACT16 waits for every
    bank's PRE: a_{r+1} = a_r + max(tRAS, tRCD + (ncols−1)·tCCD_AB + tRTP) + tRP (no tRRD chain,
    no tFAW). Makespan = (nrows−1)·period + tRCD + (ncols−1)·tCCD_AB + burst."""
    t = dataclasses.replace(TYPES[name], trefi=0, all_bank_activate=True)
    p = dict(zip(PARAM_NAMES, dram_params(t)))
    nb = t.banks_per_channel
    for ncols in (1, 7, 64):
        nrows = 40
        period = max(p["tras"], p["trcd"] + (ncols - 1) * p["tccd_ab"] + p["trtp"], p["trrd_l"]) + p["trp"]
        closed = (nrows - 1) * period + p["trcd"] + (ncols - 1) * p["tccd_ab"] + p["burst_cycles"]
        for periodic in (True, False):
            tr, run = _pim_run(t, nrows, ncols, nb, periodic)
            c = run.counts(0)
            assert run.makespan == closed, (ncols, periodic, run.makespan, closed)
            assert c["ab_acts"] == nrows and c["acts"] == nrows * nb
            assert c["pres"] == (nrows - 1) * nb and c["mac_cols"] == nrows * ncols


@pytest.mark.parametrize("name", sorted(TYPES))
def test_all_bank_acts_are_outside_the_tfaw_window(name):
    """ACT4-style bursts over quarters of the banks: a huge tFAW changes nothing with the all-bank
    ACT (as in aim_simulator, where the window rule is commented out), but throttles per-bank ACTs."""
    t = dataclasses.replace(TYPES[name], trefi=0)
    nb = t.banks_per_channel
    span = max(2, nb // 4)
    times = {}
    for flag in (True, False):
        for faw in (t.tfaw, 10_000):
            tt = dataclasses.replace(t, tfaw=faw, all_bank_activate=flag)
            times[flag, faw] = _pim_run(tt, 64, 3, span)[1].makespan
    assert times[True, t.tfaw] == times[True, 10_000]
    assert times[False, 10_000] > 10 * times[True, 10_000]


def test_all_bank_is_faster_than_per_bank_acts_on_pim_gpt():
    from archsim.hardware import load_hardware
    t = load_hardware("pim-gpt").levels[0].dram
    assert t.all_bank_activate
    on = _pim_run(dataclasses.replace(t, trefi=0), 64, 64, 16)[1]
    off = _pim_run(dataclasses.replace(t, trefi=0, all_bank_activate=False), 64, 64, 16)[1]
    assert on.makespan < off.makespan
    assert on.counts(0)["acts"] == off.counts(0)["acts"]          # same banks opened (energy)
    assert on.counts(0)["ab_acts"] == 64 and off.counts(0)["ab_acts"] == 0


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(args=trace_args, share=st.sampled_from([0.5, 0.9]))
def test_random_pim_traces_identical_with_all_bank(args, share):
    seed, n, dram, trefi = args
    tr = random_trace(seed, n, dram, trefi, all_bank=True, pim_share=share)
    a, b = run_numba(tr), run_simpy(tr)
    assert np.array_equal(a.start, b.start) and np.array_equal(a.finish, b.finish)
    assert np.array_equal(a.dram_counts, b.dram_counts) and a.makespan == b.makespan
    assert np.array_equal(run_numba(tr, periodic=False).finish, a.finish)


def test_all_bank_kernel_equals_its_python_source():
    tr = random_trace(11, 120, "hbm2", 400, all_bank=True, pim_share=0.6)
    P = tr.dram_params[0]
    outs = []
    for fn in (kd.burst, getattr(kd.burst, "py_func", kd.burst)):
        bank_st, bg_last, chan = kd.new_state(P)
        work = np.zeros(kd.work_size(P), dtype=np.int64)
        res = [fn(P, bank_st, bg_last, chan, int(tr.slot[i]), int(tr.row[i]), int(tr.ncols[i]),
                  int(tr.span[i]), int(tr.mode[i]), int(tr.nrows[i]), 0, True, work)
               for i in np.nonzero(tr.res_dram[tr.res] >= 0)[0]]
        outs.append((res, chan.copy(), bank_st.copy()))
    assert outs[0][0] == outs[1][0]
    assert np.array_equal(outs[0][1], outs[1][1]) and np.array_equal(outs[0][2], outs[1][2])
    assert outs[0][1][kd.C_ABACTS] > 0


@pytest.mark.parametrize("name", sorted(TYPES))
def test_ordinary_acts_keep_tfaw_and_ignore_the_flag(name):
    t = dataclasses.replace(TYPES[name], trefi=0, all_bank_activate=True)
    p = dict(zip(PARAM_NAMES, dram_params(t)))
    if p["tfaw"] <= 4 * p["trrd_s"]:
        t = dataclasses.replace(t, tfaw=8 * p["trrd_s"])
    n = 400
    runs = []
    for flag in (True, False):
        b = TraceBuilder()
        r = b.resource("dram", dram_params(dataclasses.replace(t, all_bank_activate=flag)))
        for i in range(n):
            b.task(r, 0, (), slot=i, ncols=1, span=1, mode=MODE_READ)
        runs.append(run_numba(b.build()))
    on, off = runs
    assert np.array_equal(on.finish, off.finish) and np.array_equal(on.dram_counts, off.dram_counts)
    rate = (n - 1) / ((on.start[-1] - on.start[0]) * t.tck_s)
    assert rate == pytest.approx(faw_act_rate_per_s(t), rel=0.02)
    assert on.counts(0)["ab_acts"] == 0


def test_ordinary_act_after_all_bank_act_waits_trrd_l():
    t = dataclasses.replace(TYPES["ddr4-3200"], trefi=0, all_bank_activate=True, trrd_l=30)
    p = dict(zip(PARAM_NAMES, dram_params(t)))
    nb = t.banks_per_channel
    b = TraceBuilder()
    r = b.resource("dram", dram_params(t))
    b.task(r, 0, (), slot=0, ncols=1, span=nb // 2, mode=MODE_PIM_MAC)    # one all-bank ACT at 0
    b.task(r, 0, (), slot=nb // 2, ncols=1, span=1, mode=MODE_READ)       # a bank it left closed
    tr = b.build()
    a, s = run_numba(tr), run_simpy(tr)
    assert np.array_equal(a.finish, s.finish) and np.array_equal(a.dram_counts, s.dram_counts)
    assert a.counts(0)["ab_acts"] == 1 and a.counts(0)["acts"] == nb // 2 + 1
    assert a.start[1] == p["trrd_l"] + p["trcd"]
