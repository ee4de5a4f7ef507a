"""Walk the tiles of a mapping: the nested, clipped iteration the cost model counts and the engine
lowers. At each level the tile of the next inner level steps through the current tile in that
level's loop order; edge tiles are clipped, so the innermost tiles cover the iteration space
exactly once."""
from __future__ import annotations

from itertools import product
from typing import Iterator

from archsim.mapping import OpMapping

__all__ = ["iterate_tiles", "count_tiles"]

Box = tuple[tuple[str, int, int], ...]   # (dim, start, stop) per dim


def _split(box: dict[str, tuple[int, int]], tile: dict[str, int], order: tuple[str, ...]):
    dims = list(order) + [d for d in box if d not in order]
    ranges = []
    for d in dims:
        lo, hi = box[d]
        step = max(1, min(tile.get(d, hi - lo), hi - lo))
        ranges.append([(s, min(s + step, hi)) for s in range(lo, hi, step)])
    for combo in product(*ranges):     # first dim outermost
        yield {d: r for d, r in zip(dims, combo)}


def iterate_tiles(mapping: OpMapping, sizes: dict[str, int], spatial: bool = False) -> Iterator[Box]:
    """Innermost memory-level tiles in execution order (with `spatial=True`, the compute unit's
    spatial tiles inside them)."""
    levels = list(mapping.tiling)
    tiles = [lt.tile_sizes for lt in levels[1:]]
    orders = [lt.loop_order for lt in levels]
    if spatial:
        tiles.append(dict(mapping.spatial))

    def walk(box, depth):
        if depth == len(tiles):
            yield tuple((d, lo, hi) for d, (lo, hi) in box.items())
            return
        for sub in _split(box, tiles[depth], orders[depth]):
            yield from walk(sub, depth + 1)

    yield from walk({d: (0, n) for d, n in sizes.items()}, 0)


def count_tiles(mapping: OpMapping, sizes: dict[str, int]) -> int:
    return sum(1 for _ in iterate_tiles(mapping, sizes))
