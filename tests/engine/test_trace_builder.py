"""The array-backed `TraceBuilder` builds exactly the arrays its plain-list twin built (values and
dtypes), on random sequences of every builder call, with chunks small enough to split often, and
built more than once along the way; a built builder goes on without changing the built Trace."""
from __future__ import annotations

import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archsim.engine.dram import dram_params
from archsim.engine.trace import MODE_PIM_MAC, TraceBuilder

from .dram_types import FACTS
from .twin_trace_builder import ListTraceBuilder

CALLS = ("task", "task", "task", "dram_task", "dram_tasks", "plain_tasks", "join", "release",
         "release", "build", "resource", "bad_dep")


def assert_same(a, b) -> None:
    for f in a.__dataclass_fields__:
        va, vb = getattr(a, f), getattr(b, f)
        if isinstance(va, np.ndarray):
            assert va.dtype == vb.dtype and va.shape == vb.shape, f
            assert np.array_equal(va, vb), f
        else:
            assert va == vb, f


class Both:
    """The same calls on the new builder and the twin; their answers must agree."""

    def __init__(self, chunk_rows: int):
        self.new, self.old = TraceBuilder(chunk_rows), ListTraceBuilder()

    def __getattr__(self, name):
        def call(*args, **kwargs):
            got = getattr(self.new, name)(*args, **kwargs)
            want = getattr(self.old, name)(*args, **kwargs)
            if name == "build":
                assert_same(got, want)
            else:
                assert got == want, name
            return got
        return call


def _setup(b: Both, t) -> tuple[list[int], list[int], list[int]]:
    plain = [b.resource(f"u{k}") for k in range(2)]
    lanes = b.ports("sram", 2)
    chans = [b.resource(f"ch{k}", dram_params(t)) for k in range(2)]
    return plain, lanes, chans


def _run(b: Both, calls, t) -> list:
    plain, lanes, chans = _setup(b, t)
    built = []
    nb, nbg = t.banks_per_channel, t.ranks * t.bank_groups
    for kind, seed in calls:
        rng = random.Random(seed)
        n = b.new.n_tasks
        deps = rng.sample(range(n), min(n, rng.choice([0, 1, 1, 2, 5])))
        acts = tuple((rng.choice(["a.read", "u.mac.bf16", "b.write"]), rng.random() * 100)
                     for _ in range(rng.randint(0, 2)))
        if kind == "task":
            reps = rng.choice([1, 1, 2, 3])
            acc = tuple((rng.choice(lanes), reps * rng.randint(0, 5)) for _ in range(rng.randint(0, 2)))
            nbytes = rng.choice([rng.randint(0, 1 << 40), rng.random() * 1e6, np.int64(77)])
            b.task(rng.choice(plain), rng.randint(-5, 1 << 33), deps, rng.randint(-1, 9),
                   level=rng.randint(-1, 3), nbytes=nbytes, occ_level=rng.randint(-1, 3),
                   occ_bytes=rng.randint(0, 1 << 35), actions=acts, accesses=acc, reps=reps)
        elif kind == "dram_task":
            mode = rng.choice([0, 1, MODE_PIM_MAC])
            b.task(rng.choice(chans), rng.randint(0, 3), deps, rng.randint(0, 9),
                   slot=rng.randint(0, 3 * nb), row=rng.randint(0, 1 << 20),
                   ncols=rng.randint(1, 64), span=rng.randint(1, nb if mode == MODE_PIM_MAC else nbg),
                   mode=mode, nrows=rng.randint(1, 9), level=0, nbytes=rng.randint(0, 1 << 20),
                   actions=acts)
        elif kind == "dram_tasks":
            mode = rng.choice([0, 1, MODE_PIM_MAC])
            top = nb if mode == MODE_PIM_MAC else nbg
            shapes = [(rng.choice(chans), (rng.randint(1, 4), rng.randint(1, 32), rng.randint(1, top)))
                      for _ in range(rng.randint(0, 5))]
            b.dram_tasks(shapes, deps, rng.randint(0, 9), slot=rng.randint(0, 64), mode=mode,
                         level=rng.randint(-1, 2), nbytes=rng.randint(0, 1 << 30),
                         occ_level=rng.randint(-1, 2), occ_bytes=rng.randint(0, 1 << 20),
                         actions=acts, accesses=((lanes[0], rng.randint(0, 9)),))
        elif kind == "plain_tasks":
            k = rng.randint(1, 6)
            b.plain_tasks([rng.choice(plain) for _ in range(k)],
                          [rng.randint(-2, 500) for _ in range(k)], [rng.randint(1, 4) for _ in range(k)],
                          [rng.random() < 0.7 for _ in range(k)], deps, rng.randint(-1, 9))
        elif kind == "join":
            b.join(deps, rng.randint(-1, 9))
        elif kind == "release" and n:
            task = rng.randrange(n)
            b.release(task, rng.randint(task, n - 1))
        elif kind == "build":
            built.append((b.new.build(), b.old.build()))
        elif kind == "resource":
            plain.append(b.resource(f"v{len(plain)}"))
        elif kind == "bad_dep":
            for x in (b.new, b.old):
                with pytest.raises(ValueError, match="not an earlier task"):
                    x.task(plain[0], 1, [n])
    return built


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(CALLS), st.integers(0, 2**32)), max_size=60),
       st.integers(1, 7), st.sampled_from(sorted(FACTS)))
def test_arrays_equal_the_list_builders(calls, chunk_rows, dram):
    b = Both(chunk_rows)
    built = _run(b, calls, FACTS[dram])
    final = b.build()
    for new, old in built:           # what was built earlier is unchanged by later calls
        assert_same(new, old)
    assert final.n_tasks == b.old.n_tasks


def test_a_big_trace_in_many_chunks():
    """20k tasks over chunks of 1000 rows: the same as the twin's, and built without copies of
    the CSR buffers (the Trace's pointers are the builder's memory)."""
    b = Both(1000)
    _run(b, [(CALLS[i % 6], i) for i in range(20_000)], FACTS["hbm2"])
    tr = b.build()
    assert tr.n_tasks > 20_000
    assert tr.dep_ptr.base is not None and tr.dep_idx.base is not None


def test_the_last_release_of_a_task_counts():
    """As with the twin's dict: a task released twice is held until the later call's task."""
    b = Both(2)
    u = b.resource("u")
    for _ in range(5):
        b.task(u, 3)
    b.release(0, 4)
    b.release(1, 2)
    b.release(0, 1)
    b.release(1, 3)
    assert b.build().occ_release.tolist() == [1, 3, 2, 3, 4]


def test_releases_outside_the_trace_are_refused():
    b = TraceBuilder()
    u = b.resource("u")
    b.task(u, 1)
    b.release(0, 5)
    with pytest.raises(ValueError, match="outside the trace"):
        b.build()
    with pytest.raises(ValueError, match="chunk_rows"):
        TraceBuilder(0)


def test_building_costs_about_the_traces_bytes():
    """Peak traced memory of lowering-like appends (100k tasks: plain tasks with a dependency and
    an action, DRAM transfers of two group tasks) and `build`, per task, against the Trace's own
    bytes per task: the list builder needed ~4x (a tuple, Python ints, list slots per task)."""
    import tracemalloc

    def fill(b):
        u = b.resource("u")
        chans = [b.resource(f"ch{k}", dram_params(FACTS["hbm2"])) for k in range(2)]
        for i in range(25_000):
            n = b.n_tasks
            b.task(u, 100 + i, [n - 1] if n else [], i % 7, actions=(("u.mac.bf16", 64.0),))
            b.dram_tasks([(chans[0], (2, 8, 4)), (chans[1], (2, 8, 4))], [n], i % 7, level=0,
                         nbytes=4096, occ_level=1, occ_bytes=4096)
            b.join([n, n + 1, n + 2], i % 7)
        return b.build()

    def peak_per_task(make):
        tracemalloc.start()
        tr = fill(make())
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        own = sum(v.nbytes for v in vars(tr).values() if isinstance(v, np.ndarray))
        return peak / tr.n_tasks, own / tr.n_tasks

    new, own = peak_per_task(TraceBuilder)
    old, _ = peak_per_task(ListTraceBuilder)
    assert new < 1.4 * own + 10, (new, own)
    assert old > 2.5 * own, (old, own)      # the twin as it was: what this test guards against
