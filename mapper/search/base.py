"""Ask/tell search over genomes (vectors of small integers with known cardinalities).

Strategies know nothing of the cost model: `ask()` returns a batch of genomes (or None when done),
`tell(genomes, scores)` reports their scores (lower is better, +inf = illegal; one score or a row
of objective and tie-break scores per genome, compared in the total order of `search.order`). `run_search` drives
a strategy against any scoring function with a budget in evaluations and/or seconds, keeps the
anytime best, and reports progress. `seeds` (known-good genomes, e.g. `mapper.seeds`) are scored
first, whatever the budget, and told to the strategy before it is asked for anything.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Protocol

import numpy as np

from .order import best_of_batch, key_less

__all__ = ["Strategy", "SearchResult", "run_search", "Progress"]


class Strategy(Protocol):
    def ask(self) -> np.ndarray | None: ...
    def tell(self, genomes: np.ndarray, scores: np.ndarray) -> None: ...


@dataclass(frozen=True, slots=True)
class Progress:
    evaluated: int
    best_score: float
    elapsed_s: float


@dataclass(frozen=True, slots=True)
class SearchResult:
    best_genome: tuple[int, ...] | None
    best_score: float
    evaluated: int
    elapsed_s: float
    best_key: tuple = ()      # full order key of the best (scores, then genome); () = none legal


def run_search(strategy: Strategy, score: Callable[[np.ndarray], np.ndarray],
               budget_evals: int | None = None, budget_s: float | None = None,
               progress: Callable[[Progress], None] | None = None,
               seeds: np.ndarray | None = None) -> SearchResult:
    """Evaluations counted include the seeds; they are scored even when they exceed the budget
    (so budget=1 still yields the best seed)."""
    t0 = time.perf_counter()
    best, best_score, best_key, evaluated = None, np.inf, (), 0

    def consider(genomes, s):
        nonlocal best, best_score, best_key
        i, key = best_of_batch(s, genomes)
        if np.isfinite(key[0]) and key_less(key, best_key):
            best_score, best_key = key[0], key
            best = tuple(int(x) for x in genomes[i])

    if seeds is not None and len(seeds):
        seeds = np.asarray(seeds, dtype=np.int64)
        s = score(seeds)
        evaluated = len(seeds)
        consider(seeds, s)
        strategy.tell(seeds, s)
        if progress is not None:
            progress(Progress(evaluated, best_score, time.perf_counter() - t0))
    while True:
        if budget_evals is not None and evaluated >= budget_evals:
            break
        if budget_s is not None and time.perf_counter() - t0 >= budget_s:
            break
        batch = strategy.ask()
        if batch is None or len(batch) == 0:
            break
        if budget_evals is not None and evaluated + len(batch) > budget_evals:
            batch = batch[: budget_evals - evaluated]
        s = score(batch)
        evaluated += len(batch)
        consider(batch, s)
        strategy.tell(batch, s)
        if progress is not None:
            progress(Progress(evaluated, best_score, time.perf_counter() - t0))
    return SearchResult(best, best_score, evaluated, time.perf_counter() - t0, best_key)
