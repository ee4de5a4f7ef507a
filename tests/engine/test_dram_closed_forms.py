"""The DRAM model against closed forms, on every DRAM type (hardware-facts §5.3 and hwconfigs/):
streaming reads reach the timing-limited bandwidth; same-bank random rows run at the tRC-limited
rate; refresh costs tRFC/tREFI of the time; tFAW limits activations."""
from __future__ import annotations

import dataclasses

import pytest

from archsim.engine.dram import (PARAM_NAMES, dram_params, faw_act_rate_per_s, random_row_rate_per_s,
                                 refresh_fraction, streaming_bandwidth_bytes_per_s)
from archsim.engine.execute import run_numba
from archsim.engine.trace import MODE_READ, TraceBuilder

from .dram_types import all_dram_types

TYPES = all_dram_types()


def _run(t, tasks):
    b = TraceBuilder()
    r = b.resource("dram", dram_params(t))
    for kw in tasks:
        b.task(r, 0, (), **kw)
    tr = b.build()
    return tr, run_numba(tr)


def _stream(t, span, nrows):
    cols_per_bank = max(1, t.row_size_bytes // t.burst_bytes)
    tr, run = _run(t, [dict(slot=0, ncols=span * cols_per_bank, span=span, nrows=nrows, mode=MODE_READ)])
    nbytes = nrows * span * cols_per_bank * t.burst_bytes
    return nbytes, run


@pytest.mark.parametrize("name", sorted(TYPES))
def test_streaming_reaches_timing_limited_bandwidth(name):
    t = dataclasses.replace(TYPES[name], trefi=0)
    nbg = t.ranks * t.bank_groups
    for span in sorted({1, min(4, nbg), nbg if nbg <= 4 else 4}):
        nrows = 400 // span
        nbytes, run = _stream(t, span, nrows)
        measured = nbytes / (run.makespan * t.tck_s)
        closed = streaming_bandwidth_bytes_per_s(t, span)
        assert closed <= t.peak_bandwidth_bytes_per_s / t.channels * (1 + 1e-9)
        assert measured == pytest.approx(closed, rel=0.03), (span, measured, closed)


@pytest.mark.parametrize("name", sorted(TYPES))
def test_random_rows_in_one_bank_run_at_trc(name):
    t = dataclasses.replace(TYPES[name], trefi=0)
    n = 300
    tr, run = _run(t, [dict(slot=0, row=i, ncols=1, span=1) for i in range(n)])
    c = run.counts(0)
    assert c["acts"] == n and c["hits"] == 0
    acts_per_s = (n - 1) / ((run.start[-1] - run.start[0]) * t.tck_s)
    assert acts_per_s == pytest.approx(random_row_rate_per_s(t), rel=1e-6)


@pytest.mark.parametrize("name", sorted(TYPES))
def test_refresh_costs_trfc_over_trefi(name):
    t = TYPES[name]
    if not t.trefi:
        pytest.skip("no refresh")
    span = min(4, t.ranks * t.bank_groups)
    cols_per_bank = max(1, t.row_size_bytes // t.burst_bytes)
    nrows = max(200, int(30 * t.trefi / (cols_per_bank * 2)))
    _, on = _stream(t, span, nrows)
    _, off = _stream(dataclasses.replace(t, trefi=0), span, nrows)
    overhead = 1 - off.makespan / on.makespan
    f = refresh_fraction(t)
    p = dict(zip(PARAM_NAMES, dram_params(t)))
    # each refresh also drains and reopens rows: at most tRAS + tRP + tRCD + CL + one row burst
    reopen = p["tras"] + p["trp"] + p["trcd"] + p["cl"] + cols_per_bank * max(p["tccd_l"], span * p["tccd_s"])
    assert on.counts(0)["refs"] == pytest.approx(on.makespan / t.trefi, rel=0.02)
    assert f * 0.97 <= overhead <= (p["trfc"] + reopen) / p["trefi"] + 0.01, (overhead, f)


@pytest.mark.parametrize("name", sorted(TYPES))
def test_tfaw_limits_activations(name):
    t = dataclasses.replace(TYPES[name], trefi=0)
    p = dict(zip(PARAM_NAMES, dram_params(t)))
    if p["tfaw"] <= 4 * p["trrd_s"]:          # make tFAW the binding limit on this type
        t = dataclasses.replace(t, tfaw=8 * p["trrd_s"])
        p = dict(zip(PARAM_NAMES, dram_params(t)))
    n = 400
    tr, run = _run(t, [dict(slot=i, ncols=1, span=1) for i in range(n)])
    assert run.counts(0)["acts"] == n
    rate = (n - 1) / ((run.start[-1] - run.start[0]) * t.tck_s)
    assert rate == pytest.approx(faw_act_rate_per_s(t), rel=0.02)
    assert rate < 1.0 / (p["trrd_s"] * t.tck_s)       # slower than tRRD alone allows
