"""Decoder-only language models: GPT-2/3, OPT, GPT-NeoX, LLaMA, Mistral, Mixtral, Qwen2, Phi-3, Gemma,
and gated-convolution / attention hybrids (LFM2: `cfg.conv_layers` mix tokens by `short_conv`).

One forward pass serves prefill and decode; the differences are the number of new tokens per
sequence and where K/V come from (fresh activations vs the explicit KV-cache tensor).
"""
from __future__ import annotations

from archsim.ir import OpKind, Tensor
from ..config import ModelConfig
from ..lowering import Lowering, attention, eltwise, kv_append, linear, norm
from ..phases import Phase
from .common import embed_tokens, feed_forward, lm_head, rope
from .hybrid import short_conv
from .recurrent import linear_attention

__all__ = ["lower_decoder"]


def _self_attention(lw: Lowering, cfg: ModelConfig, p: str, h: Tensor, ph: Phase) -> Tensor:
    d, H, G, hd = cfg.hidden, cfg.heads, cfg.kv_heads_eff, cfg.head_dim_eff
    b, s, T = ph.batch, ph.seq, ph.tokens
    q = linear(lw, f"{p}.attn.q", h, T, d, H * hd, cfg.qkv_bias)
    k = linear(lw, f"{p}.attn.k", h, T, d, G * hd, cfg.qkv_bias)
    v = linear(lw, f"{p}.attn.v", h, T, d, G * hd, cfg.qkv_bias)
    if cfg.attention != "softmax":
        o = linear_attention(lw, f"{p}.attn", q, k, v, ph, H, hd, hd, gated=cfg.attention == "gated-linear")
        return linear(lw, f"{p}.attn.o", o, T, H * hd, d, cfg.out_bias)
    if cfg.qk_norm:        # per-head RMSNorm of queries and keys (LFM2, Qwen3, OLMo-2)
        q = lw.view(norm(lw, f"{p}.attn.q_norm", lw.view(q, (T * H, hd)), T * H, hd, "rmsnorm", False),
                    (T, H * hd))
        k = lw.view(norm(lw, f"{p}.attn.k_norm", lw.view(k, (T * G, hd)), T * G, hd, "rmsnorm", False),
                    (T, G * hd))
    if cfg.position == "rope":
        q = rope(lw, f"{p}.attn.rope_q", q, T, H * hd, cfg.rotary_pct)
        k = rope(lw, f"{p}.attn.rope_k", k, T, G * hd, cfg.rotary_pct)
    window = cfg.sliding_window
    attrs = (("window", window),) if window else ()
    if ph.name == "decode":
        span = min(ph.context, window) if window else ph.context
        kc = kv_append(lw, f"{p}.attn.k_append", k, lw.kv_cache(f"{p}.k_cache", (b, G, span, hd)), b, 1)
        vc = kv_append(lw, f"{p}.attn.v_append", v, lw.kv_cache(f"{p}.v_cache", (b, G, span, hd)), b, 1)
        o = attention(lw, f"{p}.attn", q, kc, vc, b, 1, span, H, G, hd, True, attrs=attrs)
    elif ph.past:      # a prefill chunk: s new tokens after ph.past cached positions
        span = min(ph.context, window + s - 1) if window else ph.context
        kc = kv_append(lw, f"{p}.attn.k_append", k, lw.kv_cache(f"{p}.k_cache", (b, G, span, hd)), b, s)
        vc = kv_append(lw, f"{p}.attn.v_append", v, lw.kv_cache(f"{p}.v_cache", (b, G, span, hd)), b, s)
        o = attention(lw, f"{p}.attn", q, kc, vc, b, s, span, H, G, hd, True,
                      attrs=attrs + (("past", ph.past),))
    else:
        kept = min(s, window) if window else s
        kv_append(lw, f"{p}.attn.k_append", k, lw.kv_cache(f"{p}.k_cache", (b, G, kept, hd)), b, kept)
        kv_append(lw, f"{p}.attn.v_append", v, lw.kv_cache(f"{p}.v_cache", (b, G, kept, hd)), b, kept)
        o = attention(lw, f"{p}.attn", q, k, v, b, s, s, H, G, hd, True, attrs=attrs)
    return linear(lw, f"{p}.attn.o", o, T, H * hd, d, cfg.out_bias)


def _layer(lw: Lowering, cfg: ModelConfig, i: int, x: Tensor, ph: Phase) -> Tensor:
    lw.layer = i
    p, d, T = f"L{i}", cfg.hidden, ph.tokens
    h = norm(lw, f"{p}.norm1", x, T, d, cfg.norm, cfg.norm_bias)
    a = short_conv(lw, cfg, p, h, ph) if i in cfg.conv_layers else _self_attention(lw, cfg, p, h, ph)
    if cfg.parallel_residual:
        h2 = norm(lw, f"{p}.norm2", x, T, d, cfg.norm, cfg.norm_bias)
        m = feed_forward(lw, cfg, p, h2, T, i)
        x = eltwise(lw, f"{p}.residual1", OpKind.ADD, (x, a), T, d)
        return eltwise(lw, f"{p}.residual2", OpKind.ADD, (x, m), T, d)
    x = eltwise(lw, f"{p}.residual1", OpKind.ADD, (x, a), T, d)
    h2 = norm(lw, f"{p}.norm2", x, T, d, cfg.norm, cfg.norm_bias)
    m = feed_forward(lw, cfg, p, h2, T, i)
    return eltwise(lw, f"{p}.residual2", OpKind.ADD, (x, m), T, d)


def lower_decoder(lw: Lowering, cfg: ModelConfig, ph: Phase) -> None:
    """prefill: ph.seq tokens per sequence (after ph.past cached ones in a prefill chunk); decode:
    one token attending to ph.context positions.
    Only the last position of each sequence is projected to the vocabulary."""
    lw.layer = -1
    x, table = embed_tokens(lw, cfg, ph.tokens)
    for i in range(cfg.layers):
        x = _layer(lw, cfg, i, x, ph)
    lm_head(lw, cfg, x, table, ph.batch)
