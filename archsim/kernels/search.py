"""Numba kernels of the mapping search's bookkeeping (`mapper/search/`): the total order (best
row, a population's selection), the nesting rule of a genome, a set of genomes already seen, and
the one-gene neighbourhood of a genome. They replace per-candidate Python (row-by-row loops,
`bytes` keys, Python sets, column-by-column narrowing) and return exactly what the plain-NumPy
versions did, so a search finds the same mapping for the same seed (tests/mapper/
test_search_pins.py, test_mix_pins.py). The strategies' random draws are in `kernels/genetic.py`.

Genomes are int64 rows; scores are float64 rows (objective first, then its tie-breaks).
"""
from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["best_row", "nested_mask", "nested_row", "neighbours", "select_population", "seen_new",
           "seen_add", "fresh_neighbours", "unseen_mask"]


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
def nested_row(genome, n_levels, n_dims):
    """True when every inner level's tile index is ≤ the next outer level's, dim by dim (genes
    1 + i·n_dims … are level i + 1's tile indices; gene 0 is the spatial option)."""
    for i in range(2, n_levels):
        inner = 1 + (i - 1) * n_dims
        outer = 1 + (i - 2) * n_dims
        for d in range(n_dims):
            if genome[inner + d] > genome[outer + d]:
                return False
    return True


@njit(cache=True)
def nested_mask(genomes, n_levels, n_dims):
    """`nested_row` of every genome of a batch."""
    n = genomes.shape[0]
    keep = np.ones(n, dtype=np.bool_)
    for r in range(n):
        keep[r] = nested_row(genomes[r], n_levels, n_dims)
    return keep


@njit(cache=True)
def _cmp_float(a, b):
    """-1, 0, 1 as np.lexsort orders floats (a NaN after every number)."""
    if a < b:
        return -1
    if a > b:
        return 1
    if np.isnan(a) != np.isnan(b):
        return 1 if np.isnan(a) else -1
    return 0


@njit(cache=True)
def _cmp_rows(scores, genomes, i, j, by_scores):
    """Order of candidates i and j: by (scores row, genome row) when by_scores, else by genome
    row then index (the first occurrence of equal genomes first)."""
    if by_scores:
        for c in range(scores.shape[1]):
            r = _cmp_float(scores[i, c], scores[j, c])
            if r != 0:
                return r
    for c in range(genomes.shape[1]):
        if genomes[i, c] < genomes[j, c]:
            return -1
        if genomes[i, c] > genomes[j, c]:
            return 1
    if i < j:
        return -1
    return 1 if i > j else 0


@njit(cache=True)
def _sort_rows(scores, genomes, idx, by_scores):
    """`idx` sorted in place by `_cmp_rows` (a merge sort: stable, O(n log n))."""
    n = idx.shape[0]
    tmp = np.empty_like(idx)
    width = 1
    while width < n:
        for lo in range(0, n, 2 * width):
            mid = min(lo + width, n)
            hi = min(lo + 2 * width, n)
            a, b, k = lo, mid, lo
            while a < mid and b < hi:
                if _cmp_rows(scores, genomes, idx[b], idx[a], by_scores) < 0:
                    tmp[k] = idx[b]
                    b += 1
                else:
                    tmp[k] = idx[a]
                    a += 1
                k += 1
            while a < mid:
                tmp[k] = idx[a]
                a += 1
                k += 1
            while b < hi:
                tmp[k] = idx[b]
                b += 1
                k += 1
        idx[:] = tmp
        width *= 2


@njit(cache=True)
def select_population(genomes, scores, n):
    """The genetic algorithm's survivors: of each distinct genome its first occurrence, then the
    `n` best in the total order (scores row, then genome). Returns their indices, best first."""
    m = genomes.shape[0]
    idx = np.arange(m)
    _sort_rows(scores, genomes, idx, False)
    first = np.empty(m, dtype=np.int64)
    count = 0
    for r in range(m):
        if r == 0:
            first[count] = idx[r]
            count += 1
            continue
        same = True
        for c in range(genomes.shape[1]):
            if genomes[idx[r], c] != genomes[idx[r - 1], c]:
                same = False
                break
        if not same:
            first[count] = idx[r]
            count += 1
    kept = first[:count].copy()
    _sort_rows(scores, genomes, kept, True)
    return kept[:n]


# A set of genomes (exact: open addressing over the rows themselves, no lossy codes): `table`
# holds row number + 1 of each member (0 = empty slot), `rows` the members, `size[0]` their count.

@njit(cache=True)
def seen_new(n_genes):
    """An empty set of genomes: (table, rows, size)."""
    return (np.zeros(64, dtype=np.int64), np.empty((32, n_genes), dtype=np.int64),
            np.zeros(1, dtype=np.int64))


@njit(cache=True)
def _row_hash(genome):
    """A hash of the row (no overflow, so the pure-Python twin under NUMBA_DISABLE_JIT agrees)."""
    h = 1
    for x in genome:
        h = (h * 1000003 + x + 1) % 2147483647
    return h


@njit(cache=True)
def _slot(table, rows, genome):
    """Slot of `genome` in `table`, or of the empty slot where it would go."""
    mask = table.shape[0] - 1
    s = _row_hash(genome) & mask
    while table[s] != 0:
        r = table[s] - 1
        equal = True
        for c in range(genome.shape[0]):
            if rows[r, c] != genome[c]:
                equal = False
                break
        if equal:
            return s
        s = (s + 1) & mask
    return s


@njit(cache=True)
def seen_add(table, rows, size, genomes):
    """Add every genome of the batch; returns (table, rows, added mask) — the arrays are new
    when the set grew. added[i] is False for a genome already in the set (or earlier in the
    batch)."""
    added = np.zeros(genomes.shape[0], dtype=np.bool_)
    for i in range(genomes.shape[0]):
        if 2 * (size[0] + 1) > table.shape[0]:          # keep the load under 1/2
            bigger = np.zeros(2 * table.shape[0], dtype=np.int64)
            for r in range(size[0]):
                bigger[_slot(bigger, rows, rows[r])] = r + 1
            table = bigger
        if size[0] == rows.shape[0]:
            grown = np.empty((2 * rows.shape[0], rows.shape[1]), dtype=np.int64)
            grown[: size[0]] = rows[: size[0]]
            rows = grown
        s = _slot(table, rows, genomes[i])
        if table[s] == 0:
            rows[size[0]] = genomes[i]
            size[0] += 1
            table[s] = size[0]
            added[i] = True
    return table, rows, added


@njit(cache=True)
def unseen_mask(table, rows, genomes):
    """Per genome: True when it is not in the set."""
    out = np.empty(genomes.shape[0], dtype=np.bool_)
    for i in range(genomes.shape[0]):
        out[i] = table[_slot(table, rows, genomes[i])] == 0
    return out


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


@njit(cache=True)
def fresh_neighbours(genome, card, small, n_levels, n_dims, table, rows):
    """`neighbours` of `genome` that keep the nesting rule (`nested_row`; n_levels < 3 keeps
    all) and are not in the set (table, rows)."""
    arr = neighbours(genome, card, small)
    keep = np.zeros(arr.shape[0], dtype=np.bool_)
    for i in range(arr.shape[0]):
        keep[i] = nested_row(arr[i], n_levels, n_dims) and table[_slot(table, rows, arr[i])] == 0
    return arr[keep]
