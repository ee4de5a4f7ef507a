"""The system scheduler on random task graphs: a resource runs one task at a time, a task starts
after its dependencies, overlap is never faster than the busiest resource nor the longest
dependency chain, and without overlap the tasks run back to back."""
from __future__ import annotations

from hypothesis import given, strategies as st

from archsim.system.schedule import Task, schedule


@st.composite
def task_graphs(draw):
    n = draw(st.integers(1, 30))
    tasks = []
    for i in range(n):
        deps = draw(st.lists(st.integers(0, i - 1), max_size=3, unique=True)) if i else []
        tasks.append(Task(f"t{i}", draw(st.sampled_from(["host", "pim", "link:a->b"])),
                          draw(st.floats(0.0, 5.0, allow_nan=False)), tuple(deps),
                          draw(st.integers(0, 5)), draw(st.sampled_from([0.0, 0.0, 0.5]))))
    return tasks


def _longest_chain(tasks) -> float:
    finish = []
    for t in tasks:
        finish.append(t.duration_s + max((finish[d] + tasks[d].delay_s for d in t.deps), default=0.0))
    return max(finish, default=0.0)


@given(task_graphs())
def test_overlap_is_bounded_by_the_busiest_resource_and_the_longest_chain(tasks):
    spans = schedule(tasks)
    makespan = max(s.finish_s for s in spans)
    for t, s in zip(tasks, spans):
        assert abs(s.finish_s - s.start_s - t.duration_s) <= 1e-9
        for d in t.deps:
            assert s.start_s >= spans[d].finish_s + tasks[d].delay_s - 1e-12
    by_resource: dict[str, list] = {}
    for t, s in zip(tasks, spans):
        by_resource.setdefault(t.resource, []).append((s.start_s, s.finish_s))
    for intervals in by_resource.values():
        intervals.sort()
        for (_, end), (begin, _) in zip(intervals, intervals[1:]):
            assert begin >= end - 1e-12                   # one task at a time per resource
    busiest = max(sum(t.duration_s for t in tasks if t.resource == r) for r in by_resource)
    assert makespan >= busiest * (1 - 1e-12)
    assert makespan >= _longest_chain(tasks) * (1 - 1e-12)
    serial = max(s.finish_s for s in schedule(tasks, overlap=False))
    total = sum(t.duration_s for t in tasks)
    assert total * (1 - 1e-12) - 1e-12 <= serial <= total + sum(t.delay_s for t in tasks) + 1e-9
    if not any(t.delay_s for t in tasks):
        assert abs(serial - total) <= 1e-9 * max(1.0, serial)
        assert makespan <= serial * (1 + 1e-12)


def test_independent_tasks_on_two_resources_overlap():
    tasks = [Task("a", "host", 2.0), Task("b", "pim", 3.0), Task("c", "host", 1.0, (0, 1))]
    spans = schedule(tasks)
    assert [(s.start_s, s.finish_s) for s in spans] == [(0.0, 2.0), (0.0, 3.0), (3.0, 4.0)]
    assert max(s.finish_s for s in schedule(tasks, overlap=False)) == 6.0
