"""Search strategies behind one ask/tell interface (see `base.run_search`)."""
from __future__ import annotations

from .base import Progress, SearchResult, Strategy, run_search
from .exhaustive import Exhaustive
from .genetic import Genetic
from .local import LocalSearch
from .random_pruned import RandomPruned

__all__ = ["Strategy", "SearchResult", "Progress", "run_search", "Exhaustive", "RandomPruned",
           "Genetic", "LocalSearch", "STRATEGIES"]

STRATEGIES = ("auto", "exhaustive", "random", "genetic", "local", "hybrid")
