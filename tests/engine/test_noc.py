"""The NoC between a unit's PE arrays (`archsim.engine.noc`): closed forms of a single multicast and
a ring reduction, equal to the cycle trace's time where nothing contends; mesh vs bus ordering (a
reduction serialises on a bus; more memory nodes spread the injection); multicast never costs more
than unicast; the Numba loop and the SimPy reference agree on NoC traces; NoC energy is byte-hops ×
the per-bit price and the breakdown adds up; contention shows as `noc_stall_s`; no op beats its NoC
closed form; a NoC no op spreads over changes nothing."""
from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import archsim
from archsim.engine import lower as lower_mod
from archsim.engine.execute import run_numba
from archsim.engine.noc import (MEMORY, NocPhase, describe, emit_phase, links, multicast, op_traffic,
                                phase_seconds, reduce_chain, route)
from archsim.engine.plan import plan_ops
from archsim.engine.reference import run_simpy
from archsim.engine.trace import TraceBuilder
from archsim.hardware import Noc, dump_hardware, parse_hardware
from archsim.result import GAP_EFFECTS
from archsim.workloads import build_graph

GBPS = 1e9


def noc(topology="mesh", dims=(2, 2), bw=64 * GBPS, lat=1e-9, multicast=True, memory_nodes=(0,)):
    return Noc(topology=topology, dimensions=dims, unit="pe", link_bandwidth_bytes_per_s=bw,
               hop_latency_s=lat, energy_pj_per_bit_hop=0.5, multicast=multicast, memory_nodes=memory_nodes)


def _phase(loads, hops):
    return NocPhase(tuple(sorted((k, int(math.ceil(v))) for k, v in loads.items() if v)), hops)


def _run_phase(n: Noc, phase: NocPhase, tick_s: float = 1e-10):
    """Time a phase alone in the cycle trace (both engines); returns (Numba run, SimPy run)."""
    b = TraceBuilder()
    res: dict[int, int] = {}

    def resource(k):
        if k not in res:
            res[k] = b.resource(links(n)[k])
        return res[k]

    ticks = lambda s: int(math.ceil(s / tick_s - 1e-9))
    emit_phase(b, resource, phase, n, [], 0, ticks)
    tr = b.build()
    return run_numba(tr), run_simpy(tr)


# ------------------------------------------------------------------ closed forms
def test_single_multicast_on_a_mesh():
    n = noc("mesh", (2, 2))
    loads: dict[int, float] = {}
    hops = multicast(n, MEMORY, [0, 1, 2, 3], 4096, loads)
    ix = {name: k for k, name in enumerate(links(n))}
    # XY tree from node 0: inject, 0,0>1,0, 0,0>0,1 and 1,0>1,1, each carrying the bytes once
    assert loads == {ix["inject"]: 4096, ix["0,0>1,0"]: 4096, ix["0,0>0,1"]: 4096, ix["1,0>1,1"]: 4096}
    assert hops == 3
    phase = _phase(loads, hops)
    expect = 4096 / n.link_bandwidth_bytes_per_s + 3 * n.hop_latency_s
    assert phase_seconds(phase, n) == pytest.approx(expect)
    a, s = _run_phase(n, phase)
    assert a.makespan == s.makespan == math.ceil(expect / 1e-10 - 1e-9)
    # without multicast the injection link carries one copy per destination
    uni: dict[int, float] = {}
    multicast(dataclasses.replace(n, multicast=False), MEMORY, [0, 1, 2, 3], 4096, uni)
    assert uni[ix["inject"]] == 4 * 4096 and uni[ix["0,0>1,0"]] == 2 * 4096


def test_ring_reduction():
    n = noc("ring", (4,))
    loads: dict[int, float] = {}
    hops = reduce_chain(n, [0, 1, 2, 3], 1000, loads)
    ix = {name: k for k, name in enumerate(links(n))}
    assert loads == {ix["1>0"]: 1000, ix["2>1"]: 1000, ix["3>2"]: 1000} and hops == 3
    phase = _phase(loads, hops)
    assert phase_seconds(phase, n) == pytest.approx(1000 / n.link_bandwidth_bytes_per_s + 3 * n.hop_latency_s)
    a, s = _run_phase(n, phase)
    assert a.makespan == s.makespan == math.ceil(phase_seconds(phase, n) / 1e-10 - 1e-9)


def test_routes():
    mesh = noc("mesh", (3, 2))
    names = links(mesh)
    assert [names[k] for k in route(mesh, 0, 5)] == ["0,0>1,0", "1,0>2,0", "2,0>2,1"]   # x first
    assert [names[k] for k in route(mesh, MEMORY, 4)] == ["inject", "0,0>1,0", "1,0>1,1"]
    ring = noc("ring", (6,))
    names = links(ring)
    assert [names[k] for k in route(ring, 1, 5)] == ["1>0", "0>5"]                      # shorter way
    assert [names[k] for k in route(ring, 0, 3)] == ["0>1", "1>2", "2>3"]               # tie: clockwise
    assert route(noc("bus", (4,)), 2, MEMORY) == (0,)
    xbar = noc("crossbar", (4,))
    assert [links(xbar)[k] for k in route(xbar, MEMORY, 2)] == ["in.mem", "out.2"]
    d = describe(mesh)
    assert d["diameter_hops"] == 3 and d["bisection_bytes_per_s"] == 4 * mesh.link_bandwidth_bytes_per_s
    for n in (mesh, noc("mesh", (4, 4)), noc("mesh", (5, 1)), ring, noc("ring", (5,)), noc("ring", (2,)),
              noc("bus", (4,)), xbar):             # the closed-form diameter is the longest route
        longest = max(len(route(n, a, b)) for a in range(n.nodes) for b in range(n.nodes))
        assert describe(n)["diameter_hops"] == longest, n


# ------------------------------------------------------------------ ordering over topologies
def _gpt2_matmul(seq):
    g = build_graph("gpt2-small", phase="prefill", seq=seq)
    return next(o for o in (g.nodes[v]["op"] for v in g.nodes) if o.kind.value == "matmul")


def _unit(count=4):
    hw = archsim.load_hardware("edge-npu")
    return dataclasses.replace(hw.unit("pe_array"), name="pe", count=count)


@pytest.mark.parametrize("seq", [16, 128])
def test_bus_carries_at_least_the_mesh_busiest_link(seq):
    op, unit = _gpt2_matmul(seq), _unit(4)
    t = {topo: op_traffic(op, unit, "ws", noc(topo, dims))
         for topo, dims in (("mesh", (2, 2)), ("bus", (4,)), ("crossbar", (4,)), ("ring", (4,)))}
    sec = {k: phase_seconds(v.distribute, noc(k, (2, 2) if k == "mesh" else (4,))) for k, v in t.items()}
    # one shared bus link carries everything the mesh spreads over its links
    assert t["bus"].distribute.busiest_bytes >= t["mesh"].distribute.busiest_bytes
    assert sec["bus"] >= sec["mesh"] - 4e-9      # (the mesh's extra hops cost nanoseconds)
    assert t["bus"].distribute.busiest_bytes == sum(o.tensor.size_bytes for o in op.operands if not o.is_output)
    uni = op_traffic(op, unit, "ws", noc("mesh", (2, 2), multicast=False))
    assert uni.distribute.byte_hops > t["mesh"].distribute.byte_hops


def _op(m, k, n_):
    from archsim.ir import Op, OpKind, Operand, Role, Tensor
    x = Tensor("x", (m, k), 16, Role.ACTIVATION)
    w = Tensor("w", (k, n_), 16, Role.WEIGHT)
    y = Tensor("y", (m, n_), 16, Role.OUTPUT)
    return Op("mm", OpKind.MATMUL, (("m", m), ("k", k), ("n", n_)),
              (Operand(x, ("m", "k")), Operand(w, ("k", "n")), Operand(y, ("m", "n"), is_output=True)),
              macs=m * k * n_, flops=2 * m * k * n_)


def test_memory_nodes_spread_the_injection():
    """With the memory side at every node of a mesh's first row, transfers enter at the nearest
    one: the stationary operand's scatter no longer funnels through one link, which a bus does."""
    op, unit = _op(256, 1024, 1024), dataclasses.replace(_unit(4), shape=(32, 32))
    one, row = noc("mesh", (2, 2)), noc("mesh", (2, 2), memory_nodes=(0, 1))
    names = links(row)
    assert [names[k] for k in route(row, MEMORY, 3)] == ["inject@1", "1,0>1,1"]
    assert [names[k] for k in route(row, 2, MEMORY)] == ["0,1>0,0", "eject@0"]
    t = {k: op_traffic(op, unit, "ws", n) for k, n in (("one", one), ("row", row), ("bus", noc("bus", (4,))))}
    assert t["row"].distribute.busiest_bytes < t["one"].distribute.busiest_bytes == t["bus"].distribute.busiest_bytes
    assert describe(row)["injection_bytes_per_s"] == 2 * row.link_bandwidth_bytes_per_s


def test_reduction_serialises_on_a_bus():
    """A narrow, deep GEMM (one output tile, K split over the 4 arrays): the partial sums reduce
    along a chain of neighbour links on a mesh or ring, all on the one link of a bus."""
    op, unit = _op(64, 4096, 32), dataclasses.replace(_unit(4), shape=(32, 32))
    t = {topo: op_traffic(op, unit, "ws", noc(topo, dims))
         for topo, dims in (("mesh", (4, 1)), ("ring", (4,)), ("bus", (4,)))}
    assert t["mesh"].reduce_ways == t["bus"].reduce_ways == 4
    psum, out = 64 * 32 * 4, 64 * 32 * 2
    assert t["bus"].collect.busiest_bytes == 3 * psum + out
    assert t["mesh"].collect.busiest_bytes == t["ring"].collect.busiest_bytes == psum
    times = {k: phase_seconds(v.collect, noc(k, (4, 1) if k == "mesh" else (4,))) for k, v in t.items()}
    assert times["bus"] > times["mesh"] and times["bus"] > times["ring"]
    for topo, dims in (("mesh", (4, 1)), ("bus", (4,))):      # the cycle trace times the closed form
        n = noc(topo, dims)
        a, s = _run_phase(n, t[topo].collect)
        assert a.makespan == s.makespan == math.ceil(phase_seconds(t[topo].collect, n) / 1e-10 - 1e-9)


@settings(max_examples=30, deadline=None)
@given(m=st.integers(1, 512), k=st.integers(1, 2048), n_=st.integers(1, 2048),
       topo=st.sampled_from([("mesh", (2, 2)), ("mesh", (4, 1)), ("ring", (4,)), ("bus", (4,)), ("crossbar", (4,))]),
       df=st.sampled_from(["ws", "os", "is"]))
def test_multicast_never_costs_more(m, k, n_, topo, df):
    op = _op(m, k, n_)
    unit = dataclasses.replace(_unit(4), shape=(16, 16))
    with_mc = op_traffic(op, unit, df, noc(*topo))
    without = op_traffic(op, unit, df, noc(*topo, multicast=False))
    assert with_mc.distribute.byte_hops <= without.distribute.byte_hops
    assert phase_seconds(with_mc.distribute, noc(*topo)) <= phase_seconds(without.distribute, noc(*topo)) + 1e-15
    # every input byte leaves the memory side at least once; the arrays used are ≤ the nodes
    ins = sum(o.tensor.size_bytes for o in op.operands if not o.is_output)
    assert with_mc.distribute.byte_hops >= ins and 1 <= with_mc.arrays <= 4


# ------------------------------------------------------------------ the engine on a NoC chip
NOC_CHIP = """
version: 1
base: edge-npu
name: edge-npu-noc
compute:
  - name: pe_array
    count: 4
noc:
  topology: {topology}
  dimensions: {dims}
  unit: pe_array
  link_bytes_per_cycle: {bpc}
  hop_cycles: 1
  energy: 0.6 pJ/bit
"""


def chip(topology="mesh", dims="[2, 2]", bpc=32):
    return parse_hardware(NOC_CHIP.format(topology=topology, dims=dims, bpc=bpc), "noc-test.yaml")


def test_schema_round_trip_and_lint():
    hw = chip()
    assert hw.noc.nodes == 4 and hw.noc.link_bandwidth_bytes_per_s == pytest.approx(32 * hw.freq_hz)
    assert hw.noc.energy_pj_per_bit_hop == pytest.approx(0.6)
    again = parse_hardware(dump_hardware(hw), "dump.yaml")
    assert again.noc == hw.noc
    from archsim.hardware.lint import lint
    found = [f for f in lint(hw) if f.check == "noc"]
    assert found and "diameter 2 hops" in found[0].message


@pytest.fixture(scope="module")
def runs():
    g = build_graph("gpt2-small", phase="prefill", seq=64)
    out = {}
    for name, hw in (("mesh", chip()), ("narrow", chip(bpc=2))):
        out[name] = (hw, g, archsim.simulate("gpt2-small", hw, phase="prefill", seq=64, fidelity="cycle"),
                     archsim.simulate("gpt2-small", hw, phase="prefill", seq=64, fidelity="analytic"))
    return out


def test_energy_adds_up_and_prices_byte_hops(runs):
    hw, g, cyc, ana = runs["mesh"]
    for r in (cyc, ana):
        comps = dict(r.energy_breakdown_j)
        assert math.isclose(sum(comps.values()), r.energy_j, rel_tol=1e-12)
        hops = dict(r.actions)["noc.byte_hop"]
        assert comps["noc"] == pytest.approx(hops * 0.6 * 8 * 1e-12)
    assert dict(cyc.actions)["noc.byte_hop"] == dict(ana.actions)["noc.byte_hop"]


def test_contention_is_named(runs):
    narrow = runs["narrow"][2]
    assert narrow.latency_s > runs["mesh"][2].latency_s          # 2 B/cycle links bind
    effects = {k for op in narrow.ops for k in op.gap_effects}
    assert "noc_stall_s" in effects and effects <= set(GAP_EFFECTS)
    assert any(op.bound == "noc" for op in narrow.ops)
    assert not any(op.bound == "noc" for op in runs["mesh"][2].ops if op.kind == "lm_head")
    assert any("NoC mesh [2, 2]" in n for n in narrow.notes)
    util = dict(narrow.utilization)
    assert util["noc:inject"] > 0.5                                # the memory side's link is the bottleneck


def test_no_op_beats_its_noc_closed_form(runs):
    """Every op takes at least its NoC phases' closed form, at both fidelities (the NoC is a bound
    like the roofline); more link bandwidth never makes the analytic run slower."""
    from archsim.engine import simulate
    g = build_graph("gpt2-small", phase="decode", context=32)
    for name in ("mesh", "narrow"):
        hw = runs[name][0]
        plans = {p.op.name: p for p in plan_ops(g, hw, None)}     # the engine's default mapping
        for r in (simulate(g, hw, None, fidelity="cycle"), simulate(g, hw, None, fidelity="analytic")):
            for op in r.ops:
                p = plans[op.name]
                if p.noc is None:
                    continue
                floor = phase_seconds(p.noc.distribute, hw.noc) + phase_seconds(p.noc.collect, hw.noc)
                assert op.latency_s >= floor * (1 - 1e-6) - 2 / hw.freq_hz, (name, op.name)
    assert runs["narrow"][3].latency_s > runs["mesh"][3].latency_s


def test_numba_equals_simpy_on_noc_traces(runs):
    for name in ("mesh", "narrow"):
        hw, g, _, _ = runs[name]
        g8 = build_graph("gpt2-small", phase="decode", context=32)
        lw = lower_mod.lower(g8, hw)
        assert lw.noc_res, "the trace has NoC link tasks"
        a, b = run_numba(lw.trace), run_simpy(lw.trace)
        assert np.array_equal(a.start, b.start) and np.array_equal(a.finish, b.finish)


def test_a_noc_no_op_spreads_over_changes_nothing():
    """A one-node NoC (on the single vector unit) puts no op on the network: the run is the run
    without a `noc:` (the hooks in plan, lowering, analytic and energy leave it alone)."""
    base = archsim.load_hardware("edge-npu")
    one = parse_hardware(dump_hardware(base) + "noc: {topology: bus, dimensions: [1], unit: vector, "
                         "link_bandwidth: 1 GB/s, energy: 1 pJ/bit}\n", "one-node.yaml")
    g = build_graph("gpt2-small", phase="decode", context=16)
    assert all(p.noc is None for p in plan_ops(g, one, None))
    lw = lower_mod.lower(g, one)
    assert not lw.noc_res and not any(r.startswith("noc:") for r in lw.trace.resources)
    for fidelity in ("analytic", "cycle"):
        a = archsim.simulate("gpt2-small", base, phase="decode", context=16, fidelity=fidelity)
        b = archsim.simulate("gpt2-small", one, phase="decode", context=16, fidelity=fidelity)
        assert a.cycles == b.cycles and a.energy_j == b.energy_j
        assert [o.cycles for o in a.ops] == [o.cycles for o in b.ops]
        assert a.energy_breakdown_j == b.energy_breakdown_j
    spread = [p for p in plan_ops(g, chip(), None) if p.noc is not None]
    assert spread and all(p.unit.name == "pe_array" for p in spread)
