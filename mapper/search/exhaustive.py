"""Exhaustive search with pruning: every genome of the product space in mixed-radix order,
minus those the space's `prune` mask rejects (evaluated never)."""
from __future__ import annotations

from typing import Callable

import numpy as np

__all__ = ["Exhaustive"]


class Exhaustive:
    def __init__(self, cardinalities, prune: Callable[[np.ndarray], np.ndarray] | None = None,
                 batch: int = 65536, seed: int = 0):
        self.card = np.asarray(cardinalities, dtype=np.int64)
        self.total = int(np.prod(self.card))
        self.prune = prune
        self.batch = batch
        self.next = 0

    def ask(self) -> np.ndarray | None:
        while self.next < self.total:
            idx = np.arange(self.next, min(self.next + self.batch, self.total), dtype=np.int64)
            self.next += len(idx)
            genomes = np.stack(np.unravel_index(idx, tuple(self.card)), axis=1).astype(np.int64)
            if self.prune is not None:
                genomes = genomes[self.prune(genomes)]
            if len(genomes):
                return genomes
        return None

    def tell(self, genomes, scores) -> None:
        pass
