"""The search strategies on Numba kernels (`archsim/kernels/search.py`, `genetic.py`) against their
plain-NumPy twins (`tests/mapper/twin_search.py`, the strategies as they were): for the same seed
every batch asked is the same, and the generator ends in the same state, with the mapspace's
nesting prune (applied inside the kernels), a prune callable (applied in Python), or none."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archsim.mapper.search import Genetic, LocalSearch, RandomPruned, run_search
from archsim.mapper.search.nesting import Nesting
from archsim.mapper.search.seen import SeenGenomes
from tests.mapper.twin_search import TwinGenetic, TwinLocalSearch, TwinRandomPruned

#: a 3-level space of 2 dims: [spatial option, level-1 tiles ×2, level-2 tiles ×2, orders ×2]
CARD = np.array([3, 9, 12, 9, 12, 6, 1], dtype=np.int64)
PRUNES = {"nesting": Nesting(3, 2), "none": None,
          "callable": lambda g: (g[:, 1] + g[:, 2]) % 3 != 0,
          "rare": lambda g: g[:, 1] == 8}


def _score(g: np.ndarray) -> np.ndarray:
    """Deterministic scores with ties and illegal (+inf) candidates, two columns."""
    g = np.asarray(g, dtype=np.int64)
    h = (g * np.array([7, 13, 5, 3, 11, 17, 19])[: g.shape[1]]).sum(axis=1)
    s = np.stack([(h % 23).astype(float), (h % 5).astype(float)], axis=1)
    s[h % 29 == 0] = np.inf
    return s


def _drive(a, b, rounds: int, seeds=None):
    if seeds is not None:
        s = _score(seeds)
        a.tell(seeds, s)
        b.tell(seeds, s)
    for r in range(rounds):
        x, y = a.ask(), b.ask()
        if x is None or y is None:
            assert x is None and y is None
            return
        assert np.array_equal(x, y), f"round {r}"
        s = _score(x)
        a.tell(x, s)
        b.tell(y, s)
        assert a.rng.bit_generator.state == b.rng.bit_generator.state, f"round {r}"


@pytest.mark.parametrize("prune", list(PRUNES), ids=list(PRUNES))
@pytest.mark.parametrize("seed", [0, 1, 7, 123])
def test_genetic_draws_as_the_numpy_steps(prune, seed):
    seeds = np.array([[0, 8, 11, 8, 11, 0, 0], [1, 0, 0, 0, 0, 5, 0], [0, 8, 11, 8, 11, 0, 0]])
    _drive(Genetic(CARD, PRUNES[prune], seed=seed), TwinGenetic(CARD, PRUNES[prune], seed=seed),
           25, seeds)


@pytest.mark.parametrize("population, elite", [(16, 4), (8, 8), (3, 1)])
def test_genetic_small_populations(population, elite):
    """Fewer distinct genomes than the elite, one-row populations: no draw for a range of one."""
    card = np.array([2, 1, 2], dtype=np.int64)
    _drive(Genetic(card, None, population=population, elite=elite, seed=3),
           TwinGenetic(card, None, population=population, elite=elite, seed=3), 10)


@pytest.mark.parametrize("prune", list(PRUNES), ids=list(PRUNES))
@pytest.mark.parametrize("seed", [0, 1, 7])
def test_local_search_as_the_numpy_steps(prune, seed):
    start = np.array([1, 4, 4, 2, 2, 3, 0])
    _drive(LocalSearch(CARD, PRUNES[prune], seed=seed),
           TwinLocalSearch(CARD, PRUNES[prune], seed=seed), 200)
    _drive(LocalSearch(CARD, PRUNES[prune], start=start, seed=seed),
           TwinLocalSearch(CARD, PRUNES[prune], start=start, seed=seed), 200)


@pytest.mark.parametrize("prune", list(PRUNES), ids=list(PRUNES))
def test_random_as_the_numpy_steps(prune):
    card = np.array([3, 4, 4, 4, 4, 2, 1], dtype=np.int64)     # small: runs out of genomes
    _drive(RandomPruned(card, PRUNES[prune], batch=64, seed=5),
           TwinRandomPruned(card, PRUNES[prune], batch=64, seed=5), 100)


def test_whole_search_as_the_numpy_steps():
    for new, twin in ((Genetic, TwinGenetic), (LocalSearch, TwinLocalSearch)):
        a = run_search(new(CARD, Nesting(3, 2), seed=2), _score, budget_evals=3000)
        b = run_search(twin(CARD, Nesting(3, 2), seed=2), _score, budget_evals=3000)
        assert (a.best_genome, a.best_key, a.evaluated) == (b.best_genome, b.best_key, b.evaluated)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.lists(st.integers(0, 3), min_size=4, max_size=4), max_size=40),
                min_size=1, max_size=8))
def test_seen_genomes_is_a_set(batches):
    seen, model = SeenGenomes(4), set()
    for batch in batches:
        g = np.array(batch, dtype=np.int64).reshape(len(batch), 4)
        assert seen.unseen(g).tolist() == [tuple(r) not in model for r in batch]
        added = seen.add(g)
        expect = []
        for r in batch:
            expect.append(tuple(r) not in model)
            model.add(tuple(r))
        assert added.tolist() == expect
        assert len(seen) == len(model)


@pytest.mark.parametrize("seed", [0, 5])
def test_random_genomes_draw_as_numpy_integers(seed):
    """Every range: one value (no draw), small, Lemire rejection-prone, 2**32 − 1, 64-bit."""
    from archsim.kernels.genetic import random_genomes
    card = np.array([1, 2, 3, 7, 2 ** 31 + 1, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 5, 2 ** 40, 1],
                    dtype=np.int64)
    a, b = np.random.default_rng(seed), np.random.default_rng(seed)
    for n in (1, 3, 200):
        assert np.array_equal(random_genomes(a, n, card), b.integers(0, card, size=(n, len(card))))
        assert a.bit_generator.state == b.bit_generator.state
