"""Per-kind timing functions: each respects the peak rate and shows the effect it models."""
from __future__ import annotations

import dataclasses

import pytest

from archsim.hardware import ComputeUnit
from archsim.ir import Op, OpKind, Operand, Role, Tensor
from archsim.engine.timing import (dsp_array_cycles, gemm_shape, peak_cycles, scalar_core_cycles,
                                   systolic_cycles, vector_cycles)
from archsim.engine.timing import gpu


def gemm(M, N, K, bits=16):
    x = Tensor("x", (M, K), bits)
    w = Tensor("w", (K, N), bits, Role.WEIGHT)
    y = Tensor("y", (M, N), bits)
    return Op("g", OpKind.MATMUL, (("m", M), ("n", N), ("k", K)),
              (Operand(x, ("m", "k")), Operand(w, ("k", "n")), Operand(y, ("m", "n"), True)),
              macs=M * N * K, flops=2 * M * N * K)


def unit(type_, shape=(16, 16), mpc=256, count=1, **kw):
    return ComputeUnit(name="u", type=type_, count=count, freq_hz=1e9, shape=shape,
                       macs_per_cycle=(("int8", mpc), ("bf16", mpc)), attached_to="buf", **kw)


def test_gemm_shape_recovers_mnk():
    assert gemm_shape(gemm(8, 32, 64)) == (1, 8, 32, 64)


# SCALE-Sim 3 (checked against the tool itself in tests/mapper/test_scalesim.py): a fold streams T
# rows through the array, T + R + C − 2 cycles (OS), plus R to preload the stationary operand (WS,
# IS); a layer of n folds takes n × that − 1. M, N, K = 64, 32, 16 on an 8 × 8 array (R = C = 8):
#   os: M×N stationary (8 × 4 = 32 folds), T = K = 16: 32 × (16 + 8 + 8 − 2) − 1 = 959
#   ws: K×N stationary (2 × 4 = 8 folds),  T = M = 64: 8 × (64 + 16 + 8 − 2) − 1 = 687
#   is: K×M stationary (2 × 8 = 16 folds), T = N = 32: 16 × (32 + 16 + 8 − 2) − 1 = 863
@pytest.mark.parametrize("df, expected", [("os", 959), ("ws", 687), ("is", 863)])
def test_systolic_dataflows_match_scale_sim_form(df, expected):
    u = unit("systolic", (8, 8), 64)
    op = gemm(64, 32, 16)
    assert expected > peak_cycles(u, op) == 64 * 32 * 16 // 64
    assert systolic_cycles(u, op, df) == expected
    assert systolic_cycles(u, op, df) >= op.macs / 64


def test_systolic_small_gemv_is_fill_drain_bound():
    u = unit("systolic", (256, 256), 65536)
    op = gemm(1, 256, 256)
    # one fold, T = M = 1: 1 + 2 × 256 + 256 − 2, less the layer's last cycle
    assert systolic_cycles(u, op, "ws") == 766 > peak_cycles(u, op)


def test_peak_rate_counts_every_unit():
    op = gemm(64, 64, 64)
    assert peak_cycles(unit("vector", (32,), 32, count=4), op) == 64 * 64 * 64 // (4 * 32)


def test_vector_and_dsp_pipeline():
    op = gemm(4, 64, 64)
    v = unit("vector", (32,), 32, pipeline_depth=10)
    assert vector_cycles(v, op) == op.macs // 32 + 10
    d = unit("dsp_array", (16,), 16, pipeline_depth=50, initiation_interval=2)
    assert dsp_array_cycles(d, op) == op.macs // 16 * 2 + 50


def test_mcu_flash_wait_states_and_dtype_overhead():
    op = gemm(1, 64, 64, bits=8)
    core = unit("scalar_core", (1,), 2)
    base = scalar_core_cycles(core, op)
    assert base >= op.macs / 2
    slow = scalar_core_cycles(core, op, weight_bytes=64 * 64, wait_states=7)
    assert slow > base
    assert scalar_core_cycles(core, op, weight_bytes=64 * 64, wait_states=0) == base
    # by hand: 4096 int8 MACs at 2 per cycle × 1.5 (int8 unpacking) = 3072 cycles; 4096 weight
    # bytes = 256 flash lines × 7 wait states, a quarter of them not hidden by the ART cache
    assert base == 3072 and slow == 3072 + 256 * 7 // 4


def test_gpu_wave_quantisation_and_launch():
    spec = gpu.GpuSpec(sms=100, tensor_flops_per_s=1e15, mem_bytes_per_s=1e12, launch_s=1e-6)
    # 100 tiles fill one wave; 101 tiles need two
    one = gpu.gemm_seconds(128 * 10, 128 * 10, 8192, spec)
    two = gpu.gemm_seconds(128 * 101, 128, 8192, spec)
    assert two > 1.5 * (one - 1e-6)
    assert gpu.gemm_seconds(1, 8, 8, spec) >= spec.launch_s


def test_unknown_fidelity_and_unit_are_clear_errors(tiny):
    from archsim.engine import simulate
    from archsim.errors import ArchsimError, MappingError
    from archsim.mapping import Mapping, OpMapping
    hw, g = tiny
    with pytest.raises(ArchsimError, match="fidelity"):
        simulate(g, hw, fidelity="fast")
    first = next(iter(g.nodes))
    with pytest.raises(MappingError, match="did you mean|units"):
        simulate(g, hw, Mapping(hw=hw.name, ops=(OpMapping(op=first, unit="pim_mc"),)))


@pytest.fixture
def tiny():
    from .graphs import tiny_graph
    return tiny_graph("pim-gpt", "decode", 1)


def test_dsp_layer_streaming_skips_the_pipeline_fill():
    d = unit("dsp_array", (16,), 16, pipeline_depth=50, initiation_interval=1)
    op = gemm(4, 64, 64)
    assert dsp_array_cycles(d, op) - dsp_array_cycles(d, op, streamed=True) == 50
    from .graphs import tiny_graph
    from archsim.engine.plan import plan_ops
    hw, g = tiny_graph("zcu102", "prefill", 1)
    plans = plan_ops(g, hw, None)
    assert any(p.streamed for p in plans) and not plans[0].streamed
