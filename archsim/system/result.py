"""What a system simulation returns: the system's latency and energy, per device and per link, the
scheduled timeline, and the device each device's own single-chip result came from."""
from __future__ import annotations

from dataclasses import dataclass

from archsim.result import SimResult

__all__ = ["DeviceUse", "LinkUse", "MemoryUse", "TaskSpan", "SystemResult", "as_sim_result"]


@dataclass(frozen=True, slots=True)
class DeviceUse:
    """One device over the whole run: busy time (sum of its ops' durations), utilisation (busy /
    system latency), energy (its ops' dynamic and active energy plus its static power over the
    whole system latency) and off-chip bytes; `results` are its single-chip results, one per
    distinct sub-batch size."""
    name: str
    chip: str
    ops: int
    busy_s: float
    utilization: float
    energy_j: float
    energy_breakdown_j: tuple[tuple[str, float], ...]
    offchip_bytes: int
    results: tuple[SimResult, ...]


@dataclass(frozen=True, slots=True)
class LinkUse:
    """One link direction (`a->b`) or the shards' all-reduce network."""
    name: str
    bytes: int
    busy_s: float
    utilization: float
    energy_j: float
    transfers: int


@dataclass(frozen=True, slots=True)
class MemoryUse:
    """A DRAM several devices share: how long its channels served host traffic (reads, writes,
    transfers over its pins) and PIM all-bank work, the mode changes between them and their time."""
    name: str
    devices: tuple[str, ...]
    busy_s: float                # host_s + pim_s + switch_s
    utilization: float
    host_s: float
    pim_s: float
    switches: int
    switch_s: float


@dataclass(frozen=True, slots=True)
class TaskSpan:
    resource: str            # device name, 'link:NAME:A->B', 'allreduce:NAME' or 'memory:NAME'
    name: str
    kind: str                # an op kind, 'transfer', 'allreduce', or 'memory host' / 'memory pim'
                             # (a task's hold of a shared memory, mode change included)
    sub_batch: int
    start_s: float
    finish_s: float


@dataclass(frozen=True, slots=True)
class SystemResult:
    system: str
    model: str
    phase: str
    batch: int
    seq: int
    context: int
    fidelity: str
    placement: str                       # the policy as run ('search' resolved to what it found)
    sub_batches: int
    layer_pipelining: bool
    overlap: bool
    shards: int
    latency_s: float
    tokens: int
    devices: tuple[DeviceUse, ...]
    links: tuple[LinkUse, ...]
    spans: tuple[TaskSpan, ...]
    bound_by: str                        # the device, link or shared memory ('memory:NAME') busiest
    fits: bool = True
    does_not_fit: str = ""
    notes: tuple[str, ...] = ()
    searched: tuple[tuple[str, float], ...] = ()   # placement search: (policy, latency_s) tried
    sim_wall_s: float = 0.0
    stream_chunks: int = 1                         # slices each op streams in (1: whole ops)
    memories: tuple[MemoryUse, ...] = ()           # shared memories (time-shared channels)

    @property
    def energy_breakdown_j(self) -> tuple[tuple[str, float], ...]:
        """Per device and component ('pim:dram_background') and per link, all shards counted."""
        out = [(f"{d.name}:{k}", v) for d in self.devices for k, v in d.energy_breakdown_j]
        out += [(f"link:{lk.name}", lk.energy_j) for lk in self.links]
        return tuple(out)

    @property
    def energy_j(self) -> float:
        return sum(v for _, v in self.energy_breakdown_j)

    @property
    def throughput_per_s(self) -> float:
        return self.tokens / self.latency_s if self.latency_s > 0 else 0.0

    def device(self, name: str) -> DeviceUse:
        for d in self.devices:
            if d.name == name:
                return d
        raise KeyError(name)


def as_sim_result(r: SystemResult) -> SimResult:
    """The system as one `SimResult` (what `compare`, CSV and the single-chip report sections
    read): ops as scheduled, each on 'device/unit' (suffixed '#s' per sub-batch when split), link
    transfers and all-reduces as ops on their link, energy per 'device:component' and link,
    memory levels per 'device/level', utilisation per device and link."""
    from dataclasses import replace
    from archsim.result import LevelUse, OpResult
    by_device = {d.name: d for d in r.devices}
    lookup: dict[tuple[str, str, int], object] = {}
    for d in r.devices:
        for res in d.results:
            for op in res.ops:
                lookup[(d.name, op.name, res.batch)] = op
    split = r.sub_batches > 1
    parts = [r.batch // r.sub_batches + (1 if i < r.batch % r.sub_batches else 0)
             for i in range(r.sub_batches)]
    ops = []
    for sp in r.spans:
        if sp.kind.startswith("memory "):
            continue                    # a shared memory's hold: the op itself is listed already
        tag = f"#{sp.sub_batch}" if split else ""
        if sp.kind in ("transfer", "allreduce"):
            ops.append(OpResult(name=sp.name + tag, kind=sp.kind, unit=sp.resource, cycles=0,
                                latency_s=sp.finish_s - sp.start_s, start_s=sp.start_s, energy_j=0.0,
                                macs=0, flops=0, bytes_by_level=(), bound="link"))
            continue
        op_name, _, piece = sp.name.rpartition("[") if sp.name.endswith("]") else (sp.name, "", "")
        base = lookup.get((sp.resource, op_name, parts[sp.sub_batch]))
        share = 1.0
        if base is None and split:      # an FC whose weight read the sub-batches share: its rows
            base = lookup.get((sp.resource, op_name, r.batch))    # of the one full-batch op
            share = parts[sp.sub_batch] / r.batch
        if base is None:
            continue
        slice_tag = f"[{piece}" if piece else ""
        ops.append(replace(base, name=base.name + slice_tag + tag, unit=f"{sp.resource}/{base.unit}",
                           energy_j=base.energy_j * share / r.stream_chunks,
                           start_s=sp.start_s, latency_s=sp.finish_s - sp.start_s))
    levels = tuple(LevelUse(f"{d.name}/{lv.level}", lv.capacity_bytes, lv.peak_buffer_bytes,
                            lv.reads_bytes * r.shards, lv.writes_bytes * r.shards)
                   for d in r.devices for lv in (d.results[0].levels if d.results else ()))
    util = tuple((d.name, d.utilization) for d in r.devices) + tuple((lk.name, lk.utilization) for lk in r.links) \
        + tuple((f"memory:{m.name}", m.utilization) for m in r.memories)
    first = next((res for d in r.devices for res in d.results), None)
    notes = (f"system {r.system}: placement '{r.placement}', {r.sub_batches} sub-batch(es), "
             f"bound by {r.bound_by}",) + r.notes
    for name, d in by_device.items():
        for res in d.results:
            notes += tuple(f"{name}: {n}" for n in res.notes)
    return SimResult(
        model=r.model, hw=r.system, hw_kind="system", phase=r.phase, batch=r.batch, seq=r.seq,
        context=r.context, fidelity=r.fidelity, cycles=0, freq_hz=first.freq_hz if first else 1.0,
        latency_s=r.latency_s, energy_breakdown_j=r.energy_breakdown_j, levels=levels,
        ops=tuple(ops), fits=r.fits, does_not_fit=r.does_not_fit, tokens=r.tokens, utilization=util,
        sim_wall_s=r.sim_wall_s, dtype=first.dtype if first else "", notes=tuple(dict.fromkeys(notes)),
        devices=r.shards, dram_model=first.dram_model if first else "")
