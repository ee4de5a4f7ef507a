"""The search strategies' results, pinned per seed: a faster implementation of the search's
bookkeeping (ask/tell, pruning, de-duplication, the total order) must find the same mapping
after the same number of evaluations. The values were recorded on the pure-NumPy strategies
before their bookkeeping moved to `archsim/kernels/search.py`."""
from __future__ import annotations

import pytest

from archsim.mapper.map_op import search_space
from archsim.mapper.mapspace import build_space, unit_can_run
from tests.mapper.hw_fixtures import conv, gemm, npu_three_level

OPS = {"npu3": gemm(256, 512, 384, bits=8, name="g"), "npu3c": conv(1, 64, 128, 28, 28, 3, 3)}

# (op, strategy, seed, budget, best genome, evaluations, best objective (EDP))
PINS = [
    ("npu3", "random", 0, 2000, (0, 8, 8, 9, 3, 3, 9, 0, 0), 2000, 37974491136000.01),
    ("npu3", "genetic", 0, 2000, (2, 8, 8, 9, 5, 7, 5, 1, 0), 2000, 35283596410880.0),
    ("npu3", "genetic", 7, 2000, (0, 8, 7, 9, 3, 6, 8, 5, 3), 2000, 30738093834240.0),
    ("npu3", "local", 0, 2000, (0, 8, 9, 8, 3, 6, 8, 0, 2), 2000, 30430064148480.0),
    ("npu3", "local", 7, 2000, (2, 5, 9, 9, 5, 7, 5, 0, 0), 2000, 35340873826304.0),
    ("npu3", "hybrid", 7, 2000, (0, 8, 9, 8, 3, 6, 8, 0, 2), 2000, 30430064148480.0),
    ("npu3", "auto", 0, None, (2, 8, 7, 9, 5, 7, 5, 0, 0), 6000, 35054486749184.0),
    ("npu3c", "random", 0, 2000, (0, 0, 7, 6, 7, 7, 2, 2, 0, 3, 6, 4, 2, 2, 2, 0, 0), 2000,
     35649732080639.99),
    ("npu3c", "genetic", 0, 2000, (0, 0, 3, 6, 7, 7, 2, 2, 0, 3, 6, 4, 0, 2, 2, 4, 2), 2000,
     35407210612531.195),
    ("npu3c", "genetic", 7, 2000, (0, 0, 3, 6, 7, 7, 2, 2, 0, 3, 6, 3, 1, 2, 2, 2, 6), 2000,
     35407378563686.39),
    ("npu3c", "local", 0, 2000, (0, 0, 3, 6, 7, 7, 2, 2, 0, 3, 6, 3, 0, 2, 2, 0, 0), 2000,
     35407182620671.99),
    ("npu3c", "local", 7, 2000, (0, 0, 3, 6, 7, 7, 2, 2, 0, 3, 6, 3, 0, 2, 2, 0, 0), 2000,
     35407182620671.99),
    ("npu3c", "hybrid", 7, 2000, (0, 0, 3, 6, 7, 7, 2, 2, 0, 3, 6, 3, 0, 2, 2, 0, 0), 2000,
     35407182620671.99),
    ("npu3c", "auto", 0, None, (0, 0, 3, 6, 7, 7, 2, 2, 0, 3, 6, 3, 0, 2, 2, 0, 0), 6000,
     35407182620671.99),
]


@pytest.mark.parametrize("op, strategy, seed, budget, genome, evaluated, edp", PINS)
def test_search_result_pinned(op, strategy, seed, budget, genome, evaluated, edp):
    hw = npu_three_level()
    unit = next(u for u in hw.compute if unit_can_run(u, OPS[op]))
    space = build_space(OPS[op], hw, unit)
    res, _ = search_space(space, strategy, "edp", budget=budget, seed=seed)
    assert res.best_genome == genome
    assert res.evaluated == evaluated
    assert res.best_score == pytest.approx(edp, rel=1e-12)
