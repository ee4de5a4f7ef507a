"""Layers several families share: rotary embedding, dense / MoE feed-forward, token embedding and
the LM head."""
from __future__ import annotations

from archsim.ir import OpKind, Tensor
from ..config import ModelConfig
from ..lowering import ACTIVATION_FLOPS, Lowering, eltwise, embedding, linear, norm
from .moe import moe_mlp

__all__ = ["rope", "mlp", "feed_forward", "embed_tokens", "lm_head"]


def rope(lw: Lowering, name: str, x: Tensor, tokens: int, width: int, fraction: float) -> Tensor:
    """Rotary position embedding on the first `fraction` of every head's channels (3 flops each)."""
    rotated = int(round(width * fraction))
    y = lw.activation(name, (tokens, width))
    return lw.emit(name, OpKind.ROPE, (("m", tokens), ("n", width)), ((x, ("m", "n")),), (y, ("m", "n")),
                   0, 3 * tokens * rotated, (("rotary_fraction", fraction),))


def mlp(lw: Lowering, cfg: ModelConfig, name: str, h: Tensor, tokens: int, ffn: int | None = None) -> Tensor:
    """Dense feed-forward: fc1-act-fc2, or gate/up-(act·mul)-down when `cfg.gated_mlp`."""
    d, f = cfg.hidden, ffn or cfg.ffn
    bias, r = cfg.mlp_bias, cfg.rank_ratio
    if cfg.gated_mlp:
        g = linear(lw, f"{name}.gate", h, tokens, d, f, bias, r)
        u = linear(lw, f"{name}.up", h, tokens, d, f, bias, r)
        a = eltwise(lw, f"{name}.act", OpKind.SWIGLU, (g, u), tokens, f, (("activation", cfg.activation),),
                    ACTIVATION_FLOPS[cfg.activation] + 1)
        return linear(lw, f"{name}.down", a, tokens, f, d, bias, r)
    u = linear(lw, f"{name}.fc1", h, tokens, d, f, bias, r)
    a = eltwise(lw, f"{name}.act", cfg.activation, (u,), tokens, f)
    return linear(lw, f"{name}.fc2", a, tokens, f, d, bias, r)


def _is_moe_layer(cfg: ModelConfig, i: int) -> bool:
    return bool(cfg.experts) and i % cfg.moe_every == cfg.moe_every - 1


def feed_forward(lw: Lowering, cfg: ModelConfig, p: str, h: Tensor, tokens: int, i: int) -> Tensor:
    if _is_moe_layer(cfg, i):
        return moe_mlp(lw, f"{p}.moe", h, tokens, cfg.hidden, cfg.experts, cfg.top_k,
                       cfg.expert_ffn_eff, cfg.activation, cfg.gated_mlp, cfg.mlp_bias)
    return mlp(lw, cfg, f"{p}.mlp", h, tokens)


def embed_tokens(lw: Lowering, cfg: ModelConfig, tokens: int) -> tuple[Tensor, Tensor]:
    """Token (+ learned position) embedding. Returns (hidden states, token table)."""
    d = cfg.hidden
    table = lw.weight("embed.w", (cfg.vocab, d), usage="lookup")
    x = embedding(lw, "embed", table, tokens)
    if cfg.position == "learned" and cfg.max_positions:
        pos = lw.weight("pos_embed.w", (cfg.max_positions, d), usage="lookup")
        p = embedding(lw, "pos_embed", pos, tokens)
        x = eltwise(lw, "embed_add", OpKind.ADD, (x, p), tokens, d)
    return x, table


def lm_head(lw: Lowering, cfg: ModelConfig, x: Tensor, table: Tensor, rows: int) -> Tensor:
    """Final norm + vocabulary projection of `rows` positions (tied: reuses the token table)."""
    lw.layer = -1
    d = cfg.hidden
    if cfg.final_norm:
        x = norm(lw, "final_norm", x, x.shape[0], d, cfg.norm, cfg.norm_bias)
    last = lw.view(x, (rows, d))
    w = lw.view(table, (d, cfg.vocab)) if cfg.tied_embeddings else lw.weight("lm_head.w", (d, cfg.vocab))
    return linear(lw, "lm_head", last, rows, d, cfg.vocab, kind=OpKind.LM_HEAD, weight=w,
                  attrs=(("tied", cfg.tied_embeddings),))
