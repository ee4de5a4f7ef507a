"""An op that ends in several tasks (its output written once per channel group) ends in one join
task (`lower._Lowerer.lower_op`, `TraceBuilder.join`): a consumer's transfer, one task per channel
group, waits for that join instead of each of the producer's G writes, so dependencies grow as O(G)
per transfer, not O(G²) (hbm3-pim: llama2-7b prefill 1024, one layer, 98 groups: 83 M dependency
entries before, 4.5 M with joins). A join takes no time on a resource that never becomes busy, so
it changes no timing: both engines give every other task the start and finish it had without it."""
from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from archsim import mapper
from archsim.engine.dram import dram_params
from archsim.engine.execute import run_numba, run_timed
from archsim.engine.lower import lower
from archsim.engine.reference import run_simpy
from archsim.engine.trace import JOIN, TraceBuilder
from archsim.hardware import load_hardware
from archsim.workloads import build_graph

from .dram_types import FACTS

ROOT = Path(__file__).resolve().parents[2]


def _lowered_pair(chip, model="gpt2-small", seq=64):
    g = build_graph(model, "prefill", overrides={"layers": 1}, seq=seq)
    hw = load_hardware(chip)
    m = mapper.map_graph(g, hw)
    return lower(g, hw, m), lower(g, hw, m, join_outputs=False)


@pytest.mark.parametrize("chip,model", [("hbm3-pim", "gpt2-small"), ("hbm3-pim", "llama2-7b"),
                                        ("pim-gpt", "gpt2-small"), ("hbm-pim", "gpt2-small"),
                                        ("lpddr5-pim", "gpt2-small")])
def test_joins_change_no_timing(chip, model):
    joined, plain = _lowered_pair(chip, model)
    real = ~joined.trace.joins
    assert joined.trace.joins.sum() > 0 and not plain.trace.joins.any()
    assert real.sum() == plain.trace.n_tasks
    names = np.asarray(joined.trace.resources)[joined.trace.res[real]]
    assert np.array_equal(names, np.asarray(plain.trace.resources)[plain.trace.res])
    for f in ("dur", "slot", "ncols", "nrows", "mode", "op", "nbytes"):
        assert np.array_equal(getattr(joined.trace, f)[real], getattr(plain.trace, f)), f
    a, b = run_numba(joined.trace), run_numba(plain.trace)
    assert np.array_equal(a.start[real], b.start) and np.array_equal(a.finish[real], b.finish)
    assert a.makespan == b.makespan and np.array_equal(a.dram_counts, b.dram_counts)
    assert np.array_equal(a.port_stall[real], b.port_stall)
    # a join finishes when the last of its dependencies does
    tr = joined.trace
    for i in np.nonzero(tr.joins)[0]:
        assert a.start[i] == a.finish[i] == a.finish[tr.deps(i)].max()
    assert joined.trace.dep_idx.size < plain.trace.dep_idx.size


def _random_pair(seed: int, n: int, dram: str):
    """The same random trace twice: with join tasks, and with every join's dependants waiting for
    the join's real dependencies instead. Returns (joined, inlined, real task ids in joined)."""
    rng = random.Random(seed)
    t = FACTS[dram]
    builders = TraceBuilder(), TraceBuilder()
    for b in builders:
        plain = [b.resource(f"u{i}") for i in range(2)]
        d = b.resource("dram", dram_params(t))
    real_of: dict[int, list[int]] = {}      # joined id → the inlined trace's tasks it stands for
    real = []
    nbg = t.ranks * t.bank_groups
    for _ in range(n):
        joined = builders[0].n_tasks
        deps = rng.sample(range(joined), min(joined, rng.randint(0, 3)))
        inlined = sorted({x for j in deps for x in real_of[j]})
        kind = rng.random()
        if kind < 0.3 and deps:
            real_of[builders[0].join(deps)] = inlined
            continue
        if kind < 0.65:
            args = dict(res=rng.choice(plain), dur=rng.randint(0, 200))
        else:
            args = dict(res=d, dur=rng.randint(0, 3), slot=rng.randint(0, 40), row=rng.randint(0, 3),
                        ncols=rng.randint(1, 24), span=rng.choice([s for s in (1, 2, 4) if s <= nbg]),
                        mode=rng.choice([0, 0, 1]), nrows=rng.randint(1, 3))
        i = builders[0].task(deps=deps, **args)
        real_of[i] = [builders[1].task(deps=inlined, **args)]
        real.append(i)
    return builders[0].build(), builders[1].build(), np.asarray(real, dtype=np.int64)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10**6), n=st.integers(1, 60), dram=st.sampled_from(sorted(FACTS)))
def test_random_joins_time_as_inlined_dependencies(seed, n, dram):
    """On random traces, every engine (the trace-order loop, the time-ordered loop with channels in
    trace order, SimPy): a join delays nothing (the same times as its dependencies inlined into its
    dependants) and joins never wait for each other."""
    joined, inlined, real = _random_pair(seed, n, dram)
    assert joined.res_dram[-1] in (JOIN, 0) and inlined.n_tasks == real.size
    base = run_numba(inlined)
    for run in (run_numba(joined), run_timed(joined, policy="in_order"), run_simpy(joined)):
        assert np.array_equal(run.start[real], base.start)
        assert np.array_equal(run.finish[real], base.finish)
        assert np.array_equal(run.dram_counts, base.dram_counts)
        for i in np.nonzero(joined.joins)[0]:
            assert run.start[i] == run.finish[i] == run.finish[joined.deps(i)].max()


def test_join_takes_no_time():
    b = TraceBuilder()
    u = b.resource("u")
    a = b.task(u, 5)
    with pytest.raises(ValueError, match="join"):
        b.task(b.resource("join", join=True), 3, [a])
    with pytest.raises(ValueError, match="one join resource"):
        b.resource("join2", join=True)


_BUDGET_SCRIPT = """
import json, resource, sys
from archsim import mapper
from archsim.engine.lower import lower
from archsim.hardware import load_hardware
from archsim.workloads import build_graph
g = build_graph("llama2-7b", "prefill", overrides={"layers": 1}, seq=2048)
hw = load_hardware("hbm3-pim")
lw = lower(g, hw, mapper.map_graph(g, hw))
print(json.dumps({"tasks": lw.trace.n_tasks, "deps": int(lw.trace.dep_idx.size),
                  "groups": len(lw.channel_groups["hbm3"]),
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


@pytest.mark.slow
def test_hbm3_pim_long_prefill_within_budget():
    """llama2-7b prefill 2048, one layer, on hbm3-pim (160 channel groups): without joins ~170 M
    dependency entries (a process was OOM-killed at 23 GB). Measured with joins: 4.1 M tasks,
    14.6 M dependency entries, peak RSS 2.2 GB (mapping and lowering, in a process of its own)."""
    out = subprocess.run([sys.executable, "-c", _BUDGET_SCRIPT], capture_output=True, text=True,
                         cwd=ROOT, check=True, timeout=900)
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["groups"] > 100
    assert got["deps"] <= 4 * got["tasks"] and got["deps"] < 20_000_000, got
    assert got["rss_mb"] < 3500, got
