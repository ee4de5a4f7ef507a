"""What makes a warm estimate cheap must leave its results as they were: a built graph freed by
reference counting, not left as cyclic garbage."""
import gc
import weakref

import pytest

import archsim
from archsim.api import run
from archsim.ir import ops_in_order


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
