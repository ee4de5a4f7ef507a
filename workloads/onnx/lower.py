"""Folded ONNX nodes → archsim ops (see `ops` for what each op type costs).

Constants: a node whose inputs are all constants produces constants and costs nothing. An op that
reads a constant sees it as a weight; the file's own initializers it only rearranges (through
`fold.LAYOUT_OPS`) are the model's parameters, counted once each (floating-point or quantized
integer tensors of more than one element; index and shape tensors and single-element scales or
epsilons are not parameters). Constants computed by arithmetic (a rotary cos/sin table, a mask) are
stored read-only data, not parameters.

Contractions: MatMul / Gemm → matmul (a MatMul reaching a Softmax through scaling / masking is
ATTN_QK, one reading a Softmax output ATTN_AV); Conv whose kernel equals its stride (unpadded,
ungrouped: a patch embedding) → a GEMM over the patches (im2col is a free reshape there); other
ungrouped Conv (1-D and 2-D, any stride, padding, dilation) → conv2d over implicit-GEMM dims
(`lowering.conv_gemm`); grouped / depthwise Conv → a conv2d / dwconv2d loop nest.
"""
from __future__ import annotations

from math import prod
from pathlib import Path

from archsim.errors import ModelError
from archsim.ir import OpKind, Tensor
from ..lowering import FLOPS_PER_ELEMENT, Lowering, conv_gemm, patch_gemm
from .contrib import emit_contrib
from .fold import LAYOUT_OPS, Folded
from .ops import COPY_OPS, ELEMENTWISE, FREE_OPS, NORMS, REDUCE_OPS

__all__ = ["lower_nodes"]

#: element types whose initializers are parameters (floats, and integers of quantized weights)
_PARAM_TYPES = frozenset({"FLOAT", "FLOAT16", "BFLOAT16", "DOUBLE", "INT8", "UINT8", "INT4", "UINT4",
                          "INT2", "UINT2", "FLOAT8E4M3FN", "FLOAT8E4M3FNUZ", "FLOAT8E5M2", "FLOAT8E5M2FNUZ",
                          "FLOAT4E2M1"})


def lower_nodes(lw: Lowering, folded: Folded, p: Path, nodes, skipped: set[str]) -> None:
    """Emit every node of `nodes` (topologically ordered); op types in `skipped` as copies."""
    from onnx import TensorProto
    param_types = {getattr(TensorProto, t) for t in _PARAM_TYPES if hasattr(TensorProto, t)}
    shapes, types = folded.shapes, folded.elem_types
    graph = lw.graph
    inits = {i.name for i in folded.model.graph.initializer}
    const: set[str] = set(inits)
    provenance = dict(folded.provenance)
    consumers: dict[str, list] = {}
    for node in nodes:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    kinds: dict[str, str] = {}          # tensor -> op_type of the real op that produced it
    alias: dict[str, set[str]] = {}     # tensor -> producing op names (through free ops)
    orig_shape = {i.name: tuple(int(d) for d in i.dims) for i in folded.model.graph.initializer}
    orig_type = {i.name: i.data_type for i in folded.model.graph.initializer}

    def shape_of(name: str, node) -> tuple[int, ...]:
        shape = shapes.get(name)
        if shape is None:
            raise ModelError(f"{p}: node {node.name or node.op_type!r} ({node.op_type}): tensor {name!r} "
                             "has no static shape after shape inference; export the model with fixed "
                             "shapes or with dynamic axes only on batch (axis 0) and sequence (axis 1)")
        return shape

    def tensor(name: str, node, usage: str) -> Tensor:
        shape = shape_of(name, node)
        if name not in const:
            return lw.activation(name, shape)
        sources = [s for s in provenance.get(name, ())
                   if orig_type.get(s) in param_types and prod(orig_shape[s]) > 1]
        t = lw.weight(name, shape, usage=usage, params=0, active=0) if name not in sources else None
        for s in sources:
            lw.weight(s, orig_shape[s], usage=usage)
        return t if t is not None else lw.weight(name, shape, usage=usage)

    for index, node in enumerate(nodes):
        op_type = node.op_type
        name = node.name or f"{op_type}_{index}"
        if name in graph:
            name = f"{name}_{index}"
        ins = [n for n in node.input if n]
        if ins and all(n in const for n in ins) or (not ins and op_type in ("Constant", "ConstantOfShape", "Range")):
            for out in node.output:     # a constant subgraph: folded once by a runtime, free here
                const.add(out)
                if op_type == "Identity" and ins[0] in folded.originals:   # see fold: shared copies
                    provenance[out] = frozenset({out})
                    orig_shape[out], orig_type[out] = orig_shape[ins[0]], orig_type[ins[0]]
                elif op_type in LAYOUT_OPS and ins:
                    provenance[out] = frozenset().union(*(provenance.get(n, frozenset())
                                                          for n in (ins if op_type == "Concat" else ins[:1])))
            continue
        same_cast = op_type == "Cast" and types.get(ins[0]) == types.get(node.output[0])
        empty = any(0 in shapes.get(o, (1,)) for o in node.output if o)   # an empty slice: no data
        if node.domain in ("", "ai.onnx") and (op_type in FREE_OPS or same_cast or empty):
            sources: set[str] = set()
            for n in ins:
                sources |= alias.get(n) or ({lw.producer[n]} if n in lw.producer else set())
            for out in node.output:
                alias[out] = sources
                if ins and ins[0] in kinds:
                    kinds[out] = kinds[ins[0]]
            continue
        usage = _usage(op_type)
        in_tensors = [tensor(n, node, usage if i > 0 else "onnx") if n else None
                      for i, n in enumerate(node.input)]
        outs = [lw.activation(o, shape_of(o, node)) for o in node.output if o and o in shapes
                or o == node.output[0]]
        if op_type in skipped:
            _emit_copy(lw, name, [t for t in in_tensors if t is not None], outs, (("skipped_op", op_type),))
        elif node.domain not in ("", "ai.onnx") or op_type in ("SimplifiedLayerNormalization",
                                                               "SkipSimplifiedLayerNormalization"):
            emit_contrib(lw, node, name, in_tensors, outs)
        else:
            _emit(lw, node, name, in_tensors, outs, kinds, consumers, p)
        for n in ins:
            for src in alias.get(n, ()):
                if not graph.has_edge(src, name) and src in graph and name in graph:
                    t = lw.activation(n, shapes.get(n, (1,)))
                    graph.add_edge(src, name, tensor=t, bytes=t.size_bytes)
        for out in node.output:
            kinds[out] = op_type


def _usage(op_type: str) -> str:
    if op_type in ("MatMul", "Gemm", "Attention"):
        return "matmul"
    if op_type == "Conv":
        return "conv"
    if op_type == "Gather":
        return "embedding"
    if "Normalization" in op_type:
        return "norm"
    return "onnx"


_PASS_THROUGH = frozenset({"Div", "Mul", "Add", "Sub", "Where", "Cast"}) | FREE_OPS


def _feeds_softmax(name: str, consumers, hops: int = 4) -> bool:
    """True when `name` reaches a Softmax through at most `hops` scaling / masking / free ops."""
    for c in consumers.get(name, []):
        if c.op_type == "Softmax":
            return True
        if hops and c.op_type in _PASS_THROUGH and _feeds_softmax(c.output[0], consumers, hops - 1):
            return True
    return False


def _dims(prefix: str, shape: tuple[int, ...]) -> tuple[str, ...]:
    return tuple(f"{prefix}{i}" for i in range(len(shape)))


def _aligned(shape: tuple[int, ...], out_shape: tuple[int, ...]) -> tuple[str, ...]:
    """Broadcast operand dims: right-aligned with the output, size-1 axes dropped."""
    offset = len(out_shape) - len(shape)
    return tuple(f"d{offset + i}" for i, s in enumerate(shape)
                 if offset + i >= 0 and (s != 1 or out_shape[offset + i] == 1))


def _attr(node, name: str, default=None):
    for a in node.attribute:
        if a.name == name:
            return list(a.ints) if a.ints else a.i
    return default


def _emit_copy(lw: Lowering, name: str, ins: list[Tensor], outs: list[Tensor], attrs=()) -> None:
    """Data movement: loop over the (first) output's elements, each activation input read at them."""
    out = outs[0]
    o = out.shape
    odims = _dims("d", o)
    operands = tuple((t, odims if t.shape == o else _aligned(t.shape, o) if len(t.shape) <= len(o) else ())
                     for t in ins if t.role.value == "activation")
    operands = tuple((t, d) for t, d in operands if all(x in odims for x in d))
    lw.emit(name, OpKind.COPY, tuple(zip(odims, o)), operands, (out, odims), 0, 0, attrs)
    for extra in outs[1:]:
        lw.producer[extra.name] = name


def _emit(lw: Lowering, node, name: str, ins: list[Tensor | None], outs: list[Tensor], kinds, consumers,
          p: Path) -> None:
    op_type = node.op_type
    out = outs[0]
    o = out.shape
    odims = _dims("d", o)
    dims = tuple(zip(odims, o))
    elems = prod(o)
    present = [t for t in ins if t is not None]
    if op_type in ("MatMul", "Gemm"):
        _matmul(lw, node, name, present, out, kinds, consumers)
        return
    if op_type == "Conv":
        _conv(lw, node, name, present, out, p)
        return
    if op_type in NORMS:
        kind = (OpKind.SOFTMAX if "Softmax" in op_type else OpKind.RMSNORM if op_type == "RMSNormalization"
                else OpKind.LAYERNORM)
        x = present[0]
        operands = [(x, odims)] + [(t, _aligned(t.shape, o)) for t in present[1:]]
        lw.emit(name, kind, dims, tuple(operands), (out, odims), 0, FLOPS_PER_ELEMENT[kind] * elems,
                (("onnx_op", op_type),))
        for extra in outs[1:]:
            lw.producer[extra.name] = name
        return
    if op_type == "Gather" and present[0].role.value != "activation" and present[1].role.value == "activation":
        table, ids = present[0], present[1]   # an embedding lookup: rows of a constant table
        rows, width = table.shape[0], prod(table.shape[1:])
        m = max(1, elems // max(width, 1))
        lw.emit(name, OpKind.EMBEDDING, (("m", m), ("n", width)),
                ((lw.view(ids, (m,)), ("m",)), (lw.view(table, (rows, width)), ("m", "n"))),
                (lw.view(out, (m, width)), ("m", "n")), 0, 0, (("gather", True), ("rows", rows)))
        return
    if op_type in COPY_OPS:
        _emit_copy(lw, name, present, outs, (("onnx_op", op_type),))
        return
    if op_type in REDUCE_OPS:
        x = present[0]
        lw.emit(name, OpKind.POOL, tuple(zip(_dims("i", x.shape), x.shape)), ((x, _dims("i", x.shape)),),
                (out, _dims("i", o)), 0, prod(x.shape), (("onnx_op", op_type),))
        return
    kind, per = ELEMENTWISE[op_type]
    operands = tuple((t, _aligned(t.shape, o)) for t in present if len(t.shape) <= len(o) and prod(t.shape) > 1)
    lw.emit(name, kind, dims, operands, (out, odims), 0, per * elems, (("onnx_op", op_type),))


def _matmul(lw: Lowering, node, name: str, ins: list[Tensor], out: Tensor, kinds, consumers) -> None:
    a, b = ins[0], ins[1]
    o = out.shape if out.shape else (1,)
    trans_a = bool(_attr(node, "transA", 0)) and node.op_type == "Gemm"
    k = (a.shape[-2] if trans_a else a.shape[-1]) if a.shape else 1
    n = o[-1] if len(b.shape) > 1 else 1
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
        b_view = ((lw.view(b, (batch, k, n)), ("b", "k", "n")) if len(b.shape) > 2
                  else (lw.view(b, (k, n)), ("k", "n")))
        operands = [(lw.view(a, (batch, rows, k)), ("b", "m", "k")), b_view]
        result = (lw.view(out, (batch, rows, n)), ("b", "m", "n"))
        m = batch * rows
    else:
        m = max(1, prod(o) // max(n, 1))
        loop = (("m", m), ("n", n), ("k", k))
        operands = [(lw.view(a, (m, k)), ("m", "k")), (lw.view(b, (k, n)), ("k", "n"))]
        result = (lw.view(out, (m, n)), ("m", "n"))
    macs = m * n * k
    flops = 2 * macs
    if len(ins) > 2:
        c = ins[2]
        operands.append((c, ("n",) if c.shape and c.shape[-1] == n and prod(c.shape) == n else ("m", "n")))
        flops += m * n
    lw.emit(name, kind, loop, tuple(operands), result, macs, flops, (("onnx_op", node.op_type),))


def _conv(lw: Lowering, node, name: str, ins: list[Tensor], out: Tensor, p: Path) -> None:
    x, w = ins[0], ins[1]
    spatial = len(w.shape) - 2
    if spatial not in (1, 2):
        raise ModelError(f"{p}: node {node.name or 'Conv'!r}: {spatial}-D convolution is not modelled "
                         "(1-D and 2-D are)")
    group = int(_attr(node, "group", 1))
    kernel = tuple(w.shape[2:])
    strides = tuple(_attr(node, "strides", [1] * spatial))
    pads = tuple(_attr(node, "pads", [0] * 2 * spatial))
    dilations = tuple(_attr(node, "dilations", [1] * spatial))
    bias = ins[2] if len(ins) > 2 else None
    if spatial == 1:                      # a 1-D conv is a 2-D one of height 1
        kernel, strides = (1,) + kernel, (1,) + strides
        x = lw.view(x, (x.shape[0], x.shape[1], 1, x.shape[2]))
        w = lw.view(w, (w.shape[0], w.shape[1], 1, w.shape[2]))
        out4 = lw.view(out, (out.shape[0], out.shape[1], 1, out.shape[2]))
    else:
        out4 = out
    cout, cin_g, kh, kw = w.shape
    nb, _, oh, ow = out4.shape
    macs = nb * cout * oh * ow * cin_g * kh * kw
    flops = 2 * macs + (nb * cout * oh * ow if bias is not None else 0)
    attrs = (("kernel", (kh, kw)), ("stride", strides), ("groups", group), ("onnx_op", "Conv"))
    if kernel == strides and not any(pads) and set(dilations) == {1} and group == 1:
        y = patch_gemm(lw, name, x, w, bias, (oh, ow), (("onnx_op", "Conv"),))
        lw.producer[out.name] = lw.producer[y.name]
        return
    if group == 1:
        y = conv_gemm(lw, name, x, w, bias, (oh, ow), strides, pads, (("onnx_op", "Conv"),))
        lw.producer[out.name] = lw.producer[y.name]
        return
    kind = OpKind.DWCONV2D if group == cout else OpKind.CONV2D   # grouped: a loop nest per pixel
    operands = [(x, ("b", "c", "y", "x")), (w, ("o", "c", "i", "j"))]
    if bias is not None:
        operands.append((bias, ("o",)))
    lw.emit(name, kind, (("b", nb), ("o", cout), ("y", oh), ("x", ow), ("c", cin_g), ("i", kh), ("j", kw)),
            tuple(operands), (out4, ("b", "o", "y", "x")), macs, flops, attrs)
