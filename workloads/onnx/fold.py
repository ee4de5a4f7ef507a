"""Static shapes and constant folding of an ONNX graph (shapes only; weights are never computed on).

`onnx`'s shape inference runs first; then every node whose inputs are all known small constants
(initializers, Constant nodes, Shape of a statically shaped tensor, earlier folded results) is
evaluated with `onnx.reference` and replaced by an initializer, and inference runs again, until
nothing changes. That turns an exporter's shape arithmetic (Shape/Gather/Concat/Unsqueeze, Range,
ConstantOfShape, Equal/Where masks, Trilu) into constants, so Reshape/Expand targets become static.
Contrib ops `onnx` cannot infer (onnxruntime's fused Attention, SkipLayerNormalization, ...) get
their output shapes from `contrib_shape`.

`Folded.provenance` records, for each folded tensor, the original initializers whose values it only
rearranges (layout ops: Transpose, Reshape, Gather, Slice, Concat, ...): those stay parameters
when an op reads them; arithmetic on constants (a rotary cos/sin table) yields none.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from math import prod
from pathlib import Path

import numpy as np

from archsim.errors import ModelError

__all__ = ["fold", "Folded", "FOLD_LIMIT", "LAYOUT_OPS", "topological_nodes"]

#: elements up to which a constant's value is computed (shape vectors, masks of short sequences,
#: index tables); larger constant subgraphs keep their nodes and cost nothing (a runtime folds them
#: once at session creation)
FOLD_LIMIT = 1 << 16
#: ops whose output only rearranges their first input's values: a folded weight stays that weight
LAYOUT_OPS = frozenset({"Transpose", "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity", "Cast",
                        "Slice", "Split", "Concat", "Expand", "Gather", "Tile", "DequantizeLinear"})
_NO_FOLD = frozenset({"RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike",
                      "Multinomial", "Bernoulli", "If", "Loop", "Scan"})
_ROUNDS = 12


@dataclass
class Folded:
    model: object                                  # the rewritten ModelProto
    shapes: dict[str, tuple[int, ...]]             # every statically known shape
    elem_types: dict[str, int]                     # onnx TensorProto element types
    values: dict[str, np.ndarray] = field(default_factory=dict)   # folded (small) constants
    provenance: dict[str, frozenset[str]] = field(default_factory=dict)
    originals: frozenset[str] = frozenset()        # initializers of the file itself


def _label(node) -> str:
    return f"node {node.name!r} ({node.op_type})" if node.name else f"a {node.op_type} node"


def topological_nodes(model, p: Path) -> list:
    """The graph's nodes in dependency order; a cycle or an input nothing produces is a ModelError."""
    graph = model.graph
    known = {i.name for i in graph.initializer} | {v.name for v in graph.input} | {""}
    producers: dict[str, int] = {}
    for i, node in enumerate(graph.node):
        for out in node.output:
            if not out:
                continue
            if out in producers or out in known:
                first = (_label(graph.node[producers[out]]) if out in producers
                         else "the graph's inputs or initializers")
                raise ModelError(f"{p}: tensor {out!r} is produced twice (by {first} and "
                                 f"{_label(node)}); an ONNX graph assigns each tensor once")
            producers[out] = i
    need = []
    for i, node in enumerate(graph.node):
        deps = set()
        for name in node.input:
            if name in known:
                continue
            if name not in producers:
                raise ModelError(f"{p}: {_label(node)} reads {name!r}, which no node, input or "
                                 "initializer provides")
            deps.add(producers[name])
        need.append(deps)
    users: dict[int, list[int]] = {}
    for i, deps in enumerate(need):
        for d in deps:
            users.setdefault(d, []).append(i)
    left = [len(d) for d in need]
    ready = [i for i, n in enumerate(left) if n == 0]
    order = []
    while ready:
        ready.sort()
        i = ready.pop(0)
        order.append(i)
        for u in users.get(i, ()):
            left[u] -= 1
            if left[u] == 0:
                ready.append(u)
    if len(order) < len(graph.node):
        stuck = sorted(graph.node[i].name or graph.node[i].op_type for i in range(len(graph.node)) if left[i])
        raise ModelError(f"{p}: the graph has a cycle through {len(stuck)} node(s), e.g. "
                         f"{', '.join(repr(s) for s in stuck[:4])}; an ONNX graph must be acyclic")
    return [graph.node[i] for i in order]


def _infer(model, p: Path):
    """onnx shape inference, strict so a malformed node (MatMul of mismatched sizes) is an error;
    a graph with ops onnx does not know (contrib ops) is inferred leniently around them."""
    import onnx
    try:
        return onnx.shape_inference.infer_shapes(model, data_prop=True, strict_mode=True)
    except Exception as exc:  # InferenceError, ValidationError: a malformed graph
        text = " ".join(str(exc).split())
    if "No Op registered" in text or "is not a registered" in text or "No opset import" in text:
        try:
            return onnx.shape_inference.infer_shapes(model, data_prop=True, strict_mode=False)
        except Exception as exc:
            text = " ".join(str(exc).split())
    raise ModelError(f"{p}: ONNX shape inference failed: {text[:400]}")


def _static(value) -> tuple[tuple[int, ...] | None, int]:
    t = value.type.tensor_type
    if not t.HasField("shape"):
        return None, t.elem_type
    dims = t.shape.dim
    if all(d.HasField("dim_value") for d in dims):
        return tuple(int(d.dim_value) for d in dims), t.elem_type
    return None, t.elem_type


def _standard(node) -> bool:
    """An op the installed onnx has a schema (and shape inference) for."""
    import onnx
    return node.domain in ("", "ai.onnx") and onnx.defs.has(node.op_type)


def _read_shapes(model) -> tuple[dict, dict]:
    shapes: dict[str, tuple[int, ...]] = {}
    types: dict[str, int] = {}
    g = model.graph
    for value in list(g.input) + list(g.value_info) + list(g.output):
        shape, et = _static(value)
        types[value.name] = et
        if shape is not None:
            shapes[value.name] = shape
    for init in g.initializer:
        shapes[init.name] = tuple(int(d) for d in init.dims)
        types[init.name] = init.data_type
    return shapes, types


def _out_size(node, ins: list[np.ndarray], shapes) -> int | None:
    """Elements the node would produce, computed cheaply before evaluating it."""
    known = [shapes.get(o) for o in node.output]
    if all(s is not None for s in known):
        return sum(prod(s) for s in known)
    try:
        if node.op_type == "ConstantOfShape":
            return int(prod(int(v) for v in ins[0].reshape(-1)))
        if node.op_type == "Expand":
            return int(prod(np.broadcast_shapes(ins[0].shape, tuple(int(v) for v in ins[1].reshape(-1)))))
        if node.op_type == "Range":
            start, limit, delta = (float(v) for v in ins[:3])
            return max(0, int(np.ceil((limit - start) / delta))) if delta else None
        if node.op_type == "Tile":
            return int(prod(np.array(ins[0].shape) * ins[1].reshape(-1)))
    except (ValueError, TypeError, OverflowError, ZeroDivisionError, IndexError):
        return None
    if node.op_type == "Concat":
        return sum(a.size for a in ins)
    return max((a.size for a in ins), default=1) if node.op_type not in ("Resize", "Pad") else None


def _evaluate(node, ins: list[np.ndarray], opset: int) -> list[np.ndarray] | None:
    from onnx.reference import ReferenceEvaluator
    try:
        with np.errstate(all="ignore"):
            ev = ReferenceEvaluator(node, opsets={"": opset})
            names = [n for n in node.input]
            feeds = {n: v for n, v in zip(names, ins) if n}
            return [np.asarray(v) for v in ev.run(None, feeds)]
    except Exception:  # an op the reference lacks, or inputs it rejects: leave the node in place
        return None


def _small_initializer(init) -> np.ndarray | None:
    from onnx import numpy_helper
    from onnx.external_data_helper import uses_external_data
    if uses_external_data(init) or prod(init.dims) > FOLD_LIMIT:
        return None
    try:
        return numpy_helper.to_array(init)
    except Exception:
        return None


def fold(model, p: Path, opset: int, contrib_shape) -> Folded:
    """Infer shapes and fold constants until a fixed point (see module doc)."""
    from onnx import helper, numpy_helper
    originals = frozenset(i.name for i in model.graph.initializer)
    values: dict[str, np.ndarray] = {}
    for init in model.graph.initializer:
        v = _small_initializer(init)
        if v is not None:
            values[init.name] = v
    provenance: dict[str, frozenset[str]] = {n: frozenset({n}) for n in originals}
    changed = True
    for _ in range(_ROUNDS):
        if not changed:
            break
        inferred = _infer(model, p)
        shapes, types = _read_shapes(inferred)
        changed = False
        keep = []
        new_inits = []
        for node in topological_nodes(model, p):
            if any(o and o not in shapes for o in node.output) and not _standard(node):
                guessed = contrib_shape(node, shapes)
                for name, shape in zip(node.output, guessed or ()):
                    if name and shape is not None and name not in shapes:
                        et = types.get(node.input[0], 1) if node.input else 1
                        model.graph.value_info.append(helper.make_tensor_value_info(name, et or 1, shape))
                        shapes[name] = shape
                        changed = True
            outs = None
            if node.op_type == "Shape" and node.domain in ("", "ai.onnx") and node.input[0] in shapes:
                start = next((a.i for a in node.attribute if a.name == "start"), 0)
                end = next((a.i for a in node.attribute if a.name == "end"), None)
                outs = [np.array(shapes[node.input[0]][start:end], dtype=np.int64)]
            elif node.op_type == "Size" and node.input[0] in shapes:
                outs = [np.array(prod(shapes[node.input[0]]), dtype=np.int64)]
            elif node.domain in ("", "ai.onnx") and node.op_type not in _NO_FOLD \
                    and all(not n or n in values for n in node.input):
                ins = [values[n] for n in node.input if n]
                size = _out_size(node, ins, shapes)
                if size is not None and size <= FOLD_LIMIT:
                    outs = _evaluate(node, [values[n] if n else None for n in node.input], opset)
            if outs is None or len(outs) != len(node.output):
                keep.append(node)
                continue
            source = frozenset()
            if node.op_type == "Identity" and node.input[0] in originals:
                # the TorchScript exporter shares equal-valued initializers (a fresh model's zero
                # biases, unit norm scales) through Identity nodes: each output is a parameter
                source = frozenset(node.output[:1])
            elif node.op_type in LAYOUT_OPS and node.input:
                source = provenance.get(node.input[0], frozenset())
                if node.op_type == "Concat":
                    source = frozenset().union(*(provenance.get(n, frozenset()) for n in node.input))
            for name, value in zip(node.output, outs):
                if not name:
                    continue
                values[name] = value
                provenance[name] = source
                new_inits.append(numpy_helper.from_array(np.array(value, order="C"), name))
        changed = changed or bool(new_inits)
        if not new_inits:
            continue
        del model.graph.node[:]
        model.graph.node.extend(keep)
        model.graph.initializer.extend(new_inits)
        drop = {i.name for i in new_inits}
        kept_info = [v for v in model.graph.value_info if v.name not in drop]
        del model.graph.value_info[:]
        model.graph.value_info.extend(kept_info)
    if changed:
        inferred = _infer(model, p)
    shapes, types = _read_shapes(inferred)
    for node in model.graph.node:
        if _standard(node):
            continue
        for name, shape in zip(node.output, contrib_shape(node, shapes) or ()):
            if name and shape is not None:
                shapes.setdefault(name, shape)
    return Folded(model, shapes, types, values, provenance, originals)
