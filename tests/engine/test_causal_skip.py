"""A fused causal attention kernel computes only the key blocks its queries can see; unfused
attention computes the whole score matrix and masks it. The engine charges each what it computes,
and never less than the causal triangle itself."""
from __future__ import annotations

from hypothesis import given, settings, strategies as st
import pytest

import archsim
from archsim.hardware import load_hardware
from archsim.engine.attention import ATTENTION_BLOCK, causal_block_fraction
from archsim.engine.plan import plan_ops
from archsim.mapper import map_graph


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


def test_a_chunk_after_cached_positions_by_hand():
    """128 queries after 10 cached positions (138 keys), 64-row blocks: the first query block's last
    row sees keys 0…73, so it computes key blocks 0–1 (128 keys); the second sees all 138."""
    assert causal_block_fraction(128, 138, 64) == (64 * 128 + 64 * 138) / (128 * 138)
    assert causal_block_fraction(100, 100, 64) == (64 * 64 + 36 * 100) / (100 * 100)


def test_fused_softmax_work_follows_the_computed_fraction():
    from math import ceil
    from archsim.engine.timing import work_units
    hw = load_hardware("edge-npu")
    g = archsim.build_graph("gpt2-small", "prefill", seq=512)
    dense = next(p for p in plan_ops(g, hw, None) if p.op.name == "L0.attn.softmax")
    fused = next(p for p in plan_ops(g, hw, map_graph(g, hw)) if p.op.name == "L0.attn.softmax")
    f = causal_block_fraction(512, 512, ATTENTION_BLOCK)
    assert fused.op.attr("computed_fraction") == pytest.approx(f) and f < 1
    assert work_units(fused.op) == ceil(work_units(dense.op) * f)


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


@pytest.mark.parametrize("hw_name, block", [("a100-80gb", 128), ("edge-npu", ATTENTION_BLOCK)])
def test_encoder_attention_is_not_causal_and_keeps_every_block(hw_name, block):
    """BERT attends in both directions: its fused QKᵀ and PV compute the whole score matrix, on
    the plan and in the simulated result, while a causal model of the same shape skips blocks."""
    hw = load_hardware(hw_name)
    dense = 12 * 512 * 512 * 64                       # heads × q × kv × head_dim
    for model, causal in (("bert-base", False), ("gpt2-small", True)):
        phase = "encode" if model.startswith("bert") else "prefill"
        g = archsim.build_graph(model, phase, seq=512, overrides={"layers": 1})
        assert bool(g.nodes["L0.attn.qk"]["op"].attr("causal")) is causal
        plans = {p.op.name: p for p in plan_ops(g, hw, map_graph(g, hw))}
        assert plans["L0.attn.qk"].mapping.fused_into is None            # the group's root
        assert plans["L0.attn.av"].mapping.fused_into == "L0.attn.qk", f"attention fused on {hw_name}"
        want = dense if not causal else round(dense * causal_block_fraction(512, 512, block))
        assert plans["L0.attn.qk"].op.macs == want
        assert plans["L0.attn.av"].op.macs == want
        ops = {o.name: o for o in archsim.simulate(g, hw).ops}
        assert ops["L0.attn.qk"].macs == want and ops["L0.attn.av"].macs == want
