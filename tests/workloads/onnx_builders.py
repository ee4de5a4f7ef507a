"""Small ONNX models built with onnx.helper at test time (no files checked in)."""
from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

D, HEADS, FFN = 64, 4, 256
HD = D // HEADS


def _init(name: str, shape: tuple[int, ...]) -> onnx.TensorProto:
    rng = np.random.default_rng(abs(hash(name)) % 2**32)
    return numpy_helper.from_array(rng.standard_normal(shape).astype(np.float32), name)


def attention_mlp_model(extra_ops: tuple[str, ...] = ()) -> onnx.ModelProto:
    """LayerNorm → Q/K/V → heads → QKᵀ/√d → Softmax → PV → merge → out proj → residual →
    LayerNorm → FC1 + bias → GELU (Erf form) → FC2 → residual. Input X: (batch, seq, D) symbolic.
    `extra_ops` appends custom-domain nodes of those types (to test unknown-op reporting)."""
    weights = [
        _init("ln1.g", (D,)), _init("ln1.b", (D,)), _init("wq", (D, D)), _init("wk", (D, D)),
        _init("wv", (D, D)), _init("wo", (D, D)), _init("ln2.g", (D,)), _init("ln2.b", (D,)),
        _init("w1", (D, FFN)), _init("b1", (FFN,)), _init("w2", (FFN, D)),
    ]
    shapes = [
        numpy_helper.from_array(np.array([0, 0, HEADS, HD], dtype=np.int64), "split_heads"),
        numpy_helper.from_array(np.array([0, 0, D], dtype=np.int64), "merge_heads"),
    ]
    c = lambda name, value: helper.make_node("Constant", [], [name], value=numpy_helper.from_array(
        np.array(value, dtype=np.float32), name + "_v"))
    nodes = [
        helper.make_node("LayerNormalization", ["X", "ln1.g", "ln1.b"], ["h"], axis=-1, name="ln1"),
        helper.make_node("MatMul", ["h", "wq"], ["q"], name="q_proj"),
        helper.make_node("MatMul", ["h", "wk"], ["k"], name="k_proj"),
        helper.make_node("MatMul", ["h", "wv"], ["v"], name="v_proj"),
        helper.make_node("Reshape", ["q", "split_heads"], ["q4"]),
        helper.make_node("Reshape", ["k", "split_heads"], ["k4"]),
        helper.make_node("Reshape", ["v", "split_heads"], ["v4"]),
        helper.make_node("Transpose", ["q4"], ["qh"], perm=[0, 2, 1, 3]),
        helper.make_node("Transpose", ["k4"], ["kt"], perm=[0, 2, 3, 1]),
        helper.make_node("Transpose", ["v4"], ["vh"], perm=[0, 2, 1, 3]),
        helper.make_node("MatMul", ["qh", "kt"], ["scores"], name="qk"),
        c("scale", float(np.sqrt(HD))),
        helper.make_node("Div", ["scores", "scale"], ["scaled"], name="scale_div"),
        helper.make_node("Softmax", ["scaled"], ["probs"], axis=-1, name="softmax"),
        helper.make_node("MatMul", ["probs", "vh"], ["ctx"], name="av"),
        helper.make_node("Transpose", ["ctx"], ["ctx_t"], perm=[0, 2, 1, 3]),
        helper.make_node("Reshape", ["ctx_t", "merge_heads"], ["ctx2"]),
        helper.make_node("MatMul", ["ctx2", "wo"], ["attn_out"], name="o_proj"),
        helper.make_node("Add", ["X", "attn_out"], ["x1"], name="residual1"),
        helper.make_node("LayerNormalization", ["x1", "ln2.g", "ln2.b"], ["h2"], axis=-1, name="ln2"),
        helper.make_node("MatMul", ["h2", "w1"], ["u"], name="fc1"),
        helper.make_node("Add", ["u", "b1"], ["ub"], name="fc1_bias"),
        c("sqrt2", float(np.sqrt(2.0))), c("one", 1.0), c("half", 0.5),
        helper.make_node("Div", ["ub", "sqrt2"], ["g0"], name="gelu_div"),
        helper.make_node("Erf", ["g0"], ["g1"], name="gelu_erf"),
        helper.make_node("Add", ["g1", "one"], ["g2"], name="gelu_add"),
        helper.make_node("Mul", ["ub", "g2"], ["g3"], name="gelu_mul"),
        helper.make_node("Mul", ["g3", "half"], ["g4"], name="gelu_half"),
        helper.make_node("MatMul", ["g4", "w2"], ["m"], name="fc2"),
        helper.make_node("Add", ["x1", "m"], ["Y0"], name="residual2"),
    ]
    last = "Y0"
    for i, op in enumerate(extra_ops):
        nodes.append(helper.make_node(op, [last], [f"extra{i}"], domain="custom.ops", name=f"extra{i}"))
        last = f"extra{i}"
    nodes.append(helper.make_node("Identity", [last], ["Y"]))
    graph = helper.make_graph(
        nodes, "attention_mlp",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, ["batch", "seq", D])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, ["batch", "seq", D])],
        initializer=weights + shapes)
    opsets = [helper.make_opsetid("", 17)] + ([helper.make_opsetid("custom.ops", 1)] if extra_ops else [])
    return helper.make_model(graph, opset_imports=opsets)


def attention_mlp_params() -> int:
    return 4 * D * D + D * FFN + FFN + FFN * D + 4 * D


def attention_mlp_macs(batch: int, seq: int) -> int:
    tokens = batch * seq
    return tokens * (4 * D * D + 2 * D * FFN) + 2 * batch * HEADS * seq * seq * HD


def embedding_model(vocab: int = 100) -> onnx.ModelProto:
    """ids (batch, seq) int64 → Gather(table) → MatMul(w) → Softmax: an embedding + classifier."""
    nodes = [
        helper.make_node("Gather", ["table", "ids"], ["emb"], name="embed"),
        helper.make_node("MatMul", ["emb", "w"], ["logits"], name="proj"),
        helper.make_node("Softmax", ["logits"], ["probs"], axis=-1, name="softmax"),
    ]
    graph = helper.make_graph(
        nodes, "embedding",
        [helper.make_tensor_value_info("ids", TensorProto.INT64, ["batch", "seq"])],
        [helper.make_tensor_value_info("probs", TensorProto.FLOAT, ["batch", "seq", vocab])],
        initializer=[_init("table", (vocab, D)), _init("w", (D, vocab))])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def chain_model(nodes, inputs, outputs, initializers=(), opset: int = 17) -> onnx.ModelProto:
    """A model from nodes and (name, elem type, shape) inputs / outputs, at `opset`."""
    graph = helper.make_graph(
        nodes, "test",
        [helper.make_tensor_value_info(n, t, s) for n, t, s in inputs],
        [helper.make_tensor_value_info(n, t, s) for n, t, s in outputs],
        initializer=list(initializers))
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset),
                                                   helper.make_opsetid("com.microsoft", 1)])


def const(name: str, value, dtype=np.int64) -> onnx.TensorProto:
    return numpy_helper.from_array(np.array(value, dtype=dtype), name)


def weight(name: str, shape: tuple[int, ...]) -> onnx.TensorProto:
    return _init(name, shape)
