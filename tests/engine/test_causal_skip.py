"""A fused causal attention kernel computes only the key blocks its queries can see; unfused
attention computes the whole score matrix and masks it. The engine charges each what it computes,
and never less than the causal triangle itself."""
from __future__ import annotations

from hypothesis import given, settings, strategies as st
import pytest

import archsim
from archsim.hardware import load_hardware
from archsim.engine.plan import ATTENTION_BLOCK, causal_block_fraction, plan_ops
from mapper import map_graph


@settings(max_examples=200, deadline=None)
@given(q=st.integers(2, 600), past=st.integers(0, 600), block=st.sampled_from([1, 16, 64, 128]))
def test_fraction_lies_between_the_triangle_and_the_whole(q, past, block):
    kv = q + past
    exact = (q * past + q * (q + 1) / 2) / (q * kv)        # pairs a causal mask keeps
    f = causal_block_fraction(q, kv, block)
    assert exact - 1e-12 <= f <= 1.0
    if block == 1:
        assert f == pytest.approx(exact, rel=1e-12)
    assert f <= causal_block_fraction(q, kv, block * 2) + 1e-12   # coarser blocks skip less


def test_one_query_sees_everything():
    assert causal_block_fraction(1, 4096, 64) == 1.0


def _qk(hw_name: str, fused: bool):
    hw = load_hardware(hw_name)
    g = archsim.build_graph("gpt2-small", "prefill", seq=512)
    mapping = map_graph(g, hw) if fused else None
    return next(p for p in plan_ops(g, hw, mapping) if p.op.name == "L0.attn.qk")


@pytest.mark.parametrize("hw, block", [("a100-80gb", 128), ("edge-npu", ATTENTION_BLOCK)])
def test_fused_groups_skip_masked_blocks_unfused_ones_do_not(hw, block):
    dense = 12 * 512 * 512 * 64
    assert _qk(hw, fused=False).op.macs == dense            # no mapping: nothing fused
    fused = _qk(hw, fused=True)
    assert fused.mapping is not None and fused.op.attr("computed_fraction") is not None, \
        f"the mapper fuses attention on {hw}"
    assert fused.op.macs == round(dense * causal_block_fraction(512, 512, block))


def test_prefill_costs_less_with_the_skip_and_stays_above_the_roofline():
    from archsim.engine.analytic import roofline_ticks
    hw = load_hardware("a100-80gb")
    g = archsim.build_graph("gpt2-small", "prefill", seq=1024)
    r = archsim.simulate(g, hw)
    plans = {p.op.name: p for p in plan_ops(g, hw, map_graph(g, hw))}
    for op in r.ops:          # an op run inside another's kernel (the fused softmax) is timed there
        if plans[op.name].kernel_s != 0.0:
            assert op.cycles >= roofline_ticks(plans[op.name], hw)
    qk = next(o for o in r.ops if o.name == "L0.attn.qk")
    assert qk.macs < 12 * 1024 * 1024 * 64
