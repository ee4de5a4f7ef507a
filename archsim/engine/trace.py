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
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .dram import PARAM_NAMES

__all__ = ["Trace", "TraceBuilder", "MODE_READ", "MODE_WRITE", "MODE_PIM_MAC"]

MODE_READ, MODE_WRITE, MODE_PIM_MAC = 0, 1, 2

_INT_FIELDS = ("res", "dur", "slot", "row", "ncols", "span", "mode", "nrows", "op", "level",
               "nbytes", "occ_level", "occ_bytes", "occ_release")


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

    def __post_init__(self):
        empty = {"acc_ptr": np.zeros(self.n_tasks + 1, np.int64), "acc_res": np.zeros(0, np.int64),
                 "acc_dur": np.zeros(0, np.int64)}
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

    def action_counts(self) -> dict[str, float]:
        """Σ amount per action over all tasks (timing-independent actions)."""
        sums = np.bincount(self.act_id, weights=self.act_amount, minlength=len(self.action_names))
        return {name: float(v) for name, v in zip(self.action_names, sums) if v}


class TraceBuilder:
    """Append tasks one by one (plain Python lists), then `build()` the arrays."""

    def __init__(self):
        self._cols: dict[str, list[int]] = {f: [] for f in _INT_FIELDS}
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

    def resource(self, name: str, dram_params: np.ndarray | None = None) -> int:
        self._resources.append(name)
        if dram_params is None:
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

    def task(self, res: int, dur: int = 0, deps=(), op: int = -1, *, slot: int = 0, row: int = 0,
             ncols: int = 0, span: int = 1, mode: int = MODE_READ, nrows: int = 1,
             level: int = -1, nbytes: int = 0, occ_level: int = -1, occ_bytes: int = 0,
             actions: tuple[tuple[str, float], ...] = (),
             accesses: tuple[tuple[int, int], ...] = ()) -> int:
        i = self.n_tasks
        c = self._cols
        if self._res_dram[res] >= 0:
            p = self._dram_params[self._res_dram[res]]
            if ncols < 1 or nrows < 1 or span < 1:
                raise ValueError(f"DRAM task needs ncols, nrows, span >= 1 (got {ncols}, {nrows}, {span})")
            if mode != MODE_PIM_MAC and span > p[2]:
                raise ValueError(f"span {span} exceeds bank groups {p[2]}")
            if mode == MODE_PIM_MAC and span > p[0]:
                raise ValueError(f"span {span} exceeds banks {p[0]}")
        for d in deps:
            if not 0 <= d < i:
                raise ValueError(f"task {i}: dependency {d} is not an earlier task")
        for name, v in (("res", res), ("dur", max(0, int(dur))), ("slot", slot), ("row", row),
                        ("ncols", ncols), ("span", span), ("mode", mode), ("nrows", nrows),
                        ("op", op), ("level", level), ("nbytes", nbytes), ("occ_level", occ_level),
                        ("occ_bytes", occ_bytes), ("occ_release", i)):
            c[name].append(int(v))
        for name, amount in actions:
            self._act_id.append(self._action_names.setdefault(name, len(self._action_names)))
            self._act_amount.append(float(amount))
        self._act_ptr.append(len(self._act_id))
        for port, ticks in accesses:
            if port not in self._lanes:
                raise ValueError(f"task {i}: access to {port}, which is not an on-chip port")
            if ticks > 0:
                self._acc_res.append(int(port))
                self._acc_dur.append(int(ticks))
        self._acc_ptr.append(len(self._acc_res))
        self._dep_idx.extend(int(d) for d in deps)
        self._dep_ptr.append(len(self._dep_idx))
        return i

    def release(self, task: int, at_finish_of: int) -> None:
        """Task `task`'s buffer space is held until `at_finish_of` finishes."""
        if at_finish_of < task:
            raise ValueError("a buffer is released by a later task")
        self._cols["occ_release"][task] = at_finish_of

    def build(self) -> Trace:
        dt = {"res": np.int32, "mode": np.int8, "level": np.int16, "occ_level": np.int16,
              "op": np.int32, "span": np.int32, "ncols": np.int32}
        arrays = {f: np.asarray(v, dtype=dt.get(f, np.int64)) for f, v in self._cols.items()}
        params = (np.stack(self._dram_params) if self._dram_params
                  else np.zeros((0, len(PARAM_NAMES)), dtype=np.int64))
        return Trace(dep_ptr=np.asarray(self._dep_ptr, dtype=np.int64),
                     dep_idx=np.asarray(self._dep_idx, dtype=np.int64),
                     resources=tuple(self._resources),
                     act_ptr=np.asarray(self._act_ptr, dtype=np.int64),
                     act_id=np.asarray(self._act_id, dtype=np.int32),
                     act_amount=np.asarray(self._act_amount, dtype=np.float64),
                     action_names=tuple(self._action_names),
                     res_dram=np.asarray(self._res_dram, dtype=np.int64),
                     dram_params=params, acc_ptr=np.asarray(self._acc_ptr, dtype=np.int64),
                     acc_res=np.asarray(self._acc_res, dtype=np.int64),
                     acc_dur=np.asarray(self._acc_dur, dtype=np.int64), **arrays)
