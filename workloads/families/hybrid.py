"""Gated short convolution, the token mixer of gated-convolution / attention hybrids (LFM2, Liquid
AI 2025: "LFM2 Technical Report", arXiv 2511.23404; the HF `Lfm2ShortConv` module).

Block: in_proj (d → 3d: B, C, x) → B·x → causal depthwise conv1d of width `d_conv` over the sequence
→ C·conv → out_proj (d → d). The rolling conv window (b, d, d_conv − 1) is the layer's only state:
a KV_CACHE-role tensor of fixed size whatever the context, read and written at decode. The rest of
a hybrid's layer (norms, SwiGLU MLP, residuals) and its attention layers are the decoder's.
"""
from __future__ import annotations

from archsim.ir import OpKind, Tensor
from ..config import ModelConfig
from ..lowering import Lowering, eltwise, linear
from ..phases import Phase

__all__ = ["short_conv"]


def short_conv(lw: Lowering, cfg: ModelConfig, p: str, h: Tensor, ph: Phase) -> Tensor:
    d, kc = cfg.hidden, cfg.d_conv
    b, s, T = ph.batch, ph.seq, ph.tokens
    bcx = linear(lw, f"{p}.conv.in_proj", h, T, d, 3 * d)
    gated = eltwise(lw, f"{p}.conv.gate_in", OpKind.MUL, (lw.view(bcx, (T, d)), lw.view(bcx, (T, d))), T, d)
    conv_in = [(lw.view(gated, (b, d, s)), ("b", "c", "l")),
               (lw.weight(f"{p}.conv.w", (d, kc), usage="conv"), ("c", "k"))]
    if ph.name == "decode":
        conv_in.append((lw.kv_cache(f"{p}.conv_state", (b, d, kc - 1)), ("b", "c", "k")))
    macs = T * d * kc
    y = lw.emit(f"{p}.conv.conv", OpKind.DWCONV2D, (("b", b), ("c", d), ("l", s), ("k", kc)), tuple(conv_in),
                (lw.activation(f"{p}.conv.conv", (b, d, s)), ("b", "c", "l")), macs, 2 * macs,
                (("kernel", (1, kc)), ("causal", True)))
    y = eltwise(lw, f"{p}.conv.gate_out", OpKind.MUL, (lw.view(y, (T, d)), lw.view(bcx, (T, d))), T, d)
    return linear(lw, f"{p}.conv.out_proj", y, T, d, d)
