"""What a system simulation returns: the system's latency and energy, per device and per link, the
scheduled timeline, and the device each device's own single-chip result came from."""
from __future__ import annotations

from dataclasses import dataclass

from archsim.result import SimResult

__all__ = ["DeviceUse", "LinkUse", "TaskSpan", "SystemResult"]


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
class TaskSpan:
    resource: str            # device name, 'link:NAME:A->B' or 'allreduce:NAME'
    name: str
    kind: str                # an op kind, 'transfer' or 'allreduce'
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
    bound_by: str                        # the device or link with the most busy time
    fits: bool = True
    does_not_fit: str = ""
    notes: tuple[str, ...] = ()
    searched: tuple[tuple[str, float], ...] = ()   # placement search: (policy, latency_s) tried
    sim_wall_s: float = 0.0

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
