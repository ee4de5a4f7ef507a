"""A NoC op's tiles grouped as other tile streams' are (`lower`, `noc.emit_shares`): a group's
distribute shares are one task per link, which must time exactly as one task per tile — makespan,
every op's span, DRAM counts, port stalls, occupancy, each link's busy time and every op's
`noc_stall_s` — on random small ops and mappings on a hand-made NoC chip (also with coarsened
loads and with ops in a row, whose first loads wait for the previous op's tiles), and the numbers
gap18 simulated one task per tile stay pinned on simba and the hand-made chips."""
from __future__ import annotations

import hashlib
import random
from unittest.mock import patch

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import archsim
from archsim.engine import tile_issue
from archsim.engine.execute import run_numba
from archsim.engine.lower import lower
from archsim.engine.tile_issue import TILE_BUDGET
from archsim.engine.simulate import gap_effects
from archsim.hardware import parse_hardware
from archsim.ir import Op, OpKind, Operand, Role, Tensor, add_op
from archsim.mapper import map_graph
from archsim.workloads import build_graph

from .test_noc import NOC_CHIP
from .test_tile_issue import _graph as _tile_graph, _mapping, assert_same_timing


def chip(topology="mesh", dims="[2, 2]", bpc=2):
    return parse_hardware(NOC_CHIP.format(topology=topology, dims=dims, bpc=bpc), "noc-test.yaml")


def _graph(m, n, k, bits):
    """Two matmuls in a row (both on the NoC's arrays) and an activation between them."""
    g = _tile_graph(m, n, k, bits)
    z = next(o.tensor for o in g.nodes["act"]["op"].operands if o.is_output)
    w2 = Tensor("w2", (n, k), bits, Role.WEIGHT)
    o = Tensor("o", (m, k), bits)
    add_op(g, Op("mm2", OpKind.MATMUL, (("m", m), ("k", k), ("n", n)),
                 (Operand(z, ("m", "n")), Operand(w2, ("n", "k")), Operand(o, ("m", "k"), True)),
                 macs=m * n * k, flops=2 * m * n * k), (("act", z),))
    return g


def assert_same_noc(a, b, hw):
    """`a` grouped, `b` one task per tile: the same timing, link busy times and NoC stalls."""
    ra, rb = run_numba(a.trace), run_numba(b.trace)
    assert_same_timing(ra, rb, a.trace, b.trace, hw, a.plans)
    assert a.trace.resources == b.trace.resources           # made in the same order
    for r in a.noc_res:
        assert a.trace.dur[a.trace.res == r].sum() == b.trace.dur[b.trace.res == r].sum()
    n = len(a.plans)
    ea = gap_effects(a.trace, ra, a.compute_res, n, a.tick_s, a.noc_res)
    eb = gap_effects(b.trace, rb, b.compute_res, n, b.tick_s, b.noc_res)
    assert ea == eb
    return a.trace.n_tasks, b.trace.n_tasks


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10**6), st.sampled_from([("mesh", "[2, 2]"), ("ring", "[4]"), ("bus", "[4]")]),
       st.sampled_from([1, 2, 32]), st.integers(1, 24), st.integers(1, 64), st.integers(1, 64),
       st.booleans(), st.sampled_from([TILE_BUDGET, 16, 40]))
def test_grouped_noc_tiles_time_exactly_as_one_task_per_tile(seed, topo, bpc, m, n, k, spill, budget):
    hw = chip(topo[0], topo[1], bpc)
    g = _graph(m, n, k, 8)
    mp = _mapping(hw, g, random.Random(seed), spill)
    with patch.object(tile_issue, "TILE_BUDGET", budget):
        a, b = lower(g, hw, mp), lower(g, hw, mp, group_tiles=False)
    assert any(p.noc is not None for p in a.plans)
    grouped, single = assert_same_noc(a, b, hw)
    assert grouped <= single


@pytest.mark.parametrize("budget", [TILE_BUDGET, 256])
def test_grouping_is_exact_on_simba(budget):
    """Every tile of these small decode ops loads its weights; with a small budget of loading
    tiles (coarsened loads, as a full model's ops have) most tiles are grouped."""
    hw = archsim.load_hardware("simba")
    g = build_graph("gpt2-small", "decode", context=16,
                    overrides={"layers": 1, "vocab": 256, "hidden": 128, "heads": 2, "ffn": 256})
    mp = map_graph(g, hw)
    with patch.object(tile_issue, "TILE_BUDGET", budget):
        a, b = lower(g, hw, mp), lower(g, hw, mp, group_tiles=False)
    grouped, single = assert_same_noc(a, b, hw)
    assert grouped * (3 if budget < TILE_BUDGET else 1) <= single


# gap18's one-task-per-tile lowering: cycles, per-op cycles (sha256 of the list), Σ noc_stall_s,
# NoC byte-hops, NoC energy; recorded on the burst DRAM path (the default before the controller
# path: there mesh and ring move by +0.003 % and +0.012 %, DRAM transfers that overlap interleaved)
PINNED = [
    ("simba", "gpt2-small", dict(phase="decode", context=64, overrides={"layers": 1, "vocab": 2048}),
     (1437017, "ff42421fca6e", 1.4285714285714286e-08, 35207168.0, 5.6331468800000006e-05)),
    ("mesh", "gpt2-small", dict(phase="decode", context=32, overrides={"layers": 1, "vocab": 512}),
     (3805621, "30fb6c8f6405", 3.94e-07, 15104896.0, 7.25035008e-05)),
    ("ring", "gpt2-small", dict(phase="prefill", seq=16, overrides={"layers": 1, "vocab": 512}),
     (3895844, "0a1737d8af99", 1.0443000000000001e-05, 15737344.0, 7.55392512e-05)),
]


@pytest.mark.parametrize("name,model,kw,want", PINNED, ids=[p[0] for p in PINNED])
def test_noc_results_stay_pinned(name, model, kw, want):
    hw = {"simba": "simba", "mesh": chip("mesh", "[2, 2]"), "ring": chip("ring", "[4]")}[name]
    r = archsim.simulate(model, hw, fidelity="cycle", dram_model="burst", **kw)
    cycles = hashlib.sha256(repr([o.cycles for o in r.ops]).encode()).hexdigest()[:12]
    stall = sum(o.gap_effects.get("noc_stall_s", 0) for o in r.ops)
    got = (r.cycles, cycles, stall, dict(r.actions)["noc.byte_hop"], dict(r.energy_breakdown_j)["noc"])
    assert got == want


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(1, 200), min_size=1, max_size=5), st.integers(0, 3), st.integers(1, 40),
       st.sets(st.integers(1, 39)), st.lists(st.integers(0, 400), min_size=40, max_size=40))
def test_shares_of_a_group_time_as_one_task_per_share(nbytes, hops, parts, cuts, gates):
    """Groups of shares (each behind its own gate, a load that may finish late) as `emit_shares`
    tasks vs share by share (`emit_phase`, only a group's first share behind the gate): each
    link's busy time, last finish and first start, and each group's tail finish agree, also where
    a link has fewer bytes than shares (some shares empty, the group's first among them); with
    every share non-empty, through `group_durations`' fast path."""
    from archsim.engine.noc import NocPhase, emit_phase, emit_shares, group_durations, share_links
    from archsim.engine.trace import TraceBuilder
    from .test_noc import noc
    net = noc("ring", (4,), bw=1e9, lat=2e-9)
    phase = NocPhase(tuple(enumerate(nbytes)), hops)
    ticks = lambda s: int(np.ceil(s / 1e-9 - 1e-9))
    starts = sorted({0} | {c for c in cuts if c < parts})
    ends = starts[1:] + [parts]

    def build(grouped):
        b = TraceBuilder()
        gate_res = b.resource("dma")
        res: dict[int, int] = {}
        resource = lambda k: res[k] if k in res else res.setdefault(k, b.resource(f"link{k}"))
        tails = []
        links_ = share_links(phase, net, ticks, parts)
        durs = group_durations(links_, starts, parts)       # None unless every share has bytes
        for gi, (s, e) in enumerate(zip(starts, ends)):
            gate = b.task(gate_res, gates[gi], (), 0)
            if grouped:
                tails.append(emit_shares(b, resource, links_, [gate], 0, s, e, parts,
                                         durs=durs and durs[gi])[1])
            else:
                for j in range(s, e):
                    t = emit_phase(b, resource, phase, net, [gate] if j == s else [], 0, ticks, j, parts)
                tails.append(t)
        return b.build(), res, tails

    (ta, ra, tails_a), (tb, rb, tails_b) = build(True), build(False)
    a, b = run_numba(ta), run_numba(tb)
    assert ra == rb
    for r in ra.values():
        ia, ib = np.nonzero(ta.res == r)[0], np.nonzero(tb.res == r)[0]
        assert ta.dur[ia].sum() == tb.dur[ib].sum()
        assert a.finish[ia].max() == b.finish[ib].max() and a.start[ia].min() == b.start[ib].min()
    for x, y in zip(tails_a, tails_b):
        assert a.finish[x].max(initial=0) == b.finish[y].max(initial=0)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(-2, 9), st.integers(1, 4), st.booleans()),
                min_size=1, max_size=6), st.sampled_from([(), (0,), (0, 1)]), st.booleans())
def test_plain_tasks_are_task_calls(rows, deps, all_wait):
    """`TraceBuilder.plain_tasks` builds the same trace, field for field, as one `task` per row."""
    from archsim.engine.trace import TraceBuilder
    if all_wait:
        rows = [(r, d, k, True) for r, d, k, _ in rows]
    a, b = TraceBuilder(), TraceBuilder()
    for x in (a, b):
        for r in range(4):
            x.resource(f"r{r}")
        x.task(0, 5)
        x.task(1, 3, [0])
    res, dur, reps, waits = (list(c) for c in zip(*rows))
    a.plain_tasks(res, dur, reps, waits, list(deps), 3)
    for r, d, k, w in rows:
        b.task(r, d, deps if w else (), 3, reps=k)
    ta, tb = a.build(), b.build()
    for f in ta.__dataclass_fields__:
        va, vb = getattr(ta, f), getattr(tb, f)
        if isinstance(va, np.ndarray):
            assert va.dtype == vb.dtype and np.array_equal(va, vb), f
        else:
            assert va == vb, f
    with pytest.raises(ValueError, match="plain tasks"):
        a.plain_tasks([0], [1], [0], [False])
