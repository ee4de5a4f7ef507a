"""An `Op` on a GPU (`sm` unit): pick the calibrated kernel model of `timing.gpu` by op kind."""
from __future__ import annotations

from math import ceil

from archsim.hardware import ComputeUnit, Hardware
from archsim.ir import Op, OpKind, Role

from . import gpu
from .shapes import gemm_shape, op_dtype, op_elems

__all__ = ["gpu_calibration", "gpu_spec", "sm_op_seconds"]

_GEMM = {OpKind.MATMUL, OpKind.LM_HEAD, OpKind.ATTN_QK, OpKind.ATTN_AV, OpKind.MOE_ROUTER,
         OpKind.CONV2D, OpKind.DWCONV2D, OpKind.SELECTIVE_SCAN, OpKind.GLA_RECURRENCE}
_ELEM_NAME = {OpKind.SWIGLU: "silu_mul", OpKind.SILU: "silu", OpKind.GELU: "gelu",
              OpKind.LAYERNORM: "layernorm", OpKind.RMSNORM: "rmsnorm", OpKind.SOFTMAX: "softmax",
              OpKind.ADD: "add", OpKind.MUL: "mul", OpKind.RELU: "relu", OpKind.ROPE: "rope"}


def gpu_calibration(hw: Hardware) -> gpu.GpuCalibration:
    """The constants measured for this GPU (table entry named like the description), else the
    `transferred` entry (an assumption, see archsim/engine/data/gpu-calibration.yaml)."""
    return gpu.load_gpu_calibration(hw.name)


def gpu_spec(unit: ComputeUnit, hw: Hardware, dtype: str) -> gpu.GpuSpec:
    """The chip's own datasheet peaks (SM count, dense rate of `dtype`, off-chip bandwidth). The
    engine models kernels replayed from a CUDA graph (as serving stacks run a model, and as the
    H200 reference was measured), so the per-kernel latency is the calibration's graph-replay
    `launch_s`; a description's (eager) `launch_overhead_s` only applies when it is smaller."""
    off = hw.levels[0]
    bw = off.dram.peak_bandwidth_bytes_per_s if off.dram is not None else off.bandwidth_bytes_per_s
    launch = gpu_calibration(hw).launch_s
    return gpu.GpuSpec(sms=unit.count, tensor_flops_per_s=2.0 * unit.peak_macs_per_s(dtype),
                       mem_bytes_per_s=bw, launch_s=min(unit.launch_overhead_s or launch, launch))


def sm_op_seconds(op: Op, unit: ComputeUnit, hw: Hardware) -> float:
    dtype = op_dtype(op, unit)
    spec = gpu_spec(unit, hw, dtype)
    cal = gpu_calibration(hw)
    bpe = max(1, max((o.tensor.dtype_bits for o in op.operands), default=16) // 8)
    if op.kind in _GEMM and op.macs:
        B, M, N, K = gemm_shape(op)
        return gpu.gemm_seconds(M, N, K, spec, bytes_per_elem=bpe, batch=B, cal=cal)
    if op.kind is OpKind.ATTENTION and op.macs:
        B, M, N, K = gemm_shape(op)
        nbytes = sum(o.tensor.size_bytes for o in op.operands)
        if M == 1:
            kv = sum(o.tensor.size_bytes for o in op.operands if o.tensor.role is Role.KV_CACHE)
            return gpu.decode_work_seconds(kv or nbytes, B, spec, cal=cal)
        return gpu.attention_work_seconds(2.0 * op.macs, nbytes, B * ceil(M / cal.attn_tile_q), spec,
                                          cal=cal)
    name = _ELEM_NAME.get(op.kind, "add")
    return gpu.elementwise_seconds(name, op_elems(op), spec, bytes_per_elem=bpe, cal=cal)
