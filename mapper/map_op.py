"""Map one op: pick the compute unit and the mapping that minimise the objective.

Every unit that can run the op is searched (so on a PIM chip the banks and the ASIC compete, on an
NPU the systolic array and the vector unit); the best legal result wins. When no candidate fits,
`map_op` raises `MappingError` whose `.does_not_fit` names level, tensor and shortfall.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Callable

import numpy as np

from archsim.errors import DoesNotFit, MappingError, did_you_mean
from archsim.hardware import Hardware
from archsim.ir import Op
from archsim.mapping import OpMapping

from . import cache as C
from .cost import Cost
from .costmodel import OBJECTIVES, arrays_for, cost_of_genome, score
from .mapspace import PIPELINE, Space, build_space, unit_can_run
from .seeds import heuristic_genomes
from .search import STRATEGIES, Exhaustive, Genetic, LocalSearch, RandomPruned, run_search
from .search.base import SearchResult
from .search.local import RANDOM_TRIES, SMALL_GENE
from .search.nesting import nesting_of
from .search.order import key_less

__all__ = ["map_op", "search_space", "OpResult", "DEFAULT_BUDGET", "does_not_fit_for",
           "objective_key"]

DEFAULT_BUDGET = 6000          # evaluations per (op, unit) for heuristic strategies
EXHAUSTIVE_LIMIT = 20000       # "auto" enumerates spaces up to this size


@dataclass(frozen=True, slots=True)
class OpResult:
    mapping: OpMapping
    cost: Cost
    evaluated: int
    genome: tuple[int, ...] = ()
    key: tuple = ()               # cache key: equal keys were mapped by one search


class MappingNotFound(MappingError):
    def __init__(self, reason: DoesNotFit, op: str):
        self.does_not_fit = reason
        self.op = op
        super().__init__(f"{op}: {reason}")

    def __reduce__(self):       # kept in the persistent cache
        return (MappingNotFound, (self.does_not_fit, self.op))


def _strategy(name: str, space: Space, seed: int, start=None):
    card, prune = space.cardinalities, space.prune
    if name == "exhaustive":
        return Exhaustive(card, prune)
    if name == "random":
        return RandomPruned(card, prune, seed=seed)
    if name == "genetic":
        return Genetic(card, prune, seed=seed)
    if name == "local":
        return LocalSearch(card, prune, start=start, seed=seed)
    raise MappingError(f"unknown strategy {name!r}; "
                       f"{did_you_mean(name, STRATEGIES) or 'choose one of ' + ', '.join(STRATEGIES)}")


def search_space(space: Space, strategy: str = "auto", objective: str = "edp",
                 budget: int | None = None, seed: int = 0, progress=None,
                 budget_s: float | None = None):
    """Run one strategy on one space. Returns (SearchResult, arrays). `budget` is evaluations
    (int) or seconds (float; then results depend on machine speed, not only on the seed).

    Every search that does not enumerate the whole space starts from the heuristic seed mappings
    (`mapper.seeds`), scored first whatever the budget: budget=1 yields the best seed, a larger
    budget only improves on it. "auto" enumerates every space of up to EXHAUSTIVE_LIMIT
    candidates (or the budget, if larger) in full; the budget caps the search of larger ones."""
    if objective not in OBJECTIVES:
        raise MappingError(f"unknown objective {objective!r}; "
                           f"{did_you_mean(objective, OBJECTIVES) or 'choose latency, energy or edp'}")
    arrays = arrays_for(space)

    def scorer(g: np.ndarray) -> np.ndarray:
        return score(arrays, g, objective)

    if isinstance(budget, float):       # a float budget is seconds per (op, unit)
        budget_s, budget = budget, None
    budget_evals = budget if budget is not None else DEFAULT_BUDGET
    if budget_s is not None and budget is None:
        budget_evals = 10 ** 12
    if strategy == "auto":
        if space.size <= max(EXHAUSTIVE_LIMIT, budget_evals):
            strategy, budget = "exhaustive", None     # small: enumerate it all, whatever the budget
        else:
            strategy = "hybrid"
    if strategy == "hybrid" and space.size <= budget_evals:
        strategy, budget = "exhaustive", None   # the whole space is within budget: enumerate it
    whole = strategy == "exhaustive" and budget_s is None and (budget is None
                                                               or budget >= space.size)
    seeds = None if whole else heuristic_genomes(space, arrays)
    if strategy == "exhaustive":
        return run_search(Exhaustive(space.cardinalities, space.prune), scorer,
                          budget, budget_s, progress, seeds), arrays
    # whole searches in one Numba call, unless a progress callback or a seconds budget needs the
    # Python loop (or the prune is one the kernels cannot apply)
    in_kernel = progress is None and budget_s is None and nesting_of(space.prune) is not None
    if strategy == "hybrid":   # genetic for most of the budget, then local refinement of its best
        if in_kernel:
            first = _genetic_in_kernel(space, arrays, objective, int(budget_evals * 0.6), seed,
                                       seeds)
            rest = max(budget_evals - first.evaluated, 0)
            second = _local_in_kernel(space, arrays, objective, rest, seed + 1, first.best_genome)
        else:
            first = run_search(Genetic(space.cardinalities, space.prune, seed=seed), scorer,
                               int(budget_evals * 0.6), budget_s, progress, seeds)
            rest = max(budget_evals - first.evaluated, 0)
            second = run_search(LocalSearch(space.cardinalities, space.prune,
                                            start=first.best_genome, seed=seed + 1),
                                scorer, rest, budget_s, progress)
        best = second if key_less(second.best_key, first.best_key) else first
        return replace(best, evaluated=first.evaluated + second.evaluated,
                       elapsed_s=first.elapsed_s + second.elapsed_s), arrays
    if strategy == "genetic" and in_kernel:
        return _genetic_in_kernel(space, arrays, objective, budget_evals, seed, seeds), arrays
    strat = _strategy(strategy, space, seed)
    return run_search(strat, scorer, budget_evals, budget_s, progress, seeds), arrays


def _result(best_s, best_g, evaluated: int, found: bool, t0: float) -> SearchResult:
    if not found:
        return SearchResult(None, np.inf, int(evaluated), time.perf_counter() - t0, ())
    genome = tuple(int(x) for x in best_g)
    return SearchResult(genome, float(best_s[0]), int(evaluated), time.perf_counter() - t0,
                        tuple(float(x) for x in best_s) + tuple(float(x) for x in genome))


def _genetic_in_kernel(space: Space, arrays, objective: str, budget: int, seed: int,
                       seeds) -> SearchResult:
    """`run_search(Genetic(...), ...)` as one kernel call (`archsim.kernels.search_run`)."""
    from archsim.kernels.search_run import genetic_run    # Numba: imported when a search runs
    t0 = time.perf_counter()
    g = Genetic(space.cardinalities, space.prune, seed=seed)
    seeds = np.zeros((0, len(g.card)), dtype=np.int64) if seeds is None else np.ascontiguousarray(
        seeds, dtype=np.int64).reshape(-1, len(g.card))
    out = genetic_run(g.rng, g.card, *nesting_of(g.prune), g.n, g.mutation, g.elite, seeds,
                      int(budget), OBJECTIVES[objective], *arrays.decoding, *arrays.problem)
    return _result(*out, t0)


def _local_in_kernel(space: Space, arrays, objective: str, budget: int, seed: int,
                     start) -> SearchResult:
    """`run_search(LocalSearch(..., start=start), ...)` as one kernel call."""
    from archsim.kernels.search_run import local_run
    t0 = time.perf_counter()
    ls = LocalSearch(space.cardinalities, space.prune, start=start, seed=seed)
    has_start = ls.current is not None
    begin = ls.current if has_start else np.zeros(len(ls.card), dtype=np.int64)
    out = local_run(ls.rng, ls.card, *nesting_of(ls.prune), SMALL_GENE, RANDOM_TRIES,
                    np.ascontiguousarray(begin, dtype=np.int64), has_start, int(budget),
                    OBJECTIVES[objective], *arrays.decoding, *arrays.problem)
    return _result(*out, t0)


def does_not_fit_for(space: Space, level_pos: int, need: float) -> DoesNotFit:
    """Name the tensor that needs most of the failing level, with the smallest tiles (all 1)."""
    hw = space.hw
    level = hw.levels[space.path[level_pos]]
    worst, worst_b = space.op.operands[0].tensor.name, -1.0
    for o, home in zip(space.op.operands, space.homes):
        if home == level_pos:
            b = o.tensor.size_bytes
        elif home < level_pos:
            b = 2 * o.tensor.dtype_bits / 8
        else:
            continue
        if b > worst_b:
            worst, worst_b = o.tensor.name, b
    return DoesNotFit(level=level.name, tensor=worst, needed_bytes=int(np.ceil(need)),
                      capacity_bytes=int(level.size_bytes))


def objective_key(cost: Cost, objective: str) -> tuple[float, float]:
    """The order of `score_genomes` in seconds (units may differ in clock): the objective, then
    its tie-break (energy for latency; latency for energy and EDP). Ties left are broken by the
    caller's stable index."""
    if objective == "latency":
        return (cost.latency_s, cost.energy_pj)
    if objective == "energy":
        return (cost.energy_pj, cost.latency_s)
    return (cost.latency_s * cost.energy_pj, cost.latency_s)


def _minimal_genome(space: Space) -> tuple[int, ...]:
    nl, nd = space.n_levels, len(space.sizes)
    return (0,) + (0,) * (nd * (nl - 1)) + (0,) * (nl - 1)


def map_op(op: Op, hw: Hardware, strategy: str = "auto", objective: str = "edp",
           budget: int | None = None, seed: int = 0, progress: Callable | None = None,
           placement: dict[str, str] | None = None, units: tuple[str, ...] | None = None,
           use_cache: bool = True) -> tuple[OpMapping, Cost]:
    """Best (OpMapping, Cost) for `op` on `hw`. Raises MappingError when nothing fits."""
    res = map_op_result(op, hw, strategy, objective, budget, seed, progress, placement, units,
                        use_cache)
    return res.mapping, res.cost


def map_op_result(op: Op, hw: Hardware, strategy: str = "auto", objective: str = "edp",
                  budget: int | None = None, seed: int = 0, progress: Callable | None = None,
                  placement: dict[str, str] | None = None, units: tuple[str, ...] | None = None,
                  use_cache: bool = True, named: bool = True) -> OpResult:
    """`map_op`'s result with the search count and cache key. `named=False`: a cached result is
    returned as stored, its mapping under the name of the op it was first searched for (for a
    caller that renames it anyway)."""
    pl = placement or {}
    where = tuple([pl.get(o.tensor.name) or
                   pl.get("activation" if o.is_output else o.tensor.role._value_)
                   for o in op.operands])         # per operand, so repeated layers share a key
    key = (C.op_signature(op), C.hw_key(hw), where, units, strategy, objective, budget, seed)
    if use_cache:
        hit = C.cache_get(key)
        if hit is not None:
            if isinstance(hit, MappingNotFound):
                raise MappingNotFound(hit.does_not_fit, op.name)
            if not named:
                return hit
            return OpResult(replace(hit.mapping, op=op.name), hit.cost, hit.evaluated, hit.genome,
                            key)
    too_big = _larger_than_the_chip(op, hw, pl)
    if too_big is not None:       # before any tiling search: its divisor sums grow with the dims
        err = MappingNotFound(too_big, op.name)
        if use_cache:
            C.cache_put(key, err)
        raise err
    eligible = [u for u in hw.compute if unit_can_run(u, op) and (units is None or u.name in units)]
    if not eligible:   # no unit declares this op kind: let general-purpose units take it
        eligible = [u for u in hw.compute if unit_can_run(u, op, strict_ops=False)
                    and (units is None or u.name in units)]
    if not eligible:   # no general-purpose unit either: the array emulates it (assumption)
        eligible = [u for u in hw.compute if unit_can_run(u, op, any_type=True)
                    and (units is None or u.name in units)]
    if not eligible:
        raise MappingError(f"{op.name}: no compute unit of {hw.name} can run a {op.kind.value} op "
                           f"(units: {', '.join(u.name for u in hw.compute) or 'none'})")
    best: OpResult | None = None
    best_key: tuple | None = None
    total = 0
    failure: DoesNotFit | None = None
    for unit_index, unit in enumerate(eligible):
        space = build_space(op, hw, unit, placement)
        result, arrays = search_space(space, strategy, objective, budget, seed, progress)
        total += result.evaluated
        genome = result.best_genome
        if genome is None or not np.isfinite(result.best_score):
            # nothing legal was sampled: the smallest tiles are the last resort
            genome = _minimal_genome(space)
            _, lvl, need = cost_of_genome(space, arrays, genome)
            if lvl >= 0:
                reason = does_not_fit_for(space, lvl, need)
                if failure is None or reason.shortfall_bytes < failure.shortfall_bytes:
                    failure = reason
                continue
        cost, _, _ = cost_of_genome(space, arrays, genome)
        unit_key = objective_key(cost, objective) + (unit_index,)
        if key_less(unit_key, best_key):
            best_key = unit_key
            best = OpResult(space.decode(genome), cost, 0, tuple(genome))
    if best is None:
        err = MappingNotFound(failure, op.name)
        if use_cache:
            C.cache_put(key, err)
        raise err
    best = replace(best, evaluated=total, key=key)
    if use_cache:
        C.cache_put(key, best)
    return best


def _larger_than_the_chip(op: Op, hw: Hardware, placement: dict[str, str]) -> DoesNotFit | None:
    """An operand larger than all of the chip's memory together can be held nowhere: the op does
    not fit, whatever its tiling (checked before the search, which could loop over huge dims).
    Tensors streamed between fused ops (placed in the pipeline) are never held whole: exempt."""
    capacity = sum(lv.capacity_bytes for lv in hw.levels)
    held = [o for o in op.operands if placement.get(o.tensor.name) != PIPELINE]
    worst = max(held, key=lambda o: o.tensor.size_bytes, default=None)
    if worst is None or worst.tensor.size_bytes <= capacity:
        return None
    home = max(hw.levels, key=lambda lv: lv.capacity_bytes)
    return DoesNotFit(level=home.name, tensor=f"{worst.tensor.name} (more than all levels together)",
                      needed_bytes=int(worst.tensor.size_bytes),
                      capacity_bytes=home.capacity_bytes)
