"""Parameter counts of every zoo model against the published figures (tests/workloads/published_params.py),
and structural invariants of every model's graph in every phase it supports."""
from __future__ import annotations

import networkx as nx
import pytest

from archsim.ir import OpKind, Role, graph_totals, ops_in_order
from archsim.workloads import build_graph, list_models, model_config
from archsim.workloads.zoo import ZOO
from .published_params import NO_PUBLISHED, PUBLISHED, PUBLISHED_ACTIVE

ROWS = {r.name: r for r in list_models()}


def test_every_zoo_model_has_a_published_figure_or_a_reason():
    assert set(ROWS) == set(PUBLISHED) | set(NO_PUBLISHED)
    assert not set(PUBLISHED) & set(NO_PUBLISHED)


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_params_match_published(name):
    published, source, tol = PUBLISHED[name]
    got = ROWS[name].params
    assert abs(got - published) <= tol * published, f"{name}: {got:,} vs {published:,.0f} ({source})"


@pytest.mark.parametrize("name", sorted(PUBLISHED_ACTIVE))
def test_active_params_match_published(name):
    published, source, tol = PUBLISHED_ACTIVE[name]
    got = ROWS[name].active_params
    assert abs(got - published) <= tol * published, f"{name}: {got:,} vs {published:,.0f} ({source})"


def test_dense_models_have_all_params_active():
    for row in ROWS.values():
        if not model_config(row.name).experts:
            assert row.active_params == row.params, row.name


def test_m3vit_against_hand_count():
    d, layers, f, fe, experts, top_k, tokens = 192, 12, 768, 384, 16, 2, 129
    attn = 4 * (d * d + d)
    norms = 2 * 2 * d
    dense_mlp = d * f + f + f * d + d
    expert = d * fe + fe + fe * d + d
    router = d * experts
    moe_layers = layers // 2
    embed = 16 * 16 * 3 * d + d + d + tokens * d
    total = (embed + layers * (attn + norms) + (layers - moe_layers) * dense_mlp
             + moe_layers * (experts * expert + router) + 2 * d)
    active = total - moe_layers * (experts - top_k) * expert
    assert ROWS["m3vit"].params == total
    assert ROWS["m3vit"].active_params == active
    g = build_graph("m3vit", "encode")
    assert g.graph["seq"] == tokens  # 256×128 image, 16×16 patches, + CLS


def test_mcuformer_default_is_deit_tiny_at_240():
    deit = ROWS["deit-tiny"].params
    # same blocks; the position table grows from 197 to 226 tokens at 240×240
    assert ROWS["mcuformer"].params == deit + (226 - 197) * 192


def _phases():
    for name in sorted(ZOO):
        for phase in ZOO[name].phases:
            yield name, phase


@pytest.mark.parametrize("name,phase", list(_phases()))
def test_graph_invariants(name, phase):
    kw = {"seq": 32} if phase in ("prefill",) or (phase == "encode" and ZOO[name].family in ("encoder", "t5")) else {}
    if phase == "decode":
        kw = {"context": 48}
    g = build_graph(name, phase, batch=2, **kw)
    assert nx.is_directed_acyclic_graph(g)
    assert g.number_of_edges() >= g.number_of_nodes() - 4
    meta = g.graph
    for key in ("model", "family", "phase", "batch", "seq", "context", "params", "active_params", "dtypes"):
        assert key in meta, key
    for op in ops_in_order(g):
        assert op.macs >= 0 and op.flops >= 0
        if op.kind.is_contraction and op.kind not in (OpKind.GLA_RECURRENCE,):
            assert op.flops >= 2 * op.macs, op.name
        assert sum(o.is_output for o in op.operands) == 1
        sizes = op.dim_sizes
        for o in op.operands:
            assert set(o.dims) <= set(sizes), (op.name, o.dims)
    t = graph_totals(g)
    assert t.macs > 0 and t.flops > t.macs
    assert t.weight_bytes <= meta["weight_bytes_total"]
    if phase == "decode" and meta["family"] in ("decoder", "t5"):
        assert t.kv_cache_bytes > 0


def test_matmulfree_weights_are_ternary():
    g = build_graph("matmulfree-370m", "decode", context=8)
    blocks = [op for op in ops_in_order(g) if op.kind is OpKind.MATMUL]
    assert blocks and all(op.attr("ternary") for op in blocks)
    for op in blocks:
        w = [o.tensor for o in op.operands if o.tensor.role is Role.WEIGHT][0]
        assert w.dtype_bits == 2
    head = g.nodes["lm_head"]["op"]
    assert [o.tensor.dtype_bits for o in head.operands if o.tensor.role is Role.WEIGHT] == [16]
    # explicit user dtype wins
    g8 = build_graph("matmulfree-370m", "decode", context=8, dtypes="int8")
    assert {o.tensor.dtype_bits for op in ops_in_order(g8) for o in op.operands if o.tensor.role is Role.WEIGHT} == {8}


def test_swin_and_efficientformer_macs_match_published():
    # Liu et al. 2021: Swin-T 4.5 GFLOPs (multiply-adds); Li et al. 2022: EfficientFormer-L1 1.3 GMACs
    swin = graph_totals(build_graph("swin-t", "encode")).macs
    eff = graph_totals(build_graph("efficientformer-l1", "encode")).macs
    assert abs(swin - 4.5e9) / 4.5e9 < 0.02
    assert abs(eff - 1.3e9) / 1.3e9 < 0.02
