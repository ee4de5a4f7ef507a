"""ONNX import of what exporters emit, on graphs built with onnx.helper: mask / position / rotary
code folded or costed, contrib attention, malformed graphs, fixed shapes, external data, and a
Hypothesis property over random valid graphs."""
from __future__ import annotations

from collections import Counter

import numpy as np
import onnx
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from onnx import TensorProto, helper

from archsim.cli import main
from archsim.errors import ModelError
from archsim.ir import OpKind, graph_totals, ops_in_order
from archsim.workloads import build_graph
from .onnx_builders import attention_mlp_model, chain_model, const, weight

F, I64 = TensorProto.FLOAT, TensorProto.INT64
D = 16


def _save(tmp_path, model, name="m.onnx") -> str:
    path = tmp_path / name
    onnx.save(model, str(path))
    return str(path)


def _kinds(g) -> Counter:
    return Counter(op.kind for op in ops_in_order(g))


def test_mask_and_position_code_is_folded_and_copies_are_costed(tmp_path):
    """Shape → Gather → Unsqueeze → Concat, Range, ConstantOfShape, Trilu, Equal, Where: the
    causal mask and positions are constants (free); a Neg/Concat rotary half-swap, Expand and
    GatherElements on activations move data and are costed."""
    nodes = [
        helper.make_node("Shape", ["x"], ["shape"]),
        helper.make_node("Gather", ["shape", "one"], ["s"], axis=0),
        helper.make_node("Unsqueeze", ["s", "zero_axes"], ["s1"]),
        helper.make_node("Concat", ["s1", "s1"], ["ss"], axis=0),
        helper.make_node("ConstantOfShape", ["ss"], ["ones"], value=helper.make_tensor("v", F, [1], [1.0])),
        helper.make_node("Trilu", ["ones"], ["tri"], upper=0),
        helper.make_node("Equal", ["tri", "zero_f"], ["masked"]),
        helper.make_node("Where", ["masked", "neg_inf", "zero_f"], ["mask"]),
        helper.make_node("Range", ["zero_i", "s", "one_i"], ["pos"]),
        helper.make_node("MatMul", ["x", "wq"], ["q"], name="q_proj"),
        helper.make_node("MatMul", ["x", "wk"], ["k"], name="k_proj"),
        helper.make_node("Slice", ["q", "half", "end", "last"], ["q2"], name="rot_slice"),
        helper.make_node("Neg", ["q2"], ["nq2"], name="rot_neg"),
        helper.make_node("Slice", ["q", "zero_axes", "half", "last"], ["q1"], name="rot_slice1"),
        helper.make_node("Concat", ["nq2", "q1"], ["qr"], axis=-1, name="rot_cat"),
        helper.make_node("Transpose", ["k"], ["kt"], perm=[0, 2, 1]),
        helper.make_node("MatMul", ["qr", "kt"], ["scores"], name="qk"),
        helper.make_node("Add", ["scores", "mask"], ["masked_scores"], name="mask_add"),
        helper.make_node("Softmax", ["masked_scores"], ["p"], axis=-1, name="softmax"),
        helper.make_node("MatMul", ["p", "x"], ["ctx"], name="av"),
        helper.make_node("Unsqueeze", ["pos", "zero_axes"], ["pos2"]),
        helper.make_node("Unsqueeze", ["pos2", "last"], ["pos3"]),
        helper.make_node("Expand", ["pos3", "ctx_shape"], ["idx"]),
        helper.make_node("Shape", ["ctx"], ["ctx_shape"]),
        helper.make_node("GatherElements", ["ctx", "idx"], ["picked"], axis=1, name="gather_el"),
    ]
    inits = [weight("wq", (D, D)), weight("wk", (D, D)), const("one", 1), const("zero_axes", [0]),
             const("zero_f", 0.0, np.float32), const("neg_inf", -1e9, np.float32), const("zero_i", 0),
             const("one_i", 1), const("half", [D // 2]), const("end", [D]), const("last", [-1])]
    model = chain_model(nodes, [("x", F, ["batch", "seq", D])], [("picked", F, ["batch", "seq", D])], inits)
    g = build_graph(_save(tmp_path, model), batch=2, seq=6)
    kinds = _kinds(g)
    assert kinds[OpKind.ATTN_QK] == 1 and kinds[OpKind.ATTN_AV] == 1 and kinds[OpKind.MATMUL] == 2
    copies = {op.name for op in ops_in_order(g) if op.kind is OpKind.COPY}
    assert copies == {"rot_slice", "rot_slice1", "rot_cat", "gather_el"}   # the Expand is of constants
    assert "rot_neg" in g and g.nodes["mask_add"]["op"].kind is OpKind.ADD
    # the mask is a (seq, seq) constant: stored data, not a parameter
    assert graph_totals(g).params == 2 * D * D
    assert graph_totals(g).macs == 2 * 6 * (2 * D * D) + 2 * (2 * 6 * 6 * D)
    assert g.has_edge("rot_cat", "qk") and g.has_edge("softmax", "av")


@pytest.mark.parametrize("causal", [0, 1])
def test_contrib_attention_and_multihead_attention(tmp_path, causal):
    heads, s = 4, 10
    nodes = [
        helper.make_node("Attention", ["x", "w_qkv", "b_qkv"], ["a"], domain="com.microsoft",
                         num_heads=heads, unidirectional=causal, name="attn"),
        helper.make_node("MatMul", ["a", "wq"], ["q"], name="q"),
        helper.make_node("MultiHeadAttention", ["q", "a", "a"], ["m"], domain="com.microsoft",
                         num_heads=heads, name="mha"),
        helper.make_node("SkipLayerNormalization", ["m", "x", "g", "b"], ["y"], domain="com.microsoft",
                         name="skip_ln"),
        helper.make_node("FastGelu", ["y", "b"], ["z"], domain="com.microsoft", name="gelu"),
    ]
    inits = [weight("w_qkv", (D, 3 * D)), weight("b_qkv", (3 * D,)), weight("wq", (D, D)),
             weight("g", (D,)), weight("b", (D,))]
    model = chain_model(nodes, [("x", F, ["batch", "seq", D])], [("z", F, ["batch", "seq", D])], inits)
    g = build_graph(_save(tmp_path, model), batch=2, seq=s)
    t = graph_totals(g)
    assert t.params == D * 3 * D + 3 * D + D * D + 2 * D
    attention = 2 * (2 * 2 * s * s * D)      # two attentions, QKᵀ and PV each b·s·s·D
    assert t.macs == 2 * s * (3 * D * D + D * D) + attention
    assert g.nodes["attn.qk"]["op"].attr("causal") is bool(causal)
    assert _kinds(g)[OpKind.SOFTMAX] == 2 and g.nodes["skip_ln"]["op"].kind is OpKind.LAYERNORM
    assert g.has_edge("attn.av", "q") and g.has_edge("mha.av", "skip_ln") and g.has_edge("skip_ln", "gelu")


@pytest.mark.parametrize("opset", [14, 17, onnx.defs.onnx_opset_version()])
def test_opsets_from_14_to_the_current_one(tmp_path, opset):
    nodes = [helper.make_node("MatMul", ["x", "w"], ["h"], name="proj"),
             helper.make_node("Reshape", ["h", "split"], ["h4"]),
             helper.make_node("Softmax", ["h4"], ["p"], axis=-1, name="softmax"),
             helper.make_node("Relu", ["p"], ["y"], name="relu")]
    model = chain_model(nodes, [("x", F, ["batch", "seq", D])], [("y", F, ["batch", "seq", 4, 4])],
                        [weight("w", (D, D)), const("split", [0, 0, 4, 4])], opset=opset)
    g = build_graph(_save(tmp_path, model), batch=2, seq=5)
    assert graph_totals(g).macs == 2 * 5 * D * D and g.has_edge("proj", "softmax")


def test_conv1d_and_strided_conv(tmp_path):
    nodes = [helper.make_node("Conv", ["x", "w1", "b1"], ["h"], pads=[1, 1], name="conv1"),
             helper.make_node("Conv", ["h", "w2"], ["y"], pads=[1, 1], strides=[2], name="conv2")]
    inits = [weight("w1", (D, 8, 3)), weight("b1", (D,)), weight("w2", (D, D, 3))]
    model = chain_model(nodes, [("x", F, [1, 8, 32])], [("y", F, [1, D, 16])], inits)
    g = build_graph(_save(tmp_path, model))
    c1, c2 = g.nodes["conv1"]["op"], g.nodes["conv2"]["op"]
    assert c1.kind is OpKind.CONV2D and c1.dim_sizes == {"m": 32, "n": D, "k": 8 * 3}
    assert c2.dim_sizes == {"m": 16, "n": D, "k": D * 3} and c2.attr("stride") == (1, 2)
    assert graph_totals(g).params == D * 8 * 3 + D + D * D * 3 and g.has_edge("conv1", "conv2")
    assert g.graph["seq"] is None      # a fixed (batch, channels, length) input has no token axis


def test_fixed_shape_file_refuses_another_seq(tmp_path):
    model = chain_model([helper.make_node("MatMul", ["x", "w"], ["y"])], [("x", F, [1, 64, D])],
                        [("y", F, [1, 64, D])], [weight("w", (D, D))])
    path = _save(tmp_path, model)
    g = build_graph(path)
    assert (g.graph["batch"], g.graph["seq"]) == (1, None)
    assert build_graph(path, seq=64).graph["seq"] == 64
    with pytest.raises(ModelError, match=r"fixed shape \(1, 64, 16\).*sequence length is 64, not 128"):
        build_graph(path, seq=128)
    with pytest.raises(ModelError, match=r"fixed shape \(1, 64, 16\).*batch is 1, not 4"):
        build_graph(path, batch=4)


def test_json_metadata_is_the_built_graphs(tmp_path, capsys):
    import json
    path = _save(tmp_path, attention_mlp_model())
    assert main(["graph", path, "--seq", "24", "--batch", "3", "--json"]) == 0
    meta = json.loads(capsys.readouterr().out)
    assert (meta["batch"], meta["seq"]) == (3, 24)


def test_unsupported_ops_by_name_on_the_cli(tmp_path, capsys):
    path = _save(tmp_path, attention_mlp_model(("FancyNorm", "FancyNorm", "Mystery")))
    assert main(["graph", path, "--json"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert "FancyNorm ×2" in err and "Mystery ×1" in err
    assert main(["graph", path, "--json", "--model-set", "skip_unknown_ops=true"]) == 0
    out = capsys.readouterr().out
    assert '"copy"' in out


def test_skipped_ops_are_costed_as_copies_with_a_note(tmp_path):
    from archsim.api import simulate
    g = build_graph(_save(tmp_path, attention_mlp_model(("Mystery",))), overrides={"skip_unknown_ops": True})
    op = g.nodes["extra0"]["op"]
    assert op.kind is OpKind.COPY and op.attr("skipped_op") == "Mystery" and op.total_bytes > 0
    assert g.has_edge("residual2", "extra0")
    result = simulate(g, "edge-npu", budget=5)
    assert any("Mystery ×1" in n for n in result.notes)


@pytest.mark.parametrize("build,message", [
    (lambda: chain_model([helper.make_node("MatMul", ["x", "w"], ["y"])], [("x", F, ["b", "s", D])],
                         [("y", F, ["b", "s", 8])], [weight("w", (D + 1, 8))]), "shape inference failed"),
    (lambda: chain_model([helper.make_node("Add", ["x", "c"], ["a"], name="n1"),
                          helper.make_node("Relu", ["a"], ["c"], name="n2")],
                         [("x", F, ["b", "s", D])], [("a", F, ["b", "s", D])]), "cycle through 2 node"),
    (lambda: chain_model([helper.make_node("Relu", ["nowhere"], ["y"], name="r")],
                         [("x", F, ["b", "s", D])], [("y", F, ["b", "s", D])]), "which no node"),
    (lambda: chain_model([helper.make_node("Relu", ["x"], ["y"])], [("x", F, ["b", "s", D])],
                         [("y", F, ["b", "s", D])], opset=11), "opset 11 is older than 14"),
])
def test_malformed_graphs_are_clear_errors(tmp_path, build, message):
    with pytest.raises(ModelError, match=message) as info:
        build_graph(_save(tmp_path, build()))
    assert "\n" not in str(info.value)


def test_external_data_outside_the_models_folder_is_refused(tmp_path):
    inner = tmp_path / "model"
    inner.mkdir()
    model = attention_mlp_model()
    onnx.save(model, str(tmp_path / "m.onnx"), save_as_external_data=True, all_tensors_to_one_file=True,
              location="weights.bin", size_threshold=0)
    loaded = onnx.load(str(tmp_path / "m.onnx"), load_external_data=False)
    for init in loaded.graph.initializer:
        for entry in init.external_data:
            if entry.key == "location":
                entry.value = "../weights.bin"
    onnx.save(loaded, str(inner / "m.onnx"))
    with pytest.raises(ModelError, match=r"'\.\./weights\.bin' is outside the model's folder"):
        build_graph(str(inner / "m.onnx"))


# -- random valid graphs ------------------------------------------------------------------------
_UNARY = ("Relu", "Neg", "Sigmoid", "Tanh", "Erf", "Abs", "Identity", "Softmax")
_BINARY = ("Add", "Mul", "Sub", "Max")


@st.composite
def random_graph(draw):
    """A small valid graph on x (batch, seq, 8): unary, binary, MatMul with a weight, Transpose,
    Concat, Slice, LayerNormalization, ReduceMean, Where(Equal) chains. Returns (model, MACs per
    token-row of matmuls, params)."""
    tensors = [("x", 8)]      # (name, last dim); all are (batch, seq, last)
    nodes, inits = [], [const("axis_last", [-1]), const("zero", [0])]
    macs_per_row, params = 0, 0
    for i in range(draw(st.integers(1, 8))):
        name, width = draw(st.sampled_from(tensors))
        out = f"t{i}"
        kind = draw(st.sampled_from(("unary", "binary", "matmul", "concat", "slice", "norm", "reduce", "where")))
        same = [t for t in tensors if t[1] == width]
        if kind == "unary":
            op = draw(st.sampled_from(_UNARY))
            nodes.append(helper.make_node(op, [name], [out], **({"axis": -1} if op == "Softmax" else {})))
        elif kind == "binary":
            other, _ = draw(st.sampled_from(same))
            nodes.append(helper.make_node(draw(st.sampled_from(_BINARY)), [name, other], [out]))
        elif kind == "matmul":
            n = draw(st.sampled_from((4, 8, 16)))
            inits.append(weight(f"w{i}", (width, n)))
            nodes.append(helper.make_node("MatMul", [name, f"w{i}"], [out]))
            macs_per_row, params, width = macs_per_row + width * n, params + width * n, n
        elif kind == "concat":
            other, w2 = draw(st.sampled_from(tensors))
            nodes.append(helper.make_node("Concat", [name, other], [out], axis=-1))
            width = width + w2
        elif kind == "slice" and width >= 2:
            inits.append(const(f"end{i}", [width // 2]))
            nodes.append(helper.make_node("Slice", [name, "zero", f"end{i}", "axis_last"], [out]))
            width = width // 2
        elif kind == "norm":
            inits += [weight(f"g{i}", (width,)), weight(f"b{i}", (width,))]
            nodes.append(helper.make_node("LayerNormalization", [name, f"g{i}", f"b{i}"], [out], axis=-1))
            params += 2 * width if width > 1 else 0    # single-element tensors are constants
        elif kind == "reduce":
            nodes.append(helper.make_node("ReduceMean", [name], [out], axes=[-1], keepdims=1))
            width = 1
        else:
            other, _ = draw(st.sampled_from(same))
            nodes += [helper.make_node("Equal", [name, other], [f"eq{i}"]),
                      helper.make_node("Where", [f"eq{i}", name, other], [out])]
        tensors.append((out, width))
    last, width = tensors[-1]
    model = chain_model(nodes, [("x", F, ["batch", "seq", 8])], [(last, F, ["batch", "seq", width])], inits)
    return model, macs_per_row, params


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=random_graph(), batch=st.integers(1, 3), seq=st.integers(1, 9))
def test_random_valid_graphs_import_with_exact_counts(tmp_path, case, batch, seq):
    model, macs_per_row, params = case
    onnx.checker.check_model(model, full_check=True)
    g = build_graph(_save(tmp_path, model), batch=batch, seq=seq)
    t = graph_totals(g)
    assert t.macs == batch * seq * macs_per_row and t.params == params
    assert (g.graph["batch"], g.graph["seq"]) == (batch, seq)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=random_graph(), data=st.data())
def test_broken_random_graphs_are_model_errors(tmp_path, case, data):
    """Rewire one node input to a tensor of another width or a missing name: a ModelError (or a
    graph, when the rewiring happens to stay valid), never another exception."""
    model = case[0]
    node = data.draw(st.sampled_from(list(model.graph.node)))
    slot = data.draw(st.integers(0, len(node.input) - 1))
    names = ["x", "missing"] + [o for n in model.graph.node for o in n.output]
    node.input[slot] = data.draw(st.sampled_from(names))
    try:
        build_graph(_save(tmp_path, model), batch=2, seq=3)
    except ModelError as exc:
        assert "\n" not in str(exc)


def test_the_advice_for_unsupported_ops_works_on_simulate(tmp_path, capsys):
    """The error names the flag to pass; passing exactly that flag to `simulate` runs the model (the
    message once named a `--set` flag that `simulate` does not have)."""
    import re
    path = _save(tmp_path, attention_mlp_model(("Mystery",)))
    base = ["simulate", "--model", path, "--hw", "edge-npu", "--seq", "8", "--quiet",
            "--json", str(tmp_path / "r.json")]
    assert main(base) == 2
    advice = re.search(r"\((--[\w-]+) (\w+=\w+)\)", capsys.readouterr().err)
    assert advice, "the error should name a flag and its value"
    assert main(base + [advice.group(1), advice.group(2)]) == 0
    assert main(["graph", path, "--json", "--set", "skip_unknown_ops=true"]) == 0   # old spelling kept
