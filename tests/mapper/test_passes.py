"""Graph passes: the TFLite-Micro greedy arena, liveness peaks, fusion, placement, PIM-GPT
partitioning, MCUFormer techniques (with the numbers), and "does not fit" diagnostics."""
from __future__ import annotations

import itertools

import pytest

from archsim.errors import DoesNotFit, MappingError
from archsim.ir import Op, OpKind, Operand, Role, Tensor, add_op, new_graph
from archsim.mapper import Buffer, analytic_cost, arena_plan, map_graph, map_op
from archsim.mapper.passes.fusion import fuse
from archsim.mapper.passes.pim import pim_partition
from tests.mapper.hw_fixtures import KB, gemm, npu, pim, softmax


def _overlap(a, b):
    return not (a.last < b.first or b.last < a.first)


def test_arena_plan_is_greedy_by_size_and_never_overlaps():
    bufs = [Buffer("a", 100, 0, 1), Buffer("b", 60, 1, 2), Buffer("c", 100, 2, 3),
            Buffer("d", 30, 0, 3), Buffer("e", 40, 3, 4)]
    plan = arena_plan(bufs)
    off = dict(plan.offsets)
    # largest first at 0 (a, then c reuses 0 because a is dead by then)
    assert off["a"] == 0 and off["c"] == 0
    for x, y in itertools.combinations(bufs, 2):
        if _overlap(x, y):
            assert off[x.name] + x.size_bytes <= off[y.name] or off[y.name] + y.size_bytes <= off[x.name]
    assert plan.arena_bytes == max(off[b.name] + b.size_bytes for b in bufs)
    # ≥ the largest sum of simultaneously live buffers
    live = max(sum(b.size_bytes for b in bufs if b.first <= t <= b.last) for t in range(5))
    assert plan.arena_bytes >= live
    assert plan.arena_bytes == 190   # a(0..100) d(100..130) b(130..190) c(0..100) e(100..140)


def _chain_graph():
    """x → fc1 → gelu → fc2, plus an attention QK → softmax → AV chain."""
    g = new_graph(model="toy", phase="encode")
    fc1 = gemm(64, 256, 64, name="fc1")
    add_op(g, fc1)
    h = fc1.outputs[0].tensor
    act = Op("gelu", OpKind.GELU, (("m", 64), ("n", 256)),
             (Operand(h, ("m", "n")), Operand(Tensor("gelu.y", (64, 256), 8), ("m", "n"), True)),
             macs=0, flops=8 * 64 * 256)
    add_op(g, act, [("fc1", h)])
    y = act.outputs[0].tensor
    fc2 = Op("fc2", OpKind.MATMUL, (("m", 64), ("n", 64), ("k", 256)),
             (Operand(y, ("m", "k")), Operand(Tensor("fc2.w", (256, 64), 8, Role.WEIGHT), ("k", "n")),
              Operand(Tensor("fc2.y", (64, 64), 8), ("m", "n"), True)), macs=64 * 64 * 256,
             flops=2 * 64 * 64 * 256)
    add_op(g, fc2, [("gelu", y)])
    q = fc2.outputs[0].tensor
    s = Tensor("qk.y", (64, 64), 8)
    qk = Op("qk", OpKind.ATTN_QK, (("q", 64), ("s", 64), ("e", 64)),
            (Operand(q, ("q", "e")), Operand(q, ("s", "e")), Operand(s, ("q", "s"), True)),
            macs=64 ** 3, flops=2 * 64 ** 3, attrs=(("head_dim", 64),))
    add_op(g, qk, [("fc2", q)])
    p = Tensor("sm.y", (64, 64), 8)
    sm = Op("sm", OpKind.SOFTMAX, (("q", 64), ("s", 64)), (Operand(s, ("q", "s")), Operand(p, ("q", "s"), True)),
            macs=0, flops=5 * 64 * 64)
    add_op(g, sm, [("qk", s)])
    av = Op("av", OpKind.ATTN_AV, (("q", 64), ("s", 64), ("e", 64)),
            (Operand(p, ("q", "s")), Operand(q, ("s", "e")), Operand(Tensor("av.y", (64, 64), 8), ("q", "e"), True)),
            macs=64 ** 3, flops=2 * 64 ** 3)
    add_op(g, av, [("sm", p), ("fc2", q)])
    return g


def test_fusion_attention_and_epilogues():
    plan = fuse(_chain_graph(), npu())
    groups = dict(plan.fused_into)
    assert groups["sm"] == "qk" and groups["av"] == "qk"
    assert groups["gelu"] == "fc1"
    assert {"qk.y", "sm.y", "fc1.y"} <= plan.streamed
    tiny = npu(gb_bytes=4 * KB)        # no room for FlashAttention blocks
    assert "sm" not in dict(fuse(_chain_graph(), tiny).fused_into)


def test_map_graph_deterministic_and_non_gemm_ops_cost_cycles():
    g = _chain_graph()
    a = map_graph(g, npu(), seed=5)
    b = map_graph(g, npu(), seed=5)
    assert a == b and hash(a) == hash(b)
    costs = dict(dict(a.attrs)["op_costs"])
    assert costs["gelu"].cycles > 0 and costs["sm"].cycles > 0       # not free
    assert a.for_op("gelu").unit == "vpu" and a.for_op("fc1").unit == "mxu"
    assert a.for_op("av").fused_into == "qk"
    g_ops = {n: g.nodes[n]["op"] for n in g.nodes}
    for m in a.ops:   # the engine's analytic fidelity reproduces the mapper's cost exactly
        assert analytic_cost(g_ops[m.op], m, npu()) == costs[m.op]
    assert "does_not_fit" not in dict(a.attrs)
    assert dict(a.peak_buffer_bytes)["gbuf"] <= 256 * KB


def test_softmax_is_costed_on_the_vector_unit():
    m, cost = map_op(softmax(128, 512), npu(), use_cache=False)
    assert m.unit == "vpu"
    assert cost.compute_cycles >= 5 * 128 * 512 / 32        # flops / lanes


def test_nothing_fits_names_level_tensor_and_shortfall():
    hw = npu(gb_bytes=4)        # 4 B global buffer: not even 1-element tiles (double-buffered) fit
    with pytest.raises(MappingError) as exc:
        map_op(gemm(32, 32, 32), hw, use_cache=False, units=("mxu",))
    reason = exc.value.does_not_fit
    assert isinstance(reason, DoesNotFit)
    assert reason.level == "gbuf" and reason.capacity_bytes == 4
    assert reason.shortfall_bytes > 0 and reason.tensor.startswith("gemm.")
    assert "gbuf" in str(exc.value) and "short by" in str(exc.value)
    mapping = map_graph(_chain_graph(), hw)
    dnf = dict(mapping.attrs)["does_not_fit"]
    assert isinstance(dnf, DoesNotFit) and dnf.shortfall_bytes > 0


def test_pim_partition_k_row_major_v_column_major():
    hw = pim()
    unit = hw.unit("banks")
    k = Tensor("L0.k_cache", (12, 1024, 64), 16, Role.KV_CACHE)
    q = Tensor("q", (12, 1, 64), 16)
    qk = Op("qk", OpKind.ATTN_QK, (("h", 12), ("q", 1), ("s", 1024), ("e", 64)),
            (Operand(q, ("h", "q", "e")), Operand(k, ("h", "s", "e")),
             Operand(Tensor("s", (12, 1, 1024), 16), ("h", "q", "s"), True)),
            macs=12 * 1024 * 64, flops=2 * 12 * 1024 * 64,
            attrs=(("heads", 12), ("kv_heads", 12), ("head_dim", 64)))
    part = pim_partition(qk, hw, unit, "s")
    assert part.layout == "row-major"
    assert part.channels == 8 and part.banks_per_channel == 16
    assert part.heads_per_row == 12        # 2 KB row / (64 × 2 B) = 16 ≥ 12 heads concatenated
    assert part.per_bank == 8              # 1024 tokens / 128 banks
    av = Op("av", OpKind.ATTN_AV, qk.dims, (Operand(Tensor("p", (12, 1, 1024), 16), ("h", "q", "s")),
            Operand(Tensor("L0.v_cache", (12, 1024, 64), 16, Role.KV_CACHE), ("h", "s", "e")),
            Operand(Tensor("o", (12, 1, 64), 16), ("h", "q", "e"), True)), macs=qk.macs,
            flops=qk.flops, attrs=qk.attrs)
    assert pim_partition(av, hw, unit, "e").layout == "column-major"


def test_pim_gemv_runs_in_banks_and_softmax_on_asic():
    hw = pim()
    m, cost = map_op(gemm(1, 2048, 2048, bits=16), hw, use_cache=False)
    assert m.unit == "banks" and cost.utilization > 0.3
    m2, _ = map_op(softmax(1, 2048), hw, use_cache=False)
    assert m2.unit == "asic"


def test_attention_scores_stay_on_chip_when_they_fit():
    """BERT-base encode(512) on tpu-v1: the 12×512×512 int8 scores (3 MiB) fit the 24 MiB unified
    buffer, so the softmax moves no DDR3 byte — whether attention is fused (scores streamed in the
    group) or not (scores placed with the activations in the unified buffer)."""
    from archsim import workloads
    from archsim.hardware import load_hardware
    from archsim.ir import ops_in_order
    from archsim.mapper import op_costs
    from archsim.mapper.graph import _op_placement
    from archsim.mapper.passes.placement import place
    hw = load_hardware("tpu-v1")
    g = workloads.build_graph("bert-base", "encode", seq=512, dtypes="int8")
    sm = next(op for op in ops_in_order(g) if op.kind is OpKind.SOFTMAX)
    assert sm.inputs[0].tensor.size_bytes == 12 * 512 * 512
    m = map_graph(g, hw, only=sm.name)
    cost = op_costs(m)[sm.name]
    assert cost.reads("ddr3") == 0 and cost.writes("ddr3") == 0 and cost.bound == "compute"
    unfused = place(g, hw).as_dict()              # no fusion: nothing streamed
    assert unfused["activation"] == "unified_buffer"
    _, cost = map_op(sm, hw, placement=_op_placement(sm, unfused, frozenset()), use_cache=False)
    assert cost.reads("ddr3") == 0 and cost.writes("ddr3") == 0
    assert cost.reads("unified_buffer") >= sm.inputs[0].tensor.size_bytes


def test_activations_kept_on_chip_pack_into_the_level():
    """MobileNetV5 on the SA8295P: its activations as a whole exceed the 8 MiB VTCM, so placement
    keeps the small ones on chip; their live bytes stayed under the budget while their packed arena
    did not (8.44 MiB: the buffer plan then found the model 'does not fit'). The kept set's arena
    must fit the level."""
    from archsim import workloads
    from archsim.hardware import load_hardware
    from archsim.mapper.passes.buffer_plan import liveness
    from archsim.mapper.passes.placement import place
    hw = load_hardware("sa8295p-npu")
    g = workloads.build_graph("mobilenetv5-300m", "encode", dtypes="int8")
    plan = place(g, hw).as_dict()
    assert plan["activation"] == "lpddr4x"
    kept = [b for b in liveness(g) if plan.get(b.name) == "vtcm"]
    assert kept and arena_plan(kept).arena_bytes <= hw.level("vtcm").size_bytes
