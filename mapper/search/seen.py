"""A set of genomes kept as arrays for the Numba kernels (`archsim.kernels.search.seen_add`):
exact (the rows themselves, hashed), whatever the size of the space."""
from __future__ import annotations

import numpy as np

__all__ = ["SeenGenomes"]


class SeenGenomes:
    def __init__(self, n_genes: int):
        from archsim.kernels.search import seen_new     # Numba: imported when a search runs
        self.table, self.rows, self.size = seen_new(n_genes)

    def add(self, genomes: np.ndarray) -> np.ndarray:
        """Add the batch; mask of the genomes that were not in the set (nor earlier in it)."""
        from archsim.kernels.search import seen_add
        self.table, self.rows, added = seen_add(self.table, self.rows, self.size,
                                                np.ascontiguousarray(genomes, dtype=np.int64))
        return added

    def unseen(self, genomes: np.ndarray) -> np.ndarray:
        from archsim.kernels.search import unseen_mask
        return unseen_mask(self.table, self.rows, np.ascontiguousarray(genomes, dtype=np.int64))

    def __len__(self) -> int:
        return int(self.size[0])
