"""A whole genetic / hybrid search in one Numba call (`archsim/kernels/search_run.py`, taken when
no progress callback or seconds budget asks for the Python loop) against the ask/tell objects
driven by `run_search`: the same best genome, key and evaluation count for the same seed, on
spaces with seeds, with the nesting prune, with budgets that cut a batch."""
from __future__ import annotations

import pytest

from archsim.mapper.map_op import search_space
from archsim.mapper.mapspace import build_space, unit_can_run
from tests.mapper.hw_fixtures import conv, gemm, mcu, npu, npu_three_level, pim, softmax

CASES = {
    "npu3-gemm": (npu_three_level, gemm(256, 512, 384, bits=8, name="g")),
    "npu3-conv": (npu_three_level, conv(1, 64, 128, 28, 28, 3, 3)),
    "npu-gemm": (npu, gemm(2000, 960, 1600)),
    "pim-gemm": (pim, gemm(64, 4096, 4096, bits=16)),
    "mcu-conv": (mcu, conv(1, 16, 32, 16, 16, 3, 3)),
    "npu-softmax": (npu, softmax(4096, 4096)),
}


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("strategy, budget, seed", [("hybrid", 2000, 0), ("hybrid", 777, 3),
                                                     ("genetic", 1000, 1), ("hybrid", 6000, 9),
                                                     ("genetic", 1, 0)])
def test_kernel_search_equals_ask_tell(case, strategy, budget, seed):
    make_hw, op = CASES[case]
    hw = make_hw()
    for unit in (u for u in hw.compute if unit_can_run(u, op)):
        space = build_space(op, hw, unit)
        kernel, _ = search_space(space, strategy, "edp", budget=budget, seed=seed)
        loop, _ = search_space(space, strategy, "edp", budget=budget, seed=seed,
                               progress=lambda p: None)
        assert (kernel.best_genome, kernel.best_key, kernel.evaluated) == (
            loop.best_genome, loop.best_key, loop.evaluated), unit.name
        assert kernel.best_score == loop.best_score or kernel.best_genome is None
