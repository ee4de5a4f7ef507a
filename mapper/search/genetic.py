"""A genetic algorithm over genomes: tournament selection, uniform crossover, per-gene mutation
(a ±1 step or a fresh value), elitism. Deterministic for a given seed. Genomes told before the
first `ask` (seed mappings) join the first, random, population.

The steps run as Numba kernels on arrays (`archsim.kernels.genetic`, `archsim.kernels.search`)
drawing from this strategy's NumPy generator in the order the NumPy steps did, so a seed gives
the same genomes. A prune that is not a `Nesting` is applied in Python between the kernels."""
from __future__ import annotations

from typing import Callable

import numpy as np

from .nesting import nesting_of

__all__ = ["Genetic"]


def _kernels():
    """Numba kernels, imported when a search runs (an analytic run from the cache never does)."""
    from archsim.kernels import genetic, search
    return genetic, search


class Genetic:
    def __init__(self, cardinalities, prune: Callable[[np.ndarray], np.ndarray] | None = None,
                 population: int = 128, mutation: float = 0.15, elite: int = 8, seed: int = 0):
        self.card = np.asarray(cardinalities, dtype=np.int64)
        self.prune = prune
        self.nesting = nesting_of(prune)
        self.n = population
        self.mutation = mutation
        self.elite = elite
        self.rng = np.random.default_rng(seed)
        self.pop: np.ndarray | None = None        # ranked best first (the rank is the row)
        self.scores: np.ndarray | None = None     # their score rows
        self.started = False

    def _legal(self, g: np.ndarray, start: int = 0) -> np.ndarray:
        """`g` with its pruned rows from `start` on redrawn, up to 10 rounds (each redraws the
        rows still pruned, in row order; only the redrawn rows are pruned again)."""
        if self.prune is None:
            return g
        if self.nesting is not None:
            _kernels()[0].legalise(self.rng, g, start, self.card, *self.nesting)
            return g
        bad = start + np.flatnonzero(~self.prune(g[start:]))
        for _ in range(10):
            if not len(bad):
                break
            fresh = self.rng.integers(0, self.card, size=(len(bad), len(self.card)))
            g[bad] = fresh
            bad = bad[~self.prune(fresh)]
        return g

    def ask(self) -> np.ndarray:
        genetic, _ = _kernels()
        if not self.started:
            self.started = True
            return self._legal(genetic.random_genomes(self.rng, self.n, self.card))
        out = genetic.offspring(self.rng, self.pop, self.card, self.elite, self.n, self.mutation)
        return self._legal(out, min(self.elite, len(self.pop)))

    def tell(self, genomes, scores) -> None:
        s = np.asarray(scores, dtype=float)
        s = s[:, None] if s.ndim == 1 else s
        g = np.asarray(genomes, dtype=np.int64).reshape(len(s), -1)
        if self.pop is not None:
            g, s = np.concatenate([self.pop, g]), np.concatenate([self.scores, s])
        keep = _kernels()[1].select_population(np.ascontiguousarray(g), np.ascontiguousarray(s),
                                               self.n)
        self.pop, self.scores = g[keep], s[keep]
