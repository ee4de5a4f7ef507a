"""The one total order on candidates that every strategy (and `run_search`) uses.

A scoring function returns, per genome, either one score or a row of scores (objective first,
then its tie-breaks, e.g. EDP then cycles; see `archsim.kernels.costmodel.score_genomes`). The key
of a candidate is that row followed by the genome itself: genomes compare gene by gene, which is
the order of their index in the mixed-radix enumeration of the space (the order `Exhaustive`
visits them), so the last tie-break is a stable candidate index that does not depend on the
strategy, the batch or the seed. Keys compare lexicographically, lower is better; two distinct
genomes never tie, so the optimum of a space is unique.
"""
from __future__ import annotations

import numpy as np


__all__ = ["keys_of", "lex_argmin", "lex_order", "key_less", "best_of_batch"]


def keys_of(scores, genomes) -> np.ndarray:
    """(n, k + genes) float keys: the score column(s), then the genome's genes."""
    s = np.asarray(scores, dtype=float)
    if s.ndim == 1:
        s = s[:, None]
    g = np.asarray(genomes).reshape(len(s), -1).astype(float)
    return np.hstack([s, g])


def lex_argmin(keys: np.ndarray) -> int:
    """Index of the lexicographically smallest row (the first of equal rows)."""
    keys = np.ascontiguousarray(keys, dtype=float)
    from archsim.kernels.search import best_row          # Numba: imported when a search runs
    return int(best_row(keys, np.empty((len(keys), 0), dtype=np.int64)))


def _scores_2d(scores) -> np.ndarray:
    s = np.asarray(scores, dtype=float)
    return np.ascontiguousarray(s[:, None] if s.ndim == 1 else s)


def best_of_batch(scores, genomes: np.ndarray) -> tuple[int, tuple]:
    """(index, order key as a tuple of floats) of the batch's best candidate."""
    s = _scores_2d(scores)
    g = np.ascontiguousarray(genomes, dtype=np.int64)
    from archsim.kernels.search import best_row
    i = int(best_row(s, g))
    return i, tuple(s[i].tolist()) + tuple(map(float, g[i].tolist()))


def lex_order(keys: np.ndarray) -> np.ndarray:
    """Indices sorting the rows lexicographically (first column most significant)."""
    return np.lexsort(keys.T[::-1])


def key_less(a: tuple | None, b: tuple | None) -> bool:
    """a strictly better than b; a missing key (nothing legal found) is worst."""
    if not a:
        return False
    if not b:
        return True
    return a < b
