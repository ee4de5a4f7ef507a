"""Plain-NumPy twins of the search strategies (`mapper/search/`), as they were before their
bookkeeping moved into Numba kernels (`archsim/kernels/search.py`, `genetic.py`): the reference
the kernel-backed strategies must match draw for draw (tests/mapper/test_search_kernels.py)."""
from __future__ import annotations

from math import prod
from typing import Callable

import numpy as np

from archsim.mapper.search.local import RANDOM_TRIES, SMALL_GENE
from archsim.mapper.search.order import best_of_batch, key_less, keys_of, lex_order


class Codes:
    """One hashable code per genome: its mixed-radix index in the space (a Python int from an
    int64 dot product) while the space fits in int64, else the genome's bytes."""

    def __init__(self, cardinalities):
        card = [int(c) for c in cardinalities]
        self.fits = prod(card) < 2 ** 62
        radix = np.ones(len(card), dtype=np.int64)
        for j in range(len(card) - 2, -1, -1):
            radix[j] = radix[j + 1] * card[j + 1] if self.fits else 0
        self.radix = radix

    def array(self, genomes: np.ndarray) -> np.ndarray | None:
        """int64 codes (None when the space is too large for them)."""
        return np.asarray(genomes, dtype=np.int64) @ self.radix if self.fits else None

    def keys(self, genomes: np.ndarray) -> list:
        if self.fits:
            return self.array(genomes).tolist()
        return [row.tobytes() for row in np.asarray(genomes, dtype=np.int64)]

    def first_occurrences(self, genomes: np.ndarray) -> np.ndarray:
        """Indices of each distinct genome's first occurrence, ascending (as
        `np.unique(genomes, axis=0, return_index=True)` then a sort)."""
        codes = self.array(genomes)
        if codes is None:
            _, first = np.unique(genomes, axis=0, return_index=True)
        else:
            _, first = np.unique(codes, return_index=True)
        return np.sort(first)

class TwinGenetic:
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


class TwinLocalSearch:
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


class TwinRandomPruned:
    def __init__(self, cardinalities, prune: Callable[[np.ndarray], np.ndarray] | None = None,
                 batch: int = 1024, seed: int = 0):
        self.card = np.asarray(cardinalities, dtype=np.int64)
        self.prune = prune
        self.batch = batch
        self.rng = np.random.default_rng(seed)
        self.codes = Codes(self.card)
        self.seen: set = set()
        self.total = int(np.prod(self.card))

    def ask(self) -> np.ndarray | None:
        out = []
        for _ in range(20):
            g = self.rng.integers(0, self.card, size=(self.batch, len(self.card)), dtype=np.int64)
            if self.prune is not None:
                g = g[self.prune(g)]
            for row, key in zip(g, self.codes.keys(g)):
                if key not in self.seen:
                    self.seen.add(key)
                    out.append(row)
            if len(out) >= self.batch // 4 or len(self.seen) >= self.total:
                break
        return np.array(out, dtype=np.int64) if out else None

    def tell(self, genomes, scores) -> None:
        self.seen.update(self.codes.keys(genomes))   # seeds told up front are not drawn again
