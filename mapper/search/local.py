"""Local-search refinement: from a start genome (or random ones), evaluate every one-gene neighbour
(±1 and ±2 steps, plus every value of small genes), move to the best, restart at random when stuck.
"Best" and "better" follow the total order of `search.order` (objective, tie-breaks, genome), so
a plateau of equal objective is walked to its canonical (lowest-key) member."""
from __future__ import annotations

from typing import Callable

import numpy as np

from .order import Codes, best_of_batch, key_less

__all__ = ["LocalSearch"]

SMALL_GENE = 8      # a gene with at most this many values has every value as a neighbour
RANDOM_TRIES = 100  # uniform genomes drawn for a (re)start before giving up on the prune


class LocalSearch:
    def __init__(self, cardinalities, prune: Callable[[np.ndarray], np.ndarray] | None = None,
                 start=None, seed: int = 0):
        self.card = np.asarray(cardinalities, dtype=np.int64)
        self.prune = prune
        self.rng = np.random.default_rng(seed)
        self.current = None if start is None else np.asarray(start, dtype=np.int64)
        self.current_key: tuple | None = None      # None: current is unscored or illegal
        self.pending_start = self.current is not None
        self.codes = Codes(self.card)
        self.seen: set = set()
        self._asked: tuple = (None, [])      # the last neighbours asked for and their codes

    def _random(self) -> np.ndarray:
        """The first of up to RANDOM_TRIES uniform genomes the prune keeps (zeros if none). The
        tries are drawn in one batch, then the generator is rewound and advanced by the tries
        used: a batch of rows is the same draws as that many single rows, so the stream (and the
        search) is what drawing one genome per try gives."""
        shape = (RANDOM_TRIES, len(self.card))
        if self.prune is None:
            return self.rng.integers(0, self.card, size=(1, len(self.card)), dtype=np.int64)[0]
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
        from archsim.kernels.search import neighbours      # Numba: imported when a search runs
        arr = neighbours(np.ascontiguousarray(g, dtype=np.int64), self.card, SMALL_GENE)
        if self.prune is not None and len(arr):
            arr = arr[self.prune(arr)]
        seen = self.seen
        keys = self.codes.keys(arr)
        keep = [i for i, key in enumerate(keys) if key not in seen]
        arr = arr[keep]
        self._asked = (arr, [keys[i] for i in keep])
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
        asked, keys = self._asked
        self.seen.update(keys if genomes is asked else self.codes.keys(genomes))
        i, key = best_of_batch(scores, genomes)
        legal = bool(np.isfinite(key[0]))
        if key_less(key if legal else None, self.current_key) or (
                len(genomes) == 1 and self.current_key is None):
            self.current, self.current_key = genomes[i].copy(), key if legal else None
        elif len(genomes) > 1:   # no better neighbour → stuck; restart next time
            self.current, self.current_key = self._random(), None
            self.pending_start = True
