"""onnxruntime contrib ops (domain com.microsoft) as its transformer optimiser emits them: their
output shapes (which `onnx` cannot infer) and their lowering onto archsim ops.

- Attention: packed QKV projection (input · W + b) then QKᵀ, softmax, PV per head (`num_heads`,
  `unidirectional` = causal, `qkv_hidden_sizes` for unequal Q/K/V widths);
- MultiHeadAttention: QKᵀ, softmax, PV of given query / key / value (an optional packed bias added);
- SkipLayerNormalization / SkipSimplifiedLayerNormalization: residual add + (RMS) layer norm, one op;
- EmbedLayerNormalization: word + position (+ segment) embedding lookups, add, layer norm;
- Gelu / FastGelu / BiasGelu / QuickGelu: one elementwise GELU (bias added in the same op).
"""
from __future__ import annotations

from math import prod

from archsim.ir import OpKind, Tensor
from ..lowering import FLOPS_PER_ELEMENT, Lowering, attention

__all__ = ["contrib_shape", "emit_contrib"]


def _attr(node, name: str, default=None):
    for a in node.attribute:
        if a.name == name:
            return list(a.ints) if a.ints else a.i if a.type == 2 else a.f if a.type == 1 else default
    return default


def contrib_shape(node, shapes) -> list[tuple[int, ...] | None] | None:
    """Output shapes of a contrib op from its input shapes (None where unknown). Any other op with
    an input shape: its first input's shape for every output (how a skipped unknown op is costed)."""
    ins = [shapes.get(n) if n else None for n in node.input]
    x = ins[0] if ins else None
    op = node.op_type
    if x is None:
        return None
    if op == "Attention" and len(ins) > 1 and ins[1] is not None:
        sizes = _attr(node, "qkv_hidden_sizes") or [ins[1][-1] // 3] * 3
        return [x[:-1] + (sizes[2],)] + [None] * (len(node.output) - 1)
    if op == "MultiHeadAttention":
        v = ins[2] if len(ins) > 2 else None
        width = v[-1] if v is not None and len(v) == 3 else x[-1] if len(x) == 3 else None
        return [x[:2] + (width,) if width else None] + [None] * (len(node.output) - 1)
    if op in ("SkipLayerNormalization", "SkipSimplifiedLayerNormalization"):
        stat = x[:-1] + (1,)
        return [x, stat, stat, x][:len(node.output)]
    if op == "EmbedLayerNormalization" and len(ins) > 2 and ins[2] is not None:
        return [x + (ins[2][-1],), x[:1], x + (ins[2][-1],)][:len(node.output)]
    return [x] * len(node.output)


def emit_contrib(lw: Lowering, node, name: str, ins: list[Tensor | None], outs: list[Tensor]) -> None:
    op = node.op_type
    out = outs[0]
    if op == "Attention":
        x, w = ins[0], ins[1]
        bias = ins[2] if len(ins) > 2 else None
        heads = int(_attr(node, "num_heads", 1))
        sizes = _attr(node, "qkv_hidden_sizes") or [w.shape[-1] // 3] * 3
        b, s, k = x.shape
        m, n = b * s, w.shape[-1]
        operands = [(lw.view(x, (m, k)), ("m", "k")), (w, ("k", "n"))]
        if bias is not None:
            operands.append((bias, ("n",)))
        qkv = lw.activation(f"{name}.qkv", (m, n))
        lw.emit(f"{name}.qkv", OpKind.MATMUL, (("m", m), ("n", n), ("k", k)), tuple(operands), (qkv, ("m", "n")),
                m * n * k, 2 * m * n * k + (m * n if bias is not None else 0), (("onnx_op", op),))
        q = Tensor(qkv.name, (m, sizes[0]), qkv.dtype_bits, qkv.role)
        kk = Tensor(qkv.name, (m, sizes[1]), qkv.dtype_bits, qkv.role)
        v = Tensor(qkv.name, (m, sizes[2]), qkv.dtype_bits, qkv.role)
        y = attention(lw, name, q, kk, v, b, s, s, heads, heads, sizes[0] // heads,
                      bool(_attr(node, "unidirectional", 0)), v_head_dim=sizes[2] // heads)
        _rename(lw, y, out)
        return
    if op == "MultiHeadAttention":
        q = ins[0]
        k = ins[1] if len(ins) > 1 and ins[1] is not None else q
        v = ins[2] if len(ins) > 2 and ins[2] is not None else k
        heads = int(_attr(node, "num_heads", 1))
        b, s, d = q.shape
        kv_len = k.shape[1] if len(k.shape) >= 3 else s
        if len(ins) > 3 and ins[3] is not None:   # packed Q/K/V bias, added before attention
            bias = ins[3]
            biased = lw.activation(f"{name}.bias", (b * s, d))
            lw.emit(f"{name}.bias", OpKind.ADD, (("m", b * s), ("n", d)),
                    ((lw.view(q, (b * s, d)), ("m", "n")), (bias, ("n",))), (biased, ("m", "n")), 0,
                    b * s * d)
            q = lw.view(biased, (b, s, d))
        y = attention(lw, name, q, k, v, b, s, kv_len, heads, heads, d // heads,
                      bool(_attr(node, "unidirectional", 0)), v_head_dim=v.shape[-1] // heads)
        _rename(lw, y, out)
        return
    elems = prod(out.shape)
    dims = tuple((f"d{i}", s) for i, s in enumerate(out.shape))
    odims = tuple(d for d, _ in dims)
    if op == "EmbedLayerNormalization":
        ids = ins[0]
        tables = [t for t in ins[2:5] if t is not None]
        width = out.shape[-1]
        m = prod(ids.shape)
        gathered = lw.activation(f"{name}.embed", (m, width))
        operands = [(lw.view(ids, (m,)), ("m",))] + [(t, ("m", "n")) for t in tables]
        lw.emit(f"{name}.embed", OpKind.EMBEDDING, (("m", m), ("n", width)), tuple(operands),
                (gathered, ("m", "n")), 0, (len(tables) - 1) * m * width, (("gather", True),))
        norm_ins = [(lw.view(gathered, out.shape), odims)] + [(t, odims[-1:]) for t in ins[5:7] if t is not None]
        lw.emit(name, OpKind.LAYERNORM, dims, tuple(norm_ins), (out, odims), 0,
                FLOPS_PER_ELEMENT[OpKind.LAYERNORM] * elems, (("onnx_op", op),))
        return
    acts = [(t, _bdims(t, out.shape)) for t in ins if t is not None and t.role.value == "activation"]
    consts = [(t, odims[-1:]) for t in ins if t is not None and t.role.value != "activation"
              and len(t.shape) == 1 and t.shape[0] == out.shape[-1]]
    if op in ("SkipLayerNormalization", "SkipSimplifiedLayerNormalization", "SimplifiedLayerNormalization"):
        kind = OpKind.LAYERNORM if op == "SkipLayerNormalization" else OpKind.RMSNORM
        flops = (FLOPS_PER_ELEMENT[kind] + (1 if op.startswith("Skip") else 0)) * elems
        lw.emit(name, kind, dims, tuple(acts + consts), (out, odims), 0, flops, (("onnx_op", op),))
    else:  # Gelu family
        per = FLOPS_PER_ELEMENT[OpKind.GELU] + (1 if len(ins) > 1 else 0)
        lw.emit(name, OpKind.GELU, dims, tuple(acts + consts), (out, odims), 0, per * elems, (("onnx_op", op),))
    for extra in outs[1:]:   # a Skip norm's residual sum (output 3) is this op's too
        lw.producer[extra.name] = name


def _bdims(t: Tensor, out_shape: tuple[int, ...]) -> tuple[str, ...]:
    offset = len(out_shape) - len(t.shape)
    return tuple(f"d{offset + i}" for i, s in enumerate(t.shape) if s != 1 or out_shape[offset + i] == 1)


def _rename(lw: Lowering, y: Tensor, out: Tensor) -> None:
    """The attention's last op produced `y`; consumers read the node's output name."""
    lw.producer[out.name] = lw.producer[y.name]
