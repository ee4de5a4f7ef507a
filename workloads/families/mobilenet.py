"""MobileNetV5 (Gemma 3n's vision encoder, the backbone AutoNeural puts in front of its language
model): a convolutional encoder of edge-residual, universal-inverted-residual (UIR) and
multi-query-attention (MQA) blocks closed by a multi-scale fusion adapter (MSFA). Structure and the
300M block list as in timm's `mobilenetv5.py` (`_gen_mobilenet_v5`, `mobilenetv5_300m_enc`: stem
3×3/2 to 64 channels, RMSNorm2d + GELU, input 768×768, a 16×16×2048 feature map out).

Blocks, each a residual when its stride is 1 and its channels do not change:
- edge residual `er(k, s, e, c)`: k×k conv (stride s) to e·C_in, then a 1×1 conv to c;
- UIR `uir(a, k, s, e, c)`: optional a×a depthwise conv, 1×1 expansion to e·C_in, optional k×k
  depthwise conv (the stride sits on the second depthwise conv when there is one, else the first),
  1×1 projection to c;
- MQA `mqa(h, d, kv_stride, c)`: RMSNorm, h query heads of width d from a 1×1 conv, one key and one
  value head (a 3×3 depthwise conv of stride `kv_stride` first when it is > 1), a 1×1 output conv;
- MSFA: the last stage upsampled (nearest) to the previous stage's grid, both concatenated, a UIR
  (1×1 only, expansion 2) to 2048 channels, average-pooled to at most 16×16, RMSNorm.

Depthwise convs are DWCONV2D loop nests (per-pixel, per-channel work a vector unit runs); 1×1 convs
are the GEMMs they are; the stem and edge-residual k×k convs are implicit GEMMs (`conv_gemm`).
LayerScale is left out: an integer-only deployment folds it into the projection's requantisation.
"""
from __future__ import annotations

from archsim.ir import OpKind, Tensor
from ..config import ModelConfig
from ..lowering import Lowering, attention, conv_gemm, eltwise, linear, norm
from ..phases import Phase

__all__ = ["lower_mobilenetv5", "MOBILENETV5_300M", "FUSED_CHANNELS", "FUSED_GRID"]

FUSED_CHANNELS, FUSED_GRID, STEM_CHANNELS = 2048, 16, 64


def _er(k, s, e, c):
    return ("er", k, s, e, c)


def _uir(a, k, s, e, c):
    return ("uir", a, k, s, e, c)


def _mqa(h, d, kv_stride, c):
    return ("mqa", h, d, kv_stride, c)


def _alternate(first, second, n):
    return [block for _ in range(n) for block in (first, second)]


#: timm `mobilenetv5_300m_enc` block strings (er_r1_k3_s2_e4_c128, uir_r1_a5_k5_s2_e6_c640,
#: mqa_r1_k3_h12_v2_s1_d64_c640, ...) as tuples, one list per stage
MOBILENETV5_300M: tuple[tuple[tuple, ...], ...] = (
    (_er(3, 2, 4, 128), _er(3, 1, 4, 128), _er(3, 1, 4, 128)),
    (_uir(3, 5, 2, 6, 256), _uir(5, 0, 1, 4, 256), _uir(3, 0, 1, 4, 256), _uir(5, 0, 1, 4, 256),
     _uir(3, 0, 1, 4, 256)),
    tuple([_uir(5, 5, 2, 6, 640)] + [_uir(5, 0, 1, 4, 640)] * 7 + [_uir(0, 0, 1, 1, 640)]
          + _alternate(_mqa(12, 64, 2, 640), _uir(0, 0, 1, 2, 640), 13)),
    tuple([_uir(5, 5, 2, 6, 1280)] + _alternate(_mqa(16, 96, 1, 1280), _uir(0, 0, 1, 2, 1280), 19)),
)


class _Net:
    """The running state of one encoder trace: the feature map (pixels × channels), its grid and
    channel count, and a counter for unique op names."""

    def __init__(self, lw: Lowering, batch: int, x: Tensor, res: int, channels: int):
        self.lw, self.b, self.x, self.res, self.c = lw, batch, x, res, channels

    @property
    def pixels(self) -> int:
        return self.b * self.res * self.res

    def norm_act(self, name: str, x: Tensor, c: int, act: bool) -> Tensor:
        y = norm(self.lw, f"{name}.norm", x, self.pixels, c, "rmsnorm", False)
        return eltwise(self.lw, f"{name}.act", OpKind.GELU, (y,), self.pixels, c) if act else y

    def pointwise(self, name: str, x: Tensor, cin: int, cout: int) -> Tensor:
        return linear(self.lw, name, x, self.pixels, cin, cout)

    def depthwise(self, name: str, x: Tensor, c: int, k: int, stride: int) -> Tensor:
        lw, b, res = self.lw, self.b, self.res
        out = (res + stride - 1) // stride        # 'same' padding
        w = lw.weight(f"{name}.w", (c, k, k), usage="conv")
        y = lw.activation(name, (b * out * out, c))
        macs = b * out * out * c * k * k
        lw.emit(name, OpKind.DWCONV2D, (("b", b), ("c", c), ("y", out), ("x", out), ("i", k), ("j", k)),
                ((lw.view(x, (b, c, res, res)), ("b", "c", "y", "x")), (w, ("c", "i", "j"))),
                (lw.view(y, (b, c, out, out)), ("b", "c", "y", "x")), macs, 2 * macs,
                (("kernel", (k, k)), ("stride", (stride, stride)), ("groups", c)))
        self.res = out
        return y

    def conv(self, name: str, x: Tensor, cin: int, cout: int, k: int, stride: int) -> Tensor:
        lw, b, res = self.lw, self.b, self.res
        out = (res + stride - 1) // stride
        w = lw.weight(f"{name}.w", (cout, cin, k, k), usage="conv")
        y = conv_gemm(lw, name, lw.view(x, (b, cin, res, res)), w, None, (out, out), (stride, stride),
                      (k // 2,) * 4)
        self.res = out
        return lw.view(y, (b * out * out, cout))

    def residual(self, name: str, x: Tensor, y: Tensor, c: int) -> Tensor:
        return eltwise(self.lw, name, OpKind.ADD, (x, y), self.pixels, c)

    # -- blocks -------------------------------------------------------------------------------
    def edge_residual(self, p: str, k: int, s: int, e: int, c: int) -> None:
        x, cin = self.x, self.c
        h = self.norm_act(f"{p}.exp", self.conv(f"{p}.conv_exp", x, cin, cin * e, k, s), cin * e, True)
        y = self.norm_act(f"{p}.pwl", self.pointwise(f"{p}.conv_pwl", h, cin * e, c), c, False)
        self.x = self.residual(f"{p}.residual", x, y, c) if s == 1 and cin == c else y
        self.c = c

    def inverted_residual(self, p: str, a: int, k: int, s: int, e: int, c: int) -> None:
        x, cin = self.x, self.c
        h = x
        if a:
            h = self.norm_act(f"{p}.dw_start", self.depthwise(f"{p}.dw_start.conv", h, cin, a,
                                                               1 if k else s), cin, False)
        mid = cin * e
        h = self.norm_act(f"{p}.pw_exp", self.pointwise(f"{p}.pw_exp.conv", h, cin, mid), mid, True)
        if k:
            h = self.norm_act(f"{p}.dw_mid", self.depthwise(f"{p}.dw_mid.conv", h, mid, k, s), mid, True)
        y = self.norm_act(f"{p}.pw_proj", self.pointwise(f"{p}.pw_proj.conv", h, mid, c), c, False)
        self.x = self.residual(f"{p}.residual", x, y, c) if s == 1 and cin == c else y
        self.c = c

    def multi_query_attention(self, p: str, heads: int, d: int, kv_stride: int, c: int) -> None:
        lw, x, cin, b, res = self.lw, self.x, self.c, self.b, self.res
        n = self.pixels
        h = norm(lw, f"{p}.norm", x, n, cin, "rmsnorm", False)
        q = self.pointwise(f"{p}.query", h, cin, heads * d)
        kv_in = h
        if kv_stride > 1:
            kv_in = norm(lw, f"{p}.kv_down.norm", self.depthwise(f"{p}.kv_down.conv", h, cin, 3, kv_stride),
                         self.pixels, cin, "rmsnorm", False)
        kv_tokens = self.pixels // b
        k = linear(lw, f"{p}.key", kv_in, b * kv_tokens, cin, d)
        v = linear(lw, f"{p}.value", kv_in, b * kv_tokens, cin, d)
        self.res = res                               # queries keep the full grid
        o = attention(lw, f"{p}.attn", q, k, v, b, res * res, kv_tokens, heads, 1, d, False)
        y = self.pointwise(f"{p}.output", o, heads * d, c)
        self.x = self.residual(f"{p}.residual", x, y, c) if cin == c else y
        self.c = c


def lower_mobilenetv5(lw: Lowering, cfg: ModelConfig, ph: Phase) -> None:
    """One image of `cfg.image` pixels (square) per batch element → a (b·g·g, 2048) feature map,
    g = min(16, the next-to-last stage's grid): the visual tokens a VLM's projector receives."""
    b, res = ph.batch, cfg.image[0]
    lw.layer = -1
    img = lw.activation("image", (b * res * res, cfg.channels))
    net = _Net(lw, b, img, res, cfg.channels)
    net.x = net.norm_act("stem", net.conv("stem.conv", img, cfg.channels, STEM_CHANNELS, 3, 2),
                         STEM_CHANNELS, True)
    net.c = STEM_CHANNELS
    layer, saved = 0, None
    for stage, blocks in enumerate(MOBILENETV5_300M):
        if stage == len(MOBILENETV5_300M) - 1:
            saved = (net.x, net.res, net.c)         # the MSFA's second input
        for j, block in enumerate(blocks):
            lw.layer = layer
            p = f"S{stage}.B{j}"
            if block[0] == "er":
                net.edge_residual(p, *block[1:])
            elif block[0] == "uir":
                net.inverted_residual(p, *block[1:])
            else:
                net.multi_query_attention(p, *block[1:])
            layer += 1
    lw.layer = -1
    prev, prev_res, prev_c = saved
    last, last_c = net.x, net.c
    # concat(prev, upsample(last)) → 1×1 expansion = prev·W_a + upsample(last)·W_b (W split by input
    # channel): the same MACs without a concat op; the upsampled map is read at the fine grid
    net.res = prev_res
    mid = 2 * (prev_c + last_c)
    fine = net.pointwise("msfa.ffn.pw_exp.prev", prev, prev_c, mid)
    coarse = net.pointwise("msfa.ffn.pw_exp.last", lw.view(last, (net.pixels, last_c)), last_c, mid)
    h = net.norm_act("msfa.ffn.pw_exp", net.residual("msfa.ffn.pw_exp.sum", fine, coarse, mid), mid, True)
    net.x = net.norm_act("msfa.ffn.pw_proj", net.pointwise("msfa.ffn.pw_proj.conv", h, mid, FUSED_CHANNELS),
                         FUSED_CHANNELS, False)
    net.c = FUSED_CHANNELS
    grid = min(FUSED_GRID, net.res)
    if grid < net.res:
        pooled = lw.activation("msfa.pool", (b * grid * grid, FUSED_CHANNELS))
        lw.emit("msfa.pool", OpKind.POOL, (("b", b), ("y", net.res), ("x", net.res), ("n", FUSED_CHANNELS)),
                ((lw.view(net.x, (b, net.res, net.res, FUSED_CHANNELS)), ("b", "y", "x", "n")),),
                (pooled, ("b", "y", "x", "n")), 0, b * net.res * net.res * FUSED_CHANNELS,
                (("pool", "avg"), ("kernel", (net.res // grid,) * 2)))
        net.x, net.res = pooled, grid
    norm(lw, "msfa.norm", net.x, net.pixels, FUSED_CHANNELS, "rmsnorm", False)
