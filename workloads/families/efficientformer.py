"""EfficientFormer (Li et al. 2022), the hybrid conv/attention ViT; structure as in timm's
`efficientformer.py`: a 2-conv stem, four stages of MetaBlock-4D (3×3 avg-pool token mixer and a 1×1
conv MLP with BatchNorm), strided-conv downsampling, and `vit_blocks` MetaBlock-3D (attention with a
learned bias per head and position, key dim 32, 8 heads, value ratio 4) closing the last stage;
LayerNorm, mean pool and two classifier heads (class + distillation).

BatchNorm at inference is a per-channel scale and shift: a MUL op with 2 flops per element.
"""
from __future__ import annotations

from archsim.ir import OpKind, Tensor
from ..config import ModelConfig
from ..lowering import Lowering, attention, conv_gemm, eltwise, linear, norm, position_bias
from ..phases import Phase

__all__ = ["lower_efficientformer", "KEY_DIM", "ATTN_HEADS", "ATTN_RATIO"]

KEY_DIM, ATTN_HEADS, ATTN_RATIO = 32, 8, 4


def _conv(lw: Lowering, name: str, x: Tensor, b: int, cin: int, cout: int, k: int, stride: int,
          res: int) -> tuple[Tensor, int]:
    out = (res + 2 * (k // 2) - k) // stride + 1
    w = lw.weight(f"{name}.w", (cout, cin, k, k), usage="conv")
    bias = lw.weight(f"{name}.b", (cout,), usage="bias")
    y = conv_gemm(lw, name, lw.view(x, (b, cin, res, res)), w, bias, (out, out), (stride, stride),
                  (k // 2,) * 4)
    return lw.view(y, (b * out * out, cout)), out


def _scale(lw: Lowering, name: str, x: Tensor, tokens: int, c: int, shift: bool) -> Tensor:
    """Per-channel scale (+ shift): BatchNorm (2 params/channel) or LayerScale (1)."""
    params = [(lw.weight(f"{name}.g", (c,), usage="norm"), ("n",))]
    if shift:
        params.append((lw.weight(f"{name}.b", (c,), usage="norm"), ("n",)))
    y = lw.activation(name, (tokens, c))
    return lw.emit(name, OpKind.MUL, (("m", tokens), ("n", c)), ((x, ("m", "n")),) + tuple(params),
                   (y, ("m", "n")), 0, (1 + int(shift)) * tokens * c,
                   (("batchnorm", True),) if shift else (("layer_scale", True),))


def _meta4d(lw: Lowering, p: str, x: Tensor, b: int, res: int, c: int) -> Tensor:
    T = b * res * res
    pooled = lw.emit(f"{p}.pool", OpKind.POOL, (("b", b), ("y", res), ("x", res), ("n", c)),
                     ((lw.view(x, (b, res, res, c)), ("b", "y", "x", "n")),),
                     (lw.activation(f"{p}.pool", (T, c)), ("b", "y", "x", "n")), 0, 10 * T * c,
                     (("pool", "avg"), ("kernel", (3, 3)), ("minus_input", True)))
    x = eltwise(lw, f"{p}.residual1", OpKind.ADD, (x, _scale(lw, f"{p}.ls1", pooled, T, c, False)), T, c)
    h = linear(lw, f"{p}.mlp.fc1", x, T, c, 4 * c, bias=True)
    h = eltwise(lw, f"{p}.mlp.act", OpKind.GELU, (_scale(lw, f"{p}.mlp.bn1", h, T, 4 * c, True),), T, 4 * c)
    h = _scale(lw, f"{p}.mlp.bn2", linear(lw, f"{p}.mlp.fc2", h, T, 4 * c, c, bias=True), T, c, True)
    return eltwise(lw, f"{p}.residual2", OpKind.ADD, (x, _scale(lw, f"{p}.ls2", h, T, c, False)), T, c)


def _meta3d(lw: Lowering, p: str, x: Tensor, b: int, n: int, c: int) -> Tensor:
    T, H, kd = b * n, ATTN_HEADS, KEY_DIM
    vd = ATTN_RATIO * kd
    h = norm(lw, f"{p}.norm1", x, T, c)
    q = linear(lw, f"{p}.attn.q", h, T, c, H * kd, bias=True)
    k = linear(lw, f"{p}.attn.k", h, T, c, H * kd, bias=True)
    v = linear(lw, f"{p}.attn.v", h, T, c, H * vd, bias=True)
    bias = position_bias(lw, f"{p}.attn.pos_bias", n, H, n, n)
    o = attention(lw, f"{p}.attn", q, k, v, b, n, n, H, H, kd, False, score_bias=bias, v_head_dim=vd)
    a = linear(lw, f"{p}.attn.o", o, T, H * vd, c, bias=True)
    x = eltwise(lw, f"{p}.residual1", OpKind.ADD, (x, _scale(lw, f"{p}.ls1", a, T, c, False)), T, c)
    h = norm(lw, f"{p}.norm2", x, T, c)
    h = eltwise(lw, f"{p}.mlp.act", OpKind.GELU, (linear(lw, f"{p}.mlp.fc1", h, T, c, 4 * c, bias=True),), T, 4 * c)
    h = linear(lw, f"{p}.mlp.fc2", h, T, 4 * c, c, bias=True)
    return eltwise(lw, f"{p}.residual2", OpKind.ADD, (x, _scale(lw, f"{p}.ls2", h, T, c, False)), T, c)


def lower_efficientformer(lw: Lowering, cfg: ModelConfig, ph: Phase) -> None:
    b, dims = ph.batch, cfg.dims
    lw.layer = -1
    res = cfg.image[0]
    img = lw.activation("image", (b * res * res, cfg.channels))
    x, res = _conv(lw, "stem.conv1", img, b, cfg.channels, dims[0] // 2, 3, 2, res)
    x = eltwise(lw, "stem.act1", OpKind.RELU, (_scale(lw, "stem.bn1", x, b * res * res, dims[0] // 2, True),),
                b * res * res, dims[0] // 2)
    x, res = _conv(lw, "stem.conv2", x, b, dims[0] // 2, dims[0], 3, 2, res)
    x = eltwise(lw, "stem.act2", OpKind.RELU, (_scale(lw, "stem.bn2", x, b * res * res, dims[0], True),),
                b * res * res, dims[0])
    layer = 0
    vit_blocks = cfg.layers
    for stage, (depth, c) in enumerate(zip(cfg.depths, dims)):
        if stage:
            lw.layer = layer
            x, res = _conv(lw, f"S{stage}.down", x, b, dims[stage - 1], c, 3, 2, res)
            x = _scale(lw, f"S{stage}.down.bn", x, b * res * res, c, True)
        for j in range(depth):
            lw.layer = layer
            last_stage = stage == len(dims) - 1
            if last_stage and j >= depth - vit_blocks:
                x = _meta3d(lw, f"S{stage}.B{j}", x, b, res * res, c)
            else:
                x = _meta4d(lw, f"S{stage}.B{j}", x, b, res, c)
            layer += 1
    lw.layer = -1
    c, n = dims[-1], res * res
    x = norm(lw, "final_norm", x, b * n, c)
    pooled = lw.emit("avgpool", OpKind.POOL, (("b", b), ("t", n), ("n", c)),
                     ((lw.view(x, (b, n, c)), ("b", "t", "n")),), (lw.activation("avgpool", (b, c)), ("b", "n")),
                     0, b * n * c, (("pool", "avg"),))
    linear(lw, "head", pooled, b, c, cfg.num_classes, bias=True)
    linear(lw, "head_dist", pooled, b, c, cfg.num_classes, bias=True)
