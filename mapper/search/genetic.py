"""A genetic algorithm over genomes: tournament selection, uniform crossover, per-gene mutation
(a ±1 step or a fresh value), elitism. Deterministic for a given seed. Genomes told before the
first `ask` (seed mappings) join the first, random, population."""
from __future__ import annotations

from typing import Callable

import numpy as np

from .order import Codes, keys_of, lex_order

__all__ = ["Genetic"]


class Genetic:
    def __init__(self, cardinalities, prune: Callable[[np.ndarray], np.ndarray] | None = None,
                 population: int = 128, mutation: float = 0.15, elite: int = 8, seed: int = 0):
        self.card = np.asarray(cardinalities, dtype=np.int64)
        self.prune = prune
        self.n = population
        self.mutation = mutation
        self.elite = elite
        self.rng = np.random.default_rng(seed)
        self.pop: np.ndarray | None = None
        self.fit: np.ndarray | None = None        # rank in the total order (0 = best)
        self.keys: np.ndarray | None = None
        self.started = False
        self.codes = Codes(self.card)

    def _legal(self, g: np.ndarray) -> np.ndarray:
        """`g` with its pruned rows redrawn, up to 10 rounds (each redraws the rows still
        pruned, in row order; only the redrawn rows are pruned again)."""
        if self.prune is None:
            return g
        bad = np.flatnonzero(~self.prune(g))
        for _ in range(10):
            if not len(bad):
                break
            fresh = self.rng.integers(0, self.card, size=(len(bad), len(self.card)))
            g[bad] = fresh
            bad = bad[~self.prune(fresh)]
        return g

    def ask(self) -> np.ndarray:
        if not self.started:
            self.started = True
            g = self.rng.integers(0, self.card, size=(self.n, len(self.card)), dtype=np.int64)
            return self._legal(g)
        order = np.argsort(self.fit, kind="stable")
        elite = self.pop[order[: self.elite]]
        k = self.n - self.elite
        a = self.rng.integers(0, len(self.pop), size=(k, 2))
        b = self.rng.integers(0, len(self.pop), size=(k, 2))
        pa = np.where(self.fit[a[:, 0]] <= self.fit[a[:, 1]], a[:, 0], a[:, 1])
        pb = np.where(self.fit[b[:, 0]] <= self.fit[b[:, 1]], b[:, 0], b[:, 1])
        mask = self.rng.random((k, len(self.card))) < 0.5
        child = np.where(mask, self.pop[pa], self.pop[pb])
        mut = self.rng.random(child.shape) < self.mutation
        step = self.rng.choice(np.array([-1, 1]), size=child.shape)
        fresh = self.rng.integers(0, self.card, size=child.shape)
        use_step = self.rng.random(child.shape) < 0.6
        child = np.where(mut, np.where(use_step, np.clip(child + step, 0, self.card - 1), fresh),
                         child)
        return np.concatenate([elite, self._legal(child.astype(np.int64))])

    def tell(self, genomes, scores) -> None:
        keys = keys_of(scores, genomes)
        if self.pop is None:
            allg, allk = np.asarray(genomes, dtype=np.int64), keys
        else:
            allg, allk = np.concatenate([self.pop, genomes]), np.concatenate([self.keys, keys])
        first = self.codes.first_occurrences(allg)
        allg, allk = allg[first], allk[first]
        keep = lex_order(allk)[: self.n]
        self.pop, self.keys = allg[keep], allk[keep]
        self.fit = np.arange(len(keep), dtype=float)
