"""The operator-graph IR every stage consumes: shape-only tensors, einsum-like ops, a networkx graph.

An `Op` is a loop nest: `dims` names every loop and its size; each operand tensor says which of those
dims index it (`Operand.dims`). A GEMM `Y[m,n] += X[m,k] * W[k,n]` is dims m,n,k with operands
X:(m,k), W:(k,n), Y:(m,n). Non-contraction ops (softmax, norms, elementwise) have every operand
indexed by the op's dims (or a subset, e.g. a norm's weight by the hidden dim only). This is all the
mapper needs to compute reuse, and all the engine needs to size tiles.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from math import prod
from typing import Iterable, Iterator

import networkx as nx

from archsim.errors import printable

__all__ = [
    "DTYPE_BITS", "Role", "OpKind", "Tensor", "Operand", "Op", "OpGraph", "new_graph", "add_op",
    "ops_in_order", "graph_totals", "GraphTotals", "dtype_bits", "summary_table",
    "VECTOR_OPS_PER_ELEMENT", "vector_ops_per_element", "unread_weight_bytes",
]

#: Storage bits per element by dtype name. "int2"/"ternary" are 2-bit packed (MatMul-free weights).
DTYPE_BITS: dict[str, int] = {
    "fp32": 32, "tf32": 32, "bf16": 16, "fp16": 16, "fp8": 8, "int32": 32, "int16": 16, "int8": 8,
    "int4": 4, "int2": 2, "ternary": 2,
}


def dtype_bits(name: str) -> int:
    from .errors import ModelError, did_you_mean
    try:
        return DTYPE_BITS[name]
    except KeyError:
        raise ModelError(f"unknown dtype {name!r}; {did_you_mean(name, DTYPE_BITS) or 'choose one of ' + ', '.join(DTYPE_BITS)}") from None


class Role(str, Enum):
    ACTIVATION = "activation"
    WEIGHT = "weight"
    KV_CACHE = "kv_cache"
    OUTPUT = "output"


class OpKind(str, Enum):
    MATMUL = "matmul"                  # linear layer or batched matmul (incl. lm head)
    ATTN_QK = "attn_qk"                # scores = Q Kᵀ
    ATTN_AV = "attn_av"                # out = P V
    ATTENTION = "attention"            # fused QKᵀ-softmax-AV (FlashAttention style)
    SOFTMAX = "softmax"
    CONV2D = "conv2d"
    DWCONV2D = "dwconv2d"
    LAYERNORM = "layernorm"
    RMSNORM = "rmsnorm"
    GELU = "gelu"
    SILU = "silu"
    RELU = "relu"
    SWIGLU = "swiglu"                  # gate * silu(up)
    ADD = "add"
    MUL = "mul"
    EMBEDDING = "embedding"
    ROPE = "rope"
    KV_APPEND = "kv_append"
    KV_READ = "kv_read"
    MOE_ROUTER = "moe_router"
    MOE_DISPATCH = "moe_dispatch"
    SELECTIVE_SCAN = "selective_scan"  # Mamba
    GLA_RECURRENCE = "gla_recurrence"  # chunked gated linear attention / retention
    POOL = "pool"
    LM_HEAD = "lm_head"
    QUANTIZE = "quantize"
    DEQUANTIZE = "dequantize"
    COPY = "copy"                      # data movement only: gather, concat, slice, expand, pad

    @property
    def is_contraction(self) -> bool:
        return self in _CONTRACTIONS


#: Vector-unit operations per output element of a non-contraction op, as the mapper's cost model
#: and the engine both charge them (assumption: add/mul/exp-class operations of a straightforward
#: implementation, exp/rsqrt as Taylor/Newton steps). Not the op's reported `flops` (softmax counts
#: 5 FLOPs per element there: max, subtract, exp, sum, divide; the unit also rescales once more).
VECTOR_OPS_PER_ELEMENT: dict[str, int] = {
    "softmax": 6, "layernorm": 8, "rmsnorm": 5, "gelu": 8, "silu": 5, "relu": 1, "swiglu": 6,
    "add": 1, "mul": 1, "rope": 4, "embedding": 1, "kv_append": 1, "kv_read": 1, "pool": 1,
    "quantize": 2, "dequantize": 2, "moe_dispatch": 1, "moe_router": 4, "copy": 1,
}


def vector_ops_per_element(kind: "OpKind") -> int:
    """`VECTOR_OPS_PER_ELEMENT` of an op kind; 2 for a kind the table does not list."""
    return VECTOR_OPS_PER_ELEMENT.get(kind.value, 2)


_CONTRACTIONS = {OpKind.MATMUL, OpKind.ATTN_QK, OpKind.ATTN_AV, OpKind.ATTENTION, OpKind.CONV2D,
                 OpKind.DWCONV2D, OpKind.LM_HEAD, OpKind.MOE_ROUTER, OpKind.SELECTIVE_SCAN,
                 OpKind.GLA_RECURRENCE}


@dataclass(frozen=True, slots=True)
class Tensor:
    """A shape-only tensor. `dtype_bits` is the storage width (2 for ternary weights)."""
    name: str
    shape: tuple[int, ...]
    dtype_bits: int
    role: Role = Role.ACTIVATION
    elems: int = field(init=False, repr=False, compare=False)        # prod(shape), kept
    size_bytes: int = field(init=False, repr=False, compare=False)   # ceil(elems × bits / 8)

    def __post_init__(self):      # computed once: the engine and mapper read them per op
        elems = prod(self.shape)
        object.__setattr__(self, "elems", elems)
        object.__setattr__(self, "size_bytes", (elems * self.dtype_bits + 7) // 8)


@dataclass(frozen=True, slots=True)
class Operand:
    """A tensor as one op sees it: which loop dims index it, and whether the op reads or writes it."""
    tensor: Tensor
    dims: tuple[str, ...]
    is_output: bool = False


@dataclass(frozen=True, slots=True)
class Op:
    """One operator: a loop nest over `dims` with operands, MAC and FLOP counts.

    `macs` counts multiply-accumulates of contractions (0 for elementwise); `flops` counts every
    arithmetic operation (2 per MAC plus non-linear work). `attrs` carries kind-specific hashable
    extras (e.g. ("causal", True), ("experts_active", 2), ("kernel", (16, 16))).
    """
    name: str
    kind: OpKind
    dims: tuple[tuple[str, int], ...]
    operands: tuple[Operand, ...]
    macs: int
    flops: int
    layer: int = -1
    attrs: tuple[tuple[str, object], ...] = ()

    @property
    def dim_sizes(self) -> dict[str, int]:
        return dict(self.dims)

    @property
    def inputs(self) -> tuple[Operand, ...]:
        return tuple([o for o in self.operands if not o.is_output])

    @property
    def outputs(self) -> tuple[Operand, ...]:
        return tuple([o for o in self.operands if o.is_output])    # (a list: no generator per call)

    @property
    def weight_bytes(self) -> int:
        return sum(o.tensor.size_bytes for o in self.operands if o.tensor.role is Role.WEIGHT)

    def bytes_by_role(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for o in self.operands:
            key = "output" if o.is_output else o.tensor.role.value
            out[key] = out.get(key, 0) + o.tensor.size_bytes
        return out

    @property
    def total_bytes(self) -> int:
        return sum(o.tensor.size_bytes for o in self.operands)

    def attr(self, key: str, default=None):
        for k, v in self.attrs:
            if k == key:
                return v
        return default


#: An OpGraph is a networkx.DiGraph: node = op name with attribute "op" (an `Op`); edge u→v carries
#: "tensor" (the `Tensor` v reads from u) and "bytes". Graph attributes: model, phase, batch, seq,
#: context, params, active_params, and dtypes.
OpGraph = nx.DiGraph


def new_graph(**meta) -> OpGraph:
    g = nx.DiGraph()
    g.graph.update(meta)
    return g


def add_op(graph: OpGraph, op: Op, after: Iterable[tuple[str, Tensor]] = ()) -> Op:
    """Add `op` and edges from each (producer op name, tensor) in `after`."""
    if op.name in graph:
        raise ValueError(f"duplicate op name {op.name!r}")
    graph.add_node(op.name, op=op)
    for producer, tensor in after:
        graph.add_edge(producer, op.name, tensor=tensor, bytes=tensor.size_bytes)
    return op


def ops_in_order(graph: OpGraph) -> Iterator[Op]:
    """Ops in a deterministic topological order (insertion order breaks ties). The order (and the
    ops in it) is computed once per graph and kept on it; graphs only grow (ops and edges are
    added, never removed or replaced), so it is recomputed when the node or edge count changes."""
    size = (len(graph), sum(map(len, graph._succ.values())))   # number_of_edges(), without views
    cached = graph.__dict__.get("_archsim_order")
    if cached is None or cached[0] != size:
        order = {n: i for i, n in enumerate(graph.nodes)}
        if all(order[u] < order[v] for u, succ in graph._succ.items() for v in succ):
            # ops were added after their producers (every builder does): the lexicographic
            # topological order by insertion index is the insertion order itself (the first
            # node not yet emitted has all its producers emitted), without networkx's heap
            names = tuple(graph.nodes)
        else:
            names = tuple(nx.lexicographical_topological_sort(graph, key=lambda n: order[n]))
        nodes = graph.nodes
        cached = (size, tuple(nodes[name]["op"] for name in names))
        graph.__dict__["_archsim_order"] = cached
    return iter(cached[1])


def unread_weight_bytes(graph: OpGraph) -> int:
    """Bytes of weights stored with the model but read by no op of `graph` (graph meta
    `unread_weight_bytes`): in a decode step, the MoE experts no token is routed to. They occupy
    the weights' memory level all the same, so every fit check adds them."""
    return int(graph.graph.get("unread_weight_bytes", 0) or 0)


@dataclass(frozen=True, slots=True)
class GraphTotals:
    params: int
    active_params: int
    macs: int
    flops: int
    weight_bytes: int
    activation_bytes: int
    kv_cache_bytes: int
    ops: int


def graph_totals(graph: OpGraph) -> GraphTotals:
    """Totals over a graph. Weights and KV tensors shared by several ops are counted once by name."""
    weights: dict[str, Tensor] = {}
    kv: dict[str, Tensor] = {}
    act = 0
    macs = flops = 0
    n = 0
    for op in ops_in_order(graph):
        n += 1
        macs += op.macs
        flops += op.flops
        for o in op.operands:
            t = o.tensor
            if t.role is Role.WEIGHT:
                weights[t.name] = t
            elif t.role is Role.KV_CACHE:
                kv[t.name] = t
            elif o.is_output:
                act += t.size_bytes
    params = graph.graph.get("params", sum(t.elems for t in weights.values()))
    active = graph.graph.get("active_params", params)
    return GraphTotals(
        params=params, active_params=active, macs=macs, flops=flops,
        weight_bytes=sum(t.size_bytes for t in weights.values()), activation_bytes=act,
        kv_cache_bytes=sum(t.size_bytes for t in kv.values()), ops=n,
    )


def summary_table(graph: OpGraph, limit: int | None = None) -> str:
    """A plain-text table of ops (name, kind, layer, MACs, FLOPs, bytes) in topological order,
    followed by the graph totals. `limit` keeps the first `limit` op rows."""
    rows = [("op", "kind", "layer", "macs", "flops", "bytes")]
    for i, op in enumerate(ops_in_order(graph)):
        if limit is not None and i >= limit:
            rows.append(("...", "", "", "", "", ""))
            break
        rows.append((printable(op.name), op.kind.value, str(op.layer), f"{op.macs:,}", f"{op.flops:,}",
                     f"{op.total_bytes:,}"))
    widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) if c < 2 else cell.rjust(w) for c, (cell, w) in enumerate(zip(r, widths)))
             for r in rows]
    t = graph_totals(graph)
    lines.append("")
    lines.append(f"params {t.params:,}  active {t.active_params:,}  ops {t.ops:,}  macs {t.macs:,}  "
                 f"flops {t.flops:,}")
    lines.append(f"weight_bytes {t.weight_bytes:,}  activation_bytes {t.activation_bytes:,}  "
                 f"kv_cache_bytes {t.kv_cache_bytes:,}")
    return "\n".join(lines)
