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

__all__ = ["keys_of", "lex_argmin", "lex_order", "key_less"]


def keys_of(scores, genomes) -> np.ndarray:
    """(n, k + genes) float keys: the score column(s), then the genome's genes."""
    s = np.asarray(scores, dtype=float)
    if s.ndim == 1:
        s = s[:, None]
    g = np.asarray(genomes).reshape(len(s), -1).astype(float)
    return np.hstack([s, g])


def lex_argmin(keys: np.ndarray) -> int:
    """Index of the lexicographically smallest row (narrowing column by column: one pass over
    the batch for the objective, then only over its ties)."""
    idx = np.arange(len(keys))
    for c in range(keys.shape[1]):
        col = keys[idx, c]
        idx = idx[col == col.min()]
        if len(idx) == 1:
            break
    return int(idx[0])


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
