"""Local search's restart draws its tries in one batch and rewinds the generator to the tries it
used: the genomes it returns and the generator's state after each must equal drawing one genome
per try (the search then stays the same for the same seed)."""
from __future__ import annotations

import numpy as np
import pytest

from archsim.mapper.search.local import RANDOM_TRIES, LocalSearch


def _one_at_a_time(rng, card, prune):
    for _ in range(RANDOM_TRIES):
        g = rng.integers(0, card, size=(1, len(card)), dtype=np.int64)
        if prune is None or prune(g)[0]:
            return g[0]
    return np.zeros(len(card), dtype=np.int64)


def _nested(g):          # inner genes never above outer ones, like the mapspace's prune
    return np.all(g[:, 1:4] <= g[:, 4:7], axis=1)


@pytest.mark.parametrize("prune", [None, _nested, lambda g: g[:, 0] == 7,
                                   lambda g: np.zeros(len(g), dtype=bool)],
                         ids=["none", "nested", "rare", "never"])
@pytest.mark.parametrize("seed", [0, 1, 7])
def test_restart_draws_as_one_genome_per_try(prune, seed):
    card = np.array([9, 5, 6, 4, 5, 6, 4, 3], dtype=np.int64)
    search = LocalSearch(card, prune, seed=seed)
    rng = np.random.default_rng(seed)
    for _ in range(25):
        assert np.array_equal(search._random(), _one_at_a_time(rng, card, prune))
        assert search.rng.bit_generator.state == rng.bit_generator.state
