"""`Cost`: what one op (or a sum of ops) costs under a mapping. Costs add (`a + b`)."""
from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Cost"]


def _merge(a: tuple[tuple[str, float], ...], b: tuple[tuple[str, float], ...]):
    out: dict[str, float] = dict(a)
    for k, v in b:
        out[k] = out.get(k, 0.0) + v
    return tuple(out.items())


@dataclass(frozen=True, slots=True)
class Cost:
    """Analytical cost. `reads_bytes` / `writes_bytes` are per memory level (outermost first).
    `bound` is "compute", "memory:<level>" or "ports:<level>" (the on-chip level whose ports
    bound the op: `engine.ports`); `utilization` is MACs ÷ (cycles × MAC lanes); `port_s` is the
    op's bytes through on-chip ports at their rate (the engine's analytic `port_seconds`)."""
    cycles: int
    energy_pj: float
    reads_bytes: tuple[tuple[str, float], ...] = ()
    writes_bytes: tuple[tuple[str, float], ...] = ()
    utilization: float = 0.0
    bound: str = "compute"
    latency_s: float = 0.0
    compute_cycles: int = 0
    macs: int = 0
    port_s: float = 0.0

    @property
    def energy_j(self) -> float:
        return self.energy_pj * 1e-12

    @property
    def edp(self) -> float:
        return self.cycles * self.energy_pj

    def reads(self, level: str) -> float:
        return dict(self.reads_bytes).get(level, 0.0)

    def writes(self, level: str) -> float:
        return dict(self.writes_bytes).get(level, 0.0)

    def __add__(self, other: "Cost") -> "Cost":
        if not isinstance(other, Cost):
            return NotImplemented
        cycles = self.cycles + other.cycles
        util = ((self.utilization * self.cycles + other.utilization * other.cycles) / cycles
                if cycles else 0.0)
        return Cost(
            cycles=cycles, energy_pj=self.energy_pj + other.energy_pj,
            reads_bytes=_merge(self.reads_bytes, other.reads_bytes),
            writes_bytes=_merge(self.writes_bytes, other.writes_bytes),
            utilization=util,
            bound=self.bound if self.cycles >= other.cycles else other.bound,
            latency_s=self.latency_s + other.latency_s,
            compute_cycles=self.compute_cycles + other.compute_cycles,
            macs=self.macs + other.macs, port_s=self.port_s + other.port_s,
        )

    def to_json(self) -> dict:
        return {
            "cycles": self.cycles, "latency_s": self.latency_s, "energy_j": self.energy_j,
            "compute_cycles": self.compute_cycles,
            "reads": {k: int(v) for k, v in self.reads_bytes},
            "writes": {k: int(v) for k, v in self.writes_bytes},
            "utilization": round(self.utilization, 6), "bound": self.bound,
        }


ZERO = Cost(cycles=0, energy_pj=0.0)
