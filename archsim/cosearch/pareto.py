"""Pareto dominance over objective vectors with per-objective directions."""
from __future__ import annotations

from typing import Sequence

__all__ = ["dominates", "pareto_indices"]


def _oriented(point: Sequence[float], directions: Sequence[str]) -> tuple[float, ...]:
    """Turn every objective into one to minimise."""
    return tuple(v if d == "minimize" else -v for v, d in zip(point, directions, strict=True))


def dominates(a: Sequence[float], b: Sequence[float], directions: Sequence[str]) -> bool:
    """True when `a` is no worse than `b` in every objective and strictly better in one."""
    a, b = _oriented(a, directions), _oriented(b, directions)
    return all(x <= y for x, y in zip(a, b)) and any(x < y for x, y in zip(a, b))


def pareto_indices(points: Sequence[Sequence[float]], directions: Sequence[str]) -> list[int]:
    """Indices of the non-dominated points, in input order. Points with a NaN are never on the front;
    of several identical points only the first is kept."""
    oriented = [_oriented(p, directions) for p in points]
    keep: list[int] = []
    for i, p in enumerate(oriented):
        if any(v != v for v in p):
            continue
        dominated = False
        for j, q in enumerate(oriented):
            if j == i or any(v != v for v in q):
                continue
            if all(x <= y for x, y in zip(q, p)) and (any(x < y for x, y in zip(q, p)) or j < i):
                dominated = True
                break
        if not dominated:
            keep.append(i)
    return keep
