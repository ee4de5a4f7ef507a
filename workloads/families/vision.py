"""Vision Transformers: ViT / DeiT / MCUFormer / M³ViT (isotropic) and Swin (hierarchical windows).

Patch embedding is a strided conv (kernel = stride = patch); the token count is
(H // patch) · (W // patch) + class (+ distillation) tokens. MCUFormer factorises every linear layer
of the blocks at its low-rank ratio; M³ViT swaps every other block's MLP for a 16-expert top-2 MoE.
"""
from __future__ import annotations

from archsim.errors import ModelError
from archsim.ir import OpKind, Tensor
from ..config import ModelConfig
from ..lowering import Lowering, attention, eltwise, linear, norm, patch_gemm, position_bias
from ..phases import Phase
from .encoder import encoder_block

__all__ = ["lower_vit", "lower_swin", "patch_embed", "vit_tokens"]


def vit_tokens(cfg: ModelConfig) -> int:
    gh, gw = cfg.image[0] // cfg.patch, cfg.image[1] // cfg.patch
    if gh <= 0 or gw <= 0:
        raise ModelError(f"{cfg.name}: patch {cfg.patch} is larger than the image {cfg.image}")
    return gh * gw + int(cfg.cls_token) + int(cfg.dist_token)


def patch_embed(lw: Lowering, name: str, batch: int, image: tuple[int, int], channels: int, patch: int,
                out: int, stride: int | None = None) -> tuple[Tensor, int, int]:
    """Conv2d patch embedding (kernel `patch`, stride `stride` or `patch`). Returns (y, gh, gw).
    Kernel = stride (ViT, Swin) is the GEMM `patch_gemm`; overlapping patches stay a convolution."""
    stride = stride or patch
    gh, gw = (image[0] - patch) // stride + 1, (image[1] - patch) // stride + 1
    w = lw.weight(f"{name}.w", (out, channels, patch, patch), usage="conv")
    bias = lw.weight(f"{name}.b", (out,), usage="bias")
    img = lw.activation("image", (batch, channels, image[0], image[1]))
    if stride == patch:
        y = patch_gemm(lw, name, img, w, bias, (gh, gw))
        return lw.view(y, (batch, out, gh, gw)), gh, gw
    macs = batch * gh * gw * out * channels * patch * patch
    y = lw.activation(name, (batch, out, gh, gw))
    y = lw.emit(name, OpKind.CONV2D, (("b", batch), ("o", out), ("y", gh), ("x", gw), ("c", channels),
                                      ("i", patch), ("j", patch)),
                ((img, ("b", "c", "y", "x")), (w, ("o", "c", "i", "j")), (bias, ("o",))),
                (y, ("b", "o", "y", "x")), macs, 2 * macs + batch * gh * gw * out,
                (("kernel", (patch, patch)), ("stride", (stride, stride))))
    return y, gh, gw


def lower_vit(lw: Lowering, cfg: ModelConfig, ph: Phase) -> None:
    b, d = ph.batch, cfg.hidden
    lw.layer = -1
    patches, gh, gw = patch_embed(lw, "patch_embed", b, cfg.image, cfg.channels, cfg.patch, d)
    s = vit_tokens(cfg)
    T = b * s
    extra = int(cfg.cls_token) + int(cfg.dist_token)
    pos = lw.weight("pos_embed", (s, d), usage="lookup")
    inputs = [(lw.view(patches, (b, s, d)), ("b", "s", "n")), (pos, ("s", "n"))]
    if extra:
        # tokens = [class (+ distillation) token; patches] + positions: the one op that assembles
        # the sequence reads the class token (its `extra` rows once, broadcast over the batch), so
        # its bytes are placed and streamed like every other weight
        inputs.append((lw.weight("cls_token", (extra, d), usage="lookup"), ("n",)))
    x = lw.emit("pos_add", OpKind.ADD, (("b", b), ("s", s), ("n", d)), tuple(inputs),
                (lw.activation("pos_add", (T, d)), ("b", "s", "n")), 0, T * d)
    for i in range(cfg.layers):
        x = encoder_block(lw, cfg, i, x, b, s, pre_norm=True)
    lw.layer = -1
    x = norm(lw, "final_norm", x, T, d, cfg.norm, cfg.norm_bias)
    if cfg.num_classes:
        linear(lw, "head", lw.view(x, (b, d)), b, d, cfg.num_classes, bias=True)


def _swin_block(lw: Lowering, cfg: ModelConfig, name: str, x: Tensor, b: int, res: int, c: int,
                heads: int) -> Tensor:
    w = cfg.window
    win = max(1, res // w) ** 2
    q_len = min(w, res) ** 2
    T = b * res * res
    hd = c // heads
    h = norm(lw, f"{name}.norm1", x, T, c)
    qkv = [linear(lw, f"{name}.attn.{t}", h, T, c, c, bias=True) for t in ("q", "k", "v")]
    bias = position_bias(lw, f"{name}.attn.pos_bias", (2 * w - 1) ** 2, heads, q_len, q_len)
    o = attention(lw, f"{name}.attn", *qkv, b * win, q_len, q_len, heads, heads, hd, False, score_bias=bias,
                  attrs=(("windows", win),))
    x = eltwise(lw, f"{name}.residual1", OpKind.ADD, (x, linear(lw, f"{name}.attn.o", o, T, c, c, True)), T, c)
    h = norm(lw, f"{name}.norm2", x, T, c)
    u = linear(lw, f"{name}.mlp.fc1", h, T, c, 4 * c, True)
    u = eltwise(lw, f"{name}.mlp.act", OpKind.GELU, (u,), T, 4 * c)
    return eltwise(lw, f"{name}.residual2", OpKind.ADD, (x, linear(lw, f"{name}.mlp.fc2", u, T, 4 * c, c, True)), T, c)


def lower_swin(lw: Lowering, cfg: ModelConfig, ph: Phase) -> None:
    """Swin Transformer (Liu et al. 2021): 4×4 patches, window attention with a relative-position
    bias table per block, patch merging (LayerNorm 4C → linear 2C) between stages. Shifted windows
    cost the same as regular ones (masking only)."""
    b = ph.batch
    lw.layer = -1
    y, gh, _ = patch_embed(lw, "patch_embed", b, cfg.image, cfg.channels, cfg.patch, cfg.dims[0])
    res, c = gh, cfg.dims[0]
    x = norm(lw, "patch_norm", lw.view(y, (b * res * res, c)), b * res * res, c)
    layer = 0
    for stage, (depth, heads) in enumerate(zip(cfg.depths, cfg.stage_heads)):
        c = cfg.dims[stage]
        for j in range(depth):
            lw.layer = layer
            x = _swin_block(lw, cfg, f"S{stage}.B{j}", x, b, res, c, heads)
            layer += 1
        if stage + 1 < len(cfg.depths):
            res //= 2
            T = b * res * res
            h = norm(lw, f"S{stage}.merge.norm", lw.view(x, (T, 4 * c)), T, 4 * c)
            x = linear(lw, f"S{stage}.merge", h, T, 4 * c, cfg.dims[stage + 1])
    lw.layer = -1
    T = b * res * res
    x = norm(lw, "final_norm", x, T, c)
    pooled = lw.emit("avgpool", OpKind.POOL, (("b", b), ("t", res * res), ("n", c)),
                     ((lw.view(x, (b, res * res, c)), ("b", "t", "n")),),
                     (lw.activation("avgpool", (b, c)), ("b", "n")), 0, T * c, (("pool", "avg"),))
    linear(lw, "head", pooled, b, c, cfg.num_classes, bias=True)
