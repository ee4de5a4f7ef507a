"""Compute timing under the mapping's own spatial unroll and tiling (edge under-utilisation).

Without a mapping the unit functions assume the op's dims map onto the array as well as they can.
A mapping fixes which dims unroll over the array rows/cols or SIMD lanes (`OpMapping.spatial`) and
the tile the unit works on per visit (the innermost `LevelTiling`). Every visit pays its own
pipeline fill and rounds its tile up to whole array folds / lane groups, so a tile that is not a
multiple of the array wastes lanes — the SCALE-Sim 3 convention the mapper's cost model uses
(`archsim/kernels/costmodel.py: systolic_fold_cycles`, shared with it): a fold costs T + R + C − 2
cycles (OS, RS) or T + 2R + C − 2 (WS, IS, weights or inputs preloaded over R cycles); visits are
shared by the `count` arrays.
"""
from __future__ import annotations

from math import ceil, prod

from archsim.hardware import ComputeUnit
from archsim.ir import Op, Role
from archsim.mapping import OpMapping

__all__ = ["mapped_tiles", "gemm_roles", "mapped_systolic_cycles", "mapped_vector_cycles", "SYSTOLIC_ROLES"]

#: (array-row role, array-column role, temporal role) per systolic dataflow (SCALE-Sim's table;
#: row-stationary is WS-shaped without a separate preload, as the mapper takes it)
SYSTOLIC_ROLES = {"os": ("m", "n", "k"), "ws": ("k", "n", "m"), "is": ("k", "m", "n"), "rs": ("k", "n", "m")}
_PRELOAD = ("ws", "is")


def mapped_tiles(op: Op, om: OpMapping | None) -> tuple[int, dict[str, int]] | None:
    """(visits, innermost tile) of the mapping's temporal tiling, or None when it gives none.
    Visits multiply, level by level, the tiles of the next level inside each tile (rounded up)."""
    if om is None or not om.tiling:
        return None
    sizes = op.dim_sizes
    prev = dict(sizes)
    visits = 1
    for lt in om.tiling:
        tile = {d: max(1, min(prev[d], lt.tile_sizes.get(d, prev[d]))) for d in sizes}
        visits *= prod(ceil(prev[d] / tile[d]) for d in sizes)
        prev = tile
    return visits, prev


def gemm_roles(op: Op) -> dict[str, str | None]:
    """GEMM role → the largest op dim playing it (None when absent): m (activation and output),
    n (second input and output), k (reduced), batch (all three). The activation is the first
    input that is not a weight."""
    names = [d for d, _ in op.dims]
    sizes = op.dim_sizes
    ins = sorted((o for o in op.operands if not o.is_output), key=lambda o: o.tensor.role is Role.WEIGHT)
    a = set(ins[0].dims) if ins else set()
    b = set(ins[1].dims) if len(ins) > 1 else set()
    out = set().union(*(o.dims for o in op.operands if o.is_output))
    groups = {"m": [d for d in names if d in out and d in a and d not in b],
              "n": [d for d in names if d in out and d in b and d not in a],
              "k": [d for d in names if d not in out],
              "batch": [d for d in names if d in out and d in a and d in b]}
    if not b:
        groups["m"] = [d for d in names if d in out]
    return {r: (max(ds, key=lambda d: (sizes[d], -names.index(d))) if ds else None)
            for r, ds in groups.items()}


def _unrolled(op: Op, om: OpMapping | None):
    """(visits, innermost tile, spatial unroll per tiled dim) of a mapping with a spatial unroll
    and a tiling; None without either."""
    if om is None or not om.spatial:
        return None
    tiled = mapped_tiles(op, om)
    if tiled is None:
        return None
    visits, tile = tiled
    return visits, tile, {d: max(1, int(s)) for d, s in om.spatial if d in tile}


def mapped_systolic_cycles(unit: ComputeUnit, op: Op, om: OpMapping | None) -> int | None:
    """Cycles of a contraction on a systolic array under the mapping's spatial unroll and tiles:
    ⌈visits / count⌉ × folds × (T + fill) − 1 + launch, folds = Π over non-temporal dims of
    ⌈tile / unroll⌉. None when the mapping gives no spatial unroll or tiling for the op."""
    unrolled = _unrolled(op, om) if op.macs else None
    if unrolled is None:
        return None
    visits, tile, spatial = unrolled
    df = om.dataflow if om.dataflow in SYSTOLIC_ROLES else (unit.dataflows[0] if unit.dataflows else "ws")
    df = df if df in SYSTOLIC_ROLES else "ws"
    t_dim = gemm_roles(op)[SYSTOLIC_ROLES[df][2]]
    R, C = (tuple(unit.shape) + (1, 1))[:2]
    folds = prod(ceil(tile[d] / spatial.get(d, 1)) for d in tile if d != t_dim)
    t_len = tile[t_dim] if t_dim is not None else 1
    from archsim.kernels.costmodel import systolic_fold_cycles
    per_fold = systolic_fold_cycles(t_len, R, C, df in _PRELOAD)
    launch = unit.launch_overhead_s * unit.freq_hz
    return int(ceil(ceil(visits / max(1, unit.count)) * folds * per_fold - 1 + launch))


def mapped_vector_cycles(unit: ComputeUnit, op: Op, om: OpMapping | None, work: int,
                         rate_per_cycle: float) -> int | None:
    """Cycles of a vector unit under the mapping's lane unroll: each visit rounds its tile up to
    whole lane groups (⌈tile / unroll⌉ × unroll per unrolled dim); visits are shared by the `count`
    units; the pipeline fills once. `work` is the op's operations, `rate_per_cycle` one unit's rate."""
    unrolled = _unrolled(op, om)
    if unrolled is None or not unrolled[2]:
        return None
    visits, tile, spatial = unrolled
    points = prod(op.dim_sizes.values())
    per_point = work / max(1, points)
    padded = prod(ceil(tile[d] / spatial.get(d, 1)) * spatial.get(d, 1) for d in tile)
    per_visit = ceil(padded * per_point / max(rate_per_cycle, 1e-9)) * max(1, unit.initiation_interval)
    return int(ceil(visits / max(1, unit.count)) * per_visit + unit.pipeline_depth)
