"""The system scheduler on random task graphs: a resource runs one task at a time, a task starts
after its dependencies, overlap is never faster than the busiest resource nor the longest
dependency chain, and without overlap the tasks run back to back."""
from __future__ import annotations

from hypothesis import given, strategies as st

from archsim.system.schedule import Task, schedule


#: a task's time: none, or at least a nanosecond (a 1e-251 s task vanishes beside a start of 1 s in
#: floating point, so two memory holds tie at one start and the test could not tell their order)
DURATIONS_S = st.one_of(st.just(0.0), st.floats(1e-9, 5.0, allow_nan=False))


@st.composite
def task_graphs(draw):
    n = draw(st.integers(1, 30))
    tasks = []
    for i in range(n):
        deps = draw(st.lists(st.integers(0, i - 1), max_size=3, unique=True)) if i else []
        tasks.append(Task(f"t{i}", draw(st.sampled_from(["host", "pim", "link:a->b"])),
                          draw(DURATIONS_S), tuple(deps),
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


@st.composite
def shared_memory_graphs(draw):
    """Random task graphs whose tasks may hold one shared memory (host or PIM mode) for part of
    their run; the memory's mode changes cost to_pim / to_host."""
    tasks = draw(task_graphs())
    out = []
    for t in tasks:
        if draw(st.booleans()):
            share = draw(st.sampled_from([0.0, 0.3, 1.0]))
            t = Task(t.name, t.resource, t.duration_s, t.deps, t.priority, t.delay_s, memory="dram",
                     memory_s=share * t.duration_s, mode=draw(st.sampled_from(["host", "pim"])))
        out.append(t)
    switch = (draw(st.sampled_from([0.0, 0.05])), draw(st.sampled_from([0.0, 0.07])))
    return out, switch


@given(shared_memory_graphs())
def test_a_shared_memory_serves_one_task_at_a_time(graph):
    tasks, switch = graph
    spans = schedule(tasks, switch_s={"dram": switch})
    makespan = max(s.finish_s for s in spans)
    holds = sorted((s.start_s, s.start_s + s.switch_s + min(t.memory_s, t.duration_s), t.mode, s.switch_s)
                   for t, s in zip(tasks, spans) if t.memory and t.memory_s > 0)
    for (_, end, mode, _), (begin, _, next_mode, sw) in zip(holds, holds[1:]):
        assert begin >= end - 1e-12                          # the channels serve one task at a time
        assert sw == (0.0 if mode == next_mode else switch[0] if next_mode == "pim" else switch[1])
    for t, s in zip(tasks, spans):
        assert abs(s.finish_s - s.start_s - s.switch_s - t.duration_s) <= 1e-9
        for d in t.deps:
            assert s.start_s >= spans[d].finish_s + tasks[d].delay_s - 1e-12
    assert makespan >= sum(end - begin for begin, end, *_ in holds) * (1 - 1e-12)
    switches = sum(s.switch_s for s in spans)
    assert makespan <= sum(t.duration_s + t.delay_s for t in tasks) + switches + 1e-9


@given(task_graphs(), st.sampled_from(["host", "pim"]))
def test_tasks_that_all_hold_the_memory_never_beat_the_serial_sum(tasks, mode):
    """Every task holding one memory for its whole run: overlap buys nothing, the run is at least
    the sum of the tasks' times (the ops back to back)."""
    held = [Task(t.name, t.resource, t.duration_s, t.deps, t.priority, t.delay_s, memory="dram",
                 memory_s=t.duration_s, mode=mode) for t in tasks]
    makespan = max(s.finish_s for s in schedule(held))
    assert makespan >= sum(t.duration_s for t in tasks) * (1 - 1e-12) - 1e-12


def test_no_memory_held_means_the_old_schedule():
    tasks = [Task("a", "host", 2.0), Task("b", "pim", 3.0), Task("c", "host", 1.0, (0, 1))]
    assert schedule(tasks) == schedule([Task(t.name, t.resource, t.duration_s, t.deps, memory="dram")
                                        for t in tasks])


def test_contention_and_mode_changes_on_one_memory():
    tasks = [Task("npu", "npu", 2.0, memory="dram", memory_s=1.0),
             Task("pim", "pim", 3.0, memory="dram", memory_s=3.0, mode="pim"),
             Task("npu2", "npu", 1.0, (0,), memory="dram", memory_s=1.0)]
    spans = schedule(tasks, switch_s={"dram": (0.5, 0.25)})
    # npu holds the memory 0-1; pim waits, switches 1-1.5, runs 1.5-4.5; npu2 (ready at 2) waits
    # for the memory, switches back 4.5-4.75 and runs to 5.75
    assert [(s.start_s, s.finish_s, s.switch_s) for s in spans] == \
        [(0.0, 2.0, 0.0), (1.0, 4.5, 0.5), (4.5, 5.75, 0.25)]
