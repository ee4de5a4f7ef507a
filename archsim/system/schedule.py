"""The system scheduler: tasks on resources (devices, link directions), each resource running one
task at a time, each task waiting for its dependencies — a non-delay list schedule.

Every device's op durations come from the single-chip engine (`archsim.engine.simulate`, either
fidelity); this module only orders them. When a resource falls idle it starts, among the tasks
whose dependencies are all done (plus their `delay_s`, a link's latency in flight), the one with
the lowest `priority` (ties: the lowest index). With
`overlap=False` every task runs on one shared resource, so the schedule is the ops back to back.
"""
from __future__ import annotations

import heapq
from dataclasses import dataclass

__all__ = ["Task", "Span", "schedule"]


@dataclass(frozen=True, slots=True)
class Task:
    name: str
    resource: str                      # a device name or 'link:NAME:A->B'
    duration_s: float
    deps: tuple[int, ...] = ()         # indices of tasks that must finish first
    priority: int = 0
    delay_s: float = 0.0               # after finishing, its users wait this long more (a link's
                                       # latency: in flight, not occupying the link)


@dataclass(frozen=True, slots=True)
class Span:
    start_s: float
    finish_s: float


def schedule(tasks: list[Task], overlap: bool = True) -> list[Span]:
    """Start and finish of every task (in `tasks` order). Raises ValueError on a dependency cycle."""
    n = len(tasks)
    waiting = [len(t.deps) for t in tasks]
    users: list[list[int]] = [[] for _ in range(n)]
    for i, t in enumerate(tasks):
        for d in t.deps:
            users[d].append(i)
    resource = [t.resource if overlap else "all" for t in tasks]
    ready: dict[str, list] = {}
    free_at: dict[str, float] = {}
    busy: set[str] = set()
    spans: list[Span | None] = [None] * n
    events: list[tuple[float, int, int]] = []     # (time, 0 = finish / 1 = release users, task)
    done = 0

    def release(i: int) -> None:
        heapq.heappush(ready.setdefault(resource[i], []), (tasks[i].priority, i))

    def start_idle(now: float) -> None:
        for res, queue in ready.items():
            if res in busy or not queue:
                continue
            _, i = heapq.heappop(queue)
            begin = max(now, free_at.get(res, 0.0))
            spans[i] = Span(begin, begin + tasks[i].duration_s)
            busy.add(res)
            heapq.heappush(events, (begin + tasks[i].duration_s, 0, i))

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
            if what == 0:
                busy.discard(resource[j])
                free_at[resource[j]] = now
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
