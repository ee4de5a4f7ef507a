"""Co-search: model shape × hardware × mapping, multi-objective, resumable, local or on Dask.

Core and model-agnostic: it never imports `workloads`, `mapper` or `reports`. The trial evaluator is
injected (`archsim.studies.cosearch_eval` supplies the real one: lower → map → simulate).
"""
from __future__ import annotations

from .accuracy import AccuracyProxy, PUBLISHED_TOP1, load_accuracy, register_accuracy
from .pareto import dominates, pareto_indices
from .space import METRICS, Constraint, Objective, Param, SearchSpace, list_spaces, load_space, space_from_dict
from .study import SAMPLERS, CoSearchResult, TrialRecord, default_storage, run_study, study_name_for

__all__ = [
    "AccuracyProxy", "PUBLISHED_TOP1", "load_accuracy", "register_accuracy", "dominates", "pareto_indices", "METRICS",
    "Constraint", "Objective", "Param", "SearchSpace", "list_spaces", "load_space", "space_from_dict",
    "SAMPLERS", "CoSearchResult", "TrialRecord", "default_storage", "run_study", "study_name_for",
]
