"""The engine's burst path against the request-level controller (`archsim.engine.dram_equivalence`):
a transfer alone on its channel finishes at the same cycle in both, within the stated tolerance,
on every DRAM type of tests/engine/dram_types.py, with refresh off, all-bank and per-bank."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from archsim.engine import dram_equivalence as de
from archsim.engine.dram import PARAM_NAMES, dram_params
from archsim.engine.dram_controller import parse_mapping
from archsim.engine.dram_layout import burst_shape

from .dram_types import all_dram_types

TYPES = all_dram_types()


def _refresh(t, kind):
    if kind == "off":
        return dataclasses.replace(t, trefi=0)
    if kind == "all-bank":
        return dataclasses.replace(t, refresh_per_bank=False)
    # per-bank: the description's tRFCpb, else half the all-bank tRFC (assumption, as LPDDR5)
    return dataclasses.replace(t, refresh_per_bank=True, trfc_pb=t.trfc_pb or max(1, t.trfc // 2))


def in_order_slack(t, nrows, span):
    """Cycles by which FR-FCFS may beat the engine's in-order column issue on a transfer alone:
    at the stream start the k banks' ACTs are tRRD apart while their columns could go tCCD_S
    apart (the controller serves an open bank's next column first), and at each row-burst
    boundary, when the columns do not split evenly over the banks, the next burst's first column
    is in the same bank group as the last one (tCCD_L) where the controller takes the next group's
    (tCCD_S)."""
    p = dict(zip(PARAM_NAMES, dram_params(t)))
    ramp = (span - 1) * max(0, max(p["trrd_s"], -(-p["tfaw"] // 4)) - p["tccd_s"])
    return ramp + nrows * (p["tccd_l"] - p["tccd_s"])


def lookahead_deficit(t, nrows, span):
    """Cycles by which the controller may trail the engine on a transfer alone: the engine
    activates a row burst's banks as early as they allow (unbounded look-ahead), the controller
    only once their requests are in its queue (`queue_depth` columns ahead). Once the stream wraps
    round the banks (after banks / span row bursts) each row burst first closes its banks' old
    rows: PRE, tRP, then k ACTs tRRD_S (or tFAW / 4) apart and tRCD, of which the queue hides
    queue_depth · tCCD_S."""
    p = dict(zip(PARAM_NAMES, dram_params(t)))
    wrapped = max(0, nrows - p["nbanks"] // span)
    reopen = p["trp"] + p["trcd"] + (span - 1) * max(p["trrd_s"], -(-p["tfaw"] // 4))
    return wrapped * max(0, reopen - t.queue_depth * p["tccd_s"])


def refresh_cost(t):
    """(least, most) one refresh costs a stream: the engine issues it between two row bursts, after
    the open banks' last columns, so it costs at least tRFC (all-bank; a per-bank one may cost
    nothing); the controller issues it when due, mid-row: at most the open banks' write recovery
    and precharge, tRFC (tRFCpb), then four banks re-activated and tRCD."""
    p = dict(zip(PARAM_NAMES, dram_params(t)))
    rfc = p["trfc_pb"] if p["refpb"] else p["trfc"]
    most = (p["cwl"] + p["burst_cycles"] + p["twr"] + p["trp"] + rfc
            + 3 * max(p["trrd_l"], -(-p["tfaw"] // 4)) + p["trcd"])
    return (0 if p["refpb"] else rfc), most


def test_engine_layout_is_the_default_mapping_for_whole_row_bursts():
    """Whole row bursts from a slot that starts a bank-group round: the engine's column commands
    are consecutive bursts of the default mapping (RoRaBaCoBgCh: bank groups fastest, then the
    column, then the bank, then the row), and encode/decode round-trip."""
    from archsim.kernels.dram.address import decode
    for name in ("ddr4-3200", "hbm3", "gddr6", "stm32f746-disco:sdram"):
        t = TYPES[name]
        span = min(4, t.ranks * t.bank_groups)
        cols = t.row_size_bytes // t.burst_bytes
        nrows, ncols, k = burst_shape(t, 3 * t.banks_per_channel * t.row_size_bytes)
        assert (ncols, k) == (cols * span, span)
        bank, row, col = de.engine_layout(t, 0, nrows, ncols, k)
        addr = de.encode_addresses(t, 0, bank, row, col)
        assert np.array_equal(addr // t.burst_bytes // t.channels, np.arange(addr.size)), name
        fields, sizes = parse_mapping(t.address_mapping, t)
        ch, b2, r2 = (np.empty(addr.size, np.int64) for _ in range(3))
        decode(addr, t.burst_bytes, fields, sizes, t.banks_per_group, t.bank_groups, ch, b2, r2)
        assert (ch == 0).all() and np.array_equal(b2, bank) and np.array_equal(r2, row)


@pytest.mark.parametrize("name", sorted(TYPES))
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(nbytes=st.integers(1, 200_000), slot0=st.integers(0, 63), write=st.booleans(),
       kind=st.sampled_from(["off", "all-bank", "per-bank"]))
def test_a_transfer_alone_finishes_when_the_controller_says(name, nbytes, slot0, write, kind):
    """The same column commands (the engine's addresses, open page, the description's queue):
    without refresh the engine finishes with the controller, at most `in_order_slack` later or
    `lookahead_deficit` earlier. With refresh the engine defers the refreshes that fall due inside
    the transfer to the channel's next burst task (see `dram_equivalence`), so the controller may
    issue more: it is later by at most its refreshes at their most less the engine's at their
    least (`refresh_cost`)."""
    t = _refresh(TYPES[name], kind)
    x = de.Transfer(nbytes, write, slot0)
    nrows, _, span = burst_shape(t, nbytes)
    (eng,), eng_refs = de.engine_finish(t, [x])
    (ctl,), ctl_refs = de.controller_finish(t, [x])
    slack = in_order_slack(t, nrows, span)
    deficit = lookahead_deficit(t, nrows, span)
    assert eng - slack <= ctl, (eng, ctl, slack)
    least, most = refresh_cost(t)
    assert ctl - eng <= deficit + ctl_refs * most - eng_refs * least, (eng, ctl, eng_refs, ctl_refs)
    if kind == "off":
        assert ctl - eng <= deficit



DISTINCT = de.distinct_channels(TYPES)


@pytest.mark.parametrize("name", DISTINCT)
def test_concurrent_transfers_engine_in_order_vs_fr_fcfs(name):
    """Two or three transfers ready at once on one channel (reads and writes, packed in bank slots
    as the engine packs tensors): the engine serves them in issue order, each streaming alone; the
    controller interleaves their requests, so rows of different transfers in one bank conflict and
    reads and writes turn the bus around. Measured over 24 samples per type (benchmarks/engine.py
    --dram-concurrency): pure FR-FCFS makespans 0.93-1.81x the engine's (median 1.06-1.33x); with
    the descriptions' row-hit cap of 4 a bank shared by two streams switches rows every 5 columns
    (median 1.07-1.52x, worst 7.0x); the first transfer finishes up to 29x later than alone."""
    s = de.concurrency_sample(TYPES[name], n=12)
    free, capped, first = s["makespan_ratio_uncapped"], s["makespan_ratio"], s["first_finish_ratio"]
    # interleaving never creates bandwidth: at most the in-order slack (small transfers) faster
    assert free["min"] >= 0.9 and first["min"] >= 0.85, s
    # FR-FCFS keeps row hits together: never the row thrash of the capped controller
    assert 1.0 <= free["median"] <= 1.45 and free["max"] <= 2.0, s
    assert capped["median"] >= free["median"] and capped["max"] <= 8.0, s
    assert first["median"] >= 1.5, s      # sharing the channel delays the first transfer


@pytest.mark.parametrize("name", DISTINCT)
def test_sequences_pay_the_deferred_refreshes(name):
    """Transfers served one after the other (the controller gets them in the engine's order): the
    refreshes a transfer alone defers are paid by the next, so makespans agree closely. Measured
    over 12 sequences of 4-11 transfers per type: refresh off 0.998-1.034 (the controller's write
    drain at read/write boundaries), all-bank 0.998-1.05, per-bank 1.0-1.116 (the controller
    refreshes as due, one bank of the round at a time, and sometimes must take one a stream is
    about to need; the engine's per-bank choice sees the banks' whole history)."""
    t = TYPES[name]
    for kind, high in (("off", 1.04), ("all-bank", 1.06), ("per-bank", 1.13)):
        s = de.sequence_sample(_refresh(t, kind), n=4)["refresh_on" if kind != "off" else "refresh_off"]
        assert 0.99 <= s["min"] and s["max"] <= high, (kind, s)


def test_per_bank_refresh_waits_for_a_free_bank():
    """HBM3 per-bank refresh, eight 100 KB transfers alternating read and write: refreshing the
    last bank of a round while a stream is in it stalled the stream 326 cycles about once per round
    (1.138x the engine's makespan); postponed until the bank is free (at most 8 owed) 1.053x."""
    t = TYPES["hbm3-pim:hbm3"]
    assert t.refresh_per_bank
    xs, slot = [], 0
    for i in range(8):
        nrows, _, span = burst_shape(t, 100_000)
        xs.append(de.Transfer(100_000, bool(i % 2), slot))
        slot += nrows * span
    ratio = de.controller_finish(t, xs, interleave=False)[0].max() / de.engine_finish(t, xs)[0].max()
    assert ratio <= 1.06, ratio


def test_channel_overlap_counts_transfers_served_in_order():
    """Two transfers ready at once on one channel and a third after the second: the second waits
    for the first (one of three concurrent), and while the channel serves, on average the waited
    cycles over the served cycles are waiting."""
    from archsim.engine.execute import run_numba
    from archsim.engine.trace import TraceBuilder
    t = dataclasses.replace(TYPES["hbm2"], trefi=0)
    b = TraceBuilder()
    ch = b.resource("mem:hbm", dram_params(t))
    a = b.task(ch, 0, (), 0, slot=0, ncols=64, span=4, nrows=2)
    c = b.task(ch, 0, (), 0, slot=8, ncols=64, span=4, nrows=2)
    b.task(ch, 0, (c,), 0, slot=16, ncols=64, span=4, nrows=1)
    trace = b.build()
    run = run_numba(trace)
    out = de.channel_overlap(trace, run)
    f = run.finish
    assert out["dram_tasks"] == 3 and out["concurrent_share"] == round(1 / 3, 3)
    assert out["mean_transfers_waiting"] == round(int(f[a]) / int(f[2]), 3)
