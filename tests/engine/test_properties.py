"""Invariants of `simulate` on random small model × hardware pairs, both fidelities:
cycles ≥ roofline bound for every op; energy adds up to its breakdown (and to the per-op energies
plus DRAM ACT/refresh plus static); buffer occupancy never exceeds capacity; same inputs → identical
results."""
from __future__ import annotations

import dataclasses
import functools
import math

from hypothesis import HealthCheck, example, given, settings, strategies as st

import pytest

from archsim.engine import simulate
from archsim.engine.analytic import roofline_ticks
from archsim.engine.plan import plan_ops
from archsim.hardware import list_hardware
from archsim.result import ACTIVE_COMPONENTS, STATIC_COMPONENTS

from .graphs import COVER, cover_graph

HWS = ["pim-gpt", "aim-gddr6", "hbm3-pim-bg", "edge-npu", "tpu-v1", "tpu-v4", "eyeriss", "zcu102",
       "alveo-u280", "stm32f746", "t4", "h200-sxm", "xeon-gold-6154", "sa8295p-npu"]


@functools.lru_cache(maxsize=None)
def _case(hw_name, model, phase, layers, length):
    from archsim.hardware import load_hardware
    from archsim.workloads import build_graph
    kw = dict(context=length) if phase == "decode" else dict(seq=length)
    return load_hardware(hw_name), build_graph(model, phase, overrides={"layers": layers}, **kw)


cases = st.tuples(st.sampled_from(HWS), st.sampled_from(["gpt2-small", "llama2-7b", "gpt3-125m"]),
                  st.sampled_from(["decode", "prefill"]), st.integers(1, 2),
                  st.sampled_from([16, 64, 200]), st.sampled_from(["analytic", "cycle"]))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=cases)
@example(case=("edge-npu", "llama2-7b", "prefill", 1, 64, "cycle"))   # parallel Q/K/V residents
def test_invariants(case):
    hw_name, model, phase, layers, length, fidelity = case
    hw, g = _case(hw_name, model, phase, layers, length)
    check_invariants(g, hw, fidelity)


@pytest.mark.parametrize("hw_name", list_hardware())
def test_invariants_on_every_chip_and_op_kind(hw_name):
    """Every chip in hwconfigs/ on the coverage graphs (together every op kind), the fidelities
    alternating over the graphs so both meet every chip."""
    from archsim.hardware import load_hardware
    hw = load_hardware(hw_name)
    for i, key in enumerate(COVER):
        check_invariants(cover_graph(key), hw, ("analytic", "cycle")[(i + len(hw_name)) % 2])


def check_invariants(g, hw, fidelity):
    r = simulate(g, hw, fidelity=fidelity)
    plans = plan_ops(g, hw, None)
    # cycles >= roofline, every op
    for p, o in zip(plans, r.ops):
        assert o.cycles >= roofline_ticks(p, hw), (o.name, o.cycles, roofline_ticks(p, hw))
    assert r.cycles >= max((o.cycles for o in r.ops), default=0)
    # energy adds up
    parts = dict(r.energy_breakdown_j)
    assert all(v >= 0 for v in parts.values())
    assert math.isclose(r.energy_j, math.fsum(parts.values()), rel_tol=1e-12)
    rebuilt = (math.fsum(o.energy_j for o in r.ops) + parts.get("dram_act_pre", 0.0)
               + parts.get("dram_refresh", 0.0)
               + math.fsum(parts.get(c, 0.0) for c in STATIC_COMPONENTS + ACTIVE_COMPONENTS))
    assert math.isclose(r.energy_j, rebuilt, rel_tol=1e-9, abs_tol=1e-15)
    # occupancy never exceeds capacity (on-chip levels; off-chip fit is reported by `fits`)
    for lu, lv in zip(r.levels, hw.levels):
        if not lv.off_chip:
            assert lu.peak_buffer_bytes <= lu.capacity_bytes, lu
    for tl in r.timelines:
        cap = next(lu.capacity_bytes for lu in r.levels if lu.level == tl.level)
        assert max(tl.occupancy_bytes) <= cap
        assert min(tl.occupancy_bytes) >= 0
    # determinism
    r2 = simulate(g, hw, fidelity=fidelity)
    assert dataclasses.replace(r, sim_wall_s=0.0) == dataclasses.replace(r2, sim_wall_s=0.0)
