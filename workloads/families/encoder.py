"""Bidirectional encoders: BERT / DistilBERT (post-norm) and the block ViT-style models share."""
from __future__ import annotations

from archsim.ir import OpKind, Tensor
from ..config import ModelConfig
from ..lowering import Lowering, attention, eltwise, embedding, linear, norm
from ..phases import Phase
from .common import feed_forward

__all__ = ["lower_encoder", "encoder_block"]


def _attention_block(lw: Lowering, cfg: ModelConfig, p: str, h: Tensor, batch: int, seq: int) -> Tensor:
    d, H, hd = cfg.hidden, cfg.heads, cfg.head_dim_eff
    T, r = batch * seq, cfg.rank_ratio
    q = linear(lw, f"{p}.attn.q", h, T, d, H * hd, cfg.qkv_bias, r)
    k = linear(lw, f"{p}.attn.k", h, T, d, H * hd, cfg.qkv_bias, r)
    v = linear(lw, f"{p}.attn.v", h, T, d, H * hd, cfg.qkv_bias, r)
    o = attention(lw, f"{p}.attn", q, k, v, batch, seq, seq, H, H, hd, False)
    return linear(lw, f"{p}.attn.o", o, T, H * hd, d, cfg.out_bias, r)


def encoder_block(lw: Lowering, cfg: ModelConfig, i: int, x: Tensor, batch: int, seq: int,
                  pre_norm: bool) -> Tensor:
    """One Transformer encoder block (pre- or post-norm); MoE feed-forward on MoE layers."""
    lw.layer = i
    p, d, T = f"L{i}", cfg.hidden, batch * seq
    if pre_norm:
        h = norm(lw, f"{p}.norm1", x, T, d, cfg.norm, cfg.norm_bias)
        x = eltwise(lw, f"{p}.residual1", OpKind.ADD, (x, _attention_block(lw, cfg, p, h, batch, seq)), T, d)
        h = norm(lw, f"{p}.norm2", x, T, d, cfg.norm, cfg.norm_bias)
        return eltwise(lw, f"{p}.residual2", OpKind.ADD, (x, feed_forward(lw, cfg, p, h, T, i)), T, d)
    a = _attention_block(lw, cfg, p, x, batch, seq)
    x = norm(lw, f"{p}.norm1", eltwise(lw, f"{p}.residual1", OpKind.ADD, (x, a), T, d), T, d, cfg.norm)
    m = feed_forward(lw, cfg, p, x, T, i)
    return norm(lw, f"{p}.norm2", eltwise(lw, f"{p}.residual2", OpKind.ADD, (x, m), T, d), T, d, cfg.norm)


def lower_encoder(lw: Lowering, cfg: ModelConfig, ph: Phase) -> None:
    """BERT-style: token + position (+ segment) embeddings, LayerNorm, post-norm blocks, optional
    pooler (tanh dense layer on the first token)."""
    b, s, T, d = ph.batch, ph.seq, ph.tokens, cfg.hidden
    lw.layer = -1
    x = embedding(lw, "embed", lw.weight("embed.w", (cfg.vocab, d), usage="lookup"), T)
    pos = embedding(lw, "pos_embed", lw.weight("pos_embed.w", (cfg.max_positions, d), usage="lookup"), T)
    x = eltwise(lw, "embed_add", OpKind.ADD, (x, pos), T, d)
    if cfg.type_vocab:
        seg = embedding(lw, "type_embed", lw.weight("type_embed.w", (cfg.type_vocab, d), usage="lookup"), T)
        x = eltwise(lw, "type_add", OpKind.ADD, (x, seg), T, d)
    x = norm(lw, "embed_norm", x, T, d, cfg.norm)
    for i in range(cfg.layers):
        x = encoder_block(lw, cfg, i, x, b, s, pre_norm=False)
    lw.layer = -1
    if cfg.pooler:
        # the pooler's tanh (b·d elements) is not a separate op; IR has no tanh kind
        linear(lw, "pooler", lw.view(x, (b, d)), b, d, d, bias=True)
