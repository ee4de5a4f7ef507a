"""FLOP and KV-cache laws: decode FLOPs per token = 2 × active params + the attention term;
prefill attention FLOPs ∝ seq²; KV bytes = 2 × layers × kv_heads × head_dim × context × batch × bytes."""
from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from archsim.ir import DTYPE_BITS, OpKind, Role, graph_totals, ops_in_order
from archsim.workloads import build_graph, model_config

DECODERS = ["gpt2-small", "gpt2-xl", "opt-1.3b", "llama2-7b", "llama2-70b", "llama3-8b", "mistral-7b",
            "mixtral-8x7b", "llama-34b-gqa"]
LINEAR_KINDS = (OpKind.MATMUL, OpKind.LM_HEAD, OpKind.MOE_ROUTER)
ATTENTION_KINDS = (OpKind.ATTN_QK, OpKind.ATTN_AV)


def _sum(graph, kinds, field="flops"):
    return sum(getattr(op, field) for op in ops_in_order(graph) if op.kind in kinds)


@pytest.mark.parametrize("name", DECODERS)
def test_decode_flops_are_twice_active_params_plus_attention(name):
    cfg = model_config(name)
    context = 640
    g = build_graph(name, "decode", batch=1, context=context)
    meta = g.graph
    usage = meta["params_by_usage"]
    # parameters that are not matmul weights: lookup tables (unless tied to the LM head), norms, biases
    lookup_only = usage.get("lookup", 0) - (cfg.vocab * cfg.hidden if cfg.tied_embeddings else 0)
    biases = usage.get("bias", 0)
    matmul_active = meta["active_params"] - lookup_only - usage.get("norm", 0) - biases
    assert _sum(g, LINEAR_KINDS) == 2 * matmul_active + biases
    attention = 4 * cfg.layers * cfg.heads * cfg.head_dim_eff * context
    assert _sum(g, ATTENTION_KINDS) == attention
    # everything together: 2 × (active params − lookup tables) + attention, up to norms and
    # elementwise work (< 1 %)
    total = graph_totals(g).flops
    assert abs(total - (2 * (meta["active_params"] - lookup_only) + attention)) / total < 0.01


@pytest.mark.parametrize("name", ["gpt2-small", "llama2-7b", "llama3-8b", "mixtral-8x7b", "bert-base", "vit-b16"])
def test_prefill_attention_flops_scale_with_seq_squared(name):
    cfg = model_config(name)
    phase = cfg.phases[0]
    if cfg.family == "vit":
        small = build_graph(name, phase, overrides={"image": 112})
        large = build_graph(name, phase)
        s1, s2 = small.graph["seq"], large.graph["seq"]
    else:
        s1, s2 = 128, 256
        small, large = build_graph(name, phase, seq=s1), build_graph(name, phase, seq=s2)
    kinds = ATTENTION_KINDS + (OpKind.SOFTMAX,)
    a1 = sum(op.flops for op in ops_in_order(small) if op.kind in kinds and ".attn" in op.name)
    a2 = sum(op.flops for op in ops_in_order(large) if op.kind in kinds and ".attn" in op.name)
    assert a2 * s1 * s1 == a1 * s2 * s2
    if cfg.family != "vit" and not cfg.experts:  # per-token linear layers scale linearly
        per_layer = lambda g: sum(op.flops for op in ops_in_order(g) if op.kind is OpKind.MATMUL and op.layer >= 0)
        assert per_layer(large) == 2 * per_layer(small)


KV_MODELS = ["gpt2-small", "llama2-7b", "llama2-70b", "llama3-8b", "mixtral-8x7b", "llama-34b-gqa", "mistral-7b"]


@settings(max_examples=25, deadline=None)
@given(name=st.sampled_from(KV_MODELS), batch=st.integers(1, 8), context=st.integers(1, 4096),
       kv=st.sampled_from(["fp32", "bf16", "fp16", "int8", "int4", "int2"]))
def test_kv_cache_bytes_law(name, batch, context, kv):
    cfg = model_config(name)
    if cfg.max_positions:
        context = min(context, cfg.max_positions)
    g = build_graph(name, "decode", batch=batch, context=context, dtypes={"kv": kv})
    bits = DTYPE_BITS[kv]
    expected = 2 * cfg.layers * cfg.kv_heads_eff * cfg.head_dim_eff * context * batch * bits // 8
    assert graph_totals(g).kv_cache_bytes == expected
    caches = {o.tensor.name: o.tensor for op in ops_in_order(g) for o in op.operands if o.tensor.role is Role.KV_CACHE}
    assert len(caches) == 2 * cfg.layers
    assert all(t.shape == (batch, cfg.kv_heads_eff, context, cfg.head_dim_eff) for t in caches.values())


def test_gqa_shrinks_kv_cache_by_group_size():
    mha = graph_totals(build_graph("llama2-70b", "decode", context=1000, overrides={"kv_heads": 64}))
    gqa = graph_totals(build_graph("llama2-70b", "decode", context=1000))
    assert mha.kv_cache_bytes == 8 * gqa.kv_cache_bytes


def test_mistral_sliding_window_caps_the_cache():
    g = build_graph("mistral-7b", "decode", context=10_000)
    assert graph_totals(g).kv_cache_bytes == 2 * 32 * 8 * 128 * 4096 * 2
    qk = g.nodes["L0.attn.qk"]["op"]
    assert qk.dim_sizes["s"] == 4096 and qk.attr("window") == 4096


def test_decode_has_append_and_reads_the_cache():
    g = build_graph("llama3-8b", "decode", batch=2, context=300)
    kinds = [op.kind for op in ops_in_order(g)]
    assert kinds.count(OpKind.KV_APPEND) == 2 * 32
    qk = g.nodes["L3.attn.qk"]["op"]
    assert qk.attr("heads") == 32 and qk.attr("kv_heads") == 8 and qk.attr("head_dim") == 128
    assert qk.attr("causal") is True
    assert any(o.tensor.role is Role.KV_CACHE for o in qk.operands)
    assert g.has_edge("L3.attn.k_append", "L3.attn.qk")


def test_moe_counts_only_top_k_experts_per_token():
    g1 = build_graph("mixtral-8x7b", "decode", batch=1, context=16)
    experts = [op for op in ops_in_order(g1) if op.attr("experts_active")]
    assert experts and all(op.attr("experts_active") == 2 for op in experts if op.kind is OpKind.MATMUL)
    meta = g1.graph
    assert meta["params"] > meta["active_params"]
    assert meta["idle_weight_bytes"] == (meta["params"] - meta["active_params"]) * 2
    assert graph_totals(g1).weight_bytes < meta["weight_bytes_total"]
    # a large prefill batch touches every expert
    g2 = build_graph("mixtral-8x7b", "prefill", seq=64)
    assert {op.attr("experts_active") for op in ops_in_order(g2) if op.kind is OpKind.MATMUL and op.attr("experts")} == {8}


def test_mamba_and_gla_state_does_not_grow_with_context():
    for name in ("mamba-130m", "gla-340m", "matmulfree-370m"):
        short = graph_totals(build_graph(name, "decode", context=16))
        long = graph_totals(build_graph(name, "decode", context=16_000))
        assert short.kv_cache_bytes == long.kv_cache_bytes > 0
        assert short.flops == long.flops


def test_selective_scan_flops():
    cfg = model_config("mamba-130m")
    g = build_graph("mamba-130m", "prefill", batch=2, seq=100)
    scan = g.nodes["L0.scan"]["op"]
    tokens, di, n = 200, 2 * cfg.hidden, cfg.d_state
    assert scan.kind is OpKind.SELECTIVE_SCAN
    assert scan.flops == 9 * tokens * di * n + 4 * tokens * di
    assert scan.macs == 2 * tokens * di * n


def test_linear_attention_override_replaces_softmax():
    g = build_graph("llama2-7b", "prefill", seq=256, overrides={"attention": "gated-linear", "layers": 2})
    kinds = {op.kind for op in ops_in_order(g)}
    assert OpKind.GLA_RECURRENCE in kinds and OpKind.ATTN_QK not in kinds
