"""Exclusive time: every tick of a cycle run's makespan assigned to exactly one op, by the critical path.

Op spans (first start to last finish of an op's tasks) overlap: an op's first loads are issued while
its predecessor still computes, so the spans sum to more than the makespan and each span holds time
its op spent waiting for a neighbour. Exclusive time splits the makespan instead. The rule chosen is
the **critical path** of the run, walked backward from the task that finishes last: at each task
the walk steps to the predecessor that finished last — one of its dependencies, or the task before
it on its resource (`resource_prev`: the one its resource began just before it, in service order, not
trace order: a DRAM channel at request level, `dram_model="controller"`, serves its transfers out
of trace order and several at once; where a resource serves in trace order the two agree). When
that predecessor is still running as the task starts (transfers in service together, a DRAM
channel's pipelined commands), the walk takes the ticks from the predecessor's start to the
task's start as the predecessor's — and every tick of the chain goes to one op:
- a task's own interval, port stalls included (they finish it late), to its op;
- a gap between the predecessor's finish and the task's start (a DRAM channel's refresh or bank
  timing, a wait no predecessor explains) to the task's op;
- a task that waited, data ready, for its resource while another op's task held it: the walk
  goes on through the holder, so those ticks are the holder's op's (its work, which its analytic
  time counts too). Charging them to the waiter instead (tried: a `queue_s` effect) took the same
  ticks off the holder's exclusive time, and its `other_s` went negative by as much (pim-gpt
  gpt2-small decode: queueing +28 µs, Σ other −30 µs of a 134 µs run): measured against ops run
  back to back, queueing behind a neighbour's work is not time lost, it is that work;
- ticks before the first task of the chain to that task's op.
Why the critical path: its ticks are exactly the makespan (nothing twice, nothing left out), and a
tick on it is one that shortening that op's work would save; work hidden under another op (a
prefetch, a write-back behind the next op's compute) is not on it, so an op's exclusive time is
what it adds to the run. Alternatives rejected: the oldest op in flight owns each instant (charges
an op's trailing write-back while the next op computes), the busiest resource (needs a notion of
busy that differs per unit type). Tasks of no op (op −1) give their ticks to the op the walk met
last (the one that waited for them), else to the next op it meets, else (no op on the path) to
the op whose task finished last. Ties between predecessors go to the dependency, then to the
higher index (the later issued), so the walk is deterministic.

The pipeline fill and drain (`ExclusiveTime.fill_ticks`), read off the same walk: an op's tile
stream overlaps its loads with its compute, so one side (the bottleneck: of the op's compute-unit
tasks and its loads and other transfers, the side busy longer, as the union of its tasks'
intervals) runs nearly back to back, and the op's path ticks when that side was idle are what the
pipeline did not hide: the first tile's load before the first compute (a compute-bound op), the
last compute after the last load (a load-bound one), and the stalls between. Left out: the op's
stores (writes to an off-chip level, and the waits before them) and a PIM op's transfers over the
host link — the closed form charges both serially after (before) the stream, so they, and any
path ticks while they ran, are compared there (`analytic.host_link_s`) — and its NoC link
transfers (the NoC's share, `attribution.noc_share_ticks`). Exact, not a fit: part of the op's
exclusive time, zero for an op off the path, the first load's time on a compute-bound GEMM.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .trace import MODE_WRITE

__all__ = ["ExclusiveTime", "exclusive_time", "exclusive_cycles", "serial_trace", "resource_prev"]


@dataclass(frozen=True)
class ExclusiveTime:
    """Per op (ticks of the trace): `ticks` its exclusive time (Σ = the makespan), `port_ticks` the
    port stalls of its tasks on the critical path (part of `ticks`), `fill_ticks` its tile
    stream's fill and drain on the path (part of `ticks`; module docstring; zeros unless
    `exclusive_time` was given the compute resources)."""
    ticks: np.ndarray
    port_ticks: np.ndarray
    path_tasks: int              # tasks on the critical path
    fill_ticks: np.ndarray | None = None


def resource_prev(res: np.ndarray, start: np.ndarray) -> np.ndarray:
    """Per task, the task before it on its resource in service order, or −1: the order the
    resource began its tasks (start time, then trace index). A resource that serves in trace order
    gets the task before in trace order; a DRAM channel at request level (`dram_model=
    "controller"`: FR-FCFS, up to 16 transfers in service at once) gets the transfer it began
    serving just before this one, whatever their order in the trace."""
    n = res.shape[0]
    out = np.full(n, -1, dtype=np.int64)
    if n > 1:
        order = np.lexsort((np.arange(n), start, res))       # by resource, then (start, index)
        same = res[order[1:]] == res[order[:-1]]
        out[order[1:][same]] = order[:-1][same]
    return out


def exclusive_time(tr, run, n_ops: int, compute_res=()) -> ExclusiveTime:
    """The critical-path split of `run` (a `TraceRun` of trace `tr`) over `n_ops` ops (module
    docstring). Σ `ticks` == `run.makespan` whenever the trace has a task of some op. With
    `compute_res` (the lowering's compute-unit resources) also each op's pipeline fill and drain
    on the path (`fill_ticks`)."""
    excl = np.zeros(n_ops, dtype=np.int64)
    port = np.zeros(n_ops, dtype=np.int64)
    n = tr.n_tasks
    if n == 0 or n_ops == 0:
        return ExclusiveTime(excl, port, 0, np.zeros(n_ops, dtype=np.int64))
    start_a, finish_a = run.start, run.finish
    # the walk reads a few entries per path task: memoryviews index to Python ints as fast as
    # lists do, without a list's ~40 bytes per task (six lists were 3.9 GB on a 16 M-task trace)
    rprev = _view(resource_prev(tr.res, start_a))
    dptr, didx = _view(tr.dep_ptr), tr.dep_idx      # deps read for the path's tasks only
    start, finish = _view(start_a), _view(finish_a)
    stall = _view(run.port_stall if run.port_stall is not None else np.zeros(n, dtype=np.int64))
    op = _view(tr.op)
    # each task's side of its op's tile stream: 0 the rest (loads, links, joins), 1 compute, 2 a store
    side_a = np.zeros(n, dtype=np.int64)
    if len(compute_res):
        side_a[np.isin(tr.res, np.asarray(list(compute_res), dtype=np.int64))] = 1
    side_a[_stores(tr)] = 2
    # NoC links: the NoC's share (`attribution.noc_share_ticks`); the host link's "@pipeline"
    # transfers of a PIM op: charged serially by the closed form (`analytic.host_link_s`)
    links = np.array([name.startswith(("noc:", "link:")) for name in tr.resources], dtype=bool)
    side_a[links[tr.res]] = 2
    side = _view(side_a)
    ex, pt = [0] * n_ops, [0] * n_ops
    segs = []                   # (op, from, to): the op's path ticks (waits before stores left out)
    pending = []                # intervals of tasks of no op not yet given to an op
    cursor = int(run.makespan)
    t = int(np.flatnonzero(finish_a == finish_a.max())[-1])
    owner = -1                  # the op the walk met last: gets the ticks of tasks of no op
    carry = 0                   # ticks of tasks of no op before any op was met
    steps = 0
    while True:
        steps += 1
        o = op[t] if op[t] >= 0 else owner
        s, f = start[t], finish[t]
        lo = s if s < cursor else cursor
        if o >= 0:
            ex[o] += cursor - lo + carry
            segs.append((o, lo, cursor))     # a store's own ticks: covered by it (`_fill_ticks`)
            segs.extend((o, x, y) for x, y in pending)
            carry = 0
            pending = []
            hi = f if f < cursor else cursor
            tail = f - stall[t]
            stalled = hi - (tail if tail > lo else lo)
            if stalled > 0:
                pt[o] += stalled
            owner = o
        else:
            carry += cursor - lo
            pending.append((lo, cursor))
        cursor = lo
        d, fd = -1, -1                       # the dependency that finished last (ties: higher index)
        if dptr[t + 1] > dptr[t]:
            for k in didx[dptr[t]:dptr[t + 1]].tolist():
                fk = finish[k]
                if fk > fd or (fk == fd and k > d):
                    d, fd = k, fk
        p = rprev[t]
        fp = finish[p] if p >= 0 else -1
        if d < 0 and p < 0:
            if o >= 0:
                ex[o] += cursor + carry
                segs.append((o, 0, cursor))
                segs.extend((o, x, y) for x, y in pending)
                carry = 0
                pending = []
            else:
                carry += cursor
                pending.append((0, cursor))
            cursor = 0
            break
        nxt = p if fp > fd else d
        fn = finish[nxt]
        if fn < cursor:          # the task waited with every predecessor done: its op's time
            if o >= 0:
                ex[o] += cursor - fn
                if side[t] != 2 or op[t] < 0:       # a store's wait goes with the store
                    segs.append((o, fn, cursor))
            else:
                carry += cursor - fn
                pending.append((fn, cursor))
            cursor = fn
        t = nxt
    owned = np.flatnonzero(tr.op >= 0)
    if carry and owned.size:     # no op on the path at all: the op whose task finished last
        last = owned[::-1][int(np.argmax(finish_a[owned][::-1]))]
        ex[int(tr.op[last])] += carry
        segs.extend((int(tr.op[last]), x, y) for x, y in pending)
    excl[:] = ex
    port[:] = pt
    fill = _fill_ticks(tr, run, side_a, segs, n_ops) if len(compute_res) else np.zeros(n_ops, dtype=np.int64)
    return ExclusiveTime(excl, port, steps, fill)


def _view(a: np.ndarray) -> memoryview:
    """An int64 array as a memoryview (indexing gives Python ints; no copy when already int64)."""
    return memoryview(np.ascontiguousarray(a, dtype=np.int64))


def _stores(tr) -> np.ndarray:
    """Per task, whether it writes to an off-chip memory (a store): a write transfer on a DRAM
    channel, or a task on an off-chip level without DRAM timing (`mem:` resources) that carries
    that level's write action."""
    out = (tr.mode == MODE_WRITE) & (tr.res_dram[tr.res] >= 0)
    mem = np.array([name.startswith("mem:") for name in tr.resources], dtype=bool)
    if tr.act_id.size and mem.any():
        writes = np.array([name.endswith(".write") for name in tr.action_names], dtype=bool)
        owner = np.repeat(np.arange(tr.n_tasks), np.diff(tr.act_ptr))
        hit = owner[writes[tr.act_id]]
        out[hit[mem[tr.res[hit]]]] = True
    return out


def _merged(lo: np.ndarray, hi: np.ndarray):
    """The union of intervals [lo, hi) (sorted by lo) as disjoint sorted starts and ends."""
    keep = hi > lo
    lo, hi = lo[keep], hi[keep]
    if not lo.size:
        return lo, hi
    reach = np.maximum.accumulate(hi)
    new = np.r_[True, lo[1:] > reach[:-1]]
    ends = np.r_[np.flatnonzero(new)[1:] - 1, lo.size - 1]
    return lo[new], reach[ends]


def _covered(starts: np.ndarray, ends: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Ticks of the disjoint sorted intervals (starts, ends) before each time in `x`."""
    cum = np.r_[0, np.cumsum(ends - starts)]
    j = np.searchsorted(ends, x, side="right")          # intervals ending at or before x
    part = np.zeros(x.shape, dtype=np.int64)
    inside = j < starts.size
    part[inside] = np.maximum(x[inside] - starts[j[inside]], 0)
    return cum[j] + part


def _fill_ticks(tr, run, side: np.ndarray, segs, n_ops: int) -> np.ndarray:
    """Per op, its path ticks (`segs`) when its bottleneck side was idle and no transfer the closed
    form charges serially (its side 2: stores, host link) was running (module docstring)."""
    out = np.zeros(n_ops, dtype=np.int64)
    if not segs:
        return out
    seg = np.array(segs, dtype=np.int64)
    seg = seg[np.argsort(seg[:, 0], kind="stable")]
    seg_bounds = np.searchsorted(seg[:, 0], np.arange(n_ops + 1))
    owned = np.flatnonzero(tr.op >= 0)
    key_all = tr.op[owned] * 3 + side[owned]
    order = owned[np.lexsort((run.start[owned], key_all))]
    key = tr.op[order] * 3 + side[order]
    bounds = np.searchsorted(key, np.arange(3 * n_ops + 1))
    for o in np.unique(seg[:, 0]).tolist():
        group = [order[bounds[k]:bounds[k + 1]] for k in (3 * o, 3 * o + 1, 3 * o + 2)]
        busy = []
        for idx in group[:2]:                   # the rest, then compute
            starts, ends = _merged(run.start[idx], run.finish[idx])
            busy.append(int((ends - starts).sum()))
        bottleneck = group[1] if busy[1] > busy[0] else group[0]
        idx = np.concatenate([bottleneck, group[2]])
        idx = idx[np.argsort(run.start[idx], kind="stable")]
        starts, ends = _merged(run.start[idx], run.finish[idx])
        rows = seg[seg_bounds[o]:seg_bounds[o + 1]]
        length = int((rows[:, 2] - rows[:, 1]).sum())
        covered = int((_covered(starts, ends, rows[:, 2]) - _covered(starts, ends, rows[:, 1])).sum())
        out[o] = length - covered
    return out


def exclusive_cycles(ticks: np.ndarray, sub: int) -> np.ndarray:
    """Per-op exclusive ticks as whole hw cycles (`sub` ticks each) that sum to the run's cycles,
    ⌈Σ ticks / sub⌉: each op gets the cycles its ticks end in, counted along the op order
    (cumulative rounding, so each op is within one cycle of its ticks / sub)."""
    edges = np.concatenate([[0], np.cumsum(ticks, dtype=np.int64)])
    up = -(-edges // sub)
    return np.diff(up)


def serial_trace(tr):
    """`tr` with its ops run back to back, as the analytic form runs them: every task of an op with
    no dependency inside its op (a source: a first load, a prefetch) also waits for every task of
    the op before it in trace order that no task of that op waits for (its sinks), so no op starts
    before the previous one is done. Lowering emits ops in order, so those sinks come earlier in
    the trace; a sink that does not (never seen) is left out rather than break the trace's order.
    Tasks of no op keep their dependencies. The counterfactual `attribution.gap_share_cycles`
    runs."""
    import dataclasses
    n = tr.n_tasks
    op = tr.op
    counts = np.diff(tr.dep_ptr)
    seg = np.repeat(np.arange(n, dtype=np.int64), counts)
    same = op[tr.dep_idx] == op[seg]
    owned = op >= 0
    source = owned & (np.bincount(seg[same], minlength=n) == 0)
    sink = owned & (np.bincount(tr.dep_idx[same], minlength=n) == 0)
    first = {}
    for i in np.flatnonzero(owned):            # ops in the order the trace first meets them
        first.setdefault(int(op[i]), int(i))
    order = sorted(first, key=first.get)
    extra = np.zeros(n, dtype=np.int64)
    plan = []
    for prev, cur in zip(order[:-1], order[1:]):
        srcs = np.flatnonzero(source & (op == cur))
        sinks = np.flatnonzero(sink & (op == prev))
        if srcs.size and sinks.size:
            sinks = sinks[sinks < srcs.min()]
            extra[srcs] = sinks.size
            plan.append((srcs, sinks))
    ptr = np.concatenate([[0], np.cumsum(counts + extra)]).astype(tr.dep_ptr.dtype)
    idx = np.empty(int(ptr[-1]), dtype=tr.dep_idx.dtype)
    within = np.arange(tr.dep_idx.size, dtype=np.int64) - tr.dep_ptr[seg]
    idx[ptr[seg] + within] = tr.dep_idx
    for srcs, sinks in plan:
        at = (ptr[srcs] + counts[srcs])[:, None] + np.arange(sinks.size)[None, :]
        idx[at.ravel()] = np.tile(sinks, srcs.size)
    return dataclasses.replace(tr, dep_ptr=ptr, dep_idx=idx)
