"""The DRAM part of the analytic-vs-cycle gap, attributed to named effects by counterfactual runs
(`archsim.engine.attribution`)."""
from __future__ import annotations

import dataclasses

import pytest

from archsim.engine import simulate
from archsim.engine.attribution import EFFECTS, dram_gap_attribution

from .graphs import tiny_graph


def _no_refresh(hw):
    lv = hw.levels[0]
    return dataclasses.replace(hw, levels=(dataclasses.replace(
        lv, dram=dataclasses.replace(lv.dram, trefi=0, trfc=0, refresh_per_bank=False)),) + hw.levels[1:])


@pytest.mark.parametrize("chip", ["pim-gpt", "alveo-u280"])
def test_attribution_adds_up_and_refresh_costs_its_share(chip):
    hw, g = tiny_graph(chip, "decode", 2)
    a = dram_gap_attribution(g, hw)
    r = simulate(g, hw, fidelity="cycle")
    assert a.cycles == r.cycles
    assert [n for n, _ in a.effects_cycles] == [n for n, _ in EFFECTS]
    assert a.cycles - a.analytic_cycles == sum(v for _, v in a.effects_cycles) + a.other_cycles
    t = hw.levels[0].dram
    refresh = dict(a.effects_cycles)["refresh"]
    # a DRAM-bound decode loses about tRFC / tREFI of its time to all-bank refresh
    assert 0.3 * t.trfc / t.trefi <= refresh / a.cycles <= 1.5 * t.trfc / t.trefi, refresh / a.cycles
    assert sum(dict(e)["refresh"] for _, _, _, e in a.ops) >= 0.5 * refresh
    b = dram_gap_attribution(g, _no_refresh(hw))
    assert dict(b.effects_cycles)["refresh"] == 0
    assert b.cycles <= a.cycles
