"""What a simulation returns. Frozen values; `reports` turns them into tables, JSON, CSV and HTML."""
from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["OpResult", "LevelUse", "Timeline", "SimResult", "SCHEMA_VERSION"]

SCHEMA_VERSION = 1


@dataclass(frozen=True, slots=True)
class OpResult:
    name: str
    kind: str
    unit: str
    cycles: int
    latency_s: float
    start_s: float
    energy_j: float
    macs: int
    flops: int
    bytes_by_level: tuple[tuple[str, int], ...]   # level → bytes moved in/out of it for this op
    bound: str                                     # "compute" | "memory:<level>" | "latency"
    analytic_cycles: int = 0
    layer: int = -1


@dataclass(frozen=True, slots=True)
class LevelUse:
    level: str
    capacity_bytes: int
    peak_buffer_bytes: int
    reads_bytes: int
    writes_bytes: int


@dataclass(frozen=True, slots=True)
class Timeline:
    """Buffer occupancy of one level over time, downsampled: parallel tuples."""
    level: str
    time_s: tuple[float, ...]
    occupancy_bytes: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class SimResult:
    model: str
    hw: str
    hw_kind: str
    phase: str
    batch: int
    seq: int
    context: int
    fidelity: str                                     # "cycle" | "analytic"
    cycles: int
    freq_hz: float
    latency_s: float
    energy_breakdown_j: tuple[tuple[str, float], ...]  # component → joules; sums to energy_j
    levels: tuple[LevelUse, ...]
    ops: tuple[OpResult, ...]
    fits: bool = True
    does_not_fit: str = ""                            # the reason, when fits is False
    tokens: int = 1                                   # tokens (decode/prefill) or inferences produced
    analytic_vs_cycle_gap: float | None = None        # (cycle - analytic) / analytic
    dram_row_hit_rate: float | None = None
    utilization: tuple[tuple[str, float], ...] = ()   # resource → busy fraction
    timelines: tuple[Timeline, ...] = ()
    sim_wall_s: float = 0.0
    dtype: str = ""
    notes: tuple[str, ...] = ()
    devices: int = 1                                  # chips the workload runs on (tensor parallel)

    @property
    def energy_j(self) -> float:
        return sum(v for _, v in self.energy_breakdown_j)

    @property
    def throughput_per_s(self) -> float:
        return self.tokens / self.latency_s if self.latency_s > 0 else 0.0

    @property
    def avg_power_w(self) -> float:
        return self.energy_j / self.latency_s if self.latency_s > 0 else 0.0
