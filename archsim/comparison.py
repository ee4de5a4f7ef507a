"""Results of many simulations side by side: a `Comparison` of chips normalised to a baseline, and a
`Sweep` of one model on one chip over contexts and batch sizes. Frozen values built by pure
functions; `archsim.api` fills them, `reports` renders them."""
from __future__ import annotations

from dataclasses import dataclass

from .result import SimResult

__all__ = ["ComparisonRow", "Comparison", "Sweep", "compare_results", "FALLBACK_PREFIXES"]

#: how `archsim.engine.notes` starts a fallback note
FALLBACK_PREFIXES = ("fallback: ", "dtype fallback: ")


@dataclass(frozen=True, slots=True)
class ComparisonRow:
    """One chip's result plus the columns normalised to the baseline. Ratios are None when this chip
    or the baseline does not fit, or when a quantity is unknown (area 0 = not stated)."""
    result: SimResult
    area_mm2: float = 0.0
    tech_node_nm: float = 0.0
    speedup: float | None = None                  # baseline latency / this latency
    energy_efficiency: float | None = None        # baseline J per token / this J per token
    perf_per_w: float | None = None               # tokens (or inferences) per joule
    perf_per_w_vs_baseline: float | None = None
    perf_per_mm2: float | None = None             # tokens (or inferences) per second per mm²
    perf_per_mm2_vs_baseline: float | None = None

    @property
    def hw(self) -> str:
        return self.result.hw

    @property
    def fallbacks(self) -> tuple[str, ...]:
        """The result's notes of ops run on a fallback unit or at another dtype's rate."""
        return tuple(n for n in self.result.notes if n.startswith(FALLBACK_PREFIXES))


@dataclass(frozen=True, slots=True)
class Comparison:
    model: str
    baseline: str
    rows: tuple[ComparisonRow, ...]
    assumptions: tuple[tuple[str, str], ...] = ()   # what every row shares: dtype, batch, phase, …
    notes: tuple[str, ...] = ()

    def row(self, hw: str) -> ComparisonRow:
        for r in self.rows:
            if r.hw == hw:
                return r
        raise KeyError(hw)


@dataclass(frozen=True, slots=True)
class Sweep:
    """One model on one chip over a grid of `parameters` (e.g. ("context",) or ("batch", "context")).
    `results` are in grid order: the last parameter varies fastest."""
    model: str
    hw: str
    parameters: tuple[str, ...]
    results: tuple[SimResult, ...]


def _ratio(num: float | None, den: float | None) -> float | None:
    if num is None or den is None or den <= 0 or num <= 0:
        return None
    return num / den


def _energy_per_token_j(r: SimResult) -> float | None:
    return r.energy_j / r.tokens if r.fits and r.tokens > 0 and r.energy_j > 0 else None


def compare_results(results: tuple[SimResult, ...] | list[SimResult], baseline: str,
                    areas_mm2: dict[str, float] | None = None,
                    tech_nodes_nm: dict[str, float] | None = None) -> Comparison:
    """Normalise `results` (one per chip, same workload) to the result whose `hw` is `baseline`."""
    results = tuple(results)
    if not results:
        raise ValueError("compare_results needs at least one result")
    names = [r.hw for r in results]
    if baseline not in names:
        raise ValueError(f"baseline {baseline!r} is not among the compared chips {names}")
    areas_mm2 = areas_mm2 or {}
    tech_nodes_nm = tech_nodes_nm or {}
    base = results[names.index(baseline)]
    notes: list[str] = []
    if not base.fits:
        notes.append(f"baseline {baseline} does not fit the workload; normalised columns are empty")

    def perf_per_w(r: SimResult) -> float | None:
        e = _energy_per_token_j(r)
        return 1.0 / e if e else None

    def perf_per_mm2(r: SimResult) -> float | None:
        area = areas_mm2.get(r.hw, 0.0)
        return r.throughput_per_s / area if r.fits and area > 0 and r.latency_s > 0 else None

    base_lat = base.latency_s if base.fits and base.latency_s > 0 else None
    rows = []
    for r in results:
        lat = r.latency_s if r.fits and r.latency_s > 0 else None
        ppw, ppa = perf_per_w(r), perf_per_mm2(r)
        rows.append(ComparisonRow(
            result=r,
            area_mm2=float(areas_mm2.get(r.hw, 0.0)),
            tech_node_nm=float(tech_nodes_nm.get(r.hw, 0.0)),
            speedup=_ratio(base_lat, lat),
            energy_efficiency=_ratio(_energy_per_token_j(base), _energy_per_token_j(r)),
            perf_per_w=ppw,
            perf_per_w_vs_baseline=_ratio(ppw, perf_per_w(base)),
            perf_per_mm2=ppa,
            perf_per_mm2_vs_baseline=_ratio(ppa, perf_per_mm2(base)),
        ))
    for row in rows:          # a row timed with fallbacks is flagged (*) and says which
        notes += [f"{row.hw} (*): {n}" for n in row.fallbacks]
    first = results[0]
    dtypes = sorted({r.dtype for r in results if r.dtype})
    techs = ", ".join(f"{r.hw}: {tech_nodes_nm[r.hw]:g} nm" for r in results
                      if tech_nodes_nm.get(r.hw))
    assumptions = (
        ("phase", first.phase), ("batch", str(first.batch)), ("seq", str(first.seq)),
        ("context", str(first.context)), ("dtype", ", ".join(dtypes) or "model default"),
        ("fidelity", first.fidelity), ("technology", techs or "not stated"),
        ("throughput unit", "tokens/s" if first.phase in ("prefill", "decode") else "inferences/s"),
    ) + ((("devices", f"{first.devices} per chip kind, tensor parallel (area and energy of all)"),)
         if first.devices > 1 else ())
    return Comparison(model=first.model, baseline=baseline, rows=tuple(rows),
                      assumptions=assumptions, notes=tuple(notes))
