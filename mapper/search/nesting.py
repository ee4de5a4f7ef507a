"""The mapspace's prune rule as a value the search kernels can apply themselves: inner tile
indices never exceed the outer ones (`Space.prune`). A strategy given a `Nesting` (or no prune)
legalises, de-duplicates and walks genomes inside Numba; any other prune callable is applied in
Python between the kernels, as before."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Nesting", "nesting_of"]


@dataclass(frozen=True, slots=True)
class Nesting:
    """Genes 1 + i·n_dims … are tile indices of on-chip level i + 1 (gene 0 the spatial option);
    a genome is kept when every level's index is ≤ the next outer level's, dim by dim."""
    n_levels: int
    n_dims: int

    def __call__(self, genomes: np.ndarray) -> np.ndarray:
        from archsim.kernels.search import nested_mask      # Numba: imported when a search runs
        return nested_mask(np.ascontiguousarray(genomes, dtype=np.int64), self.n_levels,
                           self.n_dims)


def nesting_of(prune) -> tuple[int, int] | None:
    """(n_levels, n_dims) for the kernels: (0, 0) keeps every genome (no prune); None when the
    prune is some other callable the kernels cannot apply."""
    if prune is None:
        return (0, 0)
    if isinstance(prune, Nesting):
        return (prune.n_levels, prune.n_dims)
    return None
