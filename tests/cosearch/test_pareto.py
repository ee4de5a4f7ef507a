"""Pareto front: nothing on it is dominated; everything off it is dominated by (or equal to) a member."""
from __future__ import annotations

from hypothesis import given, strategies as st

from archsim.cosearch.pareto import dominates, pareto_indices

points = st.lists(st.tuples(st.integers(0, 6), st.integers(0, 6), st.integers(0, 6)), min_size=1, max_size=30)
dirs = st.lists(st.sampled_from(["minimize", "maximize"]), min_size=3, max_size=3)


@given(points, dirs)
def test_front_is_exactly_the_non_dominated_set(pts, directions):
    front = pareto_indices(pts, directions)
    assert front
    for i in front:
        assert not any(dominates(pts[j], pts[i], directions) for j in range(len(pts)))
    for i in set(range(len(pts))) - set(front):
        assert any(dominates(pts[j], pts[i], directions) or pts[j] == pts[i] for j in front)
    assert len({pts[i] for i in front}) == len(front)      # duplicates kept once


def test_direction_matters_and_nan_is_never_on_the_front():
    pts = [(1.0, 5.0), (2.0, 1.0), (float("nan"), 0.0)]
    assert pareto_indices(pts, ["minimize", "minimize"]) == [0, 1]
    assert pareto_indices(pts, ["maximize", "maximize"]) == [0, 1]
    assert pareto_indices([(1.0, 1.0), (2.0, 2.0)], ["minimize", "maximize"]) == [0, 1]
    assert pareto_indices([(1.0, 1.0), (2.0, 2.0)], ["minimize", "minimize"]) == [0]
