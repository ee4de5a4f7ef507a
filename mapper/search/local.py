"""Local-search refinement: from a start genome (or random ones), evaluate every one-gene neighbour
(±1 and ±2 steps, plus every value of small genes), move to the best, restart at random when stuck.
"Best" and "better" follow the total order of `search.order` (objective, tie-breaks, genome), so
a plateau of equal objective is walked to its canonical (lowest-key) member."""
from __future__ import annotations

from typing import Callable

import numpy as np

from .order import key_less, keys_of, lex_argmin

__all__ = ["LocalSearch"]


class LocalSearch:
    def __init__(self, cardinalities, prune: Callable[[np.ndarray], np.ndarray] | None = None,
                 start=None, seed: int = 0):
        self.card = np.asarray(cardinalities, dtype=np.int64)
        self.prune = prune
        self.rng = np.random.default_rng(seed)
        self.current = None if start is None else np.asarray(start, dtype=np.int64)
        self.current_key: tuple | None = None      # None: current is unscored or illegal
        self.pending_start = self.current is not None
        self.seen: set[bytes] = set()

    def _random(self) -> np.ndarray:
        for _ in range(100):
            g = self.rng.integers(0, self.card, size=(1, len(self.card)), dtype=np.int64)
            if self.prune is None or self.prune(g)[0]:
                return g[0]
        return np.zeros(len(self.card), dtype=np.int64)

    def _neighbours(self, g: np.ndarray) -> np.ndarray:
        out = []
        for j, c in enumerate(self.card):
            values = range(c) if c <= 8 else (g[j] - 2, g[j] - 1, g[j] + 1, g[j] + 2)
            for v in values:
                if 0 <= v < c and v != g[j]:
                    n = g.copy()
                    n[j] = v
                    out.append(n)
        if not out:
            return np.empty((0, len(self.card)), dtype=np.int64)
        arr = np.array(out, dtype=np.int64)
        if self.prune is not None:
            arr = arr[self.prune(arr)]
        keep = [i for i, row in enumerate(arr) if row.tobytes() not in self.seen]
        return arr[keep]

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
        for row in genomes:
            self.seen.add(row.tobytes())
        keys = keys_of(scores, genomes)
        i = lex_argmin(keys)
        key = tuple(float(x) for x in keys[i])
        legal = bool(np.isfinite(key[0]))
        if key_less(key if legal else None, self.current_key) or (
                len(genomes) == 1 and self.current_key is None):
            self.current, self.current_key = genomes[i].copy(), key if legal else None
        elif len(genomes) > 1:   # no better neighbour → stuck; restart next time
            self.current, self.current_key = self._random(), None
            self.pending_start = True
