"""Where each operand's tensor lives (its "home"): the mapper's placement, "@pipeline" when it
streams inside a fused group, else the fallback that spills activations which do not fit in half
of the unit's buffer."""
from __future__ import annotations

from archsim.errors import MappingError, did_you_mean
from archsim.hardware import Hardware, MemoryLevel
from archsim.ir import Op, Role
from archsim.mapping import Mapping, OpMapping

__all__ = ["PIPELINE", "operand_homes", "streamed_tensors", "spilled_operands", "role_key"]

PIPELINE = "@pipeline"   # the mapper's home of a tensor streamed inside a fused group

_ROLE_KEYS = {r: "activation" if r in (Role.ACTIVATION, Role.OUTPUT) else r.value for r in Role}


def role_key(t) -> str:
    return _ROLE_KEYS[t.role]


def streamed_tensors(mapping: Mapping | None) -> frozenset[str]:
    return frozenset(dict(mapping.attrs).get("streamed", ()) or ()) if mapping is not None else frozenset()


def operand_homes(op: Op, om: OpMapping | None, mapping: Mapping | None, hw: Hardware,
                  streamed: frozenset[str] | None = None,
                  level_names: frozenset[str] | None = None) -> tuple[str | None, ...]:
    """Per operand of `op`: the level the mapping places its tensor in, PIPELINE when it streams
    inside a fused group, None when the mapping says nothing about it. `streamed`: the mapping's
    streamed tensors, `level_names`: `hw`'s level names, when the caller has them already."""
    if mapping is None and om is None:
        return (None,) * len(op.operands)
    own = dict(om.attr("placement") or ()) if om is not None else {}
    streamed = streamed_tensors(mapping) if streamed is None else streamed
    names = {lv.name for lv in hw.levels} if level_names is None else level_names
    out: list[str | None] = []
    for o in op.operands:
        t = o.tensor
        role = role_key(t)
        home = own.get(t.name) or own.get(role)
        if home is None and mapping is not None:
            home = PIPELINE if t.name in streamed else (mapping.placed(t.name) or
                                                       mapping.placed(role))
        if home is not None and home != PIPELINE and home not in names:
            hint = did_you_mean(str(home), sorted(names)) or "levels: " + ", ".join(sorted(names))
            raise MappingError(f"mapping for op {op.name!r}: tensor {t.name!r} is placed in "
                               f"{home!r}, which is not a level of {hw.name}; {hint}")
        out.append(home)
    return tuple(out)


def spilled_operands(op: Op, homes: tuple, buf: MemoryLevel) -> frozenset[int]:
    """Operands (by position) of the activations the mapping does not place that the heuristic
    spills off chip: all of them unless in + out fit in half of the unit's buffer."""
    loose = [i for i, (o, h) in enumerate(zip(op.operands, homes))
             if h is None and o.tensor.role in (Role.ACTIVATION, Role.OUTPUT)]
    acts = sum(op.operands[i].tensor.size_bytes for i in loose)
    if buf.off_chip or acts <= buf.capacity_bytes // 2:
        return frozenset()
    return frozenset(loose)
