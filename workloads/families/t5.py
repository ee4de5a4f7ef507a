"""T5 encoder-decoder (Raffel et al. 2020; v1.0: ReLU FFN, no biases, RMS-style LayerNorm, tied
embeddings, a relative-position bias table in the first layer of each stack shared by all layers).

Phases: encode = the encoder over `seq` tokens; prefill = encoder over `seq` tokens + the first
decoder step (writes the self-attention cache of 1 position and the cross-attention K/V of `seq`
positions); decode = one decoder step with a self-attention cache of `context` positions and a
cross-attention cache of `seq` positions (default: `context`).
"""
from __future__ import annotations

from archsim.ir import OpKind, Tensor
from ..config import ModelConfig
from ..lowering import Lowering, attention, eltwise, embedding, kv_append, linear, norm, position_bias
from ..phases import Phase
from .common import mlp

__all__ = ["lower_t5"]


def _rel_bias(lw: Lowering, cfg: ModelConfig, name: str, q_len: int, kv_len: int) -> Tensor:
    """The bias every layer of a stack adds to its self-attention scores, gathered once from the
    first layer's (buckets × heads) table."""
    return position_bias(lw, name, cfg.relative_buckets, cfg.heads, q_len, kv_len)


def _encoder(lw: Lowering, cfg: ModelConfig, table: Tensor, b: int, s: int) -> Tensor:
    d, H, hd, T = cfg.hidden, cfg.heads, cfg.head_dim_eff, b * s
    x = embedding(lw, "enc.embed", table, T)
    bias = _rel_bias(lw, cfg, "enc.pos_bias", s, s)
    for i in range(cfg.layers):
        lw.layer = i
        p = f"enc.L{i}"
        h = norm(lw, f"{p}.norm1", x, T, d, "rmsnorm", False)
        q, k, v = (linear(lw, f"{p}.attn.{t}", h, T, d, H * hd) for t in ("q", "k", "v"))
        o = attention(lw, f"{p}.attn", q, k, v, b, s, s, H, H, hd, False, score_bias=bias)
        x = eltwise(lw, f"{p}.residual1", OpKind.ADD, (x, linear(lw, f"{p}.attn.o", o, T, H * hd, d)), T, d)
        h = norm(lw, f"{p}.norm2", x, T, d, "rmsnorm", False)
        x = eltwise(lw, f"{p}.residual2", OpKind.ADD, (x, mlp(lw, cfg, f"{p}.mlp", h, T)), T, d)
    lw.layer = -1
    return norm(lw, "enc.final_norm", x, T, d, "rmsnorm", False)


def _decoder_step(lw: Lowering, cfg: ModelConfig, table: Tensor, enc: Tensor | None, ph: Phase) -> None:
    d, H, hd, b = cfg.hidden, cfg.heads, cfg.head_dim_eff, ph.batch
    T, src = b, ph.source_len
    self_len = ph.context if ph.name == "decode" else 1
    x = embedding(lw, "dec.embed", table, T)
    bias = _rel_bias(lw, cfg, "dec.pos_bias", 1, self_len)
    for i in range(cfg.decoder_layers):
        lw.layer = cfg.layers + i
        p = f"dec.L{i}"
        h = norm(lw, f"{p}.norm1", x, T, d, "rmsnorm", False)
        q, k, v = (linear(lw, f"{p}.self.{t}", h, T, d, H * hd) for t in ("q", "k", "v"))
        kc = kv_append(lw, f"{p}.self.k_append", k, lw.kv_cache(f"{p}.self.k_cache", (b, H, self_len, hd)), b, 1)
        vc = kv_append(lw, f"{p}.self.v_append", v, lw.kv_cache(f"{p}.self.v_cache", (b, H, self_len, hd)), b, 1)
        o = attention(lw, f"{p}.self", q, kc, vc, b, 1, self_len, H, H, hd, True, score_bias=bias)
        x = eltwise(lw, f"{p}.residual1", OpKind.ADD, (x, linear(lw, f"{p}.self.o", o, T, H * hd, d)), T, d)
        h = norm(lw, f"{p}.norm2", x, T, d, "rmsnorm", False)
        q = linear(lw, f"{p}.cross.q", h, T, d, H * hd)
        kc = lw.kv_cache(f"{p}.cross.k_cache", (b, H, src, hd))
        vc = lw.kv_cache(f"{p}.cross.v_cache", (b, H, src, hd))
        if enc is not None:  # prefill: project the encoder output once into the cross cache
            ck = linear(lw, f"{p}.cross.k", enc, b * src, d, H * hd)
            cv = linear(lw, f"{p}.cross.v", enc, b * src, d, H * hd)
            kc = kv_append(lw, f"{p}.cross.k_append", ck, kc, b, src)
            vc = kv_append(lw, f"{p}.cross.v_append", cv, vc, b, src)
        else:  # decode: the cross projections ran at prefill; their weights still count as params
            lw.weight(f"{p}.cross.k.w", (d, H * hd))
            lw.weight(f"{p}.cross.v.w", (d, H * hd))
        o = attention(lw, f"{p}.cross", q, kc, vc, b, 1, src, H, H, hd, False)
        x = eltwise(lw, f"{p}.residual2", OpKind.ADD, (x, linear(lw, f"{p}.cross.o", o, T, H * hd, d)), T, d)
        h = norm(lw, f"{p}.norm3", x, T, d, "rmsnorm", False)
        x = eltwise(lw, f"{p}.residual3", OpKind.ADD, (x, mlp(lw, cfg, f"{p}.mlp", h, T)), T, d)
    lw.layer = -1
    x = norm(lw, "dec.final_norm", x, T, d, "rmsnorm", False)
    linear(lw, "lm_head", x, T, d, cfg.vocab, kind=OpKind.LM_HEAD, weight=lw.view(table, (d, cfg.vocab)),
           attrs=(("tied", True),))


def lower_t5(lw: Lowering, cfg: ModelConfig, ph: Phase) -> None:
    lw.layer = -1
    table = lw.weight("embed.w", (cfg.vocab, cfg.hidden), usage="lookup")
    if ph.name == "decode":
        _decoder_step(lw, cfg, table, None, ph)
        return
    enc = _encoder(lw, cfg, table, ph.batch, ph.seq)
    if ph.name == "prefill":
        _decoder_step(lw, cfg, table, enc, ph)
