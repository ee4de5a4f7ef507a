"""`TraceRun.request_decisions` and `controller_counts`: what `benchmarks/engine.py` counts as the
controller path's events beyond the tasks (one FR-FCFS decision per request served at request
level, each issuing one column command). Checked against what the run itself shows: every request
the queue admitted (`log`) is decided exactly once; with every read/write transfer at request level
(`solo=False`) the decisions are all the run's read and write columns; transfers that never overlap
take none (the burst closed form); the burst path has none."""
from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings, strategies as st

from archsim.engine.dram import dram_params
from archsim.engine.execute import DRAM_COUNT_NAMES, run_numba, run_timed
from archsim.engine.trace import TraceBuilder
from archsim.kernels.dram.controller import K_RD, K_WR, N_K, N_X

from .dram_types import FACTS
from .traces import random_trace

RD, WR = DRAM_COUNT_NAMES.index("rd_cols"), DRAM_COUNT_NAMES.index("wr_cols")


def _x(queue: int, cap: int) -> np.ndarray:
    x = np.zeros((1, N_X), np.int64)
    x[0, :2] = queue, cap
    return x


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10**6), dram=st.sampled_from(sorted(FACTS)), solo=st.booleans(),
       queue=st.sampled_from([1, 8, 32]))
def test_every_admitted_request_is_decided_once(seed, dram, solo, queue):
    tr = random_trace(seed, 120, dram, 700, pim_share=0.1)
    log = np.zeros(1 + int((tr.nrows * tr.ncols).sum()), np.int64)
    run = run_timed(tr, controller=_x(queue, 4), solo=solo, log=log)
    assert run.controller_counts.shape == (1, N_K)
    assert run.request_decisions == int(log[0])
    assert run.request_decisions == int(run.controller_counts[0, K_RD] + run.controller_counts[0, K_WR])


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10**6), dram=st.sampled_from(sorted(FACTS)))
def test_without_solo_every_read_and_write_column_is_a_decision(seed, dram):
    """No PIM bursts: every transfer goes to request level, so the run's read and write columns
    (`dram_counts`, which also counts columns served by the burst closed form) are all decisions."""
    tr = random_trace(seed, 120, dram, 700, pim_share=0.0)
    run = run_timed(tr, controller=_x(32, 4), solo=False)
    cols = int(run.dram_counts[0, RD] + run.dram_counts[0, WR])
    assert cols == int((tr.nrows * tr.ncols)[tr.res_dram[tr.res] >= 0].sum())
    assert run.request_decisions == cols > 0


def test_transfers_that_never_overlap_take_no_decision_and_burst_has_none():
    """A chain of transfers (each depends on the one before) is served alone, burst closed form:
    no request-level decision; two transfers ready at once overlap and take some."""
    t = FACTS["ddr4-3200"]

    def build(chain: bool):
        b = TraceBuilder()
        d = b.resource("dram", dram_params(t))
        prev = ()
        for k in range(6):
            prev = (b.task(d, 0, prev if chain else (), slot=4 * k, ncols=16, nrows=2,
                           mode=k % 2),)
        return b.build()

    alone = run_timed(build(True), controller=_x(32, 4))
    assert alone.request_decisions == 0 and int(alone.dram_counts[0, RD] + alone.dram_counts[0, WR]) > 0
    together = run_timed(build(False), controller=_x(32, 4))
    assert together.request_decisions > 0
    burst = run_numba(build(False))
    assert burst.controller_counts is None and burst.request_decisions == 0
