"""What makes a warm estimate cheap must leave its results as they were: a built graph freed by
reference counting, not left as cyclic garbage; the arena planner looking only at buffers alive
together."""
import gc
import weakref

import pytest
from hypothesis import given, settings, strategies as st

import archsim
from archsim.api import run
from archsim.ir import ops_in_order
from archsim.mapper.passes.buffer_plan import Buffer, _arena_plan


@pytest.mark.parametrize("model, hw, kw", [("gpt2-small", "h200-sxm", {"context": 64}),
                                           ("bert-base", "edge-npu", {"seq": 32})])
def test_an_estimate_leaves_no_reference_cycle_behind(monkeypatch, model, hw, kw):
    built = []
    original = run.build_graph

    def spy(*args, **kwargs):
        graph = original(*args, **kwargs)
        built.append(weakref.ref(graph))
        return graph

    monkeypatch.setattr(run, "build_graph", spy)
    archsim.simulate(model, hw, **kw)              # maps; the next one runs like a warm one
    was = gc.isenabled()
    gc.disable()
    try:
        gc.collect()
        result = archsim.simulate(model, hw, **kw)
        assert result.ops and len(built) == 2
        assert built[1]() is None                  # freed on return, no collector pass needed
        assert gc.collect() == 0                   # and nothing else of it left unreachable
    finally:
        if was:
            gc.enable()


def test_release_graph_drops_only_cached_views():
    g = archsim.build_graph("gpt2-small", phase="decode", context=16)
    order = list(ops_in_order(g))
    edges, succ = list(g.edges), dict(g.succ)
    assert "edges" in vars(g)
    run.release_graph(g)
    assert "edges" not in vars(g) and "_archsim_order" in vars(g)
    assert list(g.edges) == edges and dict(g.succ) == succ      # rebuilt on the next access
    assert list(ops_in_order(g)) == order


def _greedy_reference(bufs):
    """The TFLite-Micro greedy planner, plainly: per buffer, every placed buffer alive with it in
    offset order, the lowest gap that holds it."""
    placed = []
    for b in sorted(bufs, key=lambda b: (-b.size_bytes, b.first, b.name)):
        live = sorted((off, p.size_bytes) for off, p in placed
                      if not (p.last < b.first or b.last < p.first))
        offset = 0
        for off, n in live:
            if off - offset >= b.size_bytes:
                break
            offset = max(offset, off + n)
        placed.append((offset, b))
    return max((off + b.size_bytes for off, b in placed), default=0), \
        tuple(sorted((b.name, off) for off, b in placed))


_schedules = st.lists(st.tuples(st.integers(1, 5000), st.integers(0, 400), st.integers(0, 12),
                                st.booleans()), min_size=0, max_size=160).map(
    lambda xs: [Buffer(f"t{i}", size, first, first + (400 if long else span))
                for i, (size, first, span, long) in enumerate(xs)])


@settings(max_examples=120, deadline=None)
@given(bufs=_schedules)
def test_arena_planner_looking_only_at_buffers_alive_together_equals_the_plain_greedy(bufs):
    """Schedules like a model's (hundreds of buffers, most alive a few ops) and long-lived ones
    (the planner then looks up start times another way): the same arena and offsets."""
    plan = _arena_plan(tuple(bufs))
    assert (plan.arena_bytes, plan.offsets) == _greedy_reference(bufs)
