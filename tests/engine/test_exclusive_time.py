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


# ------------------------------------------------------------------ any service order (#18)
def _fake_run(start, finish):
    """A run given by its task times (the walk reads nothing else)."""
    from types import SimpleNamespace
    start, finish = np.asarray(start, dtype=np.int64), np.asarray(finish, dtype=np.int64)
    return SimpleNamespace(start=start, finish=finish, port_stall=None, makespan=int(finish.max()))


def test_the_walk_follows_service_order_not_trace_order():
    """A channel serves b (op 1) before a (op 0) though the trace lists a first, as the request-level
    controller may; c (op 0) needs a. The path is c ← a ← b: b's 50 ticks are op 1's. Stepping back
    in trace order (a has no task before it) gave all 100 ticks to op 0."""
    from archsim.engine.exclusive import resource_prev
    b = TraceBuilder()
    ch, u = b.resource("ch"), b.resource("u")
    a = b.task(ch, 30, (), 0)
    b.task(ch, 50, (), 1)
    b.task(u, 20, [a], 0)
    tr = b.build()
    run = _fake_run([50, 0, 80], [80, 50, 100])
    assert resource_prev(tr.res, run.start).tolist() == [1, -1, -1]
    assert exclusive_time(tr, run, 2).ticks.tolist() == [50, 50]
    # in trace order on the same resource the two rules agree
    assert resource_prev(tr.res, np.array([0, 30, 80])).tolist() == [-1, 0, -1]


def test_service_order_breaks_start_ties_by_trace_index():
    """Zero-length tasks at one tick (joins, empty transfers) keep their trace order, so no two
    tasks point at each other and the walk always moves back."""
    from archsim.engine.exclusive import resource_prev
    res = np.array([0, 0, 0, 1, 0])
    start = np.array([5, 5, 0, 5, 5])
    assert resource_prev(res, start).tolist() == [2, 0, -1, -1, 1]


@settings(max_examples=60, deadline=None)
@given(trace_args, st.integers(1, 6), st.sampled_from([0.0, 0.2]), st.booleans())
def test_exclusive_ticks_split_the_makespan_on_the_controller_path(args, n_ops, unowned, solo):
    """Random traces run on the request-level controller (transfers served out of trace order and
    several at once): Σ exclusive == makespan exactly, every op's fill and drain within its
    exclusive time, and the walk never steps to a resource predecessor served after the task."""
    from archsim.engine.exclusive import resource_prev
    from archsim.engine.execute import run_timed
    seed, n, dram, trefi = args
    tr = _with_ops(random_trace(seed, n, dram, trefi), seed, n_ops, unowned)
    run = run_timed(tr, solo=solo)
    path = exclusive_time(tr, run, n_ops, compute_res=(0, 1))
    if (tr.op >= 0).any():
        assert int(path.ticks.sum()) == run.makespan
    assert (path.ticks >= 0).all() and (path.port_ticks <= path.ticks).all()
    assert (path.fill_ticks >= 0).all() and (path.fill_ticks <= path.ticks).all()
    prev = resource_prev(tr.res, run.start)
    has = prev >= 0
    assert (run.start[prev[has]] <= run.start[has]).all()


def test_a_lowered_run_on_the_controller_path_serves_out_of_trace_order():
    """bert-base (one layer) on edge-npu at request level: the LPDDR5 channels finish transfers out
    of trace order, and the split still adds up to the makespan."""
    from archsim.engine.simulate import _controller
    from archsim.workloads import build_graph
    from archsim.hardware import load_hardware
    hw = load_hardware("edge-npu")
    g = build_graph("bert-base", "encode", overrides={"layers": 1})
    plans = plan_ops(g, hw, None)
    lw = lower(g, hw, None, plans)
    tr = lw.trace
    run = run_numba(tr, dram_model="controller", controller=_controller(hw, lw))
    chans = [r for r in range(len(tr.resources)) if tr.res_dram[r] >= 0]
    out_of_order = sum(int((np.diff(run.finish[tr.res == r]) < 0).sum()) for r in chans)
    assert out_of_order > 0
    path = exclusive_time(tr, run, len(plans), lw.compute_res)
    assert int(path.ticks.sum()) == run.makespan
    assert (path.fill_ticks <= path.ticks).all()


# ------------------------------------------------------------------ pipeline fill and drain (#18)
def _stream(load: int, compute: int, tiles: int, store):
    """One op's double-buffered tile stream: tile i's load (on a DMA) waits for compute i − 2 (its
    buffer), compute i for its load and compute i − 1; after the last compute optionally (`store`)
    a write of the result to a DRAM (`"dram"`), to an off-chip level without DRAM timing (`"mem"`,
    a plain task with the level's write action) or a NoC reduction hop (`"noc"`)."""
    from archsim.engine.dram import dram_params
    from archsim.engine.trace import MODE_WRITE
    from .dram_types import FACTS
    b = TraceBuilder()
    u, dma = b.resource("u"), b.resource("dma")
    ch = b.resource("dram", dram_params(FACTS["ddr4-3200"]))
    loads, comps = [], []
    for i in range(tiles):
        loads.append(b.task(dma, load, [comps[i - 2]] if i >= 2 else [], 0))
        comps.append(b.task(u, compute, [loads[i]] + ([comps[i - 1]] if i else []), 0))
    if store == "dram" or store is True:
        b.task(ch, 0, [comps[-1]], 0, slot=0, row=0, ncols=16, span=1, mode=MODE_WRITE, nrows=1)
    elif store == "mem":
        b.task(b.resource("mem:flash"), 70, [comps[-1]], 0, actions=(("flash.write", 64),))
    elif store == "noc":
        b.task(b.resource("noc:1,0>0,0"), 25, [comps[-1]], 0)
    return b.build(), u


@pytest.mark.parametrize("store", [None, "dram", "mem", "noc"])
def test_fill_of_a_compute_bound_stream_is_its_first_load(store):
    """Four tiles, load 40, compute 100: the loads after the first hide under the compute; the path
    is the first load, four computes (and the store). The fill is the first load, 40 ticks; the
    store is not part of it (the closed form charges stores after the stream), to a DRAM or to a
    level without DRAM timing, nor is a NoC hop after the compute (the NoC's share)."""
    tr, u = _stream(40, 100, 4, store)
    run = run_numba(tr)
    path = exclusive_time(tr, run, 1, compute_res=(u,))
    last_compute = int(run.finish[tr.res == u].max())
    assert last_compute == 40 + 400
    assert run.makespan > 440 if store else run.makespan == 440
    assert path.fill_ticks.tolist() == [40]
    assert exclusive_time(tr, run, 1).fill_ticks.tolist() == [0]      # no compute units given


def test_drain_of_a_load_bound_stream_is_its_last_compute():
    """Load 100, compute 40: the loads run back to back (the bottleneck), each compute hides under
    the next load but the last: the drain is that compute, 40 ticks."""
    tr, u = _stream(100, 40, 4, False)
    run = run_numba(tr)
    assert run.makespan == 400 + 40
    assert exclusive_time(tr, run, 1, compute_res=(u,)).fill_ticks.tolist() == [40]


def test_fill_of_a_lowered_gemm_is_its_first_tiles_load_from_the_closed_form():
    """One GEMM (128×768×768, int8) on edge-npu: two weight tiles, compute-bound. Its exclusive
    time is the first tile's load then its compute; the named fill is that load, within 0.5 % of the
    LPDDR5 closed form for the tile's bytes (`analytic._stream_s`: bytes at the streaming rate plus
    tRCD + CL), and what the fill leaves of the op's exclusive time is its compute exactly. On the
    request-level controller the second tile's prefetch shares the channel with the first and the
    fill grows (both tiles' loads before the first compute), still the time before the first
    compute."""
    from archsim.engine.analytic import _stream_s
    from archsim.hardware import load_hardware
    from archsim.ir import Op, OpKind, Operand, Role, Tensor, add_op, new_graph
    from archsim.engine.simulate import _controller
    M, N, K = 128, 768, 768
    g = new_graph(name="one-gemm")
    x, w, y = Tensor("x", (M, K), 8), Tensor("w", (K, N), 8, Role.WEIGHT), Tensor("y", (M, N), 8)
    add_op(g, Op("g", OpKind.MATMUL, (("m", M), ("n", N), ("k", K)),
                 (Operand(x, ("m", "k")), Operand(w, ("k", "n")), Operand(y, ("m", "n"), True)),
                 macs=M * N * K, flops=2 * M * N * K))
    hw = load_hardware("edge-npu")
    plans = plan_ops(g, hw, None)
    lw = lower(g, hw, None, plans)
    tr = lw.trace
    comp = np.isin(tr.res, list(lw.compute_res))
    loads = np.flatnonzero(tr.res_dram[tr.res] >= 0)
    assert loads.size >= 2 and comp.any()
    for model in ("burst", "controller"):
        run = run_numba(tr, dram_model=model, controller=_controller(hw, lw))
        path = exclusive_time(tr, run, 1, lw.compute_res)
        busy = int((run.finish - run.start)[comp].sum())
        first_compute = int(run.start[comp & (tr.dur > 0)].min())
        assert int(path.fill_ticks[0]) == first_compute == int(path.ticks[0]) - busy
        if model == "burst":
            closed = _stream_s(hw.levels[0], int(tr.nbytes[loads[0]])) * hw.freq_hz * lw.ticks_per_cycle
            assert path.fill_ticks[0] == pytest.approx(closed, rel=5e-3)
            burst_fill = int(path.fill_ticks[0])
        else:
            assert path.fill_ticks[0] > burst_fill


def test_simulate_names_the_fill_and_it_adds_up():
    """A run with `attribute_gap` names `pipeline_fill_s` per op (its real fill and drain), beside
    the closed form's allowance (`analytic_fill_s`, negative, every run); the parts still add up to
    exclusive − analytic exactly, in plain runs too. With `attribute_gap` (fill measured on the serialised run without DRAM effects) every
    GEMM has one and almost nothing is left in its `other_s` (main: each q/k/v/o projection of
    bert-base left +1.46 µs there, the fill less the allowance)."""
    import archsim
    from archsim.result import ADDITIVE_GAP_EFFECTS
    for named in (False, True):
        r = archsim.simulate("bert-base", "edge-npu", phase="encode", fidelity="cycle",
                             overrides={"layers": 1}, seq=64, attribute_gap=named, dram_model="burst")
        for op in r.ops:
            parts = sum(op.gap_effects.get(k, 0.0) for k in ADDITIVE_GAP_EFFECTS + ("other_s",))
            assert parts == pytest.approx((op.exclusive_cycles - op.analytic_cycles) / r.freq_hz,
                                          rel=1e-9, abs=1e-15)
        # named only where measured on the serialised run (plain runs leave it in other_s with
        # the overlap: on the overlapped run the fill also holds the neighbours' contention)
        assert (dict(r.gap_attribution)["pipeline_fill_s"] > 0) == named
    gemms = [op for op in r.ops if op.kind == "matmul"]
    assert gemms and all(op.gap_effects.get("pipeline_fill_s", 0) > 0 for op in gemms)
    for op in gemms:
        assert abs(op.gap_effects.get("other_s", 0.0)) < 0.005 * op.analytic_cycles / r.freq_hz, op
    # the controller path (the default): the next tile's prefetch is admitted round robin with the
    # first tile's load, so the contention it adds is left in other_s (L0.attn.v: 1.3 % at merge)
    r = archsim.simulate("bert-base", "edge-npu", phase="encode", fidelity="cycle",
                         overrides={"layers": 1}, seq=64, attribute_gap=True)
    assert r.dram_model == "controller"
    for op in (op for op in r.ops if op.kind == "matmul"):
        assert op.gap_effects.get("pipeline_fill_s", 0) > 0, op
        assert abs(op.gap_effects.get("other_s", 0.0)) < 0.02 * op.analytic_cycles / r.freq_hz, op


def test_path_ticks_under_a_host_link_transfer_are_not_fill():
    """A PIM-style op moves its "@pipeline" inputs over the host link (50 ticks) while its first
    load (40) runs; the closed form charges the link serially (`analytic.host_link_s`), so the
    load's ticks on the path, all under the link, are not fill; neither is the link itself when the
    compute waits for it."""
    for wait_for_link in (False, True):
        b = TraceBuilder()
        u, dma, link = b.resource("u"), b.resource("dma"), b.resource("link:host_link")
        ld = b.task(dma, 40, (), 0)
        lk = b.task(link, 50, (), 0)
        b.task(u, 100, [ld, lk] if wait_for_link else [ld], 0)
        tr = b.build()
        run = run_numba(tr)
        assert run.makespan == (150 if wait_for_link else 140)
        assert exclusive_time(tr, run, 1, compute_res=(u,)).fill_ticks.tolist() == [0]
