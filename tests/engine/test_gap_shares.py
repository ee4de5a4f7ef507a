"""Gap shares (`engine.attribution`) checked against their definitions: the cumulative removals
telescope (the effects' savings add up to the run with every DRAM effect removed), the per-op
shares `simulate` reports with `attribute_gap` (`gap_share_cycles`) are cycle saving − analytic
saving on the serialised trace, and a PIM op's issue wait over channel groups that run side by side
is the longest one, not their sum."""
from __future__ import annotations

import dataclasses
import functools

import numpy as np

from archsim.engine.attribution import (EFFECT_KEYS, EFFECTS, analytic_effect_ticks, dram_effect_ticks,
                                        dram_gap_attribution, gap_share_cycles, pim_issue_waits)
from archsim.engine.dram import PARAM_NAMES, dram_params
from archsim.engine.execute import run_numba
from archsim.engine.exclusive import serial_trace
from archsim.engine.lower import lower
from archsim.engine.plan import plan_ops
from archsim.engine.trace import MODE_PIM_MAC, MODE_READ, TraceBuilder

from .graphs import tiny_graph


@functools.lru_cache(maxsize=None)
def _case():
    hw, g = tiny_graph("pim-gpt", "decode", 1)
    plans = plan_ops(g, hw, None)
    lw = lower(g, hw, None, plans)
    return hw, g, plans, lw, run_numba(lw.trace), dram_gap_attribution(g, hw)


def test_cumulative_savings_telescope_to_the_run_without_any_dram_effect():
    hw, g, plans, lw, base, a = _case()
    params = lw.trace.dram_params.copy()
    for _, keys in EFFECTS:
        for k in keys:
            params[:, PARAM_NAMES.index(k)] = 0
    bare = run_numba(dataclasses.replace(lw.trace, dram_params=params))
    sub = lw.ticks_per_cycle
    bare_cycles = -(-int(bare.makespan) // sub)
    assert a.cycles > bare_cycles
    assert sum(v for _, v in a.effects_cycles) == a.cycles - bare_cycles
    assert all(v >= 0 for _, v in a.effects_cycles)


def test_reported_per_op_shares_are_the_attributions():
    """With `attribute_gap` the DRAM effects are measured on the trace with the ops back to back
    (`exclusive.serial_trace`, as the analytic form runs them): each op's share is what removing
    the effect saves its exclusive time there minus what it saves its analytic time."""
    hw, g, plans, lw, base, a = _case()
    got = gap_share_cycles(g, hw, None, lw, base, plans)
    serial = serial_trace(lw.trace)
    effects, saved = dram_effect_ticks(serial, run_numba(serial), len(plans), lw.ticks_per_cycle)
    names = [name for name, _ in effects]
    analytic = analytic_effect_ticks(g, hw, None, names, plans=plans)
    assert dict(a.analytic_effects_cycles)["refresh"] > 0      # the closed form saves too
    assert any(int(x.sum()) > 0 for x in analytic) and any(int(x.sum()) > 0 for x in saved)
    for name, s, an in zip(names, saved, analytic):
        assert np.array_equal(got[EFFECT_KEYS[name]], s - an), name


def test_reported_fill_is_the_serialised_runs_without_dram_effects():
    """With `attribute_gap` the pipeline fill and drain is read off the serialised trace run with
    every DRAM effect removed (the last counterfactual), so the first load's row activation and CL
    are the DRAM shares', not counted again as fill; on edge-npu's GEMMs that fill is shorter than
    the serialised run's with DRAM timing."""
    from archsim.engine.exclusive import exclusive_time
    for chip in ("pim-gpt", "edge-npu"):
        hw, g = tiny_graph(chip, "decode", 1)
        plans = plan_ops(g, hw, None)
        lw = lower(g, hw, None, plans)
        got = gap_share_cycles(g, hw, None, lw, run_numba(lw.trace), plans)["pipeline_fill_s"]
        serial = serial_trace(lw.trace)
        params = serial.dram_params.copy()
        for _, keys in EFFECTS:
            for k in keys:
                params[:, PARAM_NAMES.index(k)] = 0
        bare = run_numba(dataclasses.replace(serial, dram_params=params))
        want = exclusive_time(serial, bare, len(plans), lw.compute_res).fill_ticks / lw.ticks_per_cycle
        assert np.array_equal(got, want), chip
        if chip == "edge-npu":
            timed = exclusive_time(serial, run_numba(serial), len(plans), lw.compute_res).fill_ticks
            assert got.sum() > 0 and got.sum() < timed.sum() / lw.ticks_per_cycle


def test_pim_issue_wait_over_parallel_channels_is_the_longest():
    """Op 0 reads 8 rows on channel A and 4 on channel B; op 1 then issues MACs on both: its wait
    is A's (the channels run side by side), not A's + B's."""
    from archsim.hardware import load_hardware
    t = load_hardware("pim-gpt").levels[0].dram
    b = TraceBuilder()
    chans = [b.resource(f"mem:gddr6:{c}", dram_params(t, t.tck_s)) for c in range(2)]
    link = b.resource("link:host")
    reads = [b.task(ch, 0, (), 0, slot=0, ncols=32, span=4, mode=MODE_READ, nrows=n)
             for ch, n in zip(chans, (8, 4))]
    first = b.task(link, 1, (), 1)
    for ch in chans:
        b.task(ch, 0, [first], 1, slot=64, ncols=32, span=16, mode=MODE_PIM_MAC, nrows=2)
    tr = b.build()
    run = run_numba(tr)
    ready = int(run.finish[first])
    per_channel = [int(run.finish[r]) - ready for r in reads]
    assert min(per_channel) > 0
    assert pim_issue_waits(tr, run, 2)[1] == max(per_channel)
    assert np.all(pim_issue_waits(tr, run, 2) >= 0)
