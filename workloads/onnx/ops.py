"""Which ONNX ops the importer reads, and how each costs.

- free: Reshape, Transpose, (Un)Squeeze, Flatten, Identity, Dropout, Shape, Size, Constant and a
  Cast to the type it already has — they relabel data (the IR's views), moving nothing;
- copy (`OpKind.COPY`, 0 FLOPs, reads and writes the output's elements): Gather / GatherElements /
  GatherND on activations, Expand, Concat, Slice, Split, Pad, Tile, Trilu, a type-changing Cast,
  ConstantOfShape, Range, Scatter*, Resize, DepthToSpace / SpaceToDepth;
- compute: contractions (MatMul, Gemm, Conv and onnxruntime's Attention / MultiHeadAttention),
  norms, softmax, reductions / pooling, and the elementwise table below.
A node whose inputs are all constants is folded or costs nothing (a runtime folds it once).
"""
from __future__ import annotations

from archsim.ir import OpKind

__all__ = ["FREE_OPS", "COPY_OPS", "ELEMENTWISE", "REDUCE_OPS", "NORMS", "CONTRACTIONS",
           "CONTRIB_OPS", "SUPPORTED_OPS", "is_supported"]

FREE_OPS = frozenset({"Reshape", "Transpose", "Flatten", "Squeeze", "Unsqueeze", "Identity", "Shape",
                      "Size", "Constant", "Dropout"})
COPY_OPS = frozenset({"Gather", "GatherElements", "GatherND", "Expand", "Concat", "Slice", "Split",
                      "Pad", "Tile", "Trilu", "Cast", "CastLike", "ConstantOfShape", "Range",
                      "ScatterND", "ScatterElements", "Resize", "DepthToSpace", "SpaceToDepth"})
#: op type -> (kind, FLOPs per output element). Transcendentals (exp, log, erf, tanh, cos, ...) are
#: priced as GELU (8: a polynomial or table step), comparisons / selection / sign ops as one add.
_TRANSCENDENTAL = ("Exp", "Log", "Erf", "Tanh", "Cos", "Sin", "Gelu", "Softplus", "Mish", "Elu",
                   "Selu", "Celu", "Atan", "Acos", "Asin")
ELEMENTWISE: dict[str, tuple[OpKind, int]] = {
    **{op: (OpKind.ADD, 1) for op in ("Add", "Sub", "Neg", "Abs", "Min", "Max", "Equal", "Less",
                                     "Greater", "LessOrEqual", "GreaterOrEqual", "Not", "And", "Or",
                                     "Xor", "Where", "Sign", "Floor", "Ceil", "Round", "Clip", "Mod",
                                     "IsNaN", "IsInf", "CumSum", "BitShift")},
    **{op: (OpKind.MUL, 1) for op in ("Mul", "Div", "Pow", "Sqrt", "Reciprocal")},
    **{op: (OpKind.GELU, 8) for op in _TRANSCENDENTAL},
    "Relu": (OpKind.RELU, 1), "LeakyRelu": (OpKind.RELU, 2), "PRelu": (OpKind.RELU, 2),
    "Sigmoid": (OpKind.SILU, 4), "HardSigmoid": (OpKind.SILU, 3), "HardSwish": (OpKind.SILU, 4),
    "QuantizeLinear": (OpKind.QUANTIZE, 2), "DequantizeLinear": (OpKind.DEQUANTIZE, 2),
}
REDUCE_OPS = frozenset({"MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "ReduceMean",
                        "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL2",
                        "ReduceSumSquare", "ReduceLogSumExp", "ArgMax", "ArgMin"})
NORMS = frozenset({"LayerNormalization", "SimplifiedLayerNormalization", "RMSNormalization",
                   "Softmax", "LogSoftmax"})
CONTRACTIONS = frozenset({"MatMul", "Gemm", "Conv"})
#: onnxruntime contrib ops (domain com.microsoft) its transformer optimiser emits
CONTRIB_OPS = frozenset({"Attention", "MultiHeadAttention", "SkipLayerNormalization",
                         "SkipSimplifiedLayerNormalization", "EmbedLayerNormalization", "Gelu",
                         "FastGelu", "BiasGelu", "QuickGelu", "SimplifiedLayerNormalization"})
SUPPORTED_OPS = frozenset(FREE_OPS | COPY_OPS | set(ELEMENTWISE) | REDUCE_OPS | NORMS | CONTRACTIONS)
_DEFAULT_DOMAINS = ("", "ai.onnx")
#: onnxruntime registers SimplifiedLayerNormalization in the default domain
_ORT_DEFAULT_DOMAIN = frozenset({"SimplifiedLayerNormalization", "SkipSimplifiedLayerNormalization"})


def is_supported(node) -> bool:
    if node.domain in _DEFAULT_DOMAINS:
        return node.op_type in SUPPORTED_OPS or node.op_type in _ORT_DEFAULT_DOMAIN
    return node.domain == "com.microsoft" and node.op_type in CONTRIB_OPS
