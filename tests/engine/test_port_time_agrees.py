"""The mapper ranks mappings by the engine's on-chip port time: for every op of a mapped graph on
real chips, the cost model's port time (`Cost.port_s`) equals the engine's analytic
`ports.port_seconds` for the chosen mapping — fold traffic, register files and the tiling's
off-chip re-fetches staged through the buffer included (engine.ports)."""
from __future__ import annotations

import pytest

import archsim
from archsim.engine.plan import plan_ops
from archsim.engine.ports import port_seconds
from archsim.hardware import load_hardware
from archsim.mapper import map_graph

CASES = [("edge-npu", "gpt2-small", dict(phase="decode", batch=8, context=128)),   # register file
         ("tpu-v4", "gpt2-small", dict(phase="prefill", seq=128)),                 # folds into VMEM
         ("tpu-v1", "gpt2-small", dict(phase="prefill", seq=64)),                  # psums in accumulators
         ("eyeriss", "gpt2-small", dict(phase="prefill", seq=32)),                 # per-PE spads, rs
         ("zcu102", "gpt2-small", dict(phase="prefill", seq=64)),
         ("stm32f746", "deit-tiny", dict(phase="encode")),
         ("hbm3-pim", "gpt2-small", dict(phase="decode", context=128))]


@pytest.mark.parametrize("hw_name,model,kw", CASES, ids=[c[0] for c in CASES])
def test_mapper_port_time_is_the_engines(hw_name, model, kw):
    hw = load_hardware(hw_name)
    graph = archsim.build_graph(model, **kw)
    mapping = map_graph(graph, hw, budget=200)
    costs = dict(dict(mapping.attrs)["op_costs"])
    checked = 0
    for p in plan_ops(graph, hw, mapping):
        cost = costs.get(p.op.name)
        # the engine computes only the key blocks of a fused causal attention (plan.causal_skips);
        # the mapper, timing one op, cannot know of the fusion's skip
        if cost is None or dict(p.op.attrs).get("computed_fraction") is not None:
            continue
        assert cost.port_s == pytest.approx(port_seconds(p, hw), rel=1e-9, abs=1e-15), p.op.name
        checked += 1
    assert checked >= 10, checked
