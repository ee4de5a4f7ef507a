"""Keys under which ops and plans alike (repeated layers) are planned, timed and counted once."""
from __future__ import annotations

from dataclasses import fields
from operator import attrgetter

from archsim.ir import Op
from archsim.mapping import OpMapping

from .op_plan import OpPlan

__all__ = ["op_key", "mapping_key", "plan_op_key", "plan_key"]


def op_key(op: Op) -> tuple:
    """Everything about `op` but its name, its layer and its tensors' names: ops with one key have
    the same plan, time and action counts wherever they are placed alike (transformer layers)."""
    return (op.kind, op.dims, op.macs, op.flops, op.attrs,
            tuple([(o.dims, o.is_output, o.tensor.shape, o.tensor.dtype_bits, o.tensor.role)
                   for o in op.operands]))


def mapping_key(om: OpMapping | None):
    """An op's mapping without the names in it (the op's, its fusion root's, its tensors')."""
    if om is None:
        return None
    return (om.unit, om.spatial, om.dataflow, om.tiling,
            tuple(a for a in om.attrs if a[0] != "placement"))


# parts of the one `Hardware`
_BY_IDENTITY = ("unit", "buffer", "offchip", "register_file", "accumulators")
_KEYED = tuple(f.name for f in fields(OpPlan)
               if f.name not in ("index", "op", "producers", "mapping", "op_key_of") + _BY_IDENTITY)
_by_identity, _keyed = attrgetter(*_BY_IDENTITY), attrgetter(*_KEYED)


def plan_op_key(p: OpPlan) -> tuple:
    """`op_key(p.op)`, computed once per op by `plan_ops` (`OpPlan.op_key_of`) when it can."""
    kept = p.op_key_of
    return kept[1] if kept is not None and kept[0] is p.op else op_key(p.op)


def plan_key(p: OpPlan) -> tuple:
    """Every field of a plan but its position and names (`op_key`, the mapping without names, the
    hardware parts by identity): plans with one key time and count alike, within one `Hardware`."""
    return (plan_op_key(p), mapping_key(p.mapping), *map(id, _by_identity(p)), *_keyed(p))
