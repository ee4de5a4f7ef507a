"""Tiles as they execute (`engine.tiles`, `engine.lower`): every tile of the mapping's loop nest is
issued, loading the operand tiles the loop order says it needs; a run of tiles that load nothing is
one task standing for them (`reps`), which must time exactly as one task per tile (makespan, every
op's finish, DRAM counts, port stalls, buffer occupancy), on random small ops and mappings and on
real chips, in the Numba loop and the SimPy reference."""
from __future__ import annotations

import random
from unittest.mock import patch

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from archsim.engine.accounting import occupancy
from archsim.engine.execute import run_numba
from archsim.engine import tile_issue
from archsim.engine.lower import lower
from archsim.engine.tile_issue import MAX_CHUNKS, TILE_BUDGET
from archsim.engine.plan import plan_ops
from archsim.engine.reference import run_simpy
from archsim.engine.tiles import tile_stream
from archsim.engine.trace import TraceBuilder, expand_reps
from archsim.hardware import load_hardware
from archsim.ir import Op, OpKind, Operand, Role, Tensor, add_op, new_graph, ops_in_order
from archsim.mapping import LevelTiling, Mapping, OpMapping
from archsim.mapper import map_graph
from archsim.workloads import build_graph


def _at(times, occ, when):
    """Occupancy after every event at or before each time in `when`."""
    i = np.searchsorted(times, when, side="right") - 1
    return np.where(i >= 0, occ[np.maximum(i, 0)], 0)


def assert_same_timing(grouped, single, trace_a, trace_b, hw, plans):
    a, b = grouped, single
    assert a.makespan == b.makespan
    for i in range(len(plans)):                  # every op ends at the same tick
        assert a.finish[trace_a.op == i].max(initial=0) == b.finish[trace_b.op == i].max(initial=0)
        assert a.start[trace_a.op == i].min(initial=0) == b.start[trace_b.op == i].min(initial=0)
    assert np.array_equal(a.dram_counts, b.dram_counts)
    assert a.port_stall.sum() == b.port_stall.sum()
    ca, cb = trace_a.action_counts(), trace_b.action_counts()
    assert ca.keys() == cb.keys() and all(ca[k] == pytest.approx(cb[k], rel=1e-9) for k in ca)
    for li in range(len(hw.levels)):             # buffer fill and drain: one function of time
        ta, oa = occupancy(trace_a, a.start, a.finish, li)
        tb, ob = occupancy(trace_b, b.start, b.finish, li)
        when = np.union1d(ta, tb)
        assert np.array_equal(_at(ta, oa, when), _at(tb, ob, when))


# ------------------------------------------------------------------ random small ops and mappings
def _graph(m, n, k, bits):
    g = new_graph(name="tile", family="test")
    x = Tensor("x", (m, k), bits)
    w = Tensor("w", (k, n), bits, Role.WEIGHT)
    y = Tensor("y", (m, n), bits)
    add_op(g, Op("mm", OpKind.MATMUL, (("m", m), ("n", n), ("k", k)),
                 (Operand(x, ("m", "k")), Operand(w, ("k", "n")), Operand(y, ("m", "n"), True)),
                 macs=m * n * k, flops=2 * m * n * k), ())
    z = Tensor("z", (m, n), bits)
    add_op(g, Op("act", OpKind.GELU, (("m", m), ("n", n)),
                 (Operand(y, ("m", "n")), Operand(z, ("m", "n"), True)), macs=0, flops=8 * m * n),
           (("mm", y),))
    return g


def _mapping(hw, g, rng, spill: bool):
    off = hw.levels[0].name
    ops = []
    for op in ops_in_order(g):
        unit = next(u for u in hw.compute if (u.type != "vector") == (op.kind is OpKind.MATMUL)
                    or len(hw.compute) == 1)
        sizes = op.dim_sizes
        tile = tuple((d, rng.choice([s for s in (1, 2, 3, 4, 8, 16, 64, 10**6) if s <= v] + [v]))
                     for d, v in sizes.items())
        order = list(sizes)
        rng.shuffle(order)
        attrs = (("placement", (("x", off), ("y", off), ("z", off))),) if spill else ()
        ops.append(OpMapping(op=op.name, unit=unit.name, dataflow=(unit.dataflows or ("none",))[0],
                             tiling=(LevelTiling(off, tuple(sizes.items()), tuple(order), False),
                                     LevelTiling(unit.attached_to, tile, tuple(order),
                                                 rng.random() < 0.7)),
                             attrs=attrs))
    return Mapping(hw=hw.name, ops=tuple(ops))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10**6), st.sampled_from(["edge-npu", "zcu102", "tpu-v1"]),
       st.integers(1, 40), st.integers(1, 96), st.integers(1, 96), st.sampled_from([8, 16]),
       st.booleans(), st.sampled_from([TILE_BUDGET, 16, 40]))
def test_grouped_tiles_time_exactly_as_one_task_per_tile(seed, chip, m, n, k, bits, spill, budget):
    """Also with a small budget of loading tiles (coarsened loads, `TILE_BUDGET`)."""
    rng = random.Random(seed)
    hw = load_hardware(chip)
    g = _graph(m, n, k, bits)
    mp = _mapping(hw, g, rng, spill)
    with patch.object(tile_issue, "TILE_BUDGET", budget):
        a, b = lower(g, hw, mp), lower(g, hw, mp, group_tiles=False)
    assert a.trace.n_tasks <= b.trace.n_tasks
    dram = np.array([d >= 0 for d in a.trace.res_dram])[a.trace.res]
    for p in a.plans:            # loads issued: no more than the op's share of the budget
        mine = (a.trace.op == p.index) & dram & (a.trace.nbytes > 0) & (a.trace.mode == 0)
        assert mine.sum() <= max(MAX_CHUNKS, budget // 2)
    assert_same_timing(run_numba(a.trace), run_numba(b.trace), a.trace, b.trace, hw, a.plans)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10**6), st.integers(1, 16), st.integers(1, 48), st.integers(1, 48))
def test_simpy_agrees_on_per_tile_traces(seed, m, n, k):
    """The SimPy reference (tasks of several tiles written out, `expand_reps`) on the grouped
    trace equals the Numba loop on the per-tile trace."""
    rng = random.Random(seed)
    hw = load_hardware("edge-npu")
    g = _graph(m, n, k, 8)
    mp = _mapping(hw, g, rng, spill=rng.random() < 0.5)
    a, b = lower(g, hw, mp), lower(g, hw, mp, group_tiles=False)
    assert_same_timing(run_simpy(a.trace), run_numba(b.trace), a.trace, b.trace, hw, a.plans)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10**6), st.integers(1, 40))
def test_reps_time_as_consecutive_tasks(seed, n):
    """A plain task of `reps` tiles (ported or not) == its tiles written out, both engines."""
    rng = random.Random(seed)
    b = TraceBuilder()
    units = [b.resource(f"u{i}") for i in range(2)]
    lanes = b.ports("sram:a", rng.choice([1, 2]))
    for i in range(n):
        deps = rng.sample(range(i), min(i, rng.randint(0, 2)))
        reps = rng.choice([1, 1, 2, 3, 7])
        acc = tuple((rng.choice(lanes), reps * rng.randint(0, 60)) for _ in range(rng.choice([0, 1, 2])))
        b.task(rng.choice(units), rng.randint(0, 300), deps, accesses=acc, reps=reps,
               occ_level=0, occ_bytes=rng.randint(0, 9))
    tr = b.build()
    full, owner = expand_reps(tr)
    a, e = run_numba(tr), run_numba(full)
    last = np.zeros(tr.n_tasks, dtype=np.int64)
    np.maximum.at(last, owner, np.arange(full.n_tasks))
    assert np.array_equal(a.finish, e.finish[last])
    assert np.array_equal(a.start, e.start[np.searchsorted(owner, np.arange(tr.n_tasks))])
    s = run_simpy(tr)
    assert np.array_equal(a.start, s.start) and np.array_equal(a.finish, s.finish)
    assert np.array_equal(a.port_stall, s.port_stall)


def test_a_task_of_tiles_refuses_uneven_accesses():
    b = TraceBuilder()
    u = b.resource("u")
    lane = b.ports("sram:a", 1)[0]
    with pytest.raises(ValueError, match="not split evenly over 3 tiles"):
        b.task(u, 10, accesses=((lane, 10),), reps=3)


# ------------------------------------------------------------------ real chips
REAL = [("edge-npu", "gpt2-small", "decode", dict(context=32)),
        ("tpu-v1", "gpt2-small", "prefill", dict(seq=16)),
        ("zcu102", "gpt2-small", "decode", dict(context=32)),
        ("stm32f746-disco", "gpt2-small", "decode", dict(context=16))]


@pytest.mark.parametrize("chip,model,phase,kw", REAL, ids=[r[0] for r in REAL])
def test_grouping_is_exact_on_real_chips(chip, model, phase, kw):
    hw = load_hardware(chip)
    g = build_graph(model, phase, overrides={"layers": 1, "vocab": 512}, **kw)
    mp = map_graph(g, hw)
    a, b = lower(g, hw, mp), lower(g, hw, mp, group_tiles=False)
    assert_same_timing(run_numba(a.trace), run_numba(b.trace), a.trace, b.trace, hw, a.plans)


def test_tile_loads_add_up_to_the_plans_reads():
    hw = load_hardware("edge-npu")
    g = build_graph("gpt2-small", "decode", overrides={"layers": 1, "vocab": 512}, context=32)
    lw = lower(g, hw, map_graph(g, hw))
    tr = lw.trace
    read = (tr.mode == 0) & (tr.level == 0)
    dram = np.array([d >= 0 for d in tr.res_dram])[tr.res]
    for p in lw.plans:
        if p.unit.type in ("sm", "pim_bank"):
            continue
        got = tr.nbytes[read & dram & (tr.op == p.index)].sum()
        assert got == p.offchip_read_bytes, p.op.name


def test_reuse_follows_the_loop_order():
    """A(m,k), W(k,n): with n innermost, A's tile stays while W streams (A loaded every n-trips
    tiles); with m innermost, W's tile stays."""
    hw = load_hardware("edge-npu")
    g = _graph(32, 64, 48, 8)
    tile = (("m", 8), ("n", 16), ("k", 16))
    for order, period_x, period_w, reads in ((("m", "k", "n"), 4, 1, 32 * 48 + 4 * 48 * 64),
                                             (("n", "k", "m"), 1, 4, 4 * 32 * 48 + 48 * 64)):
        om = OpMapping(op="mm", unit="pe_array", dataflow="ws",
                       tiling=(LevelTiling("lpddr5", (("m", 32), ("n", 64), ("k", 48)), order, False),
                               LevelTiling("gbuf", tile, order)),
                       attrs=(("placement", (("x", "lpddr5"), ("y", "lpddr5"), ("z", "lpddr5"))),))
        mp = Mapping(hw=hw.name, ops=(om,))
        p = plan_ops(g, hw, mp)[0]
        ts = tile_stream(p, hw, MAX_CHUNKS)
        assert ts.n == 4 * 4 * 3
        assert sorted(ts.periods("lpddr5")) == sorted((period_x, period_w))
        loads = ts.loads([("lpddr5", p.offchip_read_bytes)])
        assert sum(v["lpddr5"] for v in loads.values()) == p.offchip_read_bytes
        assert p.offchip_read_bytes == reads        # the operand refetched = the one that streams


def test_pipeline_fill_is_one_tiles_load():
    """A decode matmul streaming its weights: its first tile computes once the first tile's
    weights are in (not 1/MAX_CHUNKS of them), and the next tiles' loads overlap it."""
    hw = load_hardware("edge-npu")
    g = build_graph("gpt2-small", "decode", overrides={"layers": 1, "vocab": 512}, context=32)
    lw = lower(g, hw, map_graph(g, hw))
    run = run_numba(lw.trace)
    tr = lw.trace
    p = next(p for p in lw.plans if p.op.name == "L0.attn.q")
    mine = np.nonzero(tr.op == p.index)[0]
    dram = np.array([d >= 0 for d in tr.res_dram])[tr.res[mine]]
    loads, comps = mine[dram], mine[~dram & (tr.dur[mine] > 0)]
    assert len(comps) > MAX_CHUNKS
    first_load = tr.nbytes[loads[0]]
    assert first_load * MAX_CHUNKS < p.offchip_read_bytes
    assert run.start[comps[0]] < run.finish[loads].max()          # loads overlap compute
    assert run.start[comps[0]] >= run.finish[loads[0]]
