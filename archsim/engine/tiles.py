"""An op's tiles in the order they execute: which off-chip bytes each tile loads, under the mapping.

The mapping's tiling names, for the off-chip level (outermost, `tiling[0]`), the loop order over
the tiles its next level holds (`tiling[1]`'s tile sizes) and whether that level double-buffers.
Tile j of the loop nest (an odometer over the loops, innermost fastest) loads operand o's tile
when a loop at or outside the innermost loop that indexes o advances: every `period` tiles, where
`period` is the product of the trip counts of the loops inside that loop (Timeloop-style reuse:
loops inside it that do not index o reuse o's tile). Over the op this fetches each operand
`refetch_factor` times its size, the bytes the plan's off-chip reads count, so the tiles' loads add
up to the plan's reads exactly.

Without a tiling (or when the tiling's outer level is not the off-chip level the reuse model counts
from) an op's stream is `chunks` equal tiles, each loading an equal share.
"""
from __future__ import annotations

from dataclasses import dataclass
from math import gcd, prod

import numpy as np

from archsim.hardware import Hardware
from archsim.ir import OpKind, Role

from .plan import PIPELINE, OpPlan, loop_nest, refetch_loop

__all__ = ["TileStream", "tile_stream", "coarsen", "coarse_loads"]


@dataclass(frozen=True, slots=True)
class TileStream:
    """`n` tiles; per off-chip level streamed: its operands as (fetch period in tiles, bytes per
    fetch before scaling); `double_buffer`: two slots per operand (else one)."""
    n: int
    operands: tuple[tuple[str, tuple[tuple[int, float], ...]], ...]
    double_buffer: bool = True

    def loads(self, reads: list[tuple[str, int]]) -> dict[int, dict[str, int]]:
        """Tile → level → bytes loaded, for the levels' read totals `reads` (level, bytes): each
        level's bytes go to the tiles fetching its operands in proportion to their bytes per fetch;
        a level with no operand of its own here loads an equal share on every tile."""
        out: dict[int, dict[str, int]] = {}
        ops = dict(self.operands)
        for lv, r in reads:
            if not r:
                continue
            per = ops.get(lv) or ((1, 1.0),)
            weight: dict[int, float] = {}
            for period, w in per:
                for j in range(0, self.n, period):
                    weight[j] = weight.get(j, 0.0) + w
            total = sum(weight.values())
            acc, done = 0.0, 0
            for j in sorted(weight):
                acc += weight[j]
                upto = min(r, int(r * acc / total + 1e-9)) if acc < total else r
                if upto > done:
                    out.setdefault(j, {})[lv] = upto - done
                    done = upto
        return out

    def periods(self, level: str) -> tuple[int, ...]:
        """Fetch periods of the operands streamed from `level` (every tile when none)."""
        return tuple(p for p, _ in dict(self.operands).get(level, ())) or (1,)


def _streamed_operands(p: OpPlan, hw: Hardware) -> list[tuple[object, str]]:
    """(operand, off-chip level) for each operand the plan reads across the off-chip boundary:
    weights and KV cache not placed on chip, activations placed off chip or spilled there."""
    off_chip = {lv.name for lv in hw.levels if lv.off_chip}
    homes = p.homes or (None,) * len(p.op.operands)
    out = []
    for o, h in zip(p.op.operands, homes):
        if o.is_output or h == PIPELINE:
            continue
        role = o.tensor.role
        if h in off_chip:
            out.append((o, h))
        elif h is None and role in (Role.WEIGHT, Role.KV_CACHE):
            out.append((o, hw.levels[0].name))
        elif h is None and role is Role.ACTIVATION and p.offchip_act_read_bytes:
            out.append((o, hw.levels[0].name))       # spilled: the plan reads it off chip
    return out


def tile_stream(p: OpPlan, hw: Hardware, chunks: int) -> TileStream:
    """The op's tiles under its mapping (see the module docstring); `chunks` equal tiles without
    a tiling the reuse model can read."""
    om = p.mapping
    off = hw.levels[0].name
    uniform = TileStream(n=max(1, chunks), operands=())
    if (om is None or len(om.tiling) < 2 or om.tiling[0].level != off
            or p.op.kind in (OpKind.EMBEDDING, OpKind.KV_APPEND)):
        return uniform
    trips, order = loop_nest(p.op, om)
    n = prod(trips[d] for d in order)
    per_level: dict[str, list[tuple[int, float]]] = {}
    for o, lv in _streamed_operands(p, hw):
        mine = [d for d in o.dims if d in trips]
        last = refetch_loop(order, trips, mine)
        period = prod(trips[d] for d in order[last + 1:])
        per_fetch = o.tensor.size_bytes / max(1, prod(trips[d] for d in mine))
        per_level.setdefault(lv, []).append((period, per_fetch))
    return TileStream(n=max(1, n), operands=tuple((lv, tuple(v)) for lv, v in per_level.items()),
                      double_buffer=om.tiling[1].double_buffer)


def coarsen(loads: dict[int, dict[str, int]], cap: int) -> tuple[dict[int, dict[str, int]], int]:
    """`loads` (tile → level → bytes) with at most `cap` loading tiles: when there are more, each
    load brings the bytes of `coarse` consecutive loading tiles, at the first of them. Returns the
    loads and `coarse` (1: unchanged)."""
    coarse = -(-len(loads) // max(1, cap))
    if coarse <= 1:
        return loads, 1
    at = sorted(loads)
    heads: dict[int, dict[str, int]] = {}
    for i in range(0, len(at), coarse):
        merged = heads[at[i]] = {}
        for t in at[i:i + coarse]:
            for name, nb in loads[t].items():
                merged[name] = merged.get(name, 0) + nb
    return heads, coarse


#: weights summed in float64 are exact integers below this (`_closed_loads`' exactness condition)
_EXACT_FLOAT = 1 << 53
#: loading tiles in one period of the fetch pattern the closed form enumerates
_MAX_PATTERN = 1 << 16


def coarse_loads(ts: TileStream, reads: list[tuple[str, int]], cap: int
                 ) -> tuple[dict[int, dict[str, int]], int]:
    """`coarsen(ts.loads(reads), cap)`, the same dict and factor, without visiting every tile when
    the closed form applies (`_closed_loads`): an attention op at 32 K tokens has 17 M loading tiles,
    which `loads` walked one by one in Python (2/3 of a cycle run's CPU time at 2 K tokens)."""
    out = _closed_loads(ts, reads, cap)
    return out if out is not None else coarsen(ts.loads(reads), cap)


def _closed_loads(ts: TileStream, reads, cap):
    """`coarsen(ts.loads(reads), cap)` in closed form, or None where it does not apply.

    `loads` gives tile t of a level's fetch tiles U(t) - U(previous fetch tile) bytes, U(t) =
    min(r, int(r * C(t) / total + 1e-9)) (r at the last), C(t) the running sum of the fetch weights
    up to t. When every weight is a whole number and the total is below 2**53, every running sum
    is exact in float64 whatever the order, so C(t) = Σ w·(t // period + 1) is the float `loads`
    computes, and U(t) the same IEEE operations give the same integer. When every fetch moves at
    least two bytes' worth (r·w ≥ 2·total), U rises at every fetch tile, so the loading tiles are the
    union of the levels' fetch-period multiples, and a coarse load's bytes telescope to U(its last
    tile) - U(the tile before its first)."""
    ops = dict(ts.operands)
    levels = []                                  # (name, r, ((period, weight), ...), total)
    for lv, r in reads:
        if not r:
            continue
        per = tuple(ops.get(lv) or ((1, 1.0),))
        if any(p < 1 or w <= 0 or not float(w).is_integer() for p, w in per):
            return None
        per = tuple((int(p), int(w)) for p, w in per)
        total = sum(w * ((ts.n - 1) // p + 1) for p, w in per)
        if total >= _EXACT_FLOAT or int(r) >= _EXACT_FLOAT or \
                int(r) * min(w for _, w in per) < 2 * total:
            return None
        levels.append((lv, int(r), per, total))
    if not levels:
        return {}, 1
    periods = sorted({p for _, _, per, _ in levels for p, _ in per})
    block = 1                                    # the fetch pattern repeats every lcm(periods)
    for p in periods:
        block = block * p // gcd(block, p)
        if block >= ts.n:
            block = ts.n
            break
    if len(periods) == 1:
        block = periods[0]
        pattern = np.zeros(1, dtype=np.int64)
    elif sum(-(-block // p) for p in periods) > _MAX_PATTERN:
        return None
    else:
        pattern = np.unique(np.concatenate([np.arange(0, block, p, dtype=np.int64) for p in periods]))
    k = len(pattern)
    full, rest = divmod(ts.n, block)
    count = full * k + int(np.searchsorted(pattern, rest))

    def tile_at(i):                               # the i-th loading tile (numpy int64 array)
        return (i // k) * block + pattern[i % k]

    coarse = -(-count // max(1, cap))
    if coarse <= 1:
        coarse = 1
    first = np.arange(0, count, coarse, dtype=np.int64)
    heads = tile_at(first)
    lasts = tile_at(np.minimum(first + coarse, count) - 1)

    def upto(t, r, per, total):                    # U at the running sum up to tile t (t ≥ -1)
        acc = np.zeros(t.shape, dtype=np.int64)
        for p, w in per:
            acc += w * np.where(t >= 0, t // p + 1, 0)
        u = (np.float64(r) * acc.astype(np.float64) / np.float64(total) + 1e-9).astype(np.int64)
        return np.where(acc < total, np.minimum(u, r), r)

    per_level = []
    for lv, r, per, total in levels:
        got = upto(lasts, r, per, total) - upto(heads - 1, r, per, total)
        # the first tile in each coarse load fetching this level (orders the merged dict's keys)
        at = np.full(heads.shape, np.iinfo(np.int64).max, dtype=np.int64)
        for p, _ in per:
            m = -(-heads // p) * p
            at = np.where(m <= lasts, np.minimum(at, m), at)
        per_level.append((lv, got.tolist(), at.tolist()))
    out: dict[int, dict[str, int]] = {}
    for g, h in enumerate(heads.tolist()):
        here = sorted((at[g], i) for i, (_, got, at) in enumerate(per_level) if got[g] > 0)
        out[h] = {per_level[i][0]: per_level[i][1][g] for _, i in here}
    return out, coarse
