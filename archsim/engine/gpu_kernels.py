"""The kernels a GPU issues for a mapped graph: the software stack's lowering choice (which ops
run as one kernel), not a change of the graph; each kernel is timed as one by `timing.sm`."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from archsim.ir import Op, OpKind, Role

from .attention import fused_attention_groups

if TYPE_CHECKING:
    from .plan import OpPlan

__all__ = ["GpuKernel", "gpu_kernels"]


@dataclass(frozen=True, slots=True)
class GpuKernel:
    """Plans a GPU runs as one kernel. kind: `gemm` (GEMMs sharing their input, N concatenated,
    plus activation epilogues), `attention` (QKᵀ, softmax, PV: one FlashAttention kernel), `fused`
    (a serving stack's hand-written elementwise kernel), `op` (one op, its own kernel)."""
    kind: str
    members: tuple[int, ...]


_GEMM_KINDS = (OpKind.MATMUL,)
_EPILOGUE_KINDS = (OpKind.GELU, OpKind.SILU, OpKind.RELU, OpKind.SWIGLU)
_NORM_KINDS = (OpKind.LAYERNORM, OpKind.RMSNORM)
_PAIRED_KINDS = (OpKind.ROPE, OpKind.KV_APPEND)     # serving: Q and K (K and V) in one kernel


def _act_inputs(op: Op) -> tuple[str, ...]:
    return tuple(o.tensor.name for o in op.operands
                 if not o.is_output and o.tensor.role in (Role.ACTIVATION, Role.OUTPUT))


def gpu_kernels(plans: list[OpPlan], stack) -> list[GpuKernel]:
    """The kernels a GPU issues for the `sm` plans under `stack` (a `stack.SoftwareStack`): the
    lowering choice of the software stack, not a change of the graph. In order of first member.

    - attention groups the mapper fused (`fused_attention_groups`): one kernel each;
    - `fuse_shared_input_gemms`: MATMULs of one layer reading the same activation tensor with the
      same K and weight width are one GEMM (QKV; gate/up; an MLP's fc1 alone);
    - `fused_elementwise`: an activation whose inputs all come from one GEMM kernel is its
      epilogue; a norm reading an add's output runs with the add; the ROPE (KV_APPEND) ops of
      one layer run together; every other elementwise op is one
      hand-written kernel;
    - anything else: its own kernel.

    The last call's kernels are kept: `plan_ops` times them and the run's note counts them
    (`simulate.stack_note`), for the same plans (every one the same object, as frozen values) and
    stack; the grouping reads no plan field `plan_ops` sets afterwards (`kernel_s`)."""
    last = _LAST.get("call")
    if last is not None and last[0] == stack and len(last[1]) == len(plans) and \
            all(a is b for a, b in zip(last[1], plans)):
        return list(last[2])
    out = _gpu_kernels(plans, stack)
    _LAST["call"] = (stack, tuple(plans), tuple(out))
    return out


#: the last `gpu_kernels` call: (stack, its plans, its kernels)
_LAST: dict[str, tuple] = {}


def _gpu_kernels(plans: list[OpPlan], stack) -> list[GpuKernel]:
    gpu = [p for p in plans if p.unit.type == "sm"]
    owner: dict[int, int] = {}           # plan index -> kernel number
    kernels: list[list] = []             # [kind, [members]]

    def new(kind: str, members) -> int:
        kernels.append([kind, list(members)])
        for i in members:
            owner[i] = len(kernels) - 1
        return len(kernels) - 1

    for group in fused_attention_groups(plans):
        if all(p.unit.type == "sm" for p in group):
            new("attention", [p.index for p in group])
    producer: dict[str, int] = {}
    for p in gpu:
        for o in p.op.operands:
            if o.is_output:
                producer[o.tensor.name] = p.index
    shared: dict[tuple, int] = {}
    for p in gpu:
        if p.index in owner:
            continue
        if p.op.kind in _GEMM_KINDS and stack.fuse_shared_input_gemms:
            acts = _act_inputs(p.op)
            w_bits = tuple(sorted(o.tensor.dtype_bits for o in p.op.operands
                                  if o.tensor.role is Role.WEIGHT))
            key = (p.op.layer, acts, p.op.dim_sizes.get("k"), w_bits, p.unit.name)
            if len(acts) == 1 and key in shared:
                kernels[shared[key]][1].append(p.index)
                owner[p.index] = shared[key]
            else:
                shared[key] = new("gemm", [p.index])
            continue
        if p.op.kind.is_contraction:
            new("gemm", [p.index])
            continue
        if not stack.fused_elementwise:
            new("op", [p.index])
            continue
        srcs = {owner.get(producer.get(t, -1)) for t in _act_inputs(p.op)}
        src = next(iter(srcs)) if len(srcs) == 1 else None
        if p.op.kind in _EPILOGUE_KINDS and src is not None and kernels[src][0] == "gemm":
            kernels[src][1].append(p.index)
            owner[p.index] = src
        elif p.op.kind in _NORM_KINDS and src is not None and kernels[src][0] == "fused" and \
                all(plans[i].op.kind is OpKind.ADD for i in kernels[src][1]):
            kernels[src][1].append(p.index)
            owner[p.index] = src
        elif p.op.kind in _PAIRED_KINDS and (p.op.kind, p.op.layer) in shared:
            k = shared[(p.op.kind, p.op.layer)]
            kernels[k][1].append(p.index)
            owner[p.index] = k
        else:
            k = new("fused", [p.index])
            if p.op.kind in _PAIRED_KINDS:
                shared[(p.op.kind, p.op.layer)] = k
    out = [GpuKernel(kind, tuple(members)) for kind, members in kernels]
    return sorted(out, key=lambda k: min(k.members))
