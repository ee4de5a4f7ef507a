"""Ops alike (`plan.plan_key`: same shape, mapping and homes — repeated layers) are planned,
timed, counted and priced once per estimate; every op's row must still equal what its own plan
gives when computed alone."""
import dataclasses

import pytest

from archsim import mapper
from archsim import workloads
from archsim.engine.accounting import op_energy_j, prices
from archsim.engine.analytic import analytic_ticks
from archsim.engine.actions import op_action_counts
from archsim.engine.plan import plan_key, plan_ops
from archsim.engine.simulate import simulate
from archsim.hardware import load_hardware


@pytest.mark.parametrize("chip, phase, kw", [("edge-npu", "prefill", {"seq": 64}),
                                             ("h200-sxm", "decode", {"context": 128}),
                                             ("pim-gpt", "decode", {"context": 128})])
def test_each_row_equals_its_plan_computed_alone(chip, phase, kw):
    hw = load_hardware(chip)
    g = workloads.build_graph("gpt2-small", phase=phase, **kw)
    m = mapper.map_graph(g, hw)
    plans = plan_ops(g, hw, m)
    r = simulate(g, hw, m)
    table = prices(hw)
    assert len({plan_key(p) for p in plans}) < len(plans) / 4      # 12 layers: most ops repeat
    for p, row in zip(plans, r.ops):
        assert row.name == p.op.name
        assert row.analytic_cycles == analytic_ticks(p, hw)
        assert row.energy_j == op_energy_j(op_action_counts(p), hw, table)


def test_plans_placed_differently_are_not_alike():
    hw = load_hardware("edge-npu")
    g = workloads.build_graph("gpt2-small", phase="decode", context=64)
    plans = plan_ops(g, hw, mapper.map_graph(g, hw))
    a, b = (next(p for p in plans if p.op.name == f"L{i}.mlp.fc1") for i in (0, 1))
    assert plan_key(a) == plan_key(b)                     # layers alike
    assert plan_key(dataclasses.replace(b, homes=tuple("lpddr5" for _ in b.homes))) != plan_key(a)
    assert plan_key(dataclasses.replace(b, offchip_read_bytes=b.offchip_read_bytes + 1)) != plan_key(a)
    wide = dataclasses.replace(b.op, dims=tuple((d, n * 2) for d, n in b.op.dims))
    assert plan_key(dataclasses.replace(b, op=wide)) != plan_key(a)
