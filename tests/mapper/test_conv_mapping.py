"""Convolutions on a systolic array (tpu-v1, int8): a patch embedding (kernel = stride) is the GEMM
over its patches, a general convolution maps as an implicit GEMM (output pixels × receptive field ×
out channels), so neither pays the 100× penalty of mapping the 7-deep conv loop nest dim by dim."""
from __future__ import annotations

import pytest

from archsim.api import simulate
from archsim.hardware import load_hardware
from archsim.ir import Op, OpKind, Operand, Role, Tensor, new_graph
from archsim.workloads import build_graph

CHIP = "tpu-v1"


@pytest.fixture(scope="module")
def tpu():
    return load_hardware(CHIP)


def _alone(op: Op, meta) -> object:
    graph = new_graph(**meta)
    graph.add_node(op.name, op=op)
    return graph


def _plain_gemm(op: Op) -> Op:
    """A MatMul of the op's m × k × n with a dense (m, k) activation and a (k, n) weight."""
    m, n, k = (op.dim_sizes[d] for d in "mnk")
    a, w, y = op.operands[0].tensor, op.operands[1].tensor, op.outputs[0].tensor
    return Op("gemm", OpKind.MATMUL, (("m", m), ("n", n), ("k", k)),
              (Operand(Tensor("a", (m, k), a.dtype_bits), ("m", "k")),
               Operand(Tensor("w", (k, n), w.dtype_bits, Role.WEIGHT), ("k", "n")),
               Operand(Tensor("y", (m, n), y.dtype_bits), ("m", "n"), True)), op.macs, 2 * op.macs)


@pytest.mark.parametrize("model,op_name,bound_by_shape", [
    ("vit-b16", "patch_embed", False),            # 768×768 weights stream from DDR3: memory-bound
    ("swin-t", "patch_embed", True),
    ("efficientformer-l1", "stem.conv1", True),   # 3×3 stride 2, 3 → 24 channels
    ("efficientformer-l1", "stem.conv2", True),   # 3×3 stride 2, 24 → 48 channels
])
def test_convolutions_map_like_their_gemm(tpu, model, op_name, bound_by_shape):
    graph = build_graph(model, "encode", dtypes="int8")
    op = graph.nodes[op_name]["op"]
    assert op.attr("conv_as_gemm") or op.attr("implicit_gemm")
    conv = simulate(_alone(op, graph.graph), tpu)
    gemm = simulate(_alone(_plain_gemm(op), graph.graph), tpu)
    assert conv.latency_s <= 1.1 * gemm.latency_s
    rows, cols = tpu.unit("mxu").shape
    utilisation = op.macs / (conv.latency_s * tpu.freq_hz * rows * cols)
    if bound_by_shape:   # an m×k×n GEMM fills at most min(k, rows)·min(n, cols) of the array
        shape_bound = min(op.dim_sizes["k"], rows) * min(op.dim_sizes["n"], cols) / (rows * cols)
        assert utilisation >= 0.5 * shape_bound, (utilisation, shape_bound)
    else:
        assert utilisation >= 0.05      # it was 0.08% as a 7-deep loop nest


def test_vit_b16_patch_embedding_is_a_small_share_of_an_int8_run():
    result = simulate("vit-b16", CHIP, dtype="int8")
    patch = next(o for o in result.ops if o.name == "patch_embed")
    assert patch.latency_s < 0.10 * result.latency_s
