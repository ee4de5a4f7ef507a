"""Hypothesis properties of the lowering over random model shapes (the co-search's space)."""
from __future__ import annotations

from hypothesis import given, settings, strategies as st

from archsim.ir import OpKind, graph_totals, ops_in_order
from archsim.workloads import build_graph


@st.composite
def llama_shapes(draw):
    kv = draw(st.sampled_from([1, 2, 4]))
    heads = kv * draw(st.integers(1, 4))
    head_dim = draw(st.sampled_from([16, 32, 64]))
    return {"layers": draw(st.integers(1, 4)), "heads": heads, "kv_heads": kv, "hidden": heads * head_dim,
            "ffn": draw(st.integers(1, 8)) * 64, "vocab": draw(st.integers(100, 5000))}


@settings(max_examples=30, deadline=None)
@given(shape=llama_shapes(), batch=st.integers(1, 4), seq=st.integers(1, 64))
def test_llama_params_and_macs_match_closed_form(shape, batch, seq):
    g = build_graph("llama2-7b", "prefill", batch=batch, seq=seq, overrides=shape)
    L, d, H, G, f, V = (shape[k] for k in ("layers", "hidden", "heads", "kv_heads", "ffn", "vocab"))
    hd = d // H
    per_layer = d * H * hd + 2 * d * G * hd + H * hd * d + 3 * d * f + 2 * d
    assert g.graph["params"] == 2 * V * d + L * per_layer + d
    T = batch * seq
    linear = L * T * (d * H * hd + 2 * d * G * hd + H * hd * d + 3 * d * f) + batch * d * V
    attention = 2 * L * batch * H * seq * seq * hd
    assert graph_totals(g).macs == linear + attention


@settings(max_examples=20, deadline=None)
@given(shape=llama_shapes(), context=st.integers(1, 2000))
def test_decode_costs_grow_with_context_only_in_attention(shape, context):
    short = build_graph("llama2-7b", "decode", context=context, overrides=shape)
    long = build_graph("llama2-7b", "decode", context=context + 100, overrides=shape)
    def split(g):
        attn = sum(op.macs for op in ops_in_order(g) if op.kind in (OpKind.ATTN_QK, OpKind.ATTN_AV))
        return attn, graph_totals(g).macs - attn
    (a1, rest1), (a2, rest2) = split(short), split(long)
    assert rest1 == rest2 and a2 - a1 == 2 * shape["layers"] * shape["heads"] * (shape["hidden"] // shape["heads"]) * 100
    assert graph_totals(long).kv_cache_bytes > graph_totals(short).kv_cache_bytes


@settings(max_examples=15, deadline=None)
@given(image=st.sampled_from([96, 128, 160, 224]), patch=st.sampled_from([8, 16, 32]), batch=st.integers(1, 3))
def test_vit_tokens_and_patch_embedding(image, patch, batch):
    g = build_graph("deit-tiny", "encode", batch=batch, overrides={"image": image, "patch": patch})
    n = (image // patch) ** 2
    assert g.graph["seq"] == n + 1
    embed = g.nodes["patch_embed"]["op"]   # kernel = stride: the GEMM over non-overlapping patches
    assert embed.kind is OpKind.MATMUL and embed.attr("conv_as_gemm")
    assert embed.dim_sizes == {"m": batch * n, "n": 192, "k": 3 * patch * patch}
    assert embed.macs == batch * n * 192 * 3 * patch * patch
