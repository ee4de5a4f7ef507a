"""Small real graphs (gpt2-small cut to a few layers) on named hardware, cached per process, and
the coverage set: small graphs that together hold every `OpKind`, run on every chip in hwconfigs/
by the engine-agreement and property suites."""
from __future__ import annotations

import functools


def tiny_graph(hw_name: str, phase: str, layers: int):
    from archsim.hardware import load_hardware
    from archsim.workloads import build_graph
    hw = load_hardware(hw_name)
    kw = dict(context=64) if phase == "decode" else dict(seq=32)
    g = build_graph("gpt2-small", phase, overrides={"layers": layers}, **kw)
    return hw, g


#: zoo models at toy width (one layer, hidden 64) and the op kinds each brings
COVER_MODELS = {
    "gpt2": ("gpt2-small", "decode", dict(context=32),          # embedding, layernorm, gelu, kv_append, lm_head
             {"layers": 1, "hidden": 64, "heads": 2, "vocab": 256, "ffn": 128}),
    "opt": ("opt-1.3b", "prefill", dict(seq=8),                  # relu
            {"layers": 1, "hidden": 64, "heads": 2, "vocab": 256, "ffn": 128}),
    "mixtral": ("mixtral-8x7b", "prefill", dict(seq=8),          # rmsnorm, rope, swiglu, MoE router/dispatch
                {"layers": 1, "hidden": 64, "heads": 4, "kv_heads": 2, "vocab": 256,
                 "expert_ffn": 128, "experts": 4, "top_k": 2}),
    "vit": ("vit-ti16", "encode", {}, {"layers": 1, "hidden": 64, "heads": 2, "ffn": 128}),  # conv2d
    "mamba": ("mamba-130m", "prefill", dict(seq=8),              # dwconv2d, selective_scan, silu
              {"layers": 1, "hidden": 64, "vocab": 256, "d_state": 8}),
    "matmulfree": ("matmulfree-370m", "prefill", dict(seq=8),    # gla_recurrence, quantize
                   {"layers": 1, "hidden": 64, "heads": 2, "vocab": 256}),
}
COVER = tuple(COVER_MODELS) + ("others",)


def others_graph():
    """The op kinds no zoo model emits (ATTENTION, KV_READ, DEQUANTIZE, COPY: ONNX imports and fused
    kernels) and three only big models do (MUL, POOL, and CONV2D: EfficientFormer's implicit-GEMM
    convolutions, `workloads.lowering.conv_gemm`), as one small int8 chain."""
    from archsim.ir import Op, OpKind, Operand, Role, Tensor, add_op, new_graph
    T, n, b, g, s, e = 8, 64, 1, 2, 32, 32
    mn = (("m", T), ("n", n))
    graph = new_graph(name="others", family="test")

    def elementwise(name, kind, inputs, after):
        y = Tensor(name, (T, n), 8)
        add_op(graph, Op(name, kind, mn, tuple(Operand(t, ("m", "n")) for t in inputs)
                         + (Operand(y, ("m", "n"), True),), macs=0, flops=2 * T * n), after)
        return y

    x = Tensor("x", (T, n), 8)
    deq = elementwise("deq", OpKind.DEQUANTIZE, (x,), ())
    moved = Tensor("copy", (T, n), 8)                  # an ONNX gather/concat: data movement only
    add_op(graph, Op("copy", OpKind.COPY, mn, (Operand(deq, ("m", "n")), Operand(moved, ("m", "n"), True)),
                     macs=0, flops=0), (("deq", deq),))
    mul = elementwise("mul", OpKind.MUL, (moved, deq), (("copy", moved), ("deq", deq)))
    pooled = Tensor("pool", (n,), 8)
    add_op(graph, Op("pool", OpKind.POOL, mn, (Operand(mul, ("m", "n")), Operand(pooled, ("n",), True)),
                     macs=0, flops=T * n), (("mul", mul),))
    cache = Tensor("kv", (b, g, s, e), 8, Role.KV_CACHE)
    kv = Tensor("kv_read", (b, g, s, e), 8)
    dims = (("b", b), ("g", g), ("s", s), ("e", e))
    add_op(graph, Op("kv_read", OpKind.KV_READ, dims, (Operand(cache, ("b", "g", "s", "e")),
                                                       Operand(kv, ("b", "g", "s", "e"), True)),
                     macs=0, flops=0))
    q = Tensor("q", (b, g, 1, T, e), 8)
    out = Tensor("attn", (b, g, 1, T, e), 8)
    macs = 2 * b * g * T * s * e                       # QKᵀ and PV
    add_op(graph, Op("attn", OpKind.ATTENTION,
                     (("b", b), ("g", g), ("r", 1), ("q", T), ("s", s), ("e", e)),
                     (Operand(q, ("b", "g", "r", "q", "e")), Operand(kv, ("b", "g", "s", "e")),
                      Operand(out, ("b", "g", "r", "q", "e"), True)),
                     macs=macs, flops=2 * macs, attrs=(("causal", False),)),
           (("kv_read", kv),))
    image = Tensor("image", (1, 4, 4, 4), 8)          # a 2x2 stride-2 conv, 4 -> n channels, as conv_gemm
    kernel = Tensor("conv.w", (16, n), 8, Role.WEIGHT)
    feat = Tensor("conv", (4, n), 8)
    add_op(graph, Op("conv", OpKind.CONV2D, (("m", 4), ("n", n), ("k", 16)),
                     (Operand(image, ("m", "k")), Operand(kernel, ("k", "n")), Operand(feat, ("m", "n"), True)),
                     macs=4 * 16 * n, flops=2 * 4 * 16 * n,
                     attrs=(("kernel", (2, 2)), ("stride", (2, 2)), ("pads", ()), ("implicit_gemm", True),
                            ("grid", (2, 2)))))
    return graph


@functools.lru_cache(maxsize=None)
def cover_graph(key: str):
    if key == "others":
        return others_graph()
    from archsim.workloads import build_graph
    model, phase, kw, overrides = COVER_MODELS[key]
    return build_graph(model, phase, overrides=overrides, **kw)
