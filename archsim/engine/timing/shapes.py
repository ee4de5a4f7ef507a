"""Op shapes the timing functions need: a contraction as batched GEMM (B, M, N, K), element counts,
and the dtype name an op computes in."""
from __future__ import annotations

from math import prod

from archsim.ir import VECTOR_OPS_PER_ELEMENT, Op, Role

__all__ = ["gemm_shape", "op_elems", "op_dtype", "OPS_PER_ELEM"]

#: per-element vector work, shared with the mapper's cost model (see archsim.ir)
OPS_PER_ELEM = VECTOR_OPS_PER_ELEMENT


def gemm_shape(op: Op) -> tuple[int, int, int, int]:
    """(B, M, N, K) of a contraction: K = dims not in the output, B = dims in output and both
    inputs, M = output dims of the activation-side input, N = the rest. M·N·K·B equals op.macs up
    to rounding (N is adjusted so the product matches)."""
    sizes = op.dim_sizes
    outs = [o for o in op.operands if o.is_output]
    ins = [o for o in op.operands if not o.is_output]
    out_dims = set(outs[0].dims) if outs else set()
    if len(ins) >= 2:
        act = next((o for o in ins if o.tensor.role is Role.ACTIVATION), ins[0])
        other = next(o for o in ins if o is not act)
        a, b = set(act.dims), set(other.dims)
        Bd = out_dims & a & b
        Md = (out_dims & a) - Bd
        Nd = out_dims - Bd - Md
        Kd = (a | b) - out_dims
    else:
        Bd, Md, Nd, Kd = set(), out_dims, set(), set(sizes) - out_dims
    B = prod(sizes.get(d, 1) for d in Bd)
    M = prod(sizes.get(d, 1) for d in Md)
    K = prod(sizes.get(d, 1) for d in Kd)
    N = prod(sizes.get(d, 1) for d in Nd)
    if op.macs and B * M * N * K != op.macs:
        N = max(1, -(-op.macs // max(1, B * M * K)))
    return max(1, B), max(1, M), max(1, N), max(1, K)


def op_elems(op: Op) -> int:
    """Output elements (or the largest operand for ops without a distinct output)."""
    if op.kind.value == "kv_append":   # writes only the new entries into the cache
        ins = [o.tensor.elems for o in op.operands if not o.is_output]
        if ins:
            return max(ins)
    outs = [o.tensor.elems for o in op.operands if o.is_output]
    return max(outs) if outs else max((o.tensor.elems for o in op.operands), default=1)


_BY_BITS = {32: ("fp32", "int32", "tf32"), 16: ("bf16", "fp16", "int16"), 8: ("int8", "fp8"),
            4: ("int4",), 2: ("int2", "ternary")}


def op_dtype(op: Op, unit=None) -> str:
    """The dtype an op computes in: the widest input operand's width, named as the unit knows it."""
    bits = max((o.tensor.dtype_bits for o in op.operands if not o.is_output), default=16)
    names = _BY_BITS.get(bits, ("bf16",))
    if unit is not None:
        for n in names:
            if unit.macs_per_cycle_for(n) > 0:
                return n
        known = [d for d, v in unit.macs_per_cycle if v > 0]
        if known:
            return known[0]
    return names[0]
