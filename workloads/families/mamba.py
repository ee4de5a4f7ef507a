"""Mamba (Gu & Dao 2023): selective state-space blocks, no attention.

Block: RMSNorm → in_proj (d → 2·d_inner, x and z) → causal depthwise conv1d (width d_conv) → SiLU →
x_proj (d_inner → dt_rank + 2·d_state) → dt_proj (dt_rank → d_inner, bias) → selective scan →
y·SiLU(z) → out_proj (d_inner → d) → residual. The recurrent state (b, d_inner, d_state) and the conv
window (b, d_inner, d_conv-1) are KV_CACHE-role tensors: fixed size whatever the context.

Scan FLOPs: 9·T·d_inner·d_state + T·d_inner (D skip) + 3·T·d_inner (softplus of Δ), MACs
2·T·d_inner·d_state (state update and C·h readout).
"""
from __future__ import annotations

from archsim.ir import OpKind, Tensor
from ..config import ModelConfig
from ..lowering import Lowering, eltwise, linear, norm
from ..phases import Phase
from .common import embed_tokens, lm_head

__all__ = ["lower_mamba"]


def _layer(lw: Lowering, cfg: ModelConfig, i: int, x: Tensor, ph: Phase) -> Tensor:
    lw.layer = i
    p, d, T, b, s = f"L{i}", cfg.hidden, ph.tokens, ph.batch, ph.seq
    di, N, R, kc = cfg.expand * cfg.hidden, cfg.d_state, cfg.dt_rank, cfg.d_conv
    h = norm(lw, f"{p}.norm", x, T, d, "rmsnorm", False)
    xz = linear(lw, f"{p}.in_proj", h, T, d, 2 * di)
    conv_in = [(lw.view(xz, (b, di, s)), ("b", "c", "l")),
               (lw.weight(f"{p}.conv.w", (di, kc), usage="conv"), ("c", "k")),
               (lw.weight(f"{p}.conv.b", (di,), usage="bias"), ("c",))]
    if ph.name == "decode":
        conv_in.append((lw.kv_cache(f"{p}.conv_state", (b, di, kc - 1)), ("b", "c", "k")))
    conv_macs = T * di * kc
    xc = lw.emit(f"{p}.conv", OpKind.DWCONV2D, (("b", b), ("c", di), ("l", s), ("k", kc)), tuple(conv_in),
                 (lw.activation(f"{p}.conv", (b, di, s)), ("b", "c", "l")), conv_macs,
                 2 * conv_macs + T * di, (("kernel", (1, kc)), ("causal", True)))
    xc = eltwise(lw, f"{p}.conv_act", OpKind.SILU, (lw.view(xc, (T, di)),), T, di)
    dbc = linear(lw, f"{p}.x_proj", xc, T, di, R + 2 * N)
    dt = linear(lw, f"{p}.dt_proj", lw.view(dbc, (T, R)), T, R, di, bias=True)
    macs = 2 * T * di * N
    scan_in = ((lw.view(xc, (b, s, di)), ("b", "l", "c")), (lw.view(dt, (b, s, di)), ("b", "l", "c")),
               (lw.view(dbc, (b, s, N)), ("b", "l", "n")),  # B
               (lw.view(dbc, (b, s, N)), ("b", "l", "n")),  # C
               (lw.weight(f"{p}.A_log", (di, N), usage="ssm"), ("c", "n")),
               (lw.weight(f"{p}.D", (di,), usage="ssm"), ("c",)),
               (lw.kv_cache(f"{p}.ssm_state", (b, di, N)), ("b", "c", "n")))
    y = lw.emit(f"{p}.scan", OpKind.SELECTIVE_SCAN, (("b", b), ("l", s), ("c", di), ("n", N)), scan_in,
                (lw.activation(f"{p}.scan", (b, s, di)), ("b", "l", "c")), macs,
                9 * T * di * N + T * di + 3 * T * di, (("d_state", N), ("causal", True)))
    y = eltwise(lw, f"{p}.gate", OpKind.SWIGLU, (lw.view(y, (T, di)), lw.view(xz, (T, di))), T, di)
    o = linear(lw, f"{p}.out_proj", y, T, di, d)
    return eltwise(lw, f"{p}.residual", OpKind.ADD, (x, o), T, d)


def lower_mamba(lw: Lowering, cfg: ModelConfig, ph: Phase) -> None:
    x, table = embed_tokens(lw, cfg, ph.tokens)
    for i in range(cfg.layers):
        x = _layer(lw, cfg, i, x, ph)
    lm_head(lw, cfg, x, table, ph.batch)
