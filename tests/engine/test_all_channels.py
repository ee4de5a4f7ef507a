"""Every DRAM channel is simulated (`engine.lower`): transfers split over channels by the address
mapping; channels with identical task sequences are grouped, and the grouping is exact (grouped ==
one resource per channel, also on the SimPy reference); a mapping that keeps tensors in one channel
shows the imbalance."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from archsim.engine.execute import run_numba
from archsim.engine.dram_layout import interleave_bytes
from archsim.engine.lower import _Lowerer, lower
from archsim.engine.reference import run_simpy
from archsim.hardware import load_hardware
from archsim.workloads import build_graph

CASES = [("gpt2-small", "decode", dict(context=96), "pim-gpt"),
         ("distilbert", "encode", dict(seq=32), "edge-npu"),
         ("gpt2-small", "decode", dict(context=64), "alveo-u280"),
         ("vit-ti16", "encode", dict(), "zcu102")]


def _with_mapping(hw, mapping):
    lv = hw.levels[0]
    return dataclasses.replace(hw, levels=(dataclasses.replace(
        lv, dram=dataclasses.replace(lv.dram, address_mapping=mapping)),) + hw.levels[1:])


@pytest.mark.parametrize("model,phase,kw,chip", CASES)
def test_grouping_is_exact(model, phase, kw, chip):
    g = build_graph(model, phase, **kw)
    hw = load_hardware(chip)
    grouped = lower(g, hw)
    single = lower(g, hw, group_channels=False)
    a, b = run_numba(grouped.trace), run_numba(single.trace)
    assert a.makespan == b.makespan
    assert sum(len(x) for x in single.channel_groups[hw.levels[0].name]) == hw.levels[0].dram.channels
    for i in range(len(grouped.plans)):           # every op ends at the same tick
        fa = a.finish[grouped.trace.op == i].max(initial=0)
        fb = b.finish[single.trace.op == i].max(initial=0)
        assert fa == fb
    scale = np.array([grouped.dram_scale[s] for s in range(len(grouped.dram_scale))])
    assert (a.dram_counts * scale[:, None]).sum(axis=0).tolist() == b.dram_counts.sum(axis=0).tolist()


def test_grouped_numba_equals_per_channel_simpy():
    g = build_graph("gpt2-small", "decode", context=32)
    hw = load_hardware("pim-gpt")
    grouped = lower(g, hw)
    single = lower(g, hw, group_channels=False)
    assert run_numba(grouped.trace).makespan == run_simpy(single.trace).makespan


def test_channel_bytes_follow_the_mapping():
    hw = load_hardware("pim-gpt")
    lv = hw.levels[0]
    t = lv.dram
    lw = _Lowerer(hw)
    for key, n in (("a", 1000), ("b", 5 * t.burst_bytes * t.channels + 3 * t.burst_bytes), ("c", 1)):
        per = lw.channel_bytes(lv, key, n)
        assert sum(per) == n
        assert max(per) - min(per) <= interleave_bytes(t)
    coarse = _with_mapping(hw, "ChRaBaRoCo")            # channel the top field: one channel
    lw = _Lowerer(coarse)
    per = lw.channel_bytes(coarse.levels[0], "w", 1 << 20)
    assert np.count_nonzero(per) == 1


def test_a_mapping_that_keeps_tensors_in_one_channel_is_slower():
    g = build_graph("gpt2-small", "decode", context=64)
    hw = load_hardware("alveo-u280")
    fast = run_numba(lower(g, hw).trace).makespan
    slow = run_numba(lower(g, _with_mapping(hw, "ChRaBaRoCo")).trace).makespan
    assert slow > 1.5 * fast
