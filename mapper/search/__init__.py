"""Search strategies behind one ask/tell interface (see `base.run_search`)."""
from __future__ import annotations

from .base import Progress, SearchResult, Strategy, run_search
from .exhaustive import Exhaustive
from .genetic import Genetic
from .local import LocalSearch
from .random_pruned import RandomPruned

__all__ = ["Strategy", "SearchResult", "Progress", "run_search", "Exhaustive", "RandomPruned",
           "Genetic", "LocalSearch", "STRATEGIES", "warm_kernels"]

STRATEGIES = ("auto", "exhaustive", "random", "genetic", "local", "hybrid")


def warm_kernels() -> None:
    """Compile the ask/tell objects' Numba kernels (`archsim warmup`): a simulation's searches
    run whole in one kernel call (`archsim.kernels.search_run`), so these entry points — taken
    with a progress callback or a seconds budget — would otherwise compile on a user's first such
    run. A tiny space, a synthetic score; each strategy a few batches."""
    import numpy as np

    from .nesting import Nesting
    from .seen import SeenGenomes

    card = np.array([3, 4, 4, 4, 4, 2, 2], dtype=np.int64)
    target = np.array([1, 3, 2, 1, 1, 0, 1])

    def score(g):
        d = np.abs(np.asarray(g) - target).sum(axis=1).astype(float)
        return np.stack([d, d], axis=1)

    for strategy in (Genetic(card, Nesting(3, 2), population=8, elite=2),
                     LocalSearch(card, Nesting(3, 2)), RandomPruned(card, Nesting(3, 2), batch=16)):
        run_search(strategy, score, budget_evals=300, seeds=np.zeros((1, len(card)), np.int64))
    SeenGenomes(len(card)).unseen(card[None, :])
