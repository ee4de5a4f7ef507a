"""Random search over the pruned space: uniform genomes, pruned ones redrawn, no repeats."""
from __future__ import annotations

from typing import Callable

import numpy as np

from .seen import SeenGenomes

__all__ = ["RandomPruned"]


class RandomPruned:
    def __init__(self, cardinalities, prune: Callable[[np.ndarray], np.ndarray] | None = None,
                 batch: int = 1024, seed: int = 0):
        self.card = np.asarray(cardinalities, dtype=np.int64)
        self.prune = prune
        self.batch = batch
        self.rng = np.random.default_rng(seed)
        self.seen = SeenGenomes(len(self.card))
        self.total = int(np.prod(self.card))

    def ask(self) -> np.ndarray | None:
        out, count = [], 0
        for _ in range(20):
            g = self.rng.integers(0, self.card, size=(self.batch, len(self.card)), dtype=np.int64)
            if self.prune is not None:
                g = g[self.prune(g)]
            fresh = g[self.seen.add(g)]          # in draw order, each genome once
            out.append(fresh)
            count += len(fresh)
            if count >= self.batch // 4 or len(self.seen) >= self.total:
                break
        return np.concatenate(out) if count else None

    def tell(self, genomes, scores) -> None:
        self.seen.add(genomes)          # seeds told up front are not drawn again
