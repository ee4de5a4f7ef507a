"""Re-fetches under a mapping's tiling: the outer loop nest, the loop an operand is fetched again
in, the factor by which it crosses the off-chip boundary more than once, and which inputs re-fetch."""
from __future__ import annotations

from math import ceil, prod

from archsim.hardware import Hardware, MemoryLevel
from archsim.ir import Op, OpKind, Role
from archsim.mapping import OpMapping

from .homes import spilled_operands

__all__ = ["loop_nest", "refetch_loop", "refetch_factor", "refetched_inputs"]


def loop_nest(op: Op, om: OpMapping) -> tuple[dict[str, int], list[str]]:
    """The loop nest of the tiling's outer level (`om.tiling[0]`) over the tiles its next level
    holds: trip count per dim (the op's size over the next level's tile size, rounded up) and the
    loop order, outermost first (dims the order does not name innermost, in the op's order). The
    refetch factor (`refetch_factor`) and the tile stream (`tiles.tile_stream`) walk the same nest."""
    sizes = op.dim_sizes
    inner = om.tiling[1].tile_sizes
    trips = {d: ceil(n / max(1, inner.get(d, n))) for d, n in sizes.items()}
    order = [d for d in om.tiling[0].loop_order if d in trips]
    order += [d for d in sizes if d not in order]
    return trips, order


def refetch_loop(order: list[str], trips: dict[str, int], dims) -> int:
    """Position in `order` of the innermost loop that indexes one of `dims` and iterates (-1: none):
    an operand indexed by `dims` is fetched again on every iteration of the loops down to it."""
    return max((i for i, d in enumerate(order) if d in dims and trips[d] > 1), default=-1)


def refetch_factor(op: Op, om: OpMapping | None, operand, offchip: str) -> float:
    """How many times an operand crosses the off-chip boundary relative to once, under the
    mapping's tiling: the buffer holds one tile (the next level's tile sizes); an operand's tile is
    fetched again on every iteration of the loops at or outside the innermost loop that indexes it
    (Timeloop-style reuse: loops inside it that do not index the operand reuse the tile)."""
    if om is None or len(om.tiling) < 2 or om.tiling[0].level != offchip:
        return 1.0
    trips, order = loop_nest(op, om)
    mine = [d for d in operand.dims if d in trips]
    last = refetch_loop(order, trips, mine)
    fetches = prod(trips[d] for d in order[:last + 1])
    compulsory = prod(trips[d] for d in mine)
    return max(1.0, fetches / max(1, compulsory))


def refetched_inputs(op: Op, homes: tuple, buf: MemoryLevel, hw: Hardware) -> tuple[str | None, ...]:
    """Per operand: the off-chip level whose bytes the mapping's tiling re-fetches for it
    (`refetch_factor`), else None. Inputs at home off chip re-fetch: placed there, weights and KV
    cache without a placement, activations the heuristic spills; never a gather's table or an
    append's cache (they move only the rows they touch). The mapper's cost model charges the
    same re-fetches at the unit's buffer ports (`mapper.costmodel`)."""
    if op.kind in (OpKind.EMBEDDING, OpKind.KV_APPEND):
        return (None,) * len(op.operands)
    off_chip = {lv.name for lv in hw.levels if lv.off_chip}
    spilled = spilled_operands(op, homes, buf)
    out: list[str | None] = []
    for i, (o, h) in enumerate(zip(op.operands, homes)):
        offsite = h in off_chip or (h is None and o.tensor.role in (Role.WEIGHT, Role.KV_CACHE))
        out.append(None if o.is_output or not (offsite or i in spilled)
                   else (h if h in off_chip else hw.levels[0].name))
    return tuple(out)
