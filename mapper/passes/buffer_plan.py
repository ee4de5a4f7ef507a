"""Buffer planning over the schedule: tensor liveness, peak bytes per level, and a TFLite-Micro-style
greedy arena planner (tensorflow/tflite-micro memory_planner/greedy_memory_planner.h): buffers sorted
by size (descending), each placed at the lowest offset that does not overlap, in address and in
lifetime, any buffer already placed; the arena is the highest end. Exact for the plan it makes."""
from __future__ import annotations

from bisect import bisect_right
from collections import OrderedDict
from dataclasses import dataclass

from archsim.ir import OpGraph, Role, ops_in_order, unread_weight_bytes

__all__ = ["Buffer", "ArenaPlan", "BufferPlan", "PoolPlan", "arena_plan", "pool_plan", "liveness",
           "plan_buffers"]


@dataclass(frozen=True, slots=True)
class Buffer:
    """A tensor alive from op index `first` to op index `last` (inclusive) in the schedule."""
    name: str
    size_bytes: int
    first: int
    last: int


@dataclass(frozen=True, slots=True)
class ArenaPlan:
    arena_bytes: int
    offsets: tuple[tuple[str, int], ...]

    def offset(self, name: str) -> int:
        return dict(self.offsets)[name]


@dataclass(frozen=True, slots=True)
class BufferPlan:
    peak_bytes: tuple[tuple[str, int], ...]          # level → peak planned bytes
    persistent_bytes: tuple[tuple[str, int], ...]    # level → weights / KV resident all along
    arena: ArenaPlan | None = None                    # for the level holding activations on-chip


def _lowest_offset(b: Buffer, placed: list[tuple[int, Buffer]]) -> int:
    """The lowest offset where `b` overlaps no placed buffer alive at the same time; `placed` is
    in offset order (`_place` keeps it so)."""
    offset, size, first, last = 0, b.size_bytes, b.first, b.last
    for off, p in placed:
        if p.last < first or last < p.first:
            continue
        if off - offset >= size:
            break
        if off + p.size_bytes > offset:
            offset = off + p.size_bytes
    return offset


def _place(placed: list[tuple[int, Buffer]], offsets: list[int], off: int, b: Buffer) -> None:
    """Add `b` at `off` to `placed`, kept in offset order (`offsets` mirrors its offsets)."""
    i = bisect_right(offsets, off)
    offsets.insert(i, off)
    placed.insert(i, (off, b))


#: the last few arena plans by their buffers: the placement pass and the buffer plan of one
#: `map_graph` (and a sweep's repeated graphs) plan the same activation buffers
_ARENAS: "OrderedDict[tuple[Buffer, ...], ArenaPlan]" = OrderedDict()


def arena_plan(buffers) -> ArenaPlan:
    key = tuple(buffers)
    plan = _ARENAS.get(key)
    if plan is None:
        plan = _ARENAS[key] = _arena_plan(key)
        if len(_ARENAS) > 8:
            _ARENAS.popitem(last=False)
    return plan


def _arena_plan(buffers: tuple[Buffer, ...]) -> ArenaPlan:
    """The greedy plan (`_lowest_offset` over every placed buffer, in offset order), looking only
    at the placed buffers whose lifetimes can overlap: those that start within the longest
    lifetime before `b` starts, up to where it ends (a model's activations live a few ops, so a
    buffer meets a few dozen of the hundreds placed). The offset a scan finds depends only on the
    overlapping buffers in offset order (equal offsets in any order), so the plan is the same."""
    order = sorted(buffers, key=lambda b: (-b.size_bytes, b.first, b.name))
    span = max((b.last - b.first for b in order), default=0)
    by_first: dict[int, list[tuple[int, int, int]]] = {}     # first → (offset, size, last)
    where: list[tuple[str, int]] = []
    arena = 0
    for b in order:
        size, first, last = b.size_bytes, b.first, b.last
        starts = range(first - span, last + 1)
        if len(starts) > len(by_first):      # long-lived buffers: fewer start times to look at
            starts = [t for t in by_first if first - span <= t <= last]
        met = sorted((off, n) for t in starts for off, n, end in by_first.get(t, ()) if end >= first)
        offset = 0
        for off, n in met:
            if off - offset >= size:
                break
            if off + n > offset:
                offset = off + n
        by_first.setdefault(first, []).append((offset, size, last))
        where.append((b.name, offset))
        arena = max(arena, offset + size)
    return ArenaPlan(arena, tuple(sorted(where)))


@dataclass(frozen=True, slots=True)
class PoolPlan:
    """Buffers placed in several memory pools (separate contiguous regions), each planned like one
    arena. `peaks[i]` is pool i's highest end; a buffer that fits no pool goes to pool 0 past its
    capacity, so `fits` is False and the overflow shows in `peaks[0]`."""
    capacities: tuple[int, ...]
    peaks: tuple[int, ...]
    offsets: tuple[tuple[str, int, int], ...]        # name → (pool, offset)

    @property
    def fits(self) -> bool:
        return all(p <= c for p, c in zip(self.peaks, self.capacities))

    @property
    def used_bytes(self) -> int:
        return sum(self.peaks)


def pool_plan(buffers, capacities) -> PoolPlan:
    """The greedy arena planner over several pools (TFLite-Micro plans one arena; a runtime with
    more SRAM regions places each buffer in the first pool, in the given order, where its lowest
    free offset still ends within the pool). With one pool it is exactly `arena_plan`."""
    capacities = tuple(int(c) for c in capacities) or (0,)
    placed: list[list[tuple[int, Buffer]]] = [[] for _ in capacities]
    offsets: list[list[int]] = [[] for _ in capacities]
    where: list[tuple[str, int, int]] = []
    for b in sorted(buffers, key=lambda b: (-b.size_bytes, b.first, b.name)):
        choice = None
        for i, cap in enumerate(capacities):
            off = _lowest_offset(b, placed[i])
            if off + b.size_bytes <= cap:
                choice = (i, off)
                break
        if choice is None:
            choice = (0, _lowest_offset(b, placed[0]))
        _place(placed[choice[0]], offsets[choice[0]], choice[1], b)
        where.append((b.name, choice[0], choice[1]))
    peaks = tuple(max((off + b.size_bytes for off, b in pool), default=0) for pool in placed)
    return PoolPlan(capacities, peaks, tuple(sorted(where)))


def liveness(graph: OpGraph, skip: frozenset[str] = frozenset(),
             sizes: dict[str, int] | None = None) -> list[Buffer]:
    """Activation buffers (not weights, not KV cache) with first/last use over `ops_in_order`.
    Tensors in `skip` are never materialised; `sizes` overrides a tensor's bytes."""
    first: dict[str, int] = {}
    last: dict[str, int] = {}
    size: dict[str, int] = {}
    for i, op in enumerate(ops_in_order(graph)):
        for o in op.operands:
            t = o.tensor
            if t.role in (Role.WEIGHT, Role.KV_CACHE) or t.name in skip:
                continue
            size[t.name] = max(size.get(t.name, 0), t.size_bytes)
            first.setdefault(t.name, i)
            last[t.name] = i
    sizes = sizes or {}
    return [Buffer(n, int(sizes.get(n, size[n])), first[n], last[n]) for n in first]


def persistent_tensors(graph: OpGraph) -> dict[str, tuple[str, int]]:
    """Weights and KV-cache tensors, counted once by name: name → (role, bytes)."""
    out: dict[str, tuple[str, int]] = {}
    for op in ops_in_order(graph):
        for o in op.operands:
            if o.tensor.role in (Role.WEIGHT, Role.KV_CACHE):
                out[o.tensor.name] = (o.tensor.role.value, o.tensor.size_bytes)
    return out


def plan_buffers(graph: OpGraph, hw, placement: dict[str, str],
                 skip: frozenset[str] = frozenset(), sizes: dict[str, int] | None = None,
                 buffers: list[Buffer] | None = None,
                 tensors: dict[str, tuple[str, int]] | None = None) -> BufferPlan:
    """Peak bytes per level: persistent tensors where placed + the activation arena (or, for
    activations placed per tensor, the peak of live bytes over the schedule). `buffers` and
    `tensors`: `liveness(graph, skip, sizes)` and `persistent_tensors(graph)`, when the caller
    has them already."""
    persistent: dict[str, int] = {}
    tensors = persistent_tensors(graph) if tensors is None else tensors
    for name, (role, b) in tensors.items():
        lv = placement.get(name) or placement.get(role) or hw.levels[0].name
        persistent[lv] = persistent.get(lv, 0) + b
    unread = unread_weight_bytes(graph)          # MoE experts idle this step, stored with the weights
    if unread:
        lv = placement.get("weight") or hw.levels[0].name
        persistent[lv] = persistent.get(lv, 0) + unread
    buffers = liveness(graph, skip, sizes) if buffers is None else buffers
    by_level: dict[str, list[Buffer]] = {}
    for b in buffers:
        lv = placement.get(b.name) or placement.get("activation") or hw.levels[0].name
        by_level.setdefault(lv, []).append(b)
    peaks = dict(persistent)
    arena = None
    for lv, bufs in by_level.items():
        plan = arena_plan(bufs)
        if placement.get("activation") == lv:
            arena = plan
        peaks[lv] = peaks.get(lv, 0) + plan.arena_bytes
    names = [lv.name for lv in hw.levels]
    ordered = tuple((n, int(peaks[n])) for n in names if n in peaks)
    return BufferPlan(ordered, tuple((n, int(persistent[n])) for n in names if n in persistent), arena)
