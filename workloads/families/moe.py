"""Mixture-of-experts MLP: router, dispatch, batched expert matmuls over the experts in use, combine.

With T tokens and top-k routing, T·k token-slots are spread over the experts. Assuming balanced
routing, min(E, T·k) experts are in use, each with ceil(T·k / in-use) tokens. The expert weight
tensors the ops read hold only the in-use experts; the registry counts all E experts as parameters
and k of them as active per token, so idle experts show up in `params` but not `active_params`.
"""
from __future__ import annotations

from math import ceil

from archsim.ir import OpKind, Tensor
from ..lowering import ACTIVATION_FLOPS, Lowering, eltwise, linear

__all__ = ["moe_mlp"]


def _expert_linear(lw: Lowering, name: str, x: Tensor, experts: int, in_use: int, per: int,
                   k: int, n: int, top_k: int, bias: bool) -> Tensor:
    w = lw.weight(f"{name}.w", (in_use, k, n), params=experts * k * n, active=top_k * k * n)
    inputs = [(x, ("e", "m", "k")), (w, ("e", "k", "n"))]
    if bias:
        b = lw.weight(f"{name}.b", (in_use, n), usage="bias", params=experts * n, active=top_k * n)
        inputs.append((b, ("e", "n")))
    macs = in_use * per * k * n
    y = lw.activation(name, (in_use, per, n))
    return lw.emit(name, OpKind.MATMUL, (("e", in_use), ("m", per), ("n", n), ("k", k)), tuple(inputs),
                   (y, ("e", "m", "n")), macs, 2 * macs + (in_use * per * n if bias else 0),
                   (("experts", experts), ("experts_active", in_use), ("top_k", top_k)))


def moe_mlp(lw: Lowering, name: str, h: Tensor, tokens: int, d: int, experts: int, top_k: int,
            ffn: int, activation: str, gated: bool, bias: bool) -> Tensor:
    """MoE feed-forward over `tokens` rows of width d. Returns a (tokens, d) tensor."""
    meta = (("experts", experts), ("top_k", top_k))
    logits = linear(lw, f"{name}.router", h, tokens, d, experts, kind=OpKind.MOE_ROUTER, attrs=meta)
    gates = eltwise(lw, f"{name}.gate_softmax", OpKind.SOFTMAX, (logits,), tokens, experts, attrs=meta)
    slots = tokens * top_k
    in_use = min(experts, slots)
    per = ceil(slots / in_use)
    routed = lw.activation(f"{name}.dispatch", (in_use, per, d))
    # a permutation: each of the in_use × per slots copies one token row (loop dims = the slots)
    routed = lw.emit(f"{name}.dispatch", OpKind.MOE_DISPATCH, (("e", in_use), ("m", per), ("n", d)),
                     ((h, ("e", "m", "n")), (gates, ("e", "m"))), (routed, ("e", "m", "n")), 0, 0,
                     meta + (("experts_active", in_use),))
    rows = in_use * per
    if gated:
        g = _expert_linear(lw, f"{name}.experts.gate", routed, experts, in_use, per, d, ffn, top_k, bias)
        u = _expert_linear(lw, f"{name}.experts.up", routed, experts, in_use, per, d, ffn, top_k, bias)
        a = eltwise(lw, f"{name}.experts.act", OpKind.SWIGLU, (lw.view(g, (rows, ffn)), lw.view(u, (rows, ffn))),
                    rows, ffn, (("activation", activation),), ACTIVATION_FLOPS[activation] + 1)
    else:
        u = _expert_linear(lw, f"{name}.experts.fc1", routed, experts, in_use, per, d, ffn, top_k, bias)
        a = eltwise(lw, f"{name}.experts.act", activation, (lw.view(u, (rows, ffn)),), rows, ffn)
    out = _expert_linear(lw, f"{name}.experts.down", lw.view(a, (in_use, per, ffn)), experts, in_use,
                         per, ffn, d, top_k, bias)
    y = lw.activation(f"{name}.combine", (tokens, d))
    # weighted sum of each token's k expert outputs: one multiply and one add per element and slot
    return lw.emit(f"{name}.combine", OpKind.ADD, (("m", tokens), ("k", top_k), ("n", d)),
                   ((lw.view(out, (tokens, top_k, d)), ("m", "k", "n")), (gates, ("m", "k"))), (y, ("m", "n")),
                   0, 2 * slots * d, meta)
