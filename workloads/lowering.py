"""Recording a forward pass over shape-only tensors as an OpGraph.

A family's lowering function calls the helpers here the way a PyTorch `forward` calls layers. Each
helper emits one `Op` (or a few) and returns the output `Tensor`; edges are drawn from whichever op
produced each input tensor, so data flow needs no bookkeeping in family code.

FLOP conventions (per output element unless said otherwise; MACs count only contractions):
- matmul / attention QKᵀ and PV / conv / lm head: flops = 2 × macs, plus 1 per output element when a
  bias is added. Ternary (MatMul-free) matmuls keep the same count; the op carries ("ternary", True).
- softmax: 5 (max, subtract, exp, sum, divide).  layernorm: 7 (mean, subtract, square, variance sum,
  normalise, scale, shift).  rmsnorm: 4 (square, sum, normalise, scale).
- gelu: 8 (tanh approximation).  silu: 4.  relu: 1.  swiglu gate: 5 (silu + multiply).
- add, mul: 1.  rotary embedding: 3 (two multiplies, one add per element).  embedding lookup,
  KV append, copy (an imported graph's gather / concat / slice / expand / pad),
  reshape/transpose: 0.  pooling: 1 per window element read.
- Mamba selective scan: 9 per (token, channel, state) + 1 per (token, channel) for the D skip, the
  count of the reference implementation (mamba_ssm `selective_scan_ref` flop count, Gu & Dao 2023).
- gated linear attention: see `workloads.families.recurrent`.
Causal attention is counted dense (the full q × kv score matrix, as masked kernels compute it); the
op carries ("causal", True) so a mapper may halve it.
"""
from __future__ import annotations

from math import prod

from archsim.ir import Op, OpGraph, OpKind, Operand, Role, Tensor, DTYPE_BITS

__all__ = ["Lowering", "FLOPS_PER_ELEMENT", "linear", "patch_gemm", "conv_gemm", "eltwise", "norm",
           "embedding", "attention", "lowrank_rank", "kv_append", "ACTIVATION_FLOPS", "position_bias"]

FLOPS_PER_ELEMENT: dict[OpKind, int] = {
    OpKind.SOFTMAX: 5, OpKind.LAYERNORM: 7, OpKind.RMSNORM: 4, OpKind.GELU: 8, OpKind.SILU: 4,
    OpKind.RELU: 1, OpKind.SWIGLU: 5, OpKind.ADD: 1, OpKind.MUL: 1, OpKind.ROPE: 3,
    OpKind.EMBEDDING: 0, OpKind.KV_APPEND: 0, OpKind.KV_READ: 0, OpKind.QUANTIZE: 2,
    OpKind.DEQUANTIZE: 2, OpKind.MOE_DISPATCH: 0, OpKind.COPY: 0,
}
_ACT_KIND = {"gelu": OpKind.GELU, "relu": OpKind.RELU, "silu": OpKind.SILU}
#: flops per element of each activation function by name
ACTIVATION_FLOPS = {"gelu": 8, "relu": 1, "silu": 4}


class Lowering:
    """Mutable recorder for one build: the graph, the dtypes, who produced which tensor, and a
    registry of every weight (with how many of its parameters are active per token)."""

    __slots__ = ("graph", "dtypes", "producer", "weights", "unread", "layer", "matmul_dtype")

    def __init__(self, graph: OpGraph, dtypes, matmul_weight_dtype: str = ""):
        self.graph = graph
        self.dtypes = dtypes
        self.producer: dict[str, str] = {}
        #: weight name -> (params, active_params, usage, storage bits per element)
        self.weights: dict[str, tuple[int, int, str, int]] = {}
        self.unread: dict[str, int] = {}     # weight name → bits stored but read by no op
        self.layer = -1
        use_model_default = matmul_weight_dtype and not dtypes.explicit_weights
        self.matmul_dtype = matmul_weight_dtype if use_model_default else dtypes.weights

    # -- tensors ------------------------------------------------------------------------------
    def weight(self, name: str, shape: tuple[int, ...], usage: str = "matmul",
               params: int | None = None, active: int | None = None) -> Tensor:
        """A weight tensor as ops see it. `params`/`active` override the registry's count (MoE:
        the op sees only the experts in use; params counts all, active the top-k per token)."""
        dtype = self.matmul_dtype if usage == "matmul" else self.dtypes.weights
        tensor = Tensor(name, tuple(shape), DTYPE_BITS[dtype], Role.WEIGHT)
        total = prod(shape) if params is None else params
        self.weights[name] = (total, total if active is None else active, usage, tensor.dtype_bits)
        self.unread[name] = max(0, total - prod(shape)) * tensor.dtype_bits
        return tensor

    def activation(self, name: str, shape: tuple[int, ...]) -> Tensor:
        return Tensor(name, tuple(shape), self.dtypes.activation_bits, Role.ACTIVATION)

    def kv_cache(self, name: str, shape: tuple[int, ...]) -> Tensor:
        return Tensor(name, tuple(shape), self.dtypes.kv_bits, Role.KV_CACHE)

    @staticmethod
    def view(tensor: Tensor, shape: tuple[int, ...]) -> Tensor:
        """The same data under another shape (reshape / transpose are free): same name, so the
        producing op stays the edge source."""
        return Tensor(tensor.name, tuple(shape), tensor.dtype_bits, tensor.role)

    # -- ops ----------------------------------------------------------------------------------
    def emit(self, name: str, kind: OpKind, dims: tuple[tuple[str, int], ...],
             inputs: tuple[tuple[Tensor, tuple[str, ...]], ...],
             output: tuple[Tensor, tuple[str, ...]], macs: int, flops: int,
             attrs: tuple[tuple[str, object], ...] = ()) -> Tensor:
        if not dims:                       # a rank-0 result (an ONNX op on scalars): one element, a
            dims = (("scalar", 1),)        # loop of 1 (the mapper tiles loops; an empty nest crashed it)
        operands = [Operand(t, d) for t, d in inputs]
        out_tensor, out_dims = output
        operands.append(Operand(out_tensor, out_dims, is_output=True))
        op = Op(name=name, kind=kind, dims=dims, operands=tuple(operands), macs=int(macs),
                flops=int(flops), layer=self.layer, attrs=attrs)
        graph = self.graph
        if name in graph:
            raise ValueError(f"duplicate op name {name!r}")
        graph.add_node(name, op=op)
        producer = self.producer
        for tensor, _ in inputs:
            src = producer.get(tensor.name)
            if src is not None and src != name:
                graph.add_edge(src, name, tensor=tensor, bytes=tensor.size_bytes)
        producer[out_tensor.name] = name
        return out_tensor

    # -- totals -------------------------------------------------------------------------------
    def params(self) -> tuple[int, int]:
        total = sum(w[0] for w in self.weights.values())
        active = sum(w[1] for w in self.weights.values())
        return total, active

    def params_by_usage(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for p, _, usage, _ in self.weights.values():
            out[usage] = out.get(usage, 0) + p
        return dict(sorted(out.items()))

    def weight_storage_bytes(self) -> tuple[int, int]:
        """(bytes of every weight, bytes of weights idle per token, i.e. unused MoE experts)."""
        total = sum(p * bits for p, _, _, bits in self.weights.values())
        idle = sum((p - a) * bits for p, a, _, bits in self.weights.values())
        return (total + 7) // 8, (idle + 7) // 8

    def unread_weight_bytes(self) -> int:
        """Bytes of weights stored but read by no op of this graph: the MoE experts no token is
        routed to (the ops' expert tensors hold only the experts in use). They still occupy memory."""
        return (sum(self.unread.values()) + 7) // 8


def lowrank_rank(k: int, n: int, ratio: float) -> int:
    """Rank kept when a k×n linear layer is factorised at `ratio` (MCUFormer): ratio × min(k, n),
    rounded, at least 1. Assumption: MCUFormer's ratio is relative to the full rank min(k, n)."""
    return max(1, int(round(ratio * min(k, n))))


def linear(lw: Lowering, name: str, x: Tensor, tokens: int, k: int, n: int, bias: bool = False,
           rank_ratio: float = 1.0, kind: OpKind = OpKind.MATMUL, weight: Tensor | None = None,
           attrs: tuple = ()) -> Tensor:
    """Y[m,n] = X[m,k] · W[k,n] (+ b[n]). `rank_ratio` < 1 factorises W into (k×r)(r×n)."""
    if rank_ratio < 1.0:
        r = lowrank_rank(k, n, rank_ratio)
        if r * (k + n) < k * n:
            h = linear(lw, f"{name}.u", x, tokens, k, r, attrs=attrs + (("lowrank", r),))
            return linear(lw, f"{name}.v", h, tokens, r, n, bias=bias, attrs=attrs + (("lowrank", r),))
    w = weight if weight is not None else lw.weight(f"{name}.w", (k, n))
    inputs = [(x, ("m", "k")), (w, ("k", "n"))]
    if bias:
        inputs.append((lw.weight(f"{name}.b", (n,), usage="bias"), ("n",)))
    macs = tokens * k * n
    if lw.matmul_dtype == "ternary" and w.dtype_bits == 2:
        attrs = attrs + (("ternary", True),)
    y = lw.activation(name, (tokens, n))
    return lw.emit(name, kind, (("m", tokens), ("n", n), ("k", k)), tuple(inputs), (y, ("m", "n")),
                   macs, 2 * macs + (tokens * n if bias else 0), attrs)


def patch_gemm(lw: Lowering, name: str, image: Tensor, weight: Tensor, bias: Tensor | None,
               grid: tuple[int, int], attrs: tuple = ()) -> Tensor:
    """A convolution whose kernel equals its stride (unpadded, ungrouped: a patch embedding) as the
    GEMM it is: the image read as (patches, C·kh·kw) rows — im2col is a free reshape when patches
    do not overlap — times the (C·kh·kw, out) kernel matrix. `weight` is (out, C, kh, kw), `image`
    (batch, C, H, W), kept whole (pixels beyond the last full patch are still stored and read);
    returns the (batch·gh·gw, out) patch features."""
    dims, inputs, macs, flops = _conv_as_gemm(lw, image, weight, bias, grid)
    kh, kw = weight.shape[2:]
    y = lw.activation(name, (dims[0][1], dims[1][1]))
    return lw.emit(name, OpKind.MATMUL, dims, inputs, (y, ("m", "n")), macs, flops,
                   attrs + (("kernel", (kh, kw)), ("stride", (kh, kw)), ("conv_as_gemm", True), ("grid", grid)))


def conv_gemm(lw: Lowering, name: str, x: Tensor, weight: Tensor, bias: Tensor | None,
              grid: tuple[int, int], stride: tuple[int, int], pads: tuple[int, ...] = (),
              attrs: tuple = ()) -> Tensor:
    """An ungrouped convolution as the implicit GEMM a systolic array or tensor core runs: loop dims
    m = batch·oh·ow (output pixels), n = out channels, k = C·kh·kw (the receptive field), so every
    mapspace tiling of m, n and k is a legal conv schedule and an array unrolls whole rows of
    pixels and whole receptive fields. The input keeps its own shape (its bytes are read once per
    refetch, not kh·kw times); its tile footprint is the im2col tile (m × k), what an array's
    data-setup buffer holds. `weight` is (out, C, kh, kw), `x` (batch, C, H, W)."""
    dims, inputs, macs, flops = _conv_as_gemm(lw, x, weight, bias, grid)
    (_, m), (_, out), _ = dims
    kh, kw = weight.shape[2:]
    y = lw.activation(name, (x.shape[0], out, grid[0], grid[1]))
    return lw.emit(name, OpKind.CONV2D, dims, inputs, (lw.view(y, (m, out)), ("m", "n")), macs, flops,
                   attrs + (("kernel", (kh, kw)), ("stride", tuple(stride)), ("pads", tuple(pads)),
                            ("implicit_gemm", True), ("grid", grid)))


def _conv_as_gemm(lw: Lowering, x: Tensor, weight: Tensor, bias: Tensor | None, grid: tuple[int, int]):
    """A convolution's GEMM view, shared by `patch_gemm` and `conv_gemm`: loop dims m = batch·gh·gw
    output pixels, n = out channels, k = C·kh·kw; the input as (m, k), the (out, C, kh, kw) kernel
    viewed as (k, n), the bias over n; MACs and FLOPs (2 per MAC plus the bias adds)."""
    out, c, kh, kw = weight.shape
    m, k = x.shape[0] * grid[0] * grid[1], c * kh * kw
    inputs = [(x, ("m", "k")), (lw.view(weight, (k, out)), ("k", "n"))]
    if bias is not None:
        inputs.append((bias, ("n",)))
    macs = m * k * out
    return (("m", m), ("n", out), ("k", k)), tuple(inputs), macs, 2 * macs + (m * out if bias is not None else 0)


def eltwise(lw: Lowering, name: str, kind: OpKind | str, inputs: tuple[Tensor, ...], tokens: int,
            n: int, attrs: tuple = (), flops_per_element: int | None = None) -> Tensor:
    """An elementwise op over a (tokens, n) activation (activation names map to their kinds)."""
    if not isinstance(kind, OpKind):
        kind = _ACT_KIND[kind]
    per = FLOPS_PER_ELEMENT[kind] if flops_per_element is None else flops_per_element
    y = lw.activation(name, (tokens, n))
    return lw.emit(name, kind, (("m", tokens), ("n", n)), tuple((t, ("m", "n")) for t in inputs),
                   (y, ("m", "n")), 0, per * tokens * n, attrs)


def norm(lw: Lowering, name: str, x: Tensor, tokens: int, n: int, kind: str = "layernorm",
         bias: bool = True) -> Tensor:
    op_kind = OpKind.RMSNORM if kind == "rmsnorm" else OpKind.LAYERNORM
    inputs = [(x, ("m", "n")), (lw.weight(f"{name}.g", (n,), usage="norm"), ("n",))]
    if bias and op_kind is OpKind.LAYERNORM:
        inputs.append((lw.weight(f"{name}.b", (n,), usage="norm"), ("n",)))
    y = lw.activation(name, (tokens, n))
    return lw.emit(name, op_kind, (("m", tokens), ("n", n)), tuple(inputs), (y, ("m", "n")), 0,
                   FLOPS_PER_ELEMENT[op_kind] * tokens * n)


def embedding(lw: Lowering, name: str, table: Tensor, tokens: int, ids: Tensor | None = None) -> Tensor:
    """Gather `tokens` rows of `table` (rows, n). Zero FLOPs. A gather is no loop over the table:
    the loop dims are (m, n) and the table operand is indexed by (m, n) too, so footprints computed
    from dims give the tokens × n elements actually read (the tensor itself keeps its full shape;
    the attr ("rows", rows) records the table height)."""
    rows, n = table.shape
    inputs = [(table, ("m", "n"))]
    if ids is not None:
        inputs.insert(0, (ids, ("m",)))
    y = lw.activation(name, (tokens, n))
    return lw.emit(name, OpKind.EMBEDDING, (("m", tokens), ("n", n)), tuple(inputs),
                   (y, ("m", "n")), 0, 0, (("gather", True), ("rows", rows)))


def attention(lw: Lowering, name: str, q: Tensor, k: Tensor, v: Tensor, batch: int, q_len: int,
              kv_len: int, heads: int, kv_heads: int, head_dim: int, causal: bool,
              score_bias: Tensor | None = None, v_head_dim: int | None = None,
              attrs: tuple = ()) -> Tensor:
    """Softmax attention as three ops: QKᵀ, softmax, PV. Loop dims b, g (KV heads), r (query heads
    per KV head), q, s (keys), e (head dim), so GQA is an exact einsum. `k`/`v` may be activations
    (prefill) or KV-cache tensors (decode). Returns the (b·q, heads·v_head_dim) output."""
    dv = v_head_dim or head_dim
    g, r = kv_heads, heads // kv_heads
    common = (("heads", heads), ("kv_heads", kv_heads), ("head_dim", head_dim), ("causal", causal)) + attrs
    qv = lw.view(q, (batch, g, r, q_len, head_dim))
    kv_ = lw.view(k, (batch, g, kv_len, head_dim)) if k.role is not Role.KV_CACHE else k
    vv = lw.view(v, (batch, g, kv_len, dv)) if v.role is not Role.KV_CACHE else v
    sdims = ("b", "g", "r", "q", "s")
    qk_macs = batch * heads * q_len * kv_len * head_dim
    scores = lw.activation(f"{name}.qk", (batch, g, r, q_len, kv_len))
    scores = lw.emit(f"{name}.qk", OpKind.ATTN_QK,
                     (("b", batch), ("g", g), ("r", r), ("q", q_len), ("s", kv_len), ("e", head_dim)),
                     ((qv, ("b", "g", "r", "q", "e")), (kv_, ("b", "g", "s", "e"))), (scores, sdims),
                     qk_macs, 2 * qk_macs, common)
    sdim_sizes = (("b", batch), ("g", g), ("r", r), ("q", q_len), ("s", kv_len))
    elems = batch * heads * q_len * kv_len
    if score_bias is not None:
        biased = lw.activation(f"{name}.bias", scores.shape)
        scores = lw.emit(f"{name}.bias", OpKind.ADD, sdim_sizes,
                         ((scores, sdims), (score_bias, ("g", "r", "q", "s"))), (biased, sdims),
                         0, elems)
    probs = lw.activation(f"{name}.softmax", scores.shape)
    probs = lw.emit(f"{name}.softmax", OpKind.SOFTMAX, sdim_sizes, ((scores, sdims),), (probs, sdims),
                    0, FLOPS_PER_ELEMENT[OpKind.SOFTMAX] * elems, common)
    av_macs = batch * heads * q_len * kv_len * dv
    out = lw.activation(f"{name}.av", (batch, g, r, q_len, dv))
    out = lw.emit(f"{name}.av", OpKind.ATTN_AV,
                  (("b", batch), ("g", g), ("r", r), ("q", q_len), ("s", kv_len), ("e", dv)),
                  ((probs, sdims), (vv, ("b", "g", "s", "e"))), (out, ("b", "g", "r", "q", "e")),
                  av_macs, 2 * av_macs, common)
    return lw.view(out, (batch * q_len, heads * dv))


def position_bias(lw: Lowering, name: str, rows: int, heads: int, q_len: int, kv_len: int) -> Tensor:
    """A learned attention bias table (rows × heads: Swin's relative positions, T5's buckets,
    EfficientFormer's offsets) gathered into the (heads, 1, q, kv) bias the scores get added."""
    table = lw.weight(f"{name}.table", (rows, heads), usage="bias")
    y = lw.activation(name, (heads, 1, q_len, kv_len))
    dims = ("g", "r", "q", "s")
    return lw.emit(name, OpKind.EMBEDDING, (("g", heads), ("r", 1), ("q", q_len), ("s", kv_len)),
                   ((table, dims),), (y, dims), 0, 0, (("gather", True), ("rows", rows)))


def kv_append(lw: Lowering, name: str, new: Tensor, cache: Tensor, batch: int, tokens: int) -> Tensor:
    """Write `tokens` new positions per sequence into `cache` (b, g, L, e). The op's loop dims
    cover only the written slice (t = tokens); the operand is the whole cache tensor."""
    b, g, _, e = cache.shape
    src = lw.view(new, (batch, g, tokens, e))
    return lw.emit(name, OpKind.KV_APPEND, (("b", b), ("g", g), ("t", tokens), ("e", e)),
                   ((src, ("b", "g", "t", "e")),), (cache, ("b", "g", "t", "e")), 0, 0,
                   (("append_tokens", tokens),))
