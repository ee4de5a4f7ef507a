"""Reading an `.onnx` file: the model proto, its opset, its external-data files and its inputs.

No weights are read except small integer tensors shape inference needs. External-data files must
sit in the model's folder (or below it) and be long enough; a graph input's symbolic dims are bound
from `batch` (axis 0) and `seq` (axis 1), and a fixed-shape file refuses a `seq` it was not built for.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from archsim.errors import ModelError

__all__ = ["load_model", "check_opset", "check_arity", "check_external_data", "bind_inputs", "Bound", "MIN_OPSET"]

#: the oldest default-domain opset read (PyTorch's TorchScript exporter defaults to 17, its dynamo
#: exporter to 18; opset 14 is the first with the Trilu and integer-Reshape semantics used here)
MIN_OPSET = 14


def load_model(p: Path):
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


def check_opset(model, p: Path) -> int:
    """The default-domain opset; older than MIN_OPSET or newer than the installed `onnx` knows is
    a ModelError saying which."""
    import onnx
    versions = {o.domain: o.version for o in model.opset_import}
    version = versions.get("", versions.get("ai.onnx"))
    newest = onnx.defs.onnx_opset_version()
    if version is None:
        raise ModelError(f"{p}: the model imports no default-domain (ai.onnx) opset")
    if version < MIN_OPSET:
        raise ModelError(f"{p}: opset {version} is older than {MIN_OPSET}, the oldest read; re-export "
                         f"with a newer opset (torch.onnx.export(..., opset_version=17))")
    if version > newest:
        raise ModelError(f"{p}: opset {version} is newer than the installed onnx {onnx.__version__} "
                         f"knows (up to {newest}); upgrade the onnx package")
    return version


def check_arity(model, p: Path, opset: int) -> None:
    """Every default-domain node has as many inputs and outputs as its operator's schema allows at
    `opset` (an Expand without its shape, a MatMul with three inputs): a ModelError naming the node,
    not an IndexError deep in constant folding or lowering."""
    import onnx
    problems = []
    for node in model.graph.node:
        if node.domain not in ("", "ai.onnx"):
            continue
        try:
            schema = onnx.defs.get_schema(node.op_type, opset, "")
        except onnx.defs.SchemaError:
            continue                          # unknown ops are reported (or skipped) by the caller
        n_in, n_out = len(node.input), len(node.output)
        if not schema.min_input <= n_in <= schema.max_input or not schema.min_output <= n_out <= schema.max_output:
            problems.append(f"node {node.name or node.op_type!r} ({node.op_type}) has {n_in} input(s) and {n_out} "
                            f"output(s); opset {opset} allows {schema.min_input}..{schema.max_input} and "
                            f"{schema.min_output}..{schema.max_output}")
    if problems:
        raise ModelError(f"{p}: " + "; ".join(problems[:5]) + (f"; and {len(problems) - 5} more" if len(problems) > 5 else ""))


def check_external_data(model, p: Path) -> None:
    """Every external-data file must be inside the model's folder, exist and be long enough;
    integer initializers (shape tensors, needed by shape inference) are then loaded."""
    from onnx import TensorProto
    from onnx.external_data_helper import ExternalDataInfo, load_external_data_for_tensor, uses_external_data
    folder = p.parent.resolve()
    missing: dict[str, list[str]] = {}
    short: dict[str, list[str]] = {}
    outside: dict[str, list[str]] = {}
    malformed: list[str] = []
    external = [init for init in model.graph.initializer if uses_external_data(init)]
    for init in external:
        try:
            info = ExternalDataInfo(init)       # int() of its offset and length: ValueError if not numbers
        except ValueError:
            info = None
        if info is None or not info.location or (info.offset or 0) < 0 or (info.length or 0) < 0:
            malformed.append(init.name)
            continue
        data = (folder / info.location).resolve()
        if Path(info.location).is_absolute() or not data.is_relative_to(folder):
            outside.setdefault(info.location, []).append(init.name)
        elif not data.is_file():
            missing.setdefault(info.location, []).append(init.name)
        elif info.length and (info.offset or 0) + info.length > data.stat().st_size:
            short.setdefault(info.location, []).append(init.name)
    problems = [f"external data file {loc!r} is outside the model's folder {str(folder)!r} (needed by "
                f"{len(names)} initializer(s), e.g. {sorted(names)[0]!r}); archsim reads data files "
                "only next to the model" for loc, names in sorted(outside.items())]
    problems += [f"external data file {loc!r} is missing next to the model (needed by {len(names)} "
                 f"initializer(s), e.g. {sorted(names)[0]!r})" for loc, names in sorted(missing.items())]
    problems += [f"external data file {loc!r} is too short for {len(names)} initializer(s), e.g. "
                 f"{sorted(names)[0]!r} (truncated?)" for loc, names in sorted(short.items())]
    if malformed:
        problems.append(f"{len(malformed)} initializer(s) with malformed external-data entries, e.g. "
                        f"{sorted(malformed)[0]!r} (a location and whole-number offset and length ≥ 0 are "
                        "needed; re-save the model with onnx.save(..., save_as_external_data=True))")
    if problems:
        raise ModelError(f"{p}: " + "; ".join(problems))
    for init in external:
        if init.data_type in (TensorProto.INT64, TensorProto.INT32):
            load_external_data_for_tensor(init, str(folder))
            init.data_location = TensorProto.DEFAULT
            del init.external_data[:]


@dataclass(frozen=True, slots=True)
class Bound:
    """The sizes the graph is built at: batch, and seq when an input has a sequence axis."""
    batch: int
    seq: int | None


def _shape_text(dims) -> str:
    return "(" + ", ".join(str(d.dim_value) if d.HasField("dim_value") else (d.dim_param or "?")
                           for d in dims) + ")"


def _seq_axis(value, fixed: bool) -> bool | None:
    """Whether axis 1 is a sequence axis: yes for token ids (batch, seq) of an integer type and for a
    3-D input (batch, seq, width) whose axis 1 is symbolic; None (maybe: channels, as Whisper's
    mels) for a fixed axis 1 of a 3-D input; no otherwise."""
    from onnx import TensorProto
    rank = len(value.type.tensor_type.shape.dim)
    ints = value.type.tensor_type.elem_type in (TensorProto.INT64, TensorProto.INT32)
    if (rank == 2 and ints) or (rank == 3 and not fixed):
        return True
    return None if rank == 3 else False


def bind_inputs(model, p: Path, batch: int | None, seq: int | None) -> Bound:
    """Fix each graph input's symbolic dims: axis 0 → batch, axis 1 → seq (default 1 and 128).
    A dim name seen before keeps its first value. The built graph's batch / seq are what the inputs
    then say: a fixed axis wins over the default, and a fixed axis that differs from an explicit
    `batch`/`seq` is a ModelError naming the file's shape."""
    inits = {i.name for i in model.graph.initializer}
    inputs = [v for v in model.graph.input if v.name not in inits]
    named: dict[str, int] = {}
    seen_batch: int | None = None
    seen_seq: int | None = None
    for value in inputs:
        dims = value.type.tensor_type.shape.dim
        shape = _shape_text(dims)
        for axis, dim in enumerate(dims):
            fixed = dim.HasField("dim_value") and dim.dim_value > 0
            if axis == 0:
                want = dim.dim_value if fixed else named.get(dim.dim_param, batch or 1)
                if fixed and batch is not None and dim.dim_value != batch:
                    raise ModelError(f"{p}: input {value.name!r} has the fixed shape {shape}: its "
                                     f"batch is {dim.dim_value}, not {batch}; export it with a "
                                     f"dynamic batch axis or pass batch {dim.dim_value}")
                seen_batch = seen_batch or want
            elif axis == 1 and _seq_axis(value, fixed) is not False:
                if _seq_axis(value, fixed) is None and seq is None:
                    continue         # a fixed 3-D input's axis 1 is a sequence only when asked for
                want = dim.dim_value if fixed else named.get(dim.dim_param, seq or 128)
                if fixed and seq is not None and dim.dim_value != seq:
                    raise ModelError(f"{p}: input {value.name!r} has the fixed shape {shape}: its "
                                     f"sequence length is {dim.dim_value}, not {seq}; export it "
                                     "with a dynamic sequence axis or leave --seq unset")
                seen_seq = seen_seq or want
            elif fixed:
                continue
            else:
                if dim.dim_param not in named:
                    raise ModelError(f"{p}: input {value.name!r} {shape} has a symbolic axis {axis} "
                                     f"({dim.dim_param or 'unnamed'}); only axis 0 (batch) and axis 1 "
                                     "of a 2-D or 3-D input (seq) are bound — export it with that "
                                     "axis fixed")
                want = named[dim.dim_param]
            if not fixed:
                if dim.dim_param:
                    named.setdefault(dim.dim_param, want)
                dim.Clear()
                dim.dim_value = want
    if seq is not None and seen_seq is None:
        shapes = ", ".join(f"{v.name} {_shape_text(v.type.tensor_type.shape.dim)}" for v in inputs)
        raise ModelError(f"{p}: the file has no sequence axis (inputs: {shapes}); seq {seq} does "
                         "not apply — leave --seq unset")
    return Bound(seen_batch or batch or 1, seen_seq)
