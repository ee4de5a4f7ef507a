"""The system scheduler: tasks on resources (devices, link directions), each resource running one
task at a time, each task waiting for its dependencies — a non-delay list schedule.

Every device's op durations come from the single-chip engine (`archsim.engine.simulate`, either
fidelity); this module only orders them. When a resource falls idle it starts, among the tasks
whose dependencies are all done (plus their `delay_s`, a link's latency in flight), the one with
the lowest `priority` (ties: the lowest index). With
`overlap=False` every task runs on one shared resource, so the schedule is the ops back to back.

Shared memory: a task may also hold a DRAM several devices sit on (`memory`) for the first
`memory_s` of its run, in a `mode` ('host': ordinary reads and writes, 'pim': all-bank PIM work).
The memory serves one task at a time, so host traffic and PIM work time-share its channels; a task
whose memory is busy waits (its resource may start another ready task meanwhile), and a change of
mode first costs the memory's switch time (`switch_s[memory] = (to_pim_s, to_host_s)`), added to
the task's own time.
"""
from __future__ import annotations

import heapq
from dataclasses import dataclass

__all__ = ["Task", "Span", "schedule", "MODES"]

#: what a task does on a shared memory: ordinary reads and writes, or all-bank PIM work
MODES = ("host", "pim")


@dataclass(frozen=True, slots=True)
class Task:
    name: str
    resource: str                      # a device name or 'link:NAME:A->B'
    duration_s: float
    deps: tuple[int, ...] = ()         # indices of tasks that must finish first
    priority: int = 0
    delay_s: float = 0.0               # after finishing, its users wait this long more (a link's
                                       # latency: in flight, not occupying the link)
    memory: str = ""                   # a shared memory it holds from its start ('' = none)
    memory_s: float = 0.0              # for this long (≤ duration_s)
    mode: str = "host"                 # 'host' | 'pim' on that memory


@dataclass(frozen=True, slots=True)
class Span:
    start_s: float
    finish_s: float
    switch_s: float = 0.0              # the shared memory's mode change paid first (in the span)


def schedule(tasks: list[Task], overlap: bool = True,
             switch_s: dict[str, tuple[float, float]] | None = None) -> list[Span]:
    """Start and finish of every task (in `tasks` order). Raises ValueError on a dependency cycle."""
    n = len(tasks)
    switch = switch_s or {}
    waiting = [len(t.deps) for t in tasks]
    users: list[list[int]] = [[] for _ in range(n)]
    for i, t in enumerate(tasks):
        for d in t.deps:
            users[d].append(i)
    resource = [t.resource if overlap else "all" for t in tasks]
    ready: dict[str, list] = {}
    busy: set[str] = set()
    memory_free: dict[str, float] = {}           # shared memory → time it is next free
    memory_mode: dict[str, str] = {}             # shared memory → mode of its last task
    spans: list[Span | None] = [None] * n
    events: list[tuple[float, int, int]] = []    # (time, 0 finish / 1 release users / 2 memory free, task)
    done = 0

    def release(i: int) -> None:
        heapq.heappush(ready.setdefault(resource[i], []), (tasks[i].priority, i))

    def startable(i: int, now: float) -> bool:
        m = tasks[i].memory
        return not m or tasks[i].memory_s <= 0 or memory_free.get(m, 0.0) <= now

    def first_startable(queue: list, now: float):
        """The best queued task whose shared memory is free now (the queue keeps the others)."""
        skipped, found = [], None
        while queue:
            item = heapq.heappop(queue)
            if startable(item[1], now):
                found = item
                break
            skipped.append(item)
        for item in skipped:
            heapq.heappush(queue, item)
        return found

    def start(i: int, now: float) -> None:
        t = tasks[i]
        extra = 0.0
        if t.memory and t.memory_s > 0:
            last = memory_mode.get(t.memory)
            if last is not None and last != t.mode:
                to_pim, to_host = switch.get(t.memory, (0.0, 0.0))
                extra = to_pim if t.mode == "pim" else to_host
            memory_mode[t.memory] = t.mode
            memory_free[t.memory] = now + extra + min(t.memory_s, t.duration_s)
            heapq.heappush(events, (memory_free[t.memory], 2, i))
        spans[i] = Span(now, now + extra + t.duration_s, extra)
        busy.add(resource[i])
        heapq.heappush(events, (now + extra + t.duration_s, 0, i))

    def start_idle(now: float) -> None:
        while True:           # the lowest-priority startable task first, so a contended memory
            best = None       # goes to the most urgent task of any resource
            for res, queue in ready.items():
                if res in busy or not queue:
                    continue
                item = first_startable(queue, now)
                if item is None:
                    continue
                if best is None:
                    best = (*item, res)
                elif item < best[:2]:
                    heapq.heappush(ready[best[2]], best[:2])
                    best = (*item, res)
                else:
                    heapq.heappush(queue, item)
            if best is None:
                return
            start(best[1], now)

    for i in range(n):
        if not waiting[i]:
            release(i)
    start_idle(0.0)
    while events:
        now, what, i = heapq.heappop(events)
        happening = [(what, i)]
        while events and events[0][0] == now:     # everything due now, before starting more
            happening.append(heapq.heappop(events)[1:])
        for what, j in happening:
            if what == 2:
                continue                          # a shared memory fell free: only start tasks
            if what == 0:
                busy.discard(resource[j])
                done += 1
                if tasks[j].delay_s > 0:
                    heapq.heappush(events, (now + tasks[j].delay_s, 1, j))
                    continue
            for u in users[j]:
                waiting[u] -= 1
                if not waiting[u]:
                    release(u)
        start_idle(now)
    if done != n:
        raise ValueError("the task graph has a dependency cycle")
    return spans      # type: ignore[return-value]
