"""`.onnx` file → OpGraph, via the `onnx` package's shape inference (no weights are read).

Symbolic input dims are fixed first (dim 0 = batch, dim 1 = seq), then shapes are inferred and each
node is lowered: MatMul / Gemm → matmul (a MatMul feeding a Softmax is ATTN_QK, one reading a
Softmax output is ATTN_AV), Conv → conv2d / dwconv2d, Softmax, LayerNormalization, Gelu / Erf,
Relu, Sigmoid, Tanh, Add / Sub / Mul / Div / Pow / Sqrt, ReduceMean, Gather on an initializer
(embedding), pooling, Quantize/DequantizeLinear. Shape-only ops (Reshape, Transpose, Concat, ...)
are free: they pass their producers through. External-data files are checked to exist and be long
enough. Any unsupported op types are reported together, by name and count, in one ModelError
(or skipped and listed in graph meta "skipped_ops" with overrides={"skip_unknown_ops": True}).
"""
from __future__ import annotations

from collections import Counter
from math import prod
from pathlib import Path

from archsim.errors import ModelError
from archsim.ir import OpGraph, OpKind, Tensor, new_graph
from .dtypes import Dtypes
from .lowering import FLOPS_PER_ELEMENT, Lowering

__all__ = ["import_onnx", "SUPPORTED_OPS", "FREE_OPS"]

FREE_OPS = frozenset({
    "Reshape", "Transpose", "Flatten", "Squeeze", "Unsqueeze", "Identity", "Shape", "Constant",
    "ConstantOfShape", "Cast", "Concat", "Slice", "Split", "Expand", "Range", "Dropout", "Gather",
})
_ELEMENTWISE = {
    "Add": (OpKind.ADD, 1), "Sub": (OpKind.ADD, 1), "Mul": (OpKind.MUL, 1), "Div": (OpKind.MUL, 1),
    "Pow": (OpKind.MUL, 1), "Sqrt": (OpKind.MUL, 1), "Reciprocal": (OpKind.MUL, 1),
    "Relu": (OpKind.RELU, 1), "Gelu": (OpKind.GELU, 8), "Erf": (OpKind.GELU, 8),
    "Sigmoid": (OpKind.SILU, 4), "Tanh": (OpKind.GELU, 8),
    "QuantizeLinear": (OpKind.QUANTIZE, 2), "DequantizeLinear": (OpKind.DEQUANTIZE, 2),
}
_POOLS = {"MaxPool", "AveragePool", "GlobalAveragePool", "ReduceMean"}
SUPPORTED_OPS = frozenset({"MatMul", "Gemm", "Conv", "Softmax", "LayerNormalization"} | set(_ELEMENTWISE)
                          | _POOLS | FREE_OPS)


def _load(p: Path):
    import onnx
    if not p.is_file():
        raise ModelError(f"{p}: no such ONNX file")
    try:
        model = onnx.load(str(p), load_external_data=False)
    except Exception as exc:  # protobuf DecodeError and friends: the file is not a valid model
        raise ModelError(f"{p}: not a readable ONNX model ({type(exc).__name__}: {exc})") from None
    if not model.graph.node:
        raise ModelError(f"{p}: the ONNX graph has no nodes")
    return model


def _check_external_data(model, p: Path) -> None:
    """Every external-data file must exist next to the model and be long enough; integer
    initializers (shape tensors, needed by shape inference) are then loaded."""
    from onnx import TensorProto
    from onnx.external_data_helper import ExternalDataInfo, load_external_data_for_tensor, uses_external_data
    missing: dict[str, list[str]] = {}
    short: dict[str, list[str]] = {}
    external = [init for init in model.graph.initializer if uses_external_data(init)]
    for init in external:
        info = ExternalDataInfo(init)
        data = p.parent / info.location
        if not data.is_file():
            missing.setdefault(info.location, []).append(init.name)
        elif info.length and (info.offset or 0) + info.length > data.stat().st_size:
            short.setdefault(info.location, []).append(init.name)
    problems = [f"external data file {loc!r} is missing next to the model (needed by {len(names)} "
                f"initializer(s), e.g. {sorted(names)[0]!r})" for loc, names in sorted(missing.items())]
    problems += [f"external data file {loc!r} is too short for {len(names)} initializer(s), e.g. "
                 f"{sorted(names)[0]!r} (truncated?)" for loc, names in sorted(short.items())]
    if problems:
        raise ModelError(f"{p}: " + "; ".join(problems))
    for init in external:
        if init.data_type in (TensorProto.INT64, TensorProto.INT32):
            load_external_data_for_tensor(init, str(p.parent))
            init.data_location = TensorProto.DEFAULT
            del init.external_data[:]


def _fix_inputs(model, batch: int, seq: int) -> None:
    inits = {i.name for i in model.graph.initializer}
    for value in model.graph.input:
        if value.name in inits:
            continue
        for axis, dim in enumerate(value.type.tensor_type.shape.dim):
            if dim.HasField("dim_value") and dim.dim_value > 0:
                continue
            dim.Clear()
            dim.dim_value = batch if axis == 0 else seq


def _shapes(model, p: Path) -> dict[str, tuple[int, ...]]:
    import onnx
    try:
        inferred = onnx.shape_inference.infer_shapes(model, data_prop=True)
    except Exception as exc:
        raise ModelError(f"{p}: ONNX shape inference failed ({type(exc).__name__}: {exc})") from None
    shapes: dict[str, tuple[int, ...]] = {}
    g = inferred.graph
    for value in list(g.input) + list(g.value_info) + list(g.output):
        dims = value.type.tensor_type.shape.dim
        if all(d.HasField("dim_value") for d in dims):
            shapes[value.name] = tuple(int(d.dim_value) for d in dims)
    for init in g.initializer:
        shapes[init.name] = tuple(int(d) for d in init.dims)
    return shapes


def import_onnx(path: str, batch: int = 1, seq: int | None = None, dtypes: Dtypes | None = None,
                overrides: dict | None = None) -> OpGraph:
    p = Path(path)
    overrides = dict(overrides or {})
    skip_unknown = bool(overrides.pop("skip_unknown_ops", False))
    if overrides:
        raise ModelError(f"{p}: ONNX models take no hyperparameter overrides "
                         f"(got {', '.join(sorted(overrides))}); only skip_unknown_ops")
    for key, value in (("batch", batch), ("seq", seq if seq is not None else 1)):
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise ModelError(f"{p}: {key} must be a positive integer (got {value!r})")
    model = _load(p)
    unknown = Counter(n.op_type for n in model.graph.node
                      if n.op_type not in SUPPORTED_OPS or (n.domain not in ("", "ai.onnx")))
    if unknown and not skip_unknown:
        listed = ", ".join(f"{name} ×{count}" for name, count in sorted(unknown.items()))
        raise ModelError(f"{p}: unsupported ONNX ops: {listed}; supported: {', '.join(sorted(SUPPORTED_OPS))}")
    _check_external_data(model, p)
    _fix_inputs(model, batch, seq or 128)
    shapes = _shapes(model, p)
    return _lower(model, p, shapes, dtypes or Dtypes(), batch, seq or 128, unknown)


def _lower(model, p: Path, shapes, dtypes: Dtypes, batch: int, seq: int, unknown: Counter) -> OpGraph:
    graph = new_graph(model=str(p), family="onnx", phase="encode", batch=batch, seq=seq, context=seq)
    lw = Lowering(graph, dtypes)
    inits = {i.name for i in model.graph.initializer}
    consumers: dict[str, list] = {}
    for node in model.graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    kinds: dict[str, str] = {}  # tensor name -> op_type of the real op that produced it
    alias: dict[str, set[str]] = {}  # tensor name -> producing op names (through free ops)

    def tensor(name: str) -> Tensor:
        shape = shapes.get(name)
        if shape is None:
            raise ModelError(f"{p}: shape inference left tensor {name!r} without a static shape; "
                             "export the model with fixed shapes or pass batch/seq")
        return lw.weight(name, shape, usage="onnx") if name in inits else lw.activation(name, shape)

    for index, node in enumerate(model.graph.node):
        op_type = node.op_type
        name = node.name or f"{op_type}_{index}"
        if name in graph:
            name = f"{name}_{index}"
        ins = [n for n in node.input if n]
        if op_type in unknown:
            continue
        if op_type in FREE_OPS and not (op_type == "Gather" and ins and ins[0] in inits):
            sources: set[str] = set()
            for n in ins:
                sources |= alias.get(n) or ({lw.producer[n]} if n in lw.producer else set())
            for out in node.output:
                alias[out] = sources
                if ins and ins[0] in kinds:
                    kinds[out] = kinds[ins[0]]
            continue
        out_name = node.output[0]
        out = tensor(out_name)
        _emit_node(lw, node, name, [tensor(n) for n in ins], out, kinds, consumers)
        for n in ins:
            for src in alias.get(n, ()):
                if src != name and not graph.has_edge(src, name):
                    t = lw.activation(n, shapes.get(n, (1,)))
                    graph.add_edge(src, name, tensor=t, bytes=t.size_bytes)
        kinds[out_name] = op_type
    params, _ = lw.params()
    graph.graph.update(params=params, active_params=params, dtypes=dtypes.as_meta(),
                       params_by_usage=lw.params_by_usage(), weight_bytes_total=lw.weight_storage_bytes()[0],
                       idle_weight_bytes=0, skipped_ops=dict(sorted(unknown.items())))
    return graph


_PASS_THROUGH = frozenset({"Div", "Mul", "Add", "Sub", "Where"}) | FREE_OPS


def _feeds_softmax(name: str, consumers, hops: int = 3) -> bool:
    """True when `name` reaches a Softmax through at most `hops` scaling / masking / free ops."""
    for c in consumers.get(name, []):
        if c.op_type == "Softmax":
            return True
        if hops and c.op_type in _PASS_THROUGH:
            if _feeds_softmax(c.output[0], consumers, hops - 1):
                return True
    return False


def _dims(prefix: str, shape: tuple[int, ...]) -> tuple[str, ...]:
    return tuple(f"{prefix}{i}" for i in range(len(shape)))


def _aligned(shape: tuple[int, ...], out_shape: tuple[int, ...]) -> tuple[str, ...]:
    """Broadcast operand dims: right-aligned with the output, size-1 axes dropped."""
    offset = len(out_shape) - len(shape)
    return tuple(f"d{offset + i}" for i, s in enumerate(shape) if s != 1 or out_shape[offset + i] == 1)


def _emit_node(lw: Lowering, node, name: str, ins: list[Tensor], out: Tensor, kinds, consumers) -> None:
    op_type = node.op_type
    o = out.shape
    odims = _dims("d", o)
    dims = tuple(zip(odims, o))
    elems = prod(o)
    if op_type in ("MatMul", "Gemm"):
        a, b = ins[0], ins[1]
        trans_a = any(at.name == "transA" and at.i for at in node.attribute)
        k = a.shape[-2] if trans_a else a.shape[-1]
        n = o[-1]
        both_activations = b.role.value == "activation"
        kind = OpKind.MATMUL
        if both_activations:
            if _feeds_softmax(node.output[0], consumers):
                kind = OpKind.ATTN_QK
            elif kinds.get(node.input[0]) == "Softmax":
                kind = OpKind.ATTN_AV
        if both_activations and len(o) > 2:
            batch, rows = prod(o[:-2]), o[-2]
            loop = (("b", batch), ("m", rows), ("n", n), ("k", k))
            b_view = (lw.view(b, (batch, k, n)), ("b", "k", "n")) if len(b.shape) > 2 else (lw.view(b, (k, n)), ("k", "n"))
            operands = [(lw.view(a, (batch, rows, k)), ("b", "m", "k")), b_view]
            result = (lw.view(out, (batch, rows, n)), ("b", "m", "n"))
            m = batch * rows
        else:
            m = prod(o[:-1])
            loop = (("m", m), ("n", n), ("k", k))
            operands = [(lw.view(a, (m, k)), ("m", "k")), (lw.view(b, (k, n)), ("k", "n"))]
            result = (lw.view(out, (m, n)), ("m", "n"))
        macs = m * n * k
        flops = 2 * macs
        if len(ins) > 2:
            operands.append((ins[2], ("n",)))
            flops += m * n
        lw.emit(name, kind, loop, tuple(operands), result, macs, flops, (("onnx_op", op_type),))
        return
    if op_type == "Conv":
        x, w = ins[0], ins[1]
        group = next((at.i for at in node.attribute if at.name == "group"), 1)
        cout, cin_g, kh, kw = w.shape
        nb, _, oh, ow = o
        macs = nb * cout * oh * ow * cin_g * kh * kw
        kind = OpKind.DWCONV2D if group > 1 and group == cout else OpKind.CONV2D
        operands = [(x, ("b", "c", "y", "x")), (w, ("o", "c", "i", "j"))]
        if len(ins) > 2:
            operands.append((ins[2], ("o",)))
        lw.emit(name, kind, (("b", nb), ("o", cout), ("y", oh), ("x", ow), ("c", cin_g), ("i", kh), ("j", kw)),
                tuple(operands), (out, ("b", "o", "y", "x")), macs,
                2 * macs + (nb * cout * oh * ow if len(ins) > 2 else 0), (("kernel", (kh, kw)), ("groups", group)))
        return
    if op_type in ("Softmax", "LayerNormalization"):
        kind = OpKind.SOFTMAX if op_type == "Softmax" else OpKind.LAYERNORM
        operands = [(ins[0], odims)] + [(t, odims[-1:]) for t in ins[1:]]
        lw.emit(name, kind, dims, tuple(operands), (out, odims), 0, FLOPS_PER_ELEMENT[kind] * elems)
        return
    if op_type == "Gather":  # only reached for a Gather from an initializer: an embedding lookup
        table, ids = ins[0], ins[1]
        rows, width = table.shape[0], prod(table.shape[1:])
        m = max(1, prod(o) // width)
        lw.emit(name, OpKind.EMBEDDING, (("m", m), ("n", width)),
                ((lw.view(ids, (m,)), ("m",)), (lw.view(table, (rows, width)), ("m", "n"))),
                (lw.view(out, (m, width)), ("m", "n")), 0, 0, (("gather", True), ("rows", rows)))
        return
    if op_type in _POOLS:
        x = ins[0]
        lw.emit(name, OpKind.POOL, tuple(zip(_dims("i", x.shape), x.shape)), ((x, _dims("i", x.shape)),),
                (out, _dims("i", o)[:len(o)]), 0, prod(x.shape), (("onnx_op", op_type),))
        return
    kind, per = _ELEMENTWISE[op_type]
    operands = tuple((t, _aligned(t.shape, o)) for t in ins if len(t.shape) <= len(o))
    lw.emit(name, kind, dims, operands, (out, odims), 0, per * elems, (("onnx_op", op_type),))
