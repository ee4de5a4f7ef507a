"""Numba kernels of the mapping search's bookkeeping (`mapper/search/`): the total order's best
row, the nesting mask of a genome batch and the one-gene neighbourhood of a genome. They replace
per-candidate Python (row-by-row loops, `bytes` keys, column-by-column narrowing) and return
exactly what the plain-NumPy versions did, so a search finds the same mapping for the same seed
(tests/mapper/test_search_pins.py).

Genomes are int64 rows; scores are float64 rows (objective first, then its tie-breaks).
"""
from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["best_row", "nested_mask", "neighbours"]


@njit(cache=True)
def best_row(scores, genomes):
    """Index of the lexicographically smallest (scores row, genome row); the first of equal rows.
    A NaN score never compares smaller (it is not produced by the cost model)."""
    n = scores.shape[0]
    k = scores.shape[1]
    g = genomes.shape[1]
    best = 0
    for i in range(1, n):
        decided = False
        for c in range(k):
            a = scores[i, c]
            b = scores[best, c]
            if a < b:
                best = i
                decided = True
                break
            if a > b:
                decided = True
                break
        if decided:
            continue
        for c in range(g):
            a = genomes[i, c]
            b = genomes[best, c]
            if a < b:
                best = i
                break
            if a > b:
                break
    return best


@njit(cache=True)
def nested_mask(genomes, n_levels, n_dims):
    """Per genome: True when every inner level's tile index is ≤ the next outer level's, dim by
    dim (genes 1 + i·n_dims … are level i + 1's tile indices; gene 0 is the spatial option)."""
    n = genomes.shape[0]
    keep = np.ones(n, dtype=np.bool_)
    for r in range(n):
        for i in range(2, n_levels):
            inner = 1 + (i - 1) * n_dims
            outer = 1 + (i - 2) * n_dims
            for d in range(n_dims):
                if genomes[r, inner + d] > genomes[r, outer + d]:
                    keep[r] = False
                    break
            if not keep[r]:
                break
    return keep


@njit(cache=True)
def neighbours(genome, card, small):
    """Every one-gene change of `genome`, gene by gene: each other value of a gene with at most
    `small` values, else the values 2 and 1 below and 1 and 2 above (those within range)."""
    n_genes = genome.shape[0]
    count = 0
    for j in range(n_genes):
        count += card[j] - 1 if card[j] <= small else 4
    out = np.empty((count, n_genes), dtype=np.int64)
    m = 0
    for j in range(n_genes):
        c = card[j]
        if c <= small:
            for v in range(c):
                if v != genome[j]:
                    out[m, :] = genome
                    out[m, j] = v
                    m += 1
        else:
            for step in (-2, -1, 1, 2):
                v = genome[j] + step
                if 0 <= v < c:
                    out[m, :] = genome
                    out[m, j] = v
                    m += 1
    return out[:m]
