"""The task trace: what lowering produces and both engines execute, held in numpy arrays.

A task runs on one resource. Plain resources (a compute unit, a DMA engine, a host core) are busy
for `dur` cycles per task. DRAM-channel resources time a task as `nrows` row bursts starting at bank
slot `slot`, row `row`, each with `ncols` column commands over `span` banks (`mode` read/write/
all-bank PIM MAC). Dependencies are CSR (`dep_ptr`, `dep_idx`) and always point to lower indices, so
trace order is a topological order. `op` names the graph op a task belongs to; `level`/`nbytes` the
memory traffic it carries; `occ_level`/`occ_bytes` the buffer space it holds from its start until the
finish of task `occ_release`. Actions for the energy model are CSR too (`act_ptr`, `act_id` into
`action_names`, `act_amount`): `UNIT.mac.DTYPE` MACs, `LEVEL.read|write|pim_read` bytes; DRAM
commands (ACT/PRE/REF) are counted by the engines, as they depend on timing.
On-chip memory accesses are CSR too (`acc_ptr`, `acc_res`, `acc_dur`): a task moves bytes through
an SRAM level's port lane `acc_res` (a resource made by `TraceBuilder.ports`) for `acc_dur` ticks
(see `archsim.kernels.sram`).
A plain task with `reps` > 1 stands for that many tiles run back to back on its resource, its `dur`
and accesses split evenly (the first `dur % reps` tiles a tick longer): both engines time it as
`reps` consecutive tasks (`expand_reps` writes them out).
A join task (`TraceBuilder.join`) stands for "all of these tasks are done": zero duration on the
join resource (`res_dram` == `JOIN`), which, unlike a plain resource, does not serialise its tasks:
each starts and finishes when its dependencies are done. Depending on one join instead of on G
channel-group tasks keeps a transfer's dependencies O(G) rather than O(G²) (hbm3-pim: 32 groups).
"""
from __future__ import annotations

from array import array
from dataclasses import dataclass, replace
from functools import partial
from itertools import chain

import numpy as np

from .dram import PARAM_NAMES

__all__ = ["Trace", "TraceBuilder", "MODE_READ", "MODE_WRITE", "MODE_PIM_MAC", "JOIN", "expand_reps"]

MODE_READ, MODE_WRITE, MODE_PIM_MAC = 0, 1, 2
JOIN = -2          # `res_dram` of the join resource (-1: a plain resource, >= 0: a DRAM slot)

_INT_FIELDS = ("res", "dur", "slot", "row", "ncols", "span", "mode", "nrows", "op", "level",
               "nbytes", "occ_level", "occ_bytes", "occ_release", "reps")


@dataclass(frozen=True)
class Trace:
    res: np.ndarray
    dur: np.ndarray
    dep_ptr: np.ndarray
    dep_idx: np.ndarray
    slot: np.ndarray
    row: np.ndarray
    ncols: np.ndarray
    span: np.ndarray
    mode: np.ndarray
    nrows: np.ndarray
    op: np.ndarray
    level: np.ndarray
    nbytes: np.ndarray
    occ_level: np.ndarray
    occ_bytes: np.ndarray
    occ_release: np.ndarray
    act_ptr: np.ndarray           # CSR over tasks
    act_id: np.ndarray            # int32 index into action_names
    act_amount: np.ndarray        # float64 count of that action
    action_names: tuple[str, ...]
    resources: tuple[str, ...]
    res_dram: np.ndarray          # per resource: DRAM slot or -1
    dram_params: np.ndarray       # [n_dram, len(dram.PARAM_NAMES)] int64
    acc_ptr: np.ndarray = None    # CSR over tasks: on-chip port accesses
    acc_res: np.ndarray = None    # int64 port-lane resource
    acc_dur: np.ndarray = None    # int64 ticks on that lane
    reps: np.ndarray = None       # int32 tiles a plain task stands for (1: itself)

    def __post_init__(self):
        empty = {"acc_ptr": np.zeros(self.n_tasks + 1, np.int64), "acc_res": np.zeros(0, np.int64),
                 "acc_dur": np.zeros(0, np.int64), "reps": np.ones(self.n_tasks, np.int32)}
        for name, value in empty.items():      # traces built without ports (tests, old callers)
            if getattr(self, name) is None:
                object.__setattr__(self, name, value)

    @property
    def n_tasks(self) -> int:
        return int(self.res.shape[0])

    @property
    def nbytes_total(self) -> int:
        return sum(a.nbytes for a in (getattr(self, f) for f in _INT_FIELDS)) + self.dep_idx.nbytes

    def deps(self, i: int) -> np.ndarray:
        return self.dep_idx[self.dep_ptr[i]:self.dep_ptr[i + 1]]

    @property
    def joins(self) -> np.ndarray:
        """Per task: whether it is a join (`TraceBuilder.join`), not work of its own."""
        return self.res_dram[self.res] == JOIN

    def action_counts(self) -> dict[str, float]:
        """Σ amount per action over all tasks (timing-independent actions)."""
        sums = np.bincount(self.act_id, weights=self.act_amount, minlength=len(self.action_names))
        return {name: float(v) for name, v in zip(self.action_names, sums) if v}


#: the builder's row: the task's `_INT_FIELDS` but occ_release (`release` records those apart)
_ROW_FIELDS = tuple(f for f in _INT_FIELDS if f != "occ_release")
_ROW_WIDTH = len(_ROW_FIELDS)
#: a field's dtype in the Trace (the others int64)
_DTYPES = {"res": np.int32, "mode": np.int8, "level": np.int16, "occ_level": np.int16,
           "op": np.int32, "span": np.int32, "ncols": np.int32, "reps": np.int32}
#: rows a chunk holds before it is split into its fields' buffers (~3.7 MB of int64)
CHUNK_ROWS = 1 << 15


def _typecode(dtype) -> str:
    """The `array` typecode of a signed integer dtype."""
    size = np.dtype(dtype).itemsize
    return next(c for c in "bhilq" if array(c).itemsize == size)


class _Handed:
    """A builder buffer `build` gave the Trace without a copy: read as it is; on the builder's
    first append after that (tests check errors on a built builder), copied into a new buffer that
    `put` hands back to the builder, so the Trace's arrays never change."""
    __slots__ = ("put", "buf", "view", "new")

    def __init__(self, put, buf: array, view: np.ndarray):
        self.put, self.buf, self.view, self.new = put, buf, view, None

    def __len__(self) -> int:
        return len(self.buf if self.new is None else self.new)

    def _own(self) -> array:
        if self.new is None:
            self.new = array(self.buf.typecode, self.buf)
            self.put(self.new)
        return self.new

    def append(self, value) -> None:
        self._own().append(value)

    def extend(self, values) -> None:
        self._own().extend(values)

    def frombytes(self, values) -> None:
        self._own().frombytes(values)


def _hand(buf, dtype, put) -> np.ndarray:
    """Buffer `buf` as an array without a copy (`put` replaces the builder's reference)."""
    if isinstance(buf, _Handed):          # built before and not appended to since
        return buf.view
    view = np.frombuffer(buf, dtype=dtype)
    put(_Handed(put, buf, view))
    return view


class TraceBuilder:
    """Append tasks one by one, then `build()` the arrays.

    Memory is close to the Trace's own bytes as the tasks come in (a cycle run of a big model
    lowers to tens of millions of tasks): a task's row goes into a chunk of int64 (`array('q')`),
    which, every `CHUNK_ROWS` rows, is split into one buffer per field in the Trace's dtype; these,
    the CSR pointers, dependencies, actions and port accesses grow in `array` buffers (realloc: no
    copy, no free pages left behind) that `build` hands to the Trace without a copy (`_Handed`);
    buffer releases are (task, at) pairs applied at the end."""

    def __init__(self, chunk_rows: int = CHUNK_ROWS):
        if chunk_rows < 1:
            raise ValueError(f"chunk_rows must be >= 1 (got {chunk_rows})")
        self._rows = array("q")                       # the current chunk: _ROW_WIDTH ints per task
        self._chunk_len = chunk_rows * _ROW_WIDTH
        # per field: its values in the Trace's dtype, for the chunks split so far
        self._fields = [array(_typecode(_DTYPES.get(f, np.int64))) for f in _ROW_FIELDS]
        self._rel_task = array("q")                   # release(task, at): the task whose buffer
        self._rel_at = array("q")                     # is held until the finish of `at`
        self._dep_ptr = array("q", [0])
        self._dep_idx = array("q")
        self._resources: list[str] = []
        self._res_dram: list[int] = []
        self._dram_params: list[np.ndarray] = []
        self._act_ptr = array("q", [0])
        self._act_id = array(_typecode(np.int32))
        self._act_amount = array("d")
        self._action_names: dict[str, int] = {}
        self._acc_ptr = array("q", [0])
        self._acc_res = array("q")
        self._acc_dur = array("q")
        self._lanes: set[int] = set()
        self._join_res = -1
        self._checked: set[tuple] = set()   # (resource, shape, mode) `dram_tasks` has checked

    def resource(self, name: str, dram_params: np.ndarray | None = None, *, join: bool = False) -> int:
        """A plain resource (a DRAM channel with `dram_params`; the join resource with `join`)."""
        self._resources.append(name)
        if join:
            if dram_params is not None or self._join_res >= 0:
                raise ValueError(f"{name}: a trace has one join resource, without DRAM timing")
            self._join_res = len(self._resources) - 1
            self._res_dram.append(JOIN)
        elif dram_params is None:
            self._res_dram.append(-1)
        else:
            self._res_dram.append(len(self._dram_params))
            self._dram_params.append(np.asarray(dram_params, dtype=np.int64))
        return len(self._resources) - 1

    def ports(self, name: str, lanes: int) -> list[int]:
        """`lanes` port lanes of an on-chip level (resources `name.0`, ...)."""
        if lanes < 1:
            raise ValueError(f"{name}: an on-chip level needs at least one port lane (got {lanes})")
        out = [self.resource(f"{name}.{k}") for k in range(lanes)]
        self._lanes.update(out)
        return out

    def is_dram(self, res: int) -> bool:
        return self._res_dram[res] >= 0

    @property
    def n_tasks(self) -> int:
        return len(self._dep_ptr) - 1

    def _append_rows(self, values) -> None:
        """Rows (flat, `_ROW_WIDTH` values each) into the current chunk; a value that is not an
        integer (a float byte count) is truncated, as the list builder (int64 `np.fromiter`) did."""
        rows = self._rows
        before = len(rows)
        try:
            rows.extend(values)
        except TypeError:
            del rows[before:]
            rows.extend([int(v) for v in values])
        if len(rows) >= self._chunk_len:
            self._split_chunk()

    def _split_chunk(self) -> None:
        """The current chunk's rows onto their fields' buffers (the Trace's dtypes); a new chunk."""
        table = np.frombuffer(self._rows, dtype=np.int64).reshape(-1, _ROW_WIDTH)
        for k, f in enumerate(_ROW_FIELDS):
            column = table[:, k].astype(_DTYPES.get(f, np.int64))
            self._fields[k].frombytes(column.view(np.uint8))     # (frombytes wants bytes)
        del table
        self._rows = array("q")

    def _extras(self, i: int, actions, accesses) -> None:
        """Task i's action counts and SRAM port accesses (the caller closes their CSR rows)."""
        if actions:
            names = self._action_names
            for name, amount in actions:
                self._act_id.append(names.setdefault(name, len(names)))
                self._act_amount.append(float(amount))
        for port, ticks in accesses:
            if port not in self._lanes:
                raise ValueError(f"task {i}: access to {port}, which is not an on-chip port")
            if ticks > 0:
                self._acc_res.append(int(port))
                self._acc_dur.append(int(ticks))

    def task(self, res: int, dur: int = 0, deps=(), op: int = -1, *, slot: int = 0, row: int = 0,
             ncols: int = 0, span: int = 1, mode: int = MODE_READ, nrows: int = 1,
             level: int = -1, nbytes: int = 0, occ_level: int = -1, occ_bytes: int = 0,
             actions: tuple[tuple[str, float], ...] = (),
             accesses: tuple[tuple[int, int], ...] = (), reps: int = 1) -> int:
        i = len(self._dep_ptr) - 1
        dram = self._res_dram[res] >= 0
        if self._res_dram[res] == JOIN and (dur > 0 or reps != 1 or accesses):
            raise ValueError(f"task {i}: a join takes no time, tiles or port accesses")
        if reps != 1 and (reps < 1 or dram):
            raise ValueError(f"task {i}: reps {reps} (a plain task stands for >= 1 tiles)")
        if reps > 1 and any(t % reps for _, t in accesses):
            raise ValueError(f"task {i}: access ticks {[t for _, t in accesses]} are not split "
                             f"evenly over {reps} tiles")
        if dram:
            self._check_burst(self._res_dram[res], ncols, nrows, span, mode)
        for d in deps:
            if not 0 <= d < i:
                raise ValueError(f"task {i}: dependency {d} is not an earlier task")
        self._extras(i, actions, accesses)
        self._append_rows((res, int(dur) if dur > 0 else 0, slot, row, ncols, span, mode, nrows,
                           op, level, nbytes, occ_level, occ_bytes, reps))
        self._act_ptr.append(len(self._act_id))
        self._acc_ptr.append(len(self._acc_res))
        self._dep_idx.extend(deps)
        self._dep_ptr.append(len(self._dep_idx))
        return i

    def _check_burst(self, d: int, ncols: int, nrows: int, span: int, mode: int) -> None:
        """A burst task's shape on DRAM timing `d`: at least one row burst of one column, over no
        more bank groups (banks, for PIM MACs) than the channel has."""
        p = self._dram_params[d]
        if ncols < 1 or nrows < 1 or span < 1:
            raise ValueError(f"DRAM task needs ncols, nrows, span >= 1 (got {ncols}, {nrows}, {span})")
        if mode != MODE_PIM_MAC and span > p[2]:
            raise ValueError(f"span {span} exceeds bank groups {p[2]}")
        if mode == MODE_PIM_MAC and span > p[0]:
            raise ValueError(f"span {span} exceeds banks {p[0]}")

    def dram_tasks(self, shapes, deps=(), op: int = -1, *, slot: int = 0, mode: int = MODE_READ,
                   level: int = -1, nbytes: int = 0, occ_level: int = -1, occ_bytes: int = 0,
                   actions: tuple[tuple[str, float], ...] = (),
                   accesses: tuple[tuple[int, int], ...] = ()) -> list[int]:
        """One transfer over DRAM channel resources: a task per (resource, (nrows, ncols, span))
        of `shapes`, all behind `deps`, the first carrying the bytes, buffer occupancy, actions and
        port accesses. The same tasks as that many `task` calls, checked as they are (a shape once
        per resource and mode: a tile stream's transfers repeat a few)."""
        i = len(self._dep_ptr) - 1
        n = len(shapes)
        if not n:
            return []
        for d in deps:
            if not 0 <= d < i:
                raise ValueError(f"task {i}: dependency {d} is not an earlier task")
        checked = self._checked
        for res, shape in shapes:
            if (res, shape, mode) not in checked:
                d = self._res_dram[res]
                if d < 0:
                    raise ValueError(f"task {i}: resource {res} is not a DRAM channel")
                self._check_burst(d, shape[1], shape[0], shape[2], mode)
                checked.add((res, shape, mode))
        self._extras(i, actions, accesses)        # the first task's; the others have none
        res, (nrows, ncols, span) = shapes[0]
        first = (res, 0, slot, 0, ncols, span, mode, nrows, op, level, nbytes, occ_level, occ_bytes, 1)
        if n > 1:
            self._append_rows(first + tuple(chain.from_iterable(
                (r, 0, slot, 0, nc, sp, mode, nr, op, level, 0, -1, 0, 1)
                for r, (nr, nc, sp) in shapes[1:])))
        else:
            self._append_rows(first)
        self._act_ptr.extend([len(self._act_id)] * n)
        self._acc_ptr.extend([len(self._acc_res)] * n)
        idx, ptr = self._dep_idx, self._dep_ptr
        m = len(deps)
        ptr.extend(range(len(idx) + m, len(idx) + m * n + 1, m) if m else [len(idx)] * n)
        if m:
            idx.extend(list(deps) * n)
        return list(range(i, i + n))

    def plain_tasks(self, res, dur, reps, waits, deps=(), op: int = -1) -> int:
        """Plain tasks without bytes, buffer space, actions or port accesses appended at once (a
        NoC transfer's per-link tasks): task k on resource `res[k]`, busy `dur[k]` ticks for
        `reps[k]` tiles, behind `deps` when `waits[k]` (else behind nothing). The same tasks as
        that many `task` calls, checked as they are. Returns the first one's index."""
        i = self.n_tasks
        n = len(res)
        for d in deps:
            if not 0 <= d < i:
                raise ValueError(f"task {i}: dependency {d} is not an earlier task")
        if n and (min(reps) < 1 or any(self._res_dram[r] >= 0 for r in set(res))):
            raise ValueError(f"task {i}: reps {list(reps)} on resources {list(res)} (plain tasks "
                             f"stand for >= 1 tiles)")
        # rows in `_ROW_FIELDS` order (occ_release: each its own, the default)
        self._append_rows(tuple(chain.from_iterable(
            (r, d if d > 0 else 0, 0, 0, 0, 1, MODE_READ, 1, op, -1, 0, -1, 0, k)
            for r, d, k in zip(res, dur, reps))))
        self._act_ptr.extend([len(self._act_id)] * n)
        self._acc_ptr.extend([len(self._acc_res)] * n)
        idx, ptr = self._dep_idx, self._dep_ptr
        m = len(deps)
        if all(waits):                    # every task behind `deps`
            ptr.extend(range(len(idx) + m, len(idx) + m * n + 1, m) if m else [len(idx)] * n)
            idx.extend(list(deps) * n)
            return i
        for w in waits:
            if w:
                idx.extend(deps)
            ptr.append(len(idx))
        return i

    def join(self, deps, op: int = -1) -> int:
        """A task done when all of `deps` are (zero duration on the join resource, which never
        delays it): dependants wait for it instead of for each of `deps`."""
        if self._join_res < 0:
            self.resource("join", join=True)
        return self.task(self._join_res, 0, deps, op)

    def release(self, task: int, at_finish_of: int) -> None:
        """Task `task`'s buffer space is held until `at_finish_of` finishes (the last call for a
        task counts)."""
        if at_finish_of < task:
            raise ValueError("a buffer is released by a later task")
        self._rel_task.append(task)
        self._rel_at.append(at_finish_of)

    def build(self) -> Trace:
        """The Trace of the tasks so far (the builder can go on: a later `build` has them all)."""
        n = self.n_tasks
        if len(self._rows):
            self._split_chunk()
        fields = self._fields
        arrays = {f: _hand(fields[k], _DTYPES.get(f, np.int64), partial(fields.__setitem__, k))
                  for k, f in enumerate(_ROW_FIELDS)}
        release = np.arange(n, dtype=np.int64)
        if len(self._rel_task):
            tasks = np.frombuffer(self._rel_task, np.int64)
            at = np.frombuffer(self._rel_at, np.int64)
            if tasks.min() < 0 or at.max() >= n:
                raise ValueError(f"a release names a task outside the trace's {n} (tasks "
                                 f"{tasks.min()}..{tasks.max()}, released at {at.min()}..{at.max()})")
            # the last release of a task counts: its first in reverse order
            tasks, first = np.unique(tasks[::-1], return_index=True)
            release[tasks] = at[::-1][first]
        arrays["occ_release"] = release
        params = (np.stack(self._dram_params) if self._dram_params
                  else np.zeros((0, len(PARAM_NAMES)), dtype=np.int64))

        def handed(name: str, dtype) -> np.ndarray:
            return _hand(getattr(self, name), dtype, partial(setattr, self, name))

        return Trace(dep_ptr=handed("_dep_ptr", np.int64), dep_idx=handed("_dep_idx", np.int64),
                     resources=tuple(self._resources),
                     act_ptr=handed("_act_ptr", np.int64), act_id=handed("_act_id", np.int32),
                     act_amount=handed("_act_amount", np.float64),
                     action_names=tuple(self._action_names),
                     res_dram=np.asarray(self._res_dram, dtype=np.int64),
                     dram_params=params, acc_ptr=handed("_acc_ptr", np.int64),
                     acc_res=handed("_acc_res", np.int64), acc_dur=handed("_acc_dur", np.int64),
                     **arrays)


def expand_reps(trace: Trace) -> tuple[Trace, np.ndarray]:
    """The trace with every task of `reps` > 1 written out as that many consecutive tasks (tile k:
    `dur // reps` ticks, one more for the first `dur % reps`; each access split evenly; tile k > 0
    waits for tile k-1; its dependants, buffer releases and actions on the last tile) and, per
    expanded task, the original task it belongs to."""
    b = TraceBuilder()
    lanes = {int(x) for x in trace.acc_res}
    for r, name in enumerate(trace.resources):
        d = int(trace.res_dram[r])
        if r in lanes:
            b._lanes.add(b.resource(name))
        elif d == JOIN:
            b.resource(name, join=True)
        else:
            b.resource(name, trace.dram_params[d] if d >= 0 else None)
    last = np.zeros(trace.n_tasks, dtype=np.int64)
    owner: list[int] = []
    for i in range(trace.n_tasks):
        n = int(trace.reps[i])
        dur = int(trace.dur[i])
        acc = [(int(trace.acc_res[k]), int(trace.acc_dur[k]) // n)
               for k in range(int(trace.acc_ptr[i]), int(trace.acc_ptr[i + 1]))]
        acts = [(trace.action_names[int(trace.act_id[k])], float(trace.act_amount[k]))
                for k in range(int(trace.act_ptr[i]), int(trace.act_ptr[i + 1]))]
        prev = [int(last[j]) for j in trace.deps(i)]
        for k in range(n):
            first = k == 0
            prev = [b.task(int(trace.res[i]), dur // n + (1 if k < dur % n else 0), prev,
                           int(trace.op[i]), slot=int(trace.slot[i]), row=int(trace.row[i]),
                           ncols=int(trace.ncols[i]), span=int(trace.span[i]), mode=int(trace.mode[i]),
                           nrows=int(trace.nrows[i]), level=int(trace.level[i]),
                           nbytes=int(trace.nbytes[i]) if first else 0,
                           occ_level=int(trace.occ_level[i]), occ_bytes=int(trace.occ_bytes[i]),
                           actions=tuple(acts) if k == n - 1 else (), accesses=acc)]
            owner.append(i)
        last[i] = prev[0]
    out = b.build()
    rel = out.occ_release.copy()
    for j, i in enumerate(owner):      # a tile's own share is freed when it is done; space held
        if int(trace.occ_release[i]) != i:     # for a later task, when that task's last tile is
            rel[j] = last[int(trace.occ_release[i])]
    return replace(out, occ_release=rel), np.asarray(owner, dtype=np.int64)
