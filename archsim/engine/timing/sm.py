"""An `Op` on a GPU (`sm` unit): pick the calibrated kernel model of `timing.gpu` by op kind."""
from __future__ import annotations

from math import ceil

from archsim.hardware import ComputeUnit, Hardware
from archsim.ir import Op, OpKind, Role

from . import gpu
from .shapes import gemm_shape, op_dtype, op_elems

__all__ = ["gpu_calibration", "gpu_spec", "sm_op_seconds", "sm_plan_seconds", "fused_attention_seconds"]

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


def sm_plan_seconds(p, hw: Hardware) -> float:
    """A planned op's time on a GPU: its share of a fused kernel (`OpPlan.kernel_s`) or its own
    kernel, never less than the host's time to issue a kernel (`Hardware.host_overhead_s`:
    0 for kernels replayed from a CUDA graph, the framework's per-op time when run eagerly)."""
    if p.kernel_s is not None:
        return p.kernel_s
    return max(sm_op_seconds(p.op, p.unit, hw), hw.host_overhead_s)


def fused_attention_seconds(groups, hw: Hardware) -> dict[int, float]:
    """Plan index → seconds for fused (QKᵀ, softmax, PV) `groups` on a GPU
    (`plan.fused_attention_groups`): each group is one FlashAttention kernel
    (`gpu.attention_work_seconds`; flash-decoding's `gpu.decode_work_seconds` for one query), the
    model its calibration was measured on. Its time is split over the two matmuls by MACs; the
    softmax runs inside it (the kernel's score rate), not as an elementwise kernel of its own."""
    out: dict[int, float] = {}
    for qk, softmax, av in groups:
        t = max(_flash_kernel_seconds(qk, av, hw), hw.host_overhead_s)   # one kernel issued
        macs = max(1, qk.op.macs + av.op.macs)
        out[qk.index] = t * qk.op.macs / macs
        out[av.index] = t * av.op.macs / macs
        out[softmax.index] = 0.0
    return out


def _flash_kernel_seconds(qk, av, hw: Hardware) -> float:
    d = qk.op.dim_sizes
    heads = d.get("b", 1) * d.get("g", 1) * d.get("r", 1)
    q_len, kv_len = d.get("q", 1), d.get("s", 1)
    spec = gpu_spec(qk.unit, hw, qk.dtype)
    cal = gpu_calibration(hw)
    ins = [o.tensor for o in qk.op.operands if not o.is_output]
    v = [o.tensor for o in av.op.operands if not o.is_output and "s" in o.dims and "q" not in o.dims]
    out = [o.tensor for o in av.op.operands if o.is_output]
    kv_bytes = sum(t.size_bytes for t in ins if t.role is Role.KV_CACHE) + \
        sum(t.size_bytes for t in v if t.role is Role.KV_CACHE)
    nbytes = sum(t.size_bytes for t in ins + v + out)
    if q_len == 1:
        return gpu.decode_work_seconds(kv_bytes or nbytes, heads, spec, cal=cal, kv_len=kv_len)
    scores = heads * q_len * kv_len * qk.op.attr("computed_fraction", 1.0)   # causal: skipped blocks
    return gpu.attention_work_seconds(2.0 * (qk.op.macs + av.op.macs), nbytes,
                                      heads * ceil(q_len / cal.attn_tile_q), spec, cal=cal,
                                      scores=float(scores))
