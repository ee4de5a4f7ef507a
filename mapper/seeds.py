"""Heuristic seed mappings: the few candidates every search evaluates before any sampling.

A random or genetic search on a small budget can return a legal but absurd mapping (e.g. a 1×1×2
tile under a 256×256 systolic array: every tile pays the array's fill and drain for one useful
MAC, ~10⁶× slower than a sane tiling). Seeding every search with the mappings a compiler would try
first makes the budget decide only how much better than them the result gets:

- spatial unroll filling the unit (every spatial option of the space: array rows × cols per
  dataflow, SIMD lanes, PIM banks × lanes);
- at each on-chip level, the largest tiles that fit its capacity with double buffering, found
  greedily from the parent's tile by shrinking one dim one step at a time — never below the
  spatial tile while another dim can still shrink. One variant shrinks the largest tile first
  (balanced); one variant per dim shrinks that dim last (keeps it whole, e.g. the reduction dim);
  balanced variants at 1/16 and 1/256 of the capacity, and ones holding a single fold of the unit
  (spatial dims at the array size) at the innermost or at every level: smaller tiles let the
  first tile's load overlap compute, which the largest tiles cannot;
- on a unit with several instances (TPU-v4's 8 MXUs, a GPU's SMs), variants whose innermost
  tiles are at least as many as the instances (split along one dim each);
- the dataflow's natural loop orders: every order when there are few, else the identity and the
  operand-stationary orders (an operand's dims outer, the loops that reuse it inner).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .mapspace import Space

__all__ = ["heuristic_genomes", "FRACTIONS"]

FRACTIONS = (1.0, 1 / 16, 1 / 256)


@dataclass(frozen=True, slots=True)
class _Fit:
    """The cost model's capacity arrays (`costmodel.Arrays`) as Python lists, read element by
    element while the seeds shrink their tiles (a NumPy scalar per read costs more than the rule)."""
    inc: list[list[bool]]          # operand × dim: the dim indexes the operand
    eb: list[float]                # bytes per element of each operand
    home: list[int]                # each operand's home position on the path
    keep: list[list[bool]]         # operand × level: the level may hold the operand
    dbuf: list[bool]               # per level: double buffered
    cap: list[float]               # per level: capacity in bytes
    used: list[bool]               # per dim: some operand is indexed by it

    @staticmethod
    def of(arrays) -> "_Fit":
        inc = arrays.inc.astype(bool)
        return _Fit(inc=inc.tolist(), eb=arrays.eb.astype(float).tolist(), home=arrays.home.tolist(),
                    keep=arrays.keep.astype(bool).tolist(), dbuf=arrays.dbuf.astype(bool).tolist(),
                    cap=arrays.cap.astype(float).tolist(), used=inc.any(axis=0).tolist())


def _level_bytes(tile: list[int], level: int, inc, eb, home, keep, dbuf, sizes) -> float:
    """Bytes resident at path position `level` for these tiles (the kernel's capacity rule);
    `inc`, `eb`, `home`, `keep`, `dbuf` as the lists of `_Fit`."""
    need = 0.0
    for o, rows in enumerate(inc):
        h = home[o]
        if h > level or (h < level and not keep[o][level]):
            continue
        dims = sizes if h == level else tile
        v = eb[o]
        for n, used in zip(dims, rows):
            if used:
                v *= n
        if h < level and dbuf[level]:
            v *= 2.0
        need += v
    return need


def _fit_level(space: Space, fit: _Fit, level: int, parent_idx: list[int], parent_tile: list[int],
               floors: list[int], keep_dim: int, fraction: float = 1.0,
               fold: bool = False) -> tuple[list[int], list[int]]:
    """Largest tiles (index per dim, clipped sizes) at `level` that fit, shrinking from the
    parent's. Returns the indices even when nothing fits (the kernel then scores it +inf)."""
    values, sizes = space.values, space.sizes
    nd = len(sizes)
    used = fit.used
    idx = list(parent_idx)
    if fold:      # one fold of the unit per tile: spatial dims start at the unit's spatial tile
        for d in range(nd):
            if floors[d] > 1:
                idx[d] = min(idx[d], next((j for j, v in enumerate(values[d]) if v >= floors[d]),
                                          idx[d]))

    def tile_of(i: list[int]) -> list[int]:
        return [min(values[d][i[d]], parent_tile[d]) for d in range(nd)]

    tile = tile_of(idx)
    cap = fit.cap[level] * fraction
    while _level_bytes(tile, level, fit.inc, fit.eb, fit.home, fit.keep, fit.dbuf, sizes) > cap:
        can = [d for d in range(nd) if idx[d] > 0 and used[d]]
        above = [d for d in can
                 if min(values[d][idx[d] - 1], parent_tile[d]) >= min(floors[d], parent_tile[d])]
        pool = [d for d in above if d != keep_dim] or above or \
            [d for d in can if d != keep_dim] or can
        if not pool:
            break
        d = max(pool, key=lambda x: (tile[x], -x))
        idx[d] -= 1
        while idx[d] > 0 and min(values[d][idx[d]], parent_tile[d]) == tile[d]:
            idx[d] -= 1          # skip values clipped to the same size
        tile = tile_of(idx)
    return idx, tile


def _natural_perms(space: Space, inc: np.ndarray) -> list[int]:
    perms = [tuple(p) for p in space.perms]
    if len(perms) <= 6:
        return list(range(len(perms)))
    nd = len(space.sizes)
    wanted = [tuple(range(nd))]
    for o in range(inc.shape[0]):
        wanted.append(tuple([d for d in range(nd) if inc[o, d]] +
                            [d for d in range(nd) if not inc[o, d]]))
    return list(dict.fromkeys(perms.index(w) for w in wanted if w in perms)) or [0]


def _split_for_instances(space: Space, levels: list[tuple[list[int], list[int]]],
                         count: int) -> list[tuple[int, ...]]:
    """Variants of one seed whose innermost tiles number at least `count` (one per instance of
    the unit: TPU-v4's MXUs, a GPU's SMs): per dim, the largest smaller tile that gets there,
    and the largest that makes the tile count a multiple of `count`."""
    values, nd = space.values, len(space.sizes)
    parent = levels[-2][1] if len(levels) > 1 else list(space.sizes)
    idx, tile = levels[-1]
    outer = 1
    for i in range(len(levels) - 1):
        above = levels[i - 1][1] if i else list(space.sizes)
        for d in range(nd):
            outer *= -(-above[d] // levels[i][1][d])
    out = []
    for d in range(nd):
        found: list[int] = []
        for j in range(idx[d] - 1, -1, -1):
            t = list(tile)
            t[d] = min(values[d][j], parent[d])
            visits = outer
            for e in range(nd):
                visits *= -(-parent[e] // t[e])
            if visits >= count and (not found or visits % count == 0):
                found.append(j)
                if visits % count == 0:
                    break
        for j in found:
            new = list(idx)
            new[d] = j
            genes = [g for lv in levels[:-1] for g in lv[0]] + new
            out.append(tuple(genes))
    return out


def heuristic_genomes(space: Space, arrays) -> np.ndarray:
    """Seed genomes for `space` (a few per spatial option), legal-nested, without duplicates.
    `arrays` is `mapper.costmodel.arrays_for(space)`."""
    nl, nd = space.n_levels, len(space.sizes)
    perms = _natural_perms(space, arrays.inc)
    fit = _Fit.of(arrays)
    count = max(int(space.unit.count), 1)
    rows: list[tuple[int, ...]] = []
    by_floors: dict[tuple[int, ...], list[tuple[int, ...]]] = {}    # options of one spatial tile
    for oi, opt in enumerate(space.options):
        floors = [min(int(opt.tile[d]), space.sizes[d]) for d in range(nd)]
        tile_genes = by_floors.get(tuple(floors))
        if tile_genes is None:
            tile_genes = by_floors[tuple(floors)] = _tile_genes(space, fit, floors, count)
        for genes in dict.fromkeys(tile_genes or [()]):
            for p in perms:
                rows.append((oi,) + genes + (p,) * (nl - 1))
    out = np.array(list(dict.fromkeys(rows)), dtype=np.int64).reshape(-1, len(space.cardinalities))
    return out[space.prune(out)] if len(out) else out


def _tile_genes(space: Space, fit: _Fit, floors: list[int], count: int) -> list[tuple[int, ...]]:
    """The tile genes of every variant for one spatial tile (`floors`): they depend on nothing
    else of the option (options differing only in their inner loop order share them)."""
    nl, nd = space.n_levels, len(space.sizes)
    tile_genes: list[tuple[int, ...]] = []
    variants = [(-1, f, "") for f in FRACTIONS] + [(d, 1.0, "") for d in range(nd)]
    for keep_dim, fraction, fold in variants + [(-1, 1.0, "inner"), (-1, 1.0, "all")]:
        parent_idx = [len(v) - 1 for v in space.values]
        parent_tile = list(space.sizes)
        levels: list[tuple[list[int], list[int]]] = []
        for level in range(1, nl):
            folded = fold == "all" or (fold == "inner" and level == nl - 1)
            parent_idx, parent_tile = _fit_level(space, fit, level, parent_idx,
                                                 parent_tile, floors, keep_dim, fraction,
                                                 folded)
            levels.append((parent_idx, parent_tile))
        if not levels:
            continue
        tile_genes.append(tuple(g for lv in levels for g in lv[0]))
        if count > 1 and keep_dim < 0 and fraction == 1.0:
            tile_genes.extend(_split_for_instances(space, levels, count))
    return tile_genes
