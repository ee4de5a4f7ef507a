"""Attention-free / linear-attention language models: GLA (gated linear attention, Yang et al. 2023)
and the MatMul-free LM (Zhu et al. 2024: ternary BitLinear layers, MLGRU token mixer, GLU).

Gated-linear-attention FLOPs (per head; T tokens, chunk C, key width dk, value width dv):
- prefill, chunked form: MACs = T·(C·dk + C·dv) for the dense intra-chunk QKᵀ and PV, plus
  2·T·dk·dv for the inter-chunk q·S and the per-chunk state update Kᵀ·V. FLOPs = 2·MACs +
  2·T·dk (gate scaling of q and k) + (T/C)·dk·dv (state decay once per chunk).
- decode, recurrent form: MACs = 2·dk·dv per token (S += kᵀv, o = q·S); FLOPs = 2·MACs + dk·dv
  (decay of S). Ungated linear attention drops the gate terms.
The recurrent state (b, heads, dk, dv) is a KV_CACHE-role tensor: fixed size, independent of context.
"""
from __future__ import annotations

from math import ceil

from archsim.ir import OpKind, Tensor
from ..config import ModelConfig
from ..lowering import Lowering, eltwise, linear, norm
from ..phases import Phase
from .common import embed_tokens, lm_head, mlp

__all__ = ["linear_attention", "lower_gla", "lower_matmulfree", "GLA_CHUNK"]

#: chunk length of the chunked GLA kernel (fla's default chunk size; assumption)
GLA_CHUNK = 64


def linear_attention(lw: Lowering, name: str, q: Tensor, k: Tensor, v: Tensor, ph: Phase, heads: int,
                     dk: int, dv: int, gated: bool = True, gate: Tensor | None = None) -> Tensor:
    b, s, T = ph.batch, ph.seq, ph.tokens
    state = lw.kv_cache(f"{name}.state", (b, heads, dk, dv))
    if ph.name == "decode":
        macs = 2 * b * heads * dk * dv
        extra = b * heads * dk * dv if gated else 0
        chunk = 1
    else:
        chunk = min(GLA_CHUNK, s)
        macs = T * heads * (chunk * dk + chunk * dv + 2 * dk * dv)
        extra = (2 * T * heads * dk + ceil(s / chunk) * b * heads * dk * dv) if gated else 0
    y = lw.activation(name + ".recurrence", (T, heads * dv))
    dims = (("b", b), ("h", heads), ("t", s), ("k", dk), ("v", dv))
    inputs = [(lw.view(q, (b, heads, s, dk)), ("b", "h", "t", "k")),
              (lw.view(k, (b, heads, s, dk)), ("b", "h", "t", "k")),
              (lw.view(v, (b, heads, s, dv)), ("b", "h", "t", "v")),
              (state, ("b", "h", "k", "v"))]
    if gate is not None:
        inputs.append((lw.view(gate, (b, heads, s, dk)), ("b", "h", "t", "k")))
    return lw.emit(name + ".recurrence", OpKind.GLA_RECURRENCE, dims, tuple(inputs),
                   (y, ("b", "t", "h", "v")), macs, 2 * macs + extra,
                   (("heads", heads), ("chunk", chunk), ("gated", gated), ("causal", True)))


def _gla_layer(lw: Lowering, cfg: ModelConfig, i: int, x: Tensor, ph: Phase) -> Tensor:
    lw.layer = i
    p, d, T, H = f"L{i}", cfg.hidden, ph.tokens, cfg.heads
    dk_all, dv_all = int(d * cfg.expand_k), int(d * cfg.expand_v)
    h = norm(lw, f"{p}.norm1", x, T, d, "rmsnorm", False)
    q = linear(lw, f"{p}.attn.q", h, T, d, dk_all)
    k = linear(lw, f"{p}.attn.k", h, T, d, dk_all)
    v = linear(lw, f"{p}.attn.v", h, T, d, dv_all)
    g = linear(lw, f"{p}.attn.g", h, T, d, dv_all)
    gk = linear(lw, f"{p}.attn.gk_down", h, T, d, cfg.gate_rank)
    gk = linear(lw, f"{p}.attn.gk_up", gk, T, cfg.gate_rank, dk_all, bias=True)
    o = linear_attention(lw, f"{p}.attn", q, k, v, ph, H, dk_all // H, dv_all // H, gated=True,
                         gate=gk)
    o = norm(lw, f"{p}.attn.g_norm", lw.view(o, (T * H, dv_all // H)), T * H, dv_all // H, "rmsnorm", False)
    o = eltwise(lw, f"{p}.attn.out_gate", OpKind.SWIGLU, (lw.view(o, (T, dv_all)), g), T, dv_all)
    a = linear(lw, f"{p}.attn.o", o, T, dv_all, d)
    x = eltwise(lw, f"{p}.residual1", OpKind.ADD, (x, a), T, d)
    h2 = norm(lw, f"{p}.norm2", x, T, d, "rmsnorm", False)
    m = mlp(lw, cfg, f"{p}.mlp", h2, T)
    return eltwise(lw, f"{p}.residual2", OpKind.ADD, (x, m), T, d)


def lower_gla(lw: Lowering, cfg: ModelConfig, ph: Phase) -> None:
    x, table = embed_tokens(lw, cfg, ph.tokens)
    for i in range(cfg.layers):
        x = _gla_layer(lw, cfg, i, x, ph)
    lm_head(lw, cfg, x, table, ph.batch)


def _bitlinear(lw: Lowering, name: str, x: Tensor, tokens: int, k: int, n: int) -> Tensor:
    """BitLinear: RMSNorm of the input, 8-bit absmax activation quantisation, ternary matmul."""
    h = norm(lw, f"{name}.norm", x, tokens, k, "rmsnorm", False)
    qx = eltwise(lw, f"{name}.quant", OpKind.QUANTIZE, (h,), tokens, k, (("bits", 8),))
    return linear(lw, name, qx, tokens, k, n)


def _mlgru_layer(lw: Lowering, cfg: ModelConfig, i: int, x: Tensor, ph: Phase) -> Tensor:
    lw.layer = i
    p, d, T, f = f"L{i}", cfg.hidden, ph.tokens, cfg.ffn
    b = ph.batch
    h = norm(lw, f"{p}.norm1", x, T, d, "rmsnorm", False)
    c = _bitlinear(lw, f"{p}.mix.i", h, T, d, d)
    fg = _bitlinear(lw, f"{p}.mix.f", h, T, d, d)
    g = _bitlinear(lw, f"{p}.mix.g", h, T, d, d)
    state = lw.kv_cache(f"{p}.mix.state", (b, d))
    # h_t = σ(f)·h_{t-1} + (1-σ(f))·silu(c): sigmoid 4 + silu 4 + 4 for the update = 12 per element
    y = lw.activation(f"{p}.mix.recurrence", (T, d))
    y = lw.emit(f"{p}.mix.recurrence", OpKind.GLA_RECURRENCE, (("b", b), ("t", ph.seq), ("n", d)),
                ((lw.view(c, (b, ph.seq, d)), ("b", "t", "n")), (lw.view(fg, (b, ph.seq, d)), ("b", "t", "n")),
                 (state, ("b", "n"))), (y, ("b", "t", "n")), 0, 12 * T * d,
                (("elementwise", True), ("causal", True)))
    y = norm(lw, f"{p}.mix.g_norm", y, T, d, "rmsnorm", False)
    y = eltwise(lw, f"{p}.mix.out_gate", OpKind.SWIGLU, (y, g), T, d)
    a = _bitlinear(lw, f"{p}.mix.o", y, T, d, d)
    x = eltwise(lw, f"{p}.residual1", OpKind.ADD, (x, a), T, d)
    h2 = norm(lw, f"{p}.norm2", x, T, d, "rmsnorm", False)
    gu = _bitlinear(lw, f"{p}.mlp.gate_up", h2, T, d, 2 * f)
    act = eltwise(lw, f"{p}.mlp.act", OpKind.SWIGLU, (lw.view(gu, (T, f)),), T, f)
    m = _bitlinear(lw, f"{p}.mlp.down", act, T, f, d)
    return eltwise(lw, f"{p}.residual2", OpKind.ADD, (x, m), T, d)


def lower_matmulfree(lw: Lowering, cfg: ModelConfig, ph: Phase) -> None:
    """MatMul-free LM: every projection inside the blocks is a ternary BitLinear (2-bit storage);
    embeddings and the LM head stay in the weight dtype."""
    x, table = embed_tokens(lw, cfg, ph.tokens)
    for i in range(cfg.layers):
        x = _mlgru_layer(lw, cfg, i, x, ph)
    saved = lw.matmul_dtype
    lw.matmul_dtype = lw.dtypes.weights
    lm_head(lw, cfg, x, table, ph.batch)
    lw.matmul_dtype = saved
