"""The time-ordered task loop (`archsim.kernels.timeloop`) against the trace-order loop
(`archsim.kernels.eventloop.run_trace`): with channels serving in trace order it gives the same
start/finish/stall/DRAM counts on every trace; with the controller's rules it gives the same
wherever no two transfers overlap on a channel (random traces, and real lowered traces with
`reps` tasks and SRAM port accesses whose channels are made to serve one transfer at a time)."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from archsim.engine.execute import run_numba, run_timed

from .graphs import tiny_graph
from .traces import random_trace, trace_args


def _same(a, b):
    assert np.array_equal(a.start, b.start)
    assert np.array_equal(a.finish, b.finish)
    assert np.array_equal(a.port_stall, b.port_stall)
    assert np.array_equal(a.dram_counts, b.dram_counts)
    assert a.makespan == b.makespan


def overlapping(trace, run) -> bool:
    """Some DRAM task became ready before the task before it (trace order) on its channel
    finished."""
    prev: dict[int, int] = {}
    for i in np.nonzero(trace.res_dram[trace.res] >= 0)[0]:
        r = int(trace.res[i])
        d = trace.deps(int(i))
        ready = int(run.finish[d].max()) if d.size else 0
        if r in prev and ready < prev[r]:
            return True
        prev[r] = int(run.finish[i])
    return False


def one_at_a_time(trace):
    """The trace with every DRAM task also behind the task before it on its channel: no two
    transfers overlap on a channel."""
    dram = trace.res_dram[trace.res] >= 0
    last: dict[int, int] = {}
    deps, ptr = [], [0]
    for i in range(trace.n_tasks):
        d = [int(x) for x in trace.deps(i)]
        r = int(trace.res[i])
        if dram[i]:
            if r in last and last[r] not in d:
                d.append(last[r])
            last[r] = i
        deps.extend(d)
        ptr.append(len(deps))
    return replace(trace, dep_ptr=np.asarray(ptr, np.int64), dep_idx=np.asarray(deps, np.int64))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(args=trace_args)
def test_in_order_channels_equal_the_trace_order_loop(args):
    seed, n, dram, trefi = args
    tr = random_trace(seed, n, dram, trefi)
    _same(run_numba(tr), run_timed(tr, policy="in_order"))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(args=trace_args, per_bank=st.sampled_from([0, 40]))
def test_controller_equals_the_trace_order_loop_without_overlap(args, per_bank):
    seed, n, dram, trefi = args
    tr = random_trace(seed, n, dram, trefi, per_bank=per_bank)
    burst = run_numba(tr)
    if overlapping(tr, burst):
        tr = one_at_a_time(tr)
        burst = run_numba(tr)
    assert not overlapping(tr, burst)
    _same(burst, run_timed(tr, policy="controller"))


def _lowered(chip, phase, mapped):
    from archsim.engine.lower import lower
    from archsim.mapper import map_graph
    hw, g = tiny_graph(chip, phase, 2)
    return lower(g, hw, map_graph(g, hw) if mapped else None).trace


@pytest.mark.parametrize("chip,phase,mapped", [
    ("pim-gpt", "decode", False), ("edge-npu", "decode", False), ("hbm3-pim", "decode", False),
    ("edge-npu", "prefill", False), ("pim-gpt", "prefill", False), ("hbm3-pim", "prefill", False),
    ("pim-gpt", "decode", True), ("edge-npu", "decode", True), ("hbm3-pim", "decode", True)])
def test_real_traces(chip, phase, mapped):
    """Lowered gpt2-small (2 layers; default and mapper's mapping): trace-order channels equal on
    the trace as lowered; the controller's rules equal once each channel serves one transfer at a
    time."""
    tr = _lowered(chip, phase, mapped)
    _same(run_numba(tr), run_timed(tr, policy="in_order"))
    serial = one_at_a_time(tr)
    burst = run_numba(serial)
    assert not overlapping(serial, burst)
    _same(burst, run_timed(serial, policy="controller"))


@pytest.mark.parametrize("chip", ["pim-gpt", "edge-npu", "hbm3-pim"])
def test_real_traces_exercise_reps_ports_and_overlap(chip):
    """The mapped traces above hold `reps` tasks, port accesses, and transfers that overlap on a
    channel as lowered (so `one_at_a_time` changes them)."""
    tr = _lowered(chip, "decode", True)
    assert (tr.reps > 1).any() and tr.acc_res.size > 0 and (tr.res_dram >= 0).any()
    assert overlapping(tr, run_numba(tr))


@pytest.mark.parametrize("chip", ["pim-gpt", "edge-npu", "hbm3-pim"])
def test_controller_on_lowered_traces_as_they_are(chip):
    """The mapped traces as lowered (transfers overlap): the controller path settles every task,
    after its dependencies, plain resources one task at a time in trace order, the same DRAM
    columns as the burst path."""
    tr = _lowered(chip, "decode", True)
    burst, ctrl = run_numba(tr), run_timed(tr)
    for i in range(tr.n_tasks):
        d = tr.deps(i)
        if d.size:
            assert ctrl.finish[i] >= ctrl.finish[d].max()
            if tr.res_dram[tr.res[i]] < 0:
                assert ctrl.start[i] >= ctrl.finish[d].max()
    for r in np.nonzero(tr.res_dram < 0)[0]:
        idx = np.nonzero(tr.res == r)[0]
        assert np.all(ctrl.start[idx[1:]] >= ctrl.finish[idx[:-1]])
    cols = [k for k, name in enumerate(("refs", "acts", "pres", "hits", "misses", "rd_cols",
                                        "wr_cols", "mac_cols")) if name.endswith("cols")]
    assert np.array_equal(ctrl.dram_counts[:, cols], burst.dram_counts[:, cols])
