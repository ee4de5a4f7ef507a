"""Whole mapping searches in one Numba call: the genetic algorithm and the local search of
`mapper/search/` driven against the cost model's `score_genomes` with the loop of
`mapper.search.base.run_search` (seeds scored and told first, batches cut to the budget, the
anytime best in the total order: scores row, then genome). Same steps, same draws from the
strategy's NumPy generator, so the same result for the same seed as the ask/tell objects
(tests/mapper/test_search_run.py); what it saves is the Python between the steps.

Cost-model arguments (`decoding`, `problem`) are passed through to `score_genomes` unchanged.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from .costmodel import score_genomes
from .genetic import legalise, offspring, random_genomes, restart_genome
from .search import best_row, fresh_neighbours, seen_add, seen_new, select_population

__all__ = ["genetic_run", "local_run"]


@njit(cache=True)
def _less(s, g, best_s, best_g):
    """(s, g) strictly before (best_s, best_g) in the total order."""
    for c in range(s.shape[0]):
        if s[c] < best_s[c]:
            return True
        if s[c] > best_s[c]:
            return False
    for c in range(g.shape[0]):
        if g[c] < best_g[c]:
            return True
        if g[c] > best_g[c]:
            return False
    return False


@njit(cache=True)
def _consider(genomes, scores, best_s, best_g, found):
    """`run_search`'s anytime best: the batch's best replaces it when legal and better."""
    i = best_row(scores, genomes)
    if np.isfinite(scores[i, 0]) and (not found or _less(scores[i], genomes[i], best_s, best_g)):
        best_s[:] = scores[i]
        best_g[:] = genomes[i]
        return True
    return found


@njit(cache=True, inline="always")
def _score(batch, evaluated, budget, model, best_s, best_g, found):
    """One step of `run_search`'s loop: the batch cut to what the budget leaves, scored by the
    cost model (`model`: `score_genomes`'s arguments after the genomes), counted, and its best
    kept as the anytime best. Returns (the batch as scored, its scores, evaluated, found)."""
    if evaluated + batch.shape[0] > budget:
        batch = batch[: budget - evaluated].copy()
    s = score_genomes(batch, *model)
    return batch, s, evaluated + batch.shape[0], _consider(batch, s, best_s, best_g, found)


@njit(cache=True)
def genetic_run(rng, card, n_levels, n_dims, population, mutation, elite, seeds, budget,
                objective, sizes, vals, perms, opt_df, opt_tdim, opt_tile, opt_order, inc, eb,
                is_out, home, keep, cap, bw, rd_pj, wr_pj, dbuf, up, port, refetch):
    """`run_search(Genetic(card, Nesting(n_levels, n_dims), population, mutation, elite), ...,
    budget, seeds=seeds)`. Returns (best scores row, best genome, evaluated, found)."""
    g_n = card.shape[0]
    best_s = np.full(2, np.inf)
    best_g = np.zeros(g_n, dtype=np.int64)
    found = False
    evaluated = 0
    model = (objective, sizes, vals, perms, opt_df, opt_tdim, opt_tile, opt_order, inc, eb, is_out,
             home, keep, cap, bw, rd_pj, wr_pj, dbuf, up, port, refetch)
    pop = np.empty((0, g_n), dtype=np.int64)
    pop_s = np.empty((0, 2))
    if seeds.shape[0] > 0:              # the seeds, scored whole before the budget's batches
        _, s, evaluated, found = _score(seeds, 0, seeds.shape[0], model, best_s, best_g, found)
        kept = select_population(seeds, s, population)
        pop, pop_s = seeds[kept], s[kept]
    started = False
    while evaluated < budget:
        if not started:
            started = True
            batch = random_genomes(rng, population, card)
            legalise(rng, batch, 0, card, n_levels, n_dims)
        else:
            batch = offspring(rng, pop, card, elite, population, mutation)
            legalise(rng, batch, min(elite, pop.shape[0]), card, n_levels, n_dims)
        if batch.shape[0] == 0:
            break
        batch, s, evaluated, found = _score(batch, evaluated, budget, model, best_s, best_g, found)
        both = np.concatenate((pop, batch))
        both_s = np.concatenate((pop_s, s))
        kept = select_population(both, both_s, population)
        pop, pop_s = both[kept], both_s[kept]
    return best_s, best_g, evaluated, found


@njit(cache=True)
def local_run(rng, card, n_levels, n_dims, small, tries, start, has_start, budget,
              objective, sizes, vals, perms, opt_df, opt_tdim, opt_tile, opt_order, inc, eb,
              is_out, home, keep, cap, bw, rd_pj, wr_pj, dbuf, up, port, refetch):
    """`run_search(LocalSearch(card, Nesting(n_levels, n_dims), start), ..., budget)` (start
    used when has_start). Returns (best scores row, best genome, evaluated, found)."""
    g_n = card.shape[0]
    best_s = np.full(2, np.inf)
    best_g = np.zeros(g_n, dtype=np.int64)
    found = False
    evaluated = 0
    model = (objective, sizes, vals, perms, opt_df, opt_tdim, opt_tile, opt_order, inc, eb, is_out,
             home, keep, cap, bw, rd_pj, wr_pj, dbuf, up, port, refetch)
    table, rows, size = seen_new(g_n)
    current = start.copy()
    has_current = has_start
    pending = has_start
    cur_s = np.full(2, np.inf)
    cur_g = np.zeros(g_n, dtype=np.int64)
    cur_valid = False                       # the current genome is scored and legal
    while evaluated < budget:
        if not has_current or pending:      # ask
            if not has_current:
                current = restart_genome(rng, card, n_levels, n_dims, tries)
                has_current = True
            pending = False
            batch = current.reshape(1, g_n).copy()
        else:
            batch = fresh_neighbours(current, card, small, n_levels, n_dims, table, rows)
            if batch.shape[0] == 0:         # local optimum: restart
                current = restart_genome(rng, card, n_levels, n_dims, tries)
                cur_valid = False
                batch = current.reshape(1, g_n).copy()
        batch, s, evaluated, found = _score(batch, evaluated, budget, model, best_s, best_g, found)
        table, rows, _ = seen_add(table, rows, size, batch)      # tell
        i = best_row(s, batch)
        legal = np.isfinite(s[i, 0])
        if (legal and (not cur_valid or _less(s[i], batch[i], cur_s, cur_g))) or (
                batch.shape[0] == 1 and not cur_valid):
            current = batch[i].copy()
            cur_valid = legal
            if legal:
                cur_s[:] = s[i]
                cur_g[:] = batch[i]
        elif batch.shape[0] > 1:            # no better neighbour: stuck, restart next time
            current = restart_genome(rng, card, n_levels, n_dims, tries)
            cur_valid = False
            pending = True
    return best_s, best_g, evaluated, found
