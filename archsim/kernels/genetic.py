"""Numba kernels of the search strategies' random steps (`mapper/search/genetic.py`, `local.py`):
random genomes redrawn until they keep the nesting rule, and the genetic algorithm's offspring
(tournament selection, uniform crossover, ±1-step or fresh-value mutation).

They draw from the strategy's own `numpy.random.Generator`, passed in: Numba's Generator calls the
same bit generator (PCG64's `next_uint32` / `next_double`, the same Lemire bounded integers), so a
kernel that draws its numbers in the order the NumPy calls did — `rng.integers(0, card, size=(n,
g))` row by row and gene by gene, a gene of one value drawing nothing; `rng.random(shape)` one
double per element; `rng.choice([-1, 1])` as `integers(0, 2)` — leaves the generator where NumPy
would and returns the same genomes for the same seed (tests/mapper/test_genetic_kernels.py checks
this against the NumPy steps on random states and cardinalities).
"""
from __future__ import annotations

import numpy as np
from numba import njit

from .search import nested_row

try:            # Numba's call of the bit generator's own next_uint32 (what NumPy's C code calls)
    from numba.np.random.generator_core import next_uint32
except ImportError:          # pragma: no cover - a Numba that moved it: its (slower) integers
    next_uint32 = None

__all__ = ["random_genomes", "legalise", "offspring", "restart_genome", "bounded"]

_MAX32 = np.uint64(0xFFFFFFFF)

if next_uint32 is not None:
    @njit(cache=True, inline="always")
    def bounded(rng, high):
        """`rng.integers(0, high)` for high ≥ 1 (int64): NumPy's Lemire rejection on the bit
        generator's next_uint32, and no draw when high is 1. Numba's own `rng.integers` is the
        same draw but allocates an array per call (4× slower)."""
        span = np.uint64(high - 1)
        if span == 0:
            return np.int64(0)
        if span >= _MAX32:
            return rng.integers(0, high)
        excl = span + np.uint64(1)
        m = np.uint64(next_uint32(rng.bit_generator)) * excl
        left = m & _MAX32
        if left < excl:
            threshold = (_MAX32 - span) % excl
            while left < threshold:
                m = np.uint64(next_uint32(rng.bit_generator)) * excl
                left = m & _MAX32
        return np.int64(m >> np.uint64(32))
else:               # pragma: no cover
    @njit(cache=True, inline="always")
    def bounded(rng, high):
        return rng.integers(0, high)


@njit(cache=True)
def _draw_row(rng, card, out):
    for j in range(card.shape[0]):
        out[j] = bounded(rng, card[j])


@njit(cache=True)
def random_genomes(rng, n, card):
    """`rng.integers(0, card, size=(n, len(card)))`."""
    out = np.empty((n, card.shape[0]), dtype=np.int64)
    for i in range(n):
        _draw_row(rng, card, out[i])
    return out


@njit(cache=True)
def legalise(rng, genomes, start, card, n_levels, n_dims):
    """Rows from `start` on that break the nesting rule redrawn in place, up to 10 rounds: each
    round redraws the rows still breaking it, in row order (the NumPy step drew one
    (rows, genes) array per round)."""
    bad = np.empty(genomes.shape[0] - start, dtype=np.int64)
    count = 0
    for r in range(start, genomes.shape[0]):
        if not nested_row(genomes[r], n_levels, n_dims):
            bad[count] = r
            count += 1
    for _ in range(10):
        if count == 0:
            break
        for i in range(count):
            _draw_row(rng, card, genomes[bad[i]])
        left = 0
        for i in range(count):
            if not nested_row(genomes[bad[i]], n_levels, n_dims):
                bad[left] = bad[i]
                left += 1
        count = left


@njit(cache=True)
def offspring(rng, pop, card, elite, n, mutation):
    """The next generation before legalisation: the first `elite` rows of `pop` (ranked best
    first) and n − elite children. Each child: two binary tournaments (the better rank wins),
    uniform crossover, and per gene with probability `mutation` a ±1 step (clipped, 60 %) or a
    fresh value."""
    m = pop.shape[0]
    g = card.shape[0]
    n_elite = min(elite, m)
    k = n - elite
    a = np.empty((k, 2), dtype=np.int64)
    b = np.empty((k, 2), dtype=np.int64)
    for i in range(k):
        for j in range(2):
            a[i, j] = bounded(rng, m)
    for i in range(k):
        for j in range(2):
            b[i, j] = bounded(rng, m)
    out = np.empty((n_elite + k, g), dtype=np.int64)
    out[:n_elite] = pop[:n_elite]
    for i in range(k):                      # rank = row: the lower index wins a tournament
        pa = min(a[i, 0], a[i, 1])
        pb = min(b[i, 0], b[i, 1])
        for j in range(g):
            out[n_elite + i, j] = pop[pa, j] if rng.random() < 0.5 else pop[pb, j]
    mut = np.empty((k, g), dtype=np.bool_)
    for i in range(k):
        for j in range(g):
            mut[i, j] = rng.random() < mutation
    step = np.empty((k, g), dtype=np.int64)
    for i in range(k):
        for j in range(g):
            step[i, j] = 2 * bounded(rng, 2) - 1
    fresh = np.empty((k, g), dtype=np.int64)
    for i in range(k):
        _draw_row(rng, card, fresh[i])
    for i in range(k):
        for j in range(g):
            use_step = rng.random() < 0.6
            if mut[i, j]:
                if use_step:
                    out[n_elite + i, j] = min(max(out[n_elite + i, j] + step[i, j], 0), card[j] - 1)
                else:
                    out[n_elite + i, j] = fresh[i, j]
    return out


@njit(cache=True)
def restart_genome(rng, card, n_levels, n_dims, tries):
    """The first of up to `tries` uniform genomes that keeps the nesting rule (zeros if none),
    drawn one genome per try."""
    row = np.empty(card.shape[0], dtype=np.int64)
    for _ in range(tries):
        _draw_row(rng, card, row)
        if nested_row(row, n_levels, n_dims):
            return row
    return np.zeros(card.shape[0], dtype=np.int64)
