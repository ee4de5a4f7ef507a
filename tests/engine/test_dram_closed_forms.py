"""The DRAM model against closed forms, on every DRAM type (hardware-facts §5.3 and hwconfigs/):
streaming reads reach the timing-limited bandwidth; same-bank random rows run at the tRC-limited
rate; refresh costs tRFC/tREFI of the time; tFAW limits activations."""
from __future__ import annotations

import dataclasses

import pytest

from archsim.engine.dram import (PARAM_NAMES, dram_params, faw_act_rate_per_s, random_row_rate_per_s,
                                 refresh_fraction, stream_refresh_fraction, streaming_bandwidth_bytes_per_s,
                                 turnaround_cycles)
from archsim.engine.execute import run_numba
from archsim.engine.trace import MODE_READ, MODE_WRITE, TraceBuilder

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
    p = dict(zip(PARAM_NAMES, dram_params(t)))
    c = on.counts(0)
    if t.refresh_per_bank:        # one bank every tREFI / banks, hidden while the stream is elsewhere
        assert c["refs"] == 0 and c["pb_refs"] == pytest.approx(on.makespan / p["trefi"], rel=0.02)
        f = stream_refresh_fraction(t, span)
        assert f < refresh_fraction(t)
        assert f - 0.005 <= overhead <= f + 0.01, (overhead, f)
        return
    f = refresh_fraction(t)
    # each refresh also drains and reopens rows: at most tRAS + tRP + tRCD + CL + one row burst
    reopen = p["tras"] + p["trp"] + p["trcd"] + p["cl"] + cols_per_bank * max(p["tccd_l"], span * p["tccd_s"])
    # a refresh falling due while the stream's last row burst runs is never issued: up to one
    # refresh fewer, which shows where the run spans only ~30 intervals (stm32f746-disco's SDRAM)
    assert c["refs"] == pytest.approx(on.makespan / t.trefi, rel=0.02, abs=1 + reopen / p["trefi"])
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


@pytest.mark.parametrize("name", sorted(TYPES))
def test_mixed_reads_and_writes_pay_the_turnaround(name):
    """Whole-row bursts alternating read and write: each switch waits for the bus turnaround
    (write → read CWL + burst + tWTR, read → write tRTW) instead of the usual column spacing, on top
    of the streaming time; the closed form adds exactly that per switch."""
    t = dataclasses.replace(TYPES[name], trefi=0)
    p = dict(zip(PARAM_NAMES, dram_params(t)))
    nbg = t.ranks * t.bank_groups
    span = min(4, nbg)
    cols = span * max(1, t.row_size_bytes // t.burst_bytes)
    n = 200
    modes = [MODE_READ if i % 2 == 0 else MODE_WRITE for i in range(n)]
    _, mixed = _run(t, [dict(slot=i * span, ncols=cols, span=span, mode=m) for i, m in enumerate(modes)])
    _, reads = _run(t, [dict(slot=i * span, ncols=cols, span=span, mode=MODE_READ) for i in range(n)])
    S, L = p["tccd_s"], p["tccd_l"]
    P = max(L, span * S) if span > 1 else L
    tail = P if span >= nbg else (span * S if span > 1 else S)
    gap = tail - (span - 1) * S            # last column of a burst → first column of the next
    w2r, r2w = turnaround_cycles(t)
    # the next burst's i-th column (bank group (span + i) % nbg) waits tWTR_L when it shares the
    # last write's bank group (span - 1) % nbg, tWTR_S otherwise; it comes i·tCCD_S after the first
    w2r = max(w2r + (p["twtr_l"] - p["twtr_s"] if (span + i) % nbg == (span - 1) % nbg else 0) - i * S
              for i in range(span))
    extra = (n // 2) * max(0, r2w - gap) + (n // 2 - 1) * max(0, w2r - gap)
    # same streaming time: reads and writes end their last data CL vs CWL (= CL here) after it
    assert mixed.makespan - reads.makespan == pytest.approx(extra, abs=p["cl"] + p["burst_cycles"] + 2), \
        (mixed.makespan, reads.makespan, extra)
    assert mixed.makespan > reads.makespan
