"""An `Op` on a GPU (`sm` unit): pick the calibrated kernel model of `timing.gpu` by op kind."""
from __future__ import annotations

from math import ceil

from archsim.hardware import ComputeUnit, Hardware
from archsim.ir import Op, OpKind, Role

from . import gpu
from .shapes import gemm_shape, op_dtype, op_elems

__all__ = ["gpu_calibration", "gpu_spec", "sm_op_seconds", "sm_plan_seconds", "fused_attention_seconds",
           "kernel_seconds", "host_issue_s"]

_GEMM = {OpKind.MATMUL, OpKind.LM_HEAD, OpKind.ATTN_QK, OpKind.ATTN_AV, OpKind.MOE_ROUTER,
         OpKind.CONV2D, OpKind.DWCONV2D, OpKind.SELECTIVE_SCAN, OpKind.GLA_RECURRENCE}
_ELEM_NAME = {OpKind.SWIGLU: "silu_mul", OpKind.SILU: "silu", OpKind.GELU: "gelu",
              OpKind.LAYERNORM: "layernorm", OpKind.RMSNORM: "rmsnorm", OpKind.SOFTMAX: "softmax",
              OpKind.ADD: "add", OpKind.MUL: "mul", OpKind.RELU: "relu", OpKind.ROPE: "rope"}


def gpu_calibration(hw: Hardware) -> gpu.GpuCalibration:
    """The constants measured for this GPU (table entry named like the description), else the
    `transferred` entry moved to this GPU's SM clock (assumptions, stated per constant in
    archsim/engine/data/gpu-calibration.yaml). Computed once per description."""
    return hw.derived("gpu_calibration", lambda: _calibration(hw))


def _calibration(hw: Hardware) -> gpu.GpuCalibration:
    sms = [u for u in hw.compute if u.type == "sm"]
    tensor = max(sms, key=lambda u: max(u.peak_macs_per_s("bf16"), u.peak_macs_per_s("fp16")), default=None)
    return gpu.load_gpu_calibration(hw.name, sm_clock_hz=tensor.freq_hz if tensor else 0.0)


def gpu_spec(unit: ComputeUnit, hw: Hardware, dtype: str) -> gpu.GpuSpec:
    """The chip's own datasheet peaks (SM count, dense rate of `dtype`, off-chip bandwidth). The
    engine models kernels replayed from a CUDA graph (as serving stacks run a model, and as the
    H200 reference was measured), so the per-kernel latency is the calibration's graph-replay
    `launch_s`; a description's (eager) `launch_overhead_s` only applies when it is smaller.
    Computed once per description, unit and dtype."""
    unit_, spec = hw.derived(("gpu_spec", id(unit), dtype), lambda: (unit, _spec(unit, hw, dtype)))
    return spec if unit_ is unit else _spec(unit, hw, dtype)


def _spec(unit: ComputeUnit, hw: Hardware, dtype: str) -> gpu.GpuSpec:
    off = hw.levels[0]
    bw = off.dram.peak_bandwidth_bytes_per_s if off.dram is not None else off.bandwidth_bytes_per_s
    launch = gpu_calibration(hw).launch_s
    alu = max((2.0 * u.peak_macs_per_s("fp32") for u in hw.compute if u.type == "sm"), default=0.0)
    return gpu.GpuSpec(sms=unit.count, tensor_flops_per_s=2.0 * unit.peak_macs_per_s(dtype),
                       mem_bytes_per_s=bw, launch_s=min(unit.launch_overhead_s or launch, launch),
                       alu_ops_per_s=alu)


def _operand_bytes(op: Op) -> tuple[float, float, float]:
    """(activation input, other input, output) bytes per element of a contraction, each at its
    own stored width (a packed int4 weight is half a byte); a bias (one dim) is not an operand."""
    ins = [o for o in op.operands if not o.is_output and len(o.dims) > 1]
    outs = [o for o in op.operands if o.is_output]
    act = next((o for o in ins if o.tensor.role is Role.ACTIVATION), ins[0] if ins else None)
    other = next((o for o in ins if o is not act), act)
    x = act.tensor.dtype_bits / 8.0 if act is not None else 2.0
    w = other.tensor.dtype_bits / 8.0 if other is not None else x
    return x, w, outs[0].tensor.dtype_bits / 8.0 if outs else x


def sm_op_seconds(op: Op, unit: ComputeUnit, hw: Hardware) -> float:
    dtype = op_dtype(op, unit)
    spec = gpu_spec(unit, hw, dtype)
    cal = gpu_calibration(hw)
    bpe = max(1, max((o.tensor.dtype_bits for o in op.operands), default=16) // 8)
    if op.kind in _GEMM and op.macs:
        B, M, N, K = gemm_shape(op)
        return gpu.gemm_seconds(M, N, K, spec, batch=B, cal=cal, operand_bytes=_operand_bytes(op))
    if op.kind is OpKind.ATTENTION and op.macs:
        B, M, N, K = gemm_shape(op)
        nbytes = sum(o.tensor.size_bytes for o in op.operands)
        if M == 1:
            kv = sum(o.tensor.size_bytes for o in op.operands if o.tensor.role is Role.KV_CACHE)
            return gpu.decode_work_seconds(kv or nbytes, B, spec, cal=cal)
        return gpu.attention_work_seconds(2.0 * op.macs, nbytes, B * ceil(M / cal.attn_tile_q), spec,
                                          cal=cal)
    name = _ELEM_NAME.get(op.kind, "add")
    return gpu.elementwise_seconds(name, op_elems(op), spec, bytes_per_elem=bpe, cal=cal,
                                   row_len=op.dim_sizes.get("n", 0))


def sm_plan_seconds(p, hw: Hardware) -> float:
    """A planned op's time on a GPU: its share of the kernel the software stack runs it in
    (`OpPlan.kernel_s`, set by `plan.plan_ops`), else its own kernel."""
    if p.kernel_s is not None:
        return p.kernel_s
    return sm_op_seconds(p.op, p.unit, hw)


def host_issue_s(hw: Hardware, stack) -> float:
    """The host's time to issue one kernel under `stack`: 0 when kernels are replayed from a CUDA
    graph; when issued eagerly, the description's `host_overhead`, else `stack.EAGER_HOST_S`."""
    from ..stack import EAGER_HOST_S
    if not stack.host_issued:
        return 0.0
    return hw.host_overhead_s or EAGER_HOST_S


def kernel_seconds(kernels, plans, hw: Hardware, stack) -> dict[int, float]:
    """Plan index → seconds for every member of `kernels` (`gpu_kernels.gpu_kernels`): each kernel timed
    once (never less than the host's issue time, `host_issue_s`) and its time shared among its
    members (by MACs in a GEMM or attention kernel; an epilogue or a fused elementwise kernel's
    time goes to its last member). Kernels alike (`_kernel_key`: a model's repeated layers) are
    timed once."""
    from ..plan import plan_op_key
    host = host_issue_s(hw, stack)
    out: dict[int, float] = {}
    timed: dict[tuple, tuple[float, ...]] = {}
    op_keys: dict[int, tuple] = {}
    for k in kernels:
        members = [plans[i] for i in k.members]
        key = _kernel_key(k.kind, members, op_keys, plan_op_key)
        seconds = timed.get(key)
        if seconds is None:
            seconds = timed[key] = _kernel_member_seconds(k.kind, members, hw, stack, host)
        out.update((p.index, s) for p, s in zip(members, seconds))
    return out


def _kernel_key(kind: str, members, op_keys: dict[int, tuple], op_key) -> tuple:
    """All a kernel's time depends on: its kind and, per member, the op without names
    (`op_key(plan)`: `plan.plan_op_key`), the unit and the dtype; for a fused elementwise kernel also which members
    touch the same tensor (it reads or writes each tensor once)."""
    parts = []
    for p in members:
        ok = op_keys.get(p.index)
        if ok is None:
            ok = op_keys[p.index] = op_key(p)
        parts.append((ok, id(p.unit), p.dtype))
    if kind != "fused":
        return kind, tuple(parts)
    first: dict[str, int] = {}
    shared = tuple(first.setdefault(o.tensor.name, len(first)) for p in members for o in p.op.operands)
    return kind, tuple(parts), shared


def _kernel_member_seconds(kind: str, members, hw: Hardware, stack, host: float) -> tuple[float, ...]:
    """Seconds of each member of one kernel of `kind` (see `kernel_seconds`)."""
    if kind == "attention":
        by_index = fused_attention_seconds([tuple(members)], hw, host,
                                           split_kv=stack.attention != "fa2")
        return tuple(by_index[p.index] for p in members)
    if kind == "gemm":
        t, shares = _gemm_kernel(members, hw, stack)
    elif kind == "fused":
        t, shares = _fused_elementwise_seconds(members, hw), [0.0] * (len(members) - 1) + [1.0]
    else:
        t, shares = sm_op_seconds(members[0].op, members[0].unit, hw), [1.0]
    t = max(t, host)
    return tuple(t * share for share in shares)


def _gemm_kernel(members, hw: Hardware, stack) -> tuple[float, list[float]]:
    """One GEMM over the contractions among `members` (same input, N concatenated); the rest are
    epilogues run inside it."""
    mm = [p for p in members if p.op.kind in _GEMM and p.op.macs]
    if not mm:
        return sm_op_seconds(members[0].op, members[0].unit, hw), [1.0] + [0.0] * (len(members) - 1)
    first = mm[0]
    B, M, N, K = gemm_shape(first.op)
    N = sum(gemm_shape(p.op)[2] for p in mm)
    if first.op.kind is OpKind.LM_HEAD and stack.vocab_pad > 1:
        N = ceil(N / stack.vocab_pad) * stack.vocab_pad
    spec = gpu_spec(first.unit, hw, first.dtype)
    t = gpu.gemm_seconds(M, N, K, spec, batch=B, cal=gpu_calibration(hw),
                         operand_bytes=_operand_bytes(first.op))
    macs = sum(p.op.macs for p in mm) or 1
    return t, [p.op.macs / macs if p in mm else 0.0 for p in members]


def _fused_elementwise_seconds(members, hw: Hardware) -> float:
    """A serving stack's hand-written elementwise kernel (fused residual add + norm, rotary
    embedding of Q and K, K and V cache writes): one launch, and every tensor it touches read or
    written once at the calibrated elementwise streaming rate. ASSUMPTION: no H200 measurement
    of such kernels; they are costed as the measured `add` (one launch, compulsory bytes)."""
    first = members[0]
    spec = gpu_spec(first.unit, hw, first.dtype)
    cal = gpu_calibration(hw)
    touched: dict[str, int] = {}
    for p in members:
        for o in p.op.operands:
            if o.tensor.role is Role.KV_CACHE:       # a cache write touches the new rows only
                continue
            touched[o.tensor.name] = o.tensor.size_bytes
    return spec.launch_s + sum(touched.values()) / (spec.mem_bytes_per_s * cal.elementwise_stream_eff)


def fused_attention_seconds(groups, hw: Hardware, host_s: float = 0.0,
                            split_kv: bool = True) -> dict[int, float]:
    """Plan index → seconds for fused (QKᵀ, softmax, PV) `groups` on a GPU
    (`attention.fused_attention_groups`): each group is one FlashAttention kernel
    (`gpu.attention_work_seconds`; flash-decoding's `gpu.decode_work_seconds` for one query), the
    model its calibration was measured on. Its time is split over the two matmuls by MACs; the
    softmax runs inside it (the kernel's score rate), not as an elementwise kernel of its own.
    `split_kv=False`: decode without flash-decoding's KV split (FlashAttention-2's scheduling)."""
    out: dict[int, float] = {}
    for qk, softmax, av in groups:
        t = max(_flash_kernel_seconds(qk, av, hw, split_kv), host_s)   # one kernel issued
        macs = max(1, qk.op.macs + av.op.macs)
        out[qk.index] = t * qk.op.macs / macs
        out[av.index] = t * av.op.macs / macs
        out[softmax.index] = 0.0
    return out


def _flash_kernel_seconds(qk, av, hw: Hardware, split_kv: bool = True) -> float:
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
        return gpu.decode_work_seconds(kv_bytes or nbytes, heads, spec, cal=cal, kv_len=kv_len,
                                       split_kv=split_kv)
    scores = heads * q_len * kv_len * qk.op.attr("computed_fraction", 1.0)   # causal: skipped blocks
    return gpu.attention_work_seconds(2.0 * (qk.op.macs + av.op.macs), nbytes,
                                      heads * ceil(q_len / cal.attn_tile_q), spec, cal=cal,
                                      scores=float(scores))
