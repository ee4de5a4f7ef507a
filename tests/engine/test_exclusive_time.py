"""Exclusive time (`archsim.engine.exclusive`): the critical path splits a cycle run's makespan over
the ops, every tick to exactly one op, so per-op gaps (exclusive − analytic) add up to the run's
gap with no overlap term; a stall planted on one op shows up on that op."""
from __future__ import annotations

import dataclasses
import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archsim.engine.exclusive import exclusive_cycles, exclusive_time
from archsim.engine.execute import run_numba
from archsim.engine.lower import lower
from archsim.engine.plan import plan_ops
from archsim.engine.trace import TraceBuilder

from .graphs import tiny_graph
from .traces import random_trace, trace_args


def _with_ops(tr, seed: int, n_ops: int, unowned: float):
    """`tr` with its tasks given to `n_ops` ops in runs along the trace (as lowering issues them),
    a share `unowned` of them to no op (−1)."""
    rng = random.Random(seed)
    cuts = sorted(rng.randint(0, tr.n_tasks) for _ in range(n_ops - 1))
    op = np.searchsorted(np.array(cuts), np.arange(tr.n_tasks), side="right").astype(tr.op.dtype)
    op[[i for i in range(tr.n_tasks) if rng.random() < unowned]] = -1
    return dataclasses.replace(tr, op=op)


@settings(max_examples=60, deadline=None)
@given(trace_args, st.integers(1, 6), st.sampled_from([0.0, 0.2]), st.integers(1, 7))
def test_exclusive_ticks_split_the_makespan(args, n_ops, unowned, sub):
    seed, n, dram, trefi = args
    tr = _with_ops(random_trace(seed, n, dram, trefi), seed, n_ops, unowned)
    run = run_numba(tr)
    path = exclusive_time(tr, run, n_ops)
    if (tr.op >= 0).any():
        assert int(path.ticks.sum()) == run.makespan
    assert (path.ticks >= 0).all() and (path.port_ticks >= 0).all()
    assert (path.port_ticks <= path.ticks).all()
    assert 1 <= path.path_tasks <= tr.n_tasks
    cycles = exclusive_cycles(path.ticks, sub)
    assert int(cycles.sum()) == -(-int(path.ticks.sum()) // sub)
    assert (np.abs(cycles - path.ticks / sub) < 1).all()


def test_critical_path_on_a_small_trace():
    """Op 0 computes 100 ticks on u0 while op 1's load (40 ticks, no dependency) runs beside it
    on the DMA; op 1's compute (30) needs both. The load is hidden: op 0 owns its 100 ticks, op 1
    its 30; the spans (100 and 130) would count 100 + 130 of a 130-tick run."""
    b = TraceBuilder()
    u, dma = b.resource("u0"), b.resource("dma")
    a = b.task(u, 100, (), 0)
    ld = b.task(dma, 40, (), 1)
    b.task(u, 30, [a, ld], 1)
    tr = b.build()
    run = run_numba(tr)
    assert run.makespan == 130
    assert exclusive_time(tr, run, 2).ticks.tolist() == [100, 30]
    # the load outlasting op 0's compute: its last 20 ticks are op 1's (on the path)
    b = TraceBuilder()
    u, dma = b.resource("u0"), b.resource("dma")
    a = b.task(u, 100, (), 0)
    ld = b.task(dma, 120, (), 1)
    b.task(u, 30, [a, ld], 1)
    tr = b.build()
    assert exclusive_time(tr, run_numba(tr), 2).ticks.tolist() == [0, 150]


def test_a_wait_before_a_task_is_its_ops():
    """A port-bound task: its accesses outlast its work, the stall ends it late and is its op's,
    counted as a port stall on the path."""
    b = TraceBuilder()
    u = b.resource("u0")
    lane = b.ports("sram", 1)[0]
    a = b.task(u, 10, (), 0)
    b.task(u, 10, [a], 1, accesses=((lane, 50),))
    tr = b.build()
    run = run_numba(tr)
    path = exclusive_time(tr, run, 2)
    assert run.makespan == 60
    assert path.ticks.tolist() == [10, 50] and path.port_ticks.tolist() == [0, 40]


@pytest.mark.parametrize("chip", ["edge-npu", "pim-gpt"])
def test_a_planted_port_stall_shows_up_on_its_op(chip):
    """Fifty times the port time on one op's tasks: the run grows, and at least 90 % of the growth is
    that op's exclusive time (the other ops' shift only where the path moves)."""
    hw, g = tiny_graph(chip, "decode", 2)
    plans = plan_ops(g, hw, None)
    lw = lower(g, hw, None, plans)
    tr = lw.trace
    base = run_numba(tr)
    before = exclusive_time(tr, base, len(plans)).ticks
    owner = np.repeat(np.arange(tr.n_tasks), np.diff(tr.acc_ptr))       # task of each access
    per_op = np.bincount(tr.op[owner], weights=tr.acc_dur, minlength=len(plans))
    target = int(np.argmax(per_op))       # the op with the most port time
    assert per_op[target] > 0
    slower = np.where(tr.op[owner] == target, tr.acc_dur * 50, tr.acc_dur)
    run = run_numba(dataclasses.replace(tr, acc_dur=slower))
    after = exclusive_time(tr, run, len(plans)).ticks
    grew = run.makespan - base.makespan
    assert grew > 0
    assert after[target] - before[target] >= 0.9 * grew, (after - before, grew)
    assert int(after.sum()) == run.makespan


@settings(max_examples=40, deadline=None)
@given(trace_args, st.integers(2, 6))
def test_serial_trace_runs_the_ops_back_to_back(args, n_ops):
    """The overlap counterfactual: with the ops serialised no task of an op starts before every
    task of the op before it has finished, and the trace is still in topological order."""
    from archsim.engine.exclusive import serial_trace
    seed, n, dram, trefi = args
    tr = _with_ops(random_trace(seed, n, dram, trefi), seed, n_ops, 0.0)
    ser = serial_trace(tr)
    assert all((ser.deps(i) < i).all() for i in range(ser.n_tasks))
    for i in range(tr.n_tasks):          # the original dependencies are kept
        assert set(tr.deps(i).tolist()) <= set(ser.deps(i).tolist())
    run = run_numba(ser)
    present = [k for k in range(n_ops) if (tr.op == k).any()]
    for prev, cur in zip(present[:-1], present[1:]):
        assert run.start[tr.op == cur].min() >= run.finish[tr.op == prev].max()
    assert int(exclusive_time(ser, run, n_ops).ticks.sum()) == run.makespan


def test_overlap_of_independent_ops_is_named_on_the_hidden_one():
    """Ops 0 and 1 independent on two units (80 and 50 ticks), op 2 needs both. The run hides op 1
    under op 0: exclusive 80 / 0 / 10. Serialised (as the analytic form runs them): 80 / 50 / 10.
    Op 1's overlap is −50, the run's makespan minus the serialised one's."""
    from archsim.engine.exclusive import serial_trace
    b = TraceBuilder()
    u0, u1 = b.resource("u0"), b.resource("u1")
    a = b.task(u0, 80, (), 0)
    c = b.task(u1, 50, (), 1)
    b.task(u0, 10, [a, c], 2)
    tr = b.build()
    run = run_numba(tr)
    ser = serial_trace(tr)
    srun = run_numba(ser)
    real = exclusive_time(tr, run, 3).ticks
    serial = exclusive_time(ser, srun, 3).ticks
    assert real.tolist() == [80, 0, 10] and serial.tolist() == [80, 50, 10]
    assert (real - serial).tolist() == [0, -50, 0]
    assert int((real - serial).sum()) == run.makespan - srun.makespan
