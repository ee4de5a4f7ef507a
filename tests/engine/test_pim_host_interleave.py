"""PIM all-bank MAC bursts sharing a channel with host transfers on the controller path
(`pim_host_interleave`, `kernels.dram.shared`): `transfer` (default) serves a PIM burst whole
before a host transfer that arrives during it; `row` lets the host transfer go after the PIM row
bursts already started, then resumes the PIM burst at its next row burst."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from archsim.engine.dram import dram_params
from archsim.engine.dram_controller import controller_params
from archsim.engine.execute import run_timed
from archsim.engine.trace import TraceBuilder
from archsim.errors import ConfigError
from archsim.kernels import dram as kd

from .dram_types import FACTS
from .test_timeloop import _same
from .traces import random_trace, trace_args

PIM_ROWS, PIM_COLS, HOST_COLS = 6, 32, 16


def _timing(name="gddr6"):
    return dataclasses.replace(FACTS[name], trefi=0, all_bank_activate=True)


def _x(t, policy):
    return controller_params(dataclasses.replace(t, pim_host_interleave=policy))[None, :]


def _trace(t, arrival):
    """A PIM burst over every bank at 0; a host read of one row burst (2 banks) arriving at
    `arrival`, to a row the PIM burst does not use."""
    nb = t.banks_per_channel
    b = TraceBuilder()
    u = b.resource("u")
    d = b.resource("dram", dram_params(t))
    b.task(d, 0, (), slot=0, row=0, ncols=PIM_COLS, span=nb, mode=2, nrows=PIM_ROWS)
    w = b.task(u, arrival)
    b.task(d, 0, (w,), slot=0, row=PIM_ROWS + 3, ncols=HOST_COLS, span=2, mode=0, nrows=1)
    return b.build()


def _by_hand(t, arrival):
    """The closed form of `row`, composed from the burst kernel: the PIM row bursts whose first
    command comes before the host's arrival, then the host transfer (ready at its arrival), then
    the rest of the PIM burst (ready one tick after). (PIM finish, host start, host finish)."""
    P = dram_params(t)
    nb = t.banks_per_channel
    bank_st, bg_last, chan = kd.new_state(P)
    work = np.zeros(kd.work_size(P), dtype=np.int64)
    k = 0
    pim_end = 0
    while k < PIM_ROWS:
        keep = bank_st.copy(), bg_last.copy(), chan.copy()
        s, e = kd.burst(P, bank_st, bg_last, chan, k * nb, 0, PIM_COLS, nb, 2, 1, 0, True, work)
        if s >= arrival:
            bank_st[:], bg_last[:], chan[:] = keep
            break
        pim_end = e
        k += 1
    if k == PIM_ROWS:
        return None
    hs, he = kd.burst(P, bank_st, bg_last, chan, 0, PIM_ROWS + 3, HOST_COLS, 2, 0, 1, arrival,
                      True, work)
    _, pim_end = kd.burst(P, bank_st, bg_last, chan, k * nb, 0, PIM_COLS, nb, 2, PIM_ROWS - k,
                          arrival + 1, True, work)
    return pim_end, hs, he


@pytest.mark.parametrize("name", ["gddr6", "hbm3", "ddr4-3200"])
@pytest.mark.parametrize("arrival", [0, 1, 100, 400, 900, 1500])
def test_row_lets_the_host_transfer_in_between_row_bursts(name, arrival):
    t = _timing(name)
    tr = _trace(t, arrival)
    whole = run_timed(tr, controller=_x(t, "transfer"))
    row = run_timed(tr, controller=_x(t, "row"))
    want = _by_hand(t, arrival)
    if want is None:                     # the host arrives after the PIM's last row burst began
        _same(whole, row)
        return
    pim_end, hs, he = want
    assert (row.finish[0], row.start[2], row.finish[2]) == (pim_end, hs, he)
    assert row.finish[2] < whole.finish[2] and row.finish[0] > whole.finish[0]
    # the host no longer waits for the PIM burst's end; the PIM burst pays for the host transfer
    assert row.counts(0)["ab_acts"] == whole.counts(0)["ab_acts"]     # one all-bank ACT a row


def test_transfer_is_the_default_and_unchanged():
    t = _timing()
    tr = _trace(t, 100)
    default = run_timed(tr)
    _same(default, run_timed(tr, controller=_x(t, "transfer")))
    assert default.finish[2] > default.finish[0]          # the host waited for the whole burst


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(args=trace_args)
def test_row_keeps_dependencies_and_order_on_random_traces(args):
    """Random traces with PIM and host transfers on one channel: every task settles, after its
    dependencies; without PIM bursts `row` changes nothing."""
    seed, n, dram, trefi = args
    t = dataclasses.replace(FACTS[dram], pim_host_interleave="row")
    tr = random_trace(seed, n, dram, trefi, pim_share=0.4)
    run = run_timed(tr, controller=controller_params(t)[None, :])
    for i in range(tr.n_tasks):
        d = tr.deps(i)
        if d.size:
            assert run.start[i] >= run.finish[d].max()
    assert run.makespan == run.finish.max()
    plain = random_trace(seed, n, dram, trefi, pim_share=0.0)
    _same(run_timed(plain), run_timed(plain, controller=controller_params(t)[None, :]))


def test_the_description_key_loads_and_dumps():
    from archsim.hardware import dump_hardware, load_hardware, parse_hardware
    hw = load_hardware("pim-gpt")
    lv = next(x for x in hw.levels if x.dram is not None)
    assert lv.dram.pim_host_interleave == "transfer"
    assert "pim_host_interleave" not in dump_hardware(hw)      # the default is not written out
    row_lv = dataclasses.replace(lv, dram=dataclasses.replace(lv.dram, pim_host_interleave="row"))
    text = dump_hardware(dataclasses.replace(
        hw, levels=tuple(row_lv if x is lv else x for x in hw.levels)))
    assert "pim_host_interleave: row" in text
    again = parse_hardware(text, hw.file)
    assert next(x for x in again.levels if x.dram is not None).dram.pim_host_interleave == "row"
    with pytest.raises(ConfigError, match="pim_host_interleave"):
        parse_hardware(text.replace("pim_host_interleave: row", "pim_host_interleave: rows"),
                       hw.file)


def test_a_chip_with_row_runs_end_to_end():
    from archsim.engine import simulate
    from .graphs import tiny_graph
    hw, g = tiny_graph("pim-gpt", "decode", 1)
    lv = next(x for x in hw.levels if x.dram is not None)
    row_lv = dataclasses.replace(lv, dram=dataclasses.replace(lv.dram, pim_host_interleave="row"))
    hw_row = dataclasses.replace(hw, levels=tuple(row_lv if x is lv else x for x in hw.levels))
    a = simulate(g, hw, fidelity="cycle", dram_model="controller")
    b = simulate(g, hw_row, fidelity="cycle", dram_model="controller")
    assert b.cycles > 0 and abs(b.cycles - a.cycles) <= 0.2 * a.cycles
