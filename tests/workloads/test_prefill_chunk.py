"""A prefill chunk (`past` > 0): `seq` new tokens after `past` cached positions. Its graph must
hold exactly the work of those tokens: the same projections as a one-pass prefill of `seq` tokens,
attention over all `past + seq` positions, and `seq` positions appended to the cache."""
from __future__ import annotations

from hypothesis import given, settings, strategies as st
import pytest

from archsim.chunked import chunk_plan
from archsim.errors import ModelError
from archsim.ir import OpKind, ops_in_order
from archsim.workloads import build_graph

TINY = {"layers": 2, "hidden": 128, "heads": 4, "kv_heads": 2, "ffn": 256, "vocab": 512}


def _ops(g, kind):
    return [op for op in ops_in_order(g) if op.kind is kind]


def test_chunk_attends_to_past_and_new_positions():
    g = build_graph("llama2-7b", "prefill", seq=48, past=80, overrides=TINY)
    assert (g.graph["seq"], g.graph["context"], g.graph["past"]) == (48, 128, 80)
    qk = _ops(g, OpKind.ATTN_QK)[0]
    assert qk.dim_sizes["q"] == 48 and qk.dim_sizes["s"] == 128
    assert qk.attr("past") == 80 and qk.attr("causal") is True
    append = _ops(g, OpKind.KV_APPEND)[0]
    assert append.dim_sizes["t"] == 48
    cache = next(o.tensor for o in append.operands if o.is_output)
    assert cache.shape[2] == 128                      # the cache holds every position so far


def test_sliding_window_chunk_reads_only_the_window():
    g = build_graph("mistral-7b", "prefill", seq=64, past=10_000, overrides=TINY)
    window = 4096
    assert _ops(g, OpKind.ATTN_QK)[0].dim_sizes["s"] == window + 64 - 1


@settings(max_examples=25, deadline=None)
@given(seq=st.integers(1, 300), chunk=st.integers(1, 300))
def test_chunk_plan_covers_the_prompt_exactly(seq, chunk):
    plan = chunk_plan(seq, chunk)
    covered = [p for past, n in plan for p in range(past, past + n)]
    assert covered == list(range(seq))
    assert all(1 <= n <= chunk for _, n in plan)


@settings(max_examples=8, deadline=None)
@given(seq=st.integers(8, 160), chunk=st.integers(8, 64))
def test_chunks_do_the_prompts_projection_work_and_causal_attention(seq, chunk):
    """Σ projection MACs over the chunks = one pass; attention pairs = Σ tokens × positions seen."""
    one = build_graph("llama2-7b", "prefill", seq=seq, overrides=TINY)
    parts = [build_graph("llama2-7b", "prefill", seq=n, past=past, overrides=TINY)
             for past, n in chunk_plan(seq, chunk)]
    matmul = lambda g: sum(op.macs for op in _ops(g, OpKind.MATMUL))
    assert sum(matmul(g) for g in parts) == matmul(one)
    per_pair = TINY["heads"] * (TINY["hidden"] // TINY["heads"]) * TINY["layers"]
    pairs = sum(n * (past + n) for past, n in chunk_plan(seq, chunk))
    assert sum(op.macs for g in parts for op in _ops(g, OpKind.ATTN_QK)) == pairs * per_pair
    appended = sum(op.dim_sizes["t"] for g in parts for op in _ops(g, OpKind.KV_APPEND))
    assert appended == seq * 2 * TINY["layers"]        # K and V of every position, once


@pytest.mark.parametrize("model, phase, match", [
    ("llama2-7b", "decode", "prefill chunk only"),
    ("mamba-130m", "prefill", "softmax-attention decoders"),
    ("gla-340m", "prefill", "softmax-attention decoders"),
    ("t5-small", "prefill", "softmax-attention decoders"),
])
def test_past_outside_a_decoder_prefill_is_a_clear_error(model, phase, match):
    with pytest.raises(ModelError, match=match):
        build_graph(model, phase, seq=16, past=16)


def test_past_counts_against_learned_positions():
    with pytest.raises(ModelError, match="past \\+ seq 1100 exceeds the model's 1024"):
        build_graph("gpt2-small", "prefill", seq=100, past=1000)


@pytest.mark.parametrize("past", [-1, 1.5, "8"])
def test_bad_past(past):
    with pytest.raises(ModelError, match="past must be a positive integer"):
        build_graph("llama2-7b", "prefill", seq=16, past=past, overrides=TINY)
