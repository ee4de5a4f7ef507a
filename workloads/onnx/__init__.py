"""`.onnx` file → OpGraph, as PyTorch's TorchScript and dynamo exporters and onnxruntime's
transformer optimiser write them (opset `load.MIN_OPSET` to the newest the installed onnx knows).

Steps: read the file (`load`: opset, external data next to the model, inputs bound from batch /
seq), fold shape arithmetic into constants with static shapes (`fold`), then lower each node
(`lower`, `contrib`; what each op type costs is in `ops`). No weights are read. Unsupported op
types are reported together, by name and count, in one ModelError; with
overrides={"skip_unknown_ops": True} they are costed as memory moves (each reads its inputs and
writes an output of its first input's shape) and listed in graph meta "skipped_ops" and "notes".
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path

from archsim.errors import ModelError
from archsim.ir import OpGraph, new_graph
from ..dtypes import Dtypes
from ..lowering import Lowering
from .contrib import contrib_shape
from .fold import fold, topological_nodes
from .load import bind_inputs, check_arity, check_external_data, check_opset, load_model
from .lower import lower_nodes
from .ops import SUPPORTED_OPS, is_supported

__all__ = ["import_onnx", "SUPPORTED_OPS"]


def import_onnx(path: str, batch: int | None = 1, seq: int | None = None, dtypes: Dtypes | None = None,
                overrides: dict | None = None) -> OpGraph:
    p = Path(path)
    overrides = dict(overrides or {})
    skip_unknown = bool(overrides.pop("skip_unknown_ops", False))
    if overrides:
        raise ModelError(f"{p}: ONNX models take no hyperparameter overrides "
                         f"(got {', '.join(sorted(overrides))}); only skip_unknown_ops")
    for key, value in (("batch", batch), ("seq", seq)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value <= 0):
            raise ModelError(f"{p}: {key} must be a positive integer (got {value!r})")
    model = load_model(p)
    unknown = Counter(n.op_type for n in model.graph.node if not is_supported(n))
    if unknown and not skip_unknown:
        listed = ", ".join(f"{name} ×{count}" for name, count in sorted(unknown.items()))
        raise ModelError(f"{p}: unsupported ONNX ops: {listed}; pass skip_unknown_ops (--model-set "
                         f"skip_unknown_ops=true) to cost them as memory moves")
    opset = check_opset(model, p)
    check_arity(model, p, opset)
    check_external_data(model, p)
    topological_nodes(model, p)
    bound = bind_inputs(model, p, batch, seq)
    folded = fold(model, p, opset, contrib_shape)
    graph = new_graph(model=str(p), family="onnx", phase="encode", batch=bound.batch, seq=bound.seq,
                      context=bound.seq)
    dtypes = dtypes or Dtypes()
    lw = Lowering(graph, dtypes)
    nodes = topological_nodes(folded.model, p)
    lower_nodes(lw, folded, p, nodes, set(unknown))
    if graph.number_of_nodes() == 0:       # only layout ops (Reshape, Identity, ...): no work to cost
        kinds = Counter(n.op_type for n in model.graph.node)
        raise ModelError(f"{p}: the ONNX graph has no operator that computes or moves data (only "
                         + ", ".join(f"{k} ×{v}" for k, v in sorted(kinds.items()))
                         + "); nothing to simulate")
    params, _ = lw.params()
    notes = ()
    if unknown:
        notes = (f"skipped unsupported ONNX ops, costed as memory moves: "
                 + ", ".join(f"{k} ×{v}" for k, v in sorted(unknown.items())),)
    graph.graph.update(params=params, active_params=params, dtypes=dtypes.as_meta(),
                       params_by_usage=lw.params_by_usage(), weight_bytes_total=lw.weight_storage_bytes()[0],
                       idle_weight_bytes=0, skipped_ops=dict(sorted(unknown.items())), notes=notes)
    return graph
