"""On-chip port lanes in the event loop: the Numba loop and the SimPy reference agree on random traces
with port accesses on plain and DRAM tasks; a port ledger serialises what shares a lane and stalls a
task whose accesses outlast its work; two lanes serve two requesters at once."""
from __future__ import annotations

import dataclasses
import random

import numpy as np
from hypothesis import HealthCheck, given, settings, strategies as st

from archsim.engine.dram import dram_params
from archsim.engine.execute import run_numba
from archsim.engine.reference import run_simpy
from archsim.engine.trace import TraceBuilder

from .dram_types import FACTS


def ported_trace(seed: int, n: int, dram: str, lanes: int = 2):
    rng = random.Random(seed)
    t = dataclasses.replace(FACTS[dram], trefi=900, trfc=min(FACTS[dram].trfc, 200))
    b = TraceBuilder()
    plain = [b.resource(f"u{i}") for i in range(2)]
    d = b.resource("dram", dram_params(t))
    ports = [b.ports("sram:a", lanes), b.ports("sram:b", 1)]
    nbg = t.ranks * t.bank_groups
    for i in range(n):
        deps = rng.sample(range(i), min(i, rng.randint(0, 2)))
        acc = tuple((rng.choice(rng.choice(ports)), rng.randint(0, 400))
                    for _ in range(rng.choice([0, 0, 1, 1, 2])))
        if rng.random() < 0.6:
            b.task(rng.choice(plain), rng.randint(0, 300), deps, accesses=acc)
        else:
            b.task(d, rng.randint(0, 3), deps, slot=rng.randint(0, 40), row=rng.randint(0, 3),
                   ncols=rng.randint(1, 24), span=rng.choice([s for s in (1, 2, 4) if s <= nbg]),
                   mode=rng.choice([0, 0, 1]), nrows=rng.randint(1, 3), accesses=acc)
    return b.build()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(args=st.tuples(st.integers(0, 10**6), st.integers(1, 60),
                      st.sampled_from([k for k in sorted(FACTS) if not FACTS[k].refresh_per_bank])))
def test_engines_agree_with_ports(args):
    tr = ported_trace(*args)
    a, b = run_numba(tr), run_simpy(tr)
    assert np.array_equal(a.start, b.start) and np.array_equal(a.finish, b.finish)
    assert np.array_equal(a.port_stall, b.port_stall)
    assert np.array_equal(a.dram_counts, b.dram_counts)


def test_a_shared_lane_serialises_and_stalls():
    b = TraceBuilder()
    u, v = b.resource("u"), b.resource("v")
    (lane,) = b.ports("sram:buf", 1)
    first = b.task(u, 10, accesses=((lane, 100),))       # port-bound: 100 ticks of bytes, 10 of work
    second = b.task(v, 50, accesses=((lane, 30),))       # waits for the lane: 100 + 30
    run = run_numba(b.build())
    assert run.finish[first] == 100 and run.port_stall[first] == 90
    assert run.start[second] == 0 and run.finish[second] == 130 and run.port_stall[second] == 80


def test_two_lanes_serve_two_requesters_at_once():
    b = TraceBuilder()
    u, v = b.resource("u"), b.resource("v")
    lanes = b.ports("sram:buf", 2)
    b.task(u, 10, accesses=((lanes[0], 100),))
    b.task(v, 10, accesses=((lanes[1], 100),))
    assert run_numba(b.build()).makespan == 100


def test_an_access_to_a_non_port_is_refused():
    b = TraceBuilder()
    u = b.resource("u")
    try:
        b.task(u, 1, accesses=((u, 5),))
    except ValueError as exc:
        assert "not an on-chip port" in str(exc)
    else:
        raise AssertionError("accepted an access to a compute resource")
