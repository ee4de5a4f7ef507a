"""Local-search refinement: from a start genome (or random ones), evaluate every one-gene neighbour
(±1 and ±2 steps, plus every value of small genes), move to the best, restart at random when stuck.
"Best" and "better" follow the total order of `search.order` (objective, tie-breaks, genome), so
a plateau of equal objective is walked to its canonical (lowest-key) member.

Neighbours, the prune, the set of genomes already evaluated and the random restarts run as Numba
kernels (`archsim.kernels.search`, `archsim.kernels.genetic`), drawing from this strategy's NumPy
generator as the NumPy steps did. A prune that is not a `Nesting` is applied in Python."""
from __future__ import annotations

from typing import Callable

import numpy as np

from .nesting import nesting_of
from .order import best_of_batch, key_less
from .seen import SeenGenomes

__all__ = ["LocalSearch"]

SMALL_GENE = 8      # a gene with at most this many values has every value as a neighbour
RANDOM_TRIES = 100  # uniform genomes drawn for a (re)start before giving up on the prune


class LocalSearch:
    def __init__(self, cardinalities, prune: Callable[[np.ndarray], np.ndarray] | None = None,
                 start=None, seed: int = 0):
        self.card = np.asarray(cardinalities, dtype=np.int64)
        self.prune = prune
        self.nesting = nesting_of(prune)
        self.rng = np.random.default_rng(seed)
        self.current = None if start is None else np.asarray(start, dtype=np.int64)
        self.current_key: tuple | None = None      # None: current is unscored or illegal
        self.pending_start = self.current is not None
        self.seen = SeenGenomes(len(self.card))

    def _random(self) -> np.ndarray:
        """The first of up to RANDOM_TRIES uniform genomes the prune keeps (zeros if none), drawn
        one genome per try. With a prune callable the tries are drawn in one batch, then the
        generator is rewound and advanced by the tries used: a batch of rows is the same draws as
        that many single rows, so the stream (and the search) is the same."""
        shape = (RANDOM_TRIES, len(self.card))
        if self.prune is None:
            return self.rng.integers(0, self.card, size=(1, len(self.card)), dtype=np.int64)[0]
        if self.nesting is not None:
            from archsim.kernels.genetic import restart_genome     # Numba: when a search runs
            return restart_genome(self.rng, self.card, *self.nesting, RANDOM_TRIES)
        state = self.rng.bit_generator.state
        tries = self.rng.integers(0, self.card, size=shape, dtype=np.int64)
        ok = np.flatnonzero(self.prune(tries))
        if not len(ok):
            return np.zeros(len(self.card), dtype=np.int64)
        used = int(ok[0]) + 1
        if used < RANDOM_TRIES:
            self.rng.bit_generator.state = state
            self.rng.integers(0, self.card, size=(used, len(self.card)), dtype=np.int64)
        return tries[used - 1]

    def _neighbours(self, g: np.ndarray) -> np.ndarray:
        """One-gene neighbours of `g` the prune keeps and not evaluated yet."""
        from archsim.kernels.search import fresh_neighbours     # Numba: when a search runs
        levels, dims = self.nesting if self.nesting is not None else (0, 0)
        arr = fresh_neighbours(np.ascontiguousarray(g, dtype=np.int64), self.card, SMALL_GENE,
                               levels, dims, self.seen.table, self.seen.rows)
        if self.nesting is None and len(arr):
            arr = arr[self.prune(arr)]
        return arr

    def ask(self) -> np.ndarray:
        if self.current is None or self.pending_start:
            if self.current is None:
                self.current = self._random()
            self.pending_start = False
            return self.current[None, :].copy()
        nb = self._neighbours(self.current)
        if len(nb) == 0:      # local optimum: restart
            self.current, self.current_key = self._random(), None
            return self.current[None, :].copy()
        return nb

    def tell(self, genomes, scores) -> None:
        self.seen.add(genomes)
        i, key = best_of_batch(scores, genomes)
        legal = bool(np.isfinite(key[0]))
        if key_less(key if legal else None, self.current_key) or (
                len(genomes) == 1 and self.current_key is None):
            self.current, self.current_key = genomes[i].copy(), key if legal else None
        elif len(genomes) > 1:   # no better neighbour → stuck; restart next time
            self.current, self.current_key = self._random(), None
            self.pending_start = True
