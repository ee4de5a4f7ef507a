"""Hyperparameter overrides (the co-search's knobs), dtypes, and the MCUFormer search space."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from archsim.errors import ModelError
from archsim.ir import OpKind, Role, graph_totals, ops_in_order
from archsim.workloads import build_graph, model_config
from archsim.workloads.lowering import lowrank_rank

ROOT = Path(__file__).resolve().parents[2]


def test_overrides_change_shape_and_params():
    base = build_graph("llama2-7b", seq=32).graph["params"]
    fewer = build_graph("llama2-7b", seq=32, overrides={"layers": 16}).graph["params"]
    per_layer = 4 * 4096 * 4096 + 3 * 4096 * 11008 + 2 * 4096
    assert base - fewer == 16 * per_layer


def test_mlp_ratio_sets_ffn_from_hidden():
    g = build_graph("vit-b16", overrides={"hidden": 384, "heads": 6, "mlp_ratio": 3.0})
    fc1 = g.nodes["L0.mlp.fc1"]["op"]
    assert fc1.dim_sizes["n"] == 1152 and fc1.dim_sizes["k"] == 384


def test_experts_and_top_k_overrides():
    g = build_graph("mixtral-8x7b", "decode", context=8, overrides={"experts": 4, "top_k": 1})
    meta = g.graph
    expert = 3 * 4096 * 14336
    assert meta["params"] - meta["active_params"] == 32 * 3 * expert


@pytest.mark.parametrize("overrides,message", [
    ({"layrs": 2}, "did you mean 'layers'"),
    ({"heads": 7}, "not divisible by heads 7"),
    ({"top_k": 9}, "top_k must be in 1..experts=8"),
    ({"attention": "sparse"}, "attention 'sparse' is not known"),
    ({"layers": 1.5}, "layers must be an integer"),
    ({"rank_ratio": 0}, "rank_ratio must be in (0, 1]"),
])
def test_bad_overrides(overrides, message):
    with pytest.raises(ModelError) as info:
        build_graph("mixtral-8x7b", seq=8, overrides=overrides)
    assert message in str(info.value)


@pytest.mark.parametrize("dtypes,bits", [("int4", (4, 4, 4)), ({"weights": "int2"}, (2, 16, 16)),
                                         ("weights=int8,activations=fp16,kv=int4", (8, 16, 4)),
                                         ({"weights": "fp32", "kv": "fp8"}, (32, 16, 8))])
def test_dtypes_per_tensor_class(dtypes, bits):
    g = build_graph("llama2-7b", "decode", context=16, dtypes=dtypes, overrides={"layers": 2})
    seen = {Role.WEIGHT: set(), Role.ACTIVATION: set(), Role.KV_CACHE: set()}
    for op in ops_in_order(g):
        for o in op.operands:
            seen.setdefault(o.tensor.role, set()).add(o.tensor.dtype_bits)
    assert (seen[Role.WEIGHT], seen[Role.ACTIVATION], seen[Role.KV_CACHE]) == tuple({b} for b in bits)
    t = graph_totals(g)
    assert t.weight_bytes == g.graph["weight_bytes_total"]


def test_bad_dtype_class():
    with pytest.raises(ModelError, match="did you mean 'weights'"):
        build_graph("gpt2-small", dtypes={"weight": "int8"})


@settings(max_examples=20, deadline=None)
@given(embed=st.sampled_from([168, 192, 216]), depth=st.sampled_from([12, 13, 14]), heads=st.sampled_from([3, 4]),
       mlp=st.sampled_from([3.5, 4.0]), rank=st.floats(0.40, 0.95), patch=st.sampled_from([16, 20, 24, 28, 32]))
def test_mcuformer_points(embed, depth, heads, mlp, rank, patch):
    name = f"mcuformer:embed={embed},depth={depth},heads={heads},mlp={mlp},rank={rank:.3f},patch={patch}"
    g = build_graph(name, "encode")
    tokens = (240 // patch) ** 2 + 1
    assert g.graph["seq"] == tokens
    ffn = int(round(embed * mlp))
    r = lowrank_rank(embed, ffn, float(f"{rank:.3f}"))
    fc1 = [op for op in ops_in_order(g) if op.name.startswith("L0.mlp.fc1")]
    if r * (embed + ffn) < embed * ffn:
        assert [op.dim_sizes["n"] for op in fc1] == [r, ffn]
    else:
        assert len(fc1) == 1
    qk = g.nodes["L0.attn.qk"]["op"]
    assert qk.dim_sizes["q"] == tokens and qk.attr("heads") == heads
    assert max(op.layer for op in ops_in_order(g)) == depth - 1


def test_mcuformer_low_rank_reduces_params():
    dense = build_graph("mcuformer:rank=1").graph["params"]
    low = build_graph("mcuformer:rank=0.4").graph["params"]
    assert low < 0.75 * dense


def test_vit_seq_must_match_image():
    with pytest.raises(ModelError, match="does not match the 197 tokens"):
        build_graph("vit-b16", seq=100)
    assert build_graph("vit-b16", seq=197).graph["seq"] == 197


def test_t5_phases():
    cfg = model_config("t5-small")
    enc = build_graph("t5-small", "encode", seq=64)
    dec = build_graph("t5-small", "decode", seq=64, context=10)
    kinds = {op.kind for op in ops_in_order(dec)}
    assert OpKind.KV_APPEND in kinds
    # decode: self cache of 10 + cross cache of 64 positions per layer, K and V
    assert graph_totals(dec).kv_cache_bytes == 2 * cfg.decoder_layers * 8 * 64 * (10 + 64) * 2
    assert enc.graph["params"] == dec.graph["params"] == build_graph("t5-small").graph["params"]


def test_benchmark_prints_one_json_line_under_target():
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "lower.py")], capture_output=True, text=True,
                          timeout=120, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 1
    import json
    data = json.loads(lines[0])
    for case in ("llama2-70b_prefill_4096", "gpt2-xl_decode_1024"):
        assert data[case]["best_s"] < 1.0, data
