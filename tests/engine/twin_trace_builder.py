"""The task-trace builder's plain-list twin: `archsim.engine.trace.TraceBuilder` as it was before
it kept its tasks in arrays (per task a tuple in a list, a Python int per dependency; ~500 bytes a
task while lowering). `test_trace_builder.py` checks the array-backed builder builds exactly its
arrays; kept verbatim but for its name, so a change to the builder's output shows up there."""
from __future__ import annotations

from itertools import chain

import numpy as np

from archsim.engine.dram import PARAM_NAMES
from archsim.engine.trace import _INT_FIELDS, JOIN, MODE_PIM_MAC, MODE_READ, Trace

__all__ = ["ListTraceBuilder"]


class ListTraceBuilder:
    """The builder as it was before it became array-backed: append tasks one by one (plain
    Python lists of tuples), then `build()` the arrays."""

    def __init__(self):
        self._rows: list[tuple] = []                  # per task: its _INT_FIELDS but occ_release
        self._release: dict[int, int] = {}            # task → the task whose finish frees its buffer
        self._dep_ptr: list[int] = [0]
        self._dep_idx: list[int] = []
        self._resources: list[str] = []
        self._res_dram: list[int] = []
        self._dram_params: list[np.ndarray] = []
        self._act_ptr: list[int] = [0]
        self._act_id: list[int] = []
        self._act_amount: list[float] = []
        self._action_names: dict[str, int] = {}
        self._acc_ptr: list[int] = [0]
        self._acc_res: list[int] = []
        self._acc_dur: list[int] = []
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
        self._rows.append((res, int(dur) if dur > 0 else 0, slot, row, ncols, span, mode, nrows, op,
                           level, nbytes, occ_level, occ_bytes, reps))
        self._extras(i, actions, accesses)
        self._act_ptr.append(len(self._act_id))
        self._acc_ptr.append(len(self._acc_res))
        self._dep_idx.extend(deps)            # task ids (int; `build` converts to int64)
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
        i = len(self._rows)
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
        res, (nrows, ncols, span) = shapes[0]
        rows = self._rows
        rows.append((res, 0, slot, 0, ncols, span, mode, nrows, op, level, nbytes, occ_level,
                     occ_bytes, 1))
        if n > 1:
            rows.extend([(r, 0, slot, 0, nc, sp, mode, nr, op, level, 0, -1, 0, 1)
                         for r, (nr, nc, sp) in shapes[1:]])
        self._extras(i, actions, accesses)        # the first task's; the others have none
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
        # rows in `_INT_FIELDS` order without occ_release (each its own: the default)
        self._rows.extend([(r, d if d > 0 else 0, 0, 0, 0, 1, MODE_READ, 1, op, -1, 0, -1, 0, k)
                           for r, d, k in zip(res, dur, reps)])
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
        """Task `task`'s buffer space is held until `at_finish_of` finishes."""
        if at_finish_of < task:
            raise ValueError("a buffer is released by a later task")
        self._release[task] = at_finish_of

    def build(self) -> Trace:
        dt = {"res": np.int32, "mode": np.int8, "level": np.int16, "occ_level": np.int16,
              "op": np.int32, "span": np.int32, "ncols": np.int32, "reps": np.int32}
        fields = [f for f in _INT_FIELDS if f != "occ_release"]
        # fromiter over the flattened rows: about twice as fast as np.array on millions of tuples
        table = np.fromiter(chain.from_iterable(self._rows), np.int64,
                            len(self._rows) * len(fields)).reshape(len(self._rows), len(fields))
        arrays = {f: table[:, k].astype(dt.get(f, np.int64)) for k, f in enumerate(fields)}
        release = np.arange(len(self._rows), dtype=np.int64)
        if self._release:
            release[np.fromiter(self._release.keys(), np.int64, len(self._release))] = \
                np.fromiter(self._release.values(), np.int64, len(self._release))
        arrays["occ_release"] = release
        params = (np.stack(self._dram_params) if self._dram_params
                  else np.zeros((0, len(PARAM_NAMES)), dtype=np.int64))
        return Trace(dep_ptr=np.fromiter(self._dep_ptr, np.int64, len(self._dep_ptr)),
                     dep_idx=np.fromiter(self._dep_idx, np.int64, len(self._dep_idx)),
                     resources=tuple(self._resources),
                     act_ptr=np.fromiter(self._act_ptr, np.int64, len(self._act_ptr)),
                     act_id=np.asarray(self._act_id, dtype=np.int32),
                     act_amount=np.asarray(self._act_amount, dtype=np.float64),
                     action_names=tuple(self._action_names),
                     res_dram=np.asarray(self._res_dram, dtype=np.int64),
                     dram_params=params, acc_ptr=np.fromiter(self._acc_ptr, np.int64, len(self._acc_ptr)),
                     acc_res=np.asarray(self._acc_res, dtype=np.int64),
                     acc_dur=np.asarray(self._acc_dur, dtype=np.int64), **arrays)
