"""Serving metrics from a `ServeRun`: latency percentiles, throughput, goodput under SLOs, energy.

- TTFT: arrival → first token. TPOT: a request's mean time per output token after the first,
  (finish − first token) / (output − 1). ITL: the longest gap between two of a request's tokens
  (its p99 across requests is the tail a streaming user sees). E2E: arrival → last token.
- Throughput: finished requests (and output tokens) per second of the run (first arrival → last
  finish). Goodput (DistServe's definition): requests per second that met both SLOs; attainment is
  their share of all arrived requests (a rejected request misses its SLO).
- Energy: every step's energy, split over its sequences by the tokens each processed in it; idle
  time between steps is not charged.
"""
from __future__ import annotations

from dataclasses import dataclass

from .sim import ServeRun

__all__ = ["SLO", "ServeMetrics", "summarize", "percentile", "PERCENTILES"]

PERCENTILES = (50, 90, 99)


@dataclass(frozen=True, slots=True)
class SLO:
    ttft_s: float = 0.2                # the example: 200 ms to first token
    tpot_s: float = 0.05               # and 50 ms per output token
    attainment: float = 0.9            # share of requests that must meet both (DistServe uses 90%)

    def __post_init__(self):
        from ..api import ArgumentError
        for name in ("ttft_s", "tpot_s"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not v > 0:
                raise ArgumentError(f"SLO {name} must be a positive number of seconds (got {v!r})")
        if not 0 < self.attainment <= 1:
            raise ArgumentError(f"SLO attainment must be in (0, 1] (got {self.attainment!r})")


@dataclass(frozen=True, slots=True)
class ServeMetrics:
    requests: int
    finished: int
    rejected: int
    duration_s: float
    throughput_rps: float
    output_tokens_per_s: float
    ttft_s: tuple[tuple[int, float], ...]        # (percentile, seconds)
    tpot_s: tuple[tuple[int, float], ...]
    itl_max_s: tuple[tuple[int, float], ...]
    e2e_s: tuple[tuple[int, float], ...]
    ttft_mean_s: float
    slo: SLO
    slo_attainment: float
    goodput_rps: float
    meets_slo: bool
    energy_j: float
    energy_per_request_j: float
    energy_per_token_j: float
    preemptions: int
    kv_peak_fraction: float
    kv_mean_fraction: float
    steps: int
    busy_fraction: float

    def as_dict(self) -> dict:
        out = {}
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if name == "slo":
                value = {"ttft_s": value.ttft_s, "tpot_s": value.tpot_s, "attainment": value.attainment}
            elif isinstance(value, tuple):
                value = {f"p{p}": v for p, v in value}
            out[name] = value
        return out


def percentile(sorted_values: list[float], p: float) -> float:
    """The p-th percentile by linear interpolation between order statistics (numpy's default)."""
    if not sorted_values:
        return float("nan")
    k = (len(sorted_values) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (k - lo)


def _pcts(values) -> tuple[tuple[int, float], ...]:
    values = sorted(values)
    return tuple((p, percentile(values, p)) for p in PERCENTILES)


def tpot(f) -> float | None:
    return (f.finish_s - f.first_token_s) / (f.output_tokens - 1) if f.output_tokens > 1 else None


def summarize(run: ServeRun, slo: SLO = SLO(), first_arrival_s: float = 0.0) -> ServeMetrics:
    done = run.finished
    end = max((f.finish_s for f in done), default=first_arrival_s)
    duration = max(end - first_arrival_s, 1e-12)
    tpots = [t for t in (tpot(f) for f in done) if t is not None]
    met = sum(1 for f in done if f.first_token_s - f.arrival_s <= slo.ttft_s
              and (tpot(f) or 0.0) <= slo.tpot_s)
    tokens = sum(f.output_tokens for f in done)
    attainment = met / run.arrived if run.arrived else 0.0
    kv = [u for _, u in run.kv_samples]
    return ServeMetrics(
        requests=run.arrived, finished=len(done), rejected=len(run.rejected), duration_s=duration,
        throughput_rps=len(done) / duration, output_tokens_per_s=tokens / duration,
        ttft_s=_pcts(f.first_token_s - f.arrival_s for f in done), tpot_s=_pcts(tpots),
        itl_max_s=_pcts(f.max_itl_s for f in done), e2e_s=_pcts(f.finish_s - f.arrival_s for f in done),
        ttft_mean_s=sum(f.first_token_s - f.arrival_s for f in done) / len(done) if done else float("nan"),
        slo=slo, slo_attainment=attainment, goodput_rps=met / duration,
        meets_slo=attainment >= slo.attainment, energy_j=run.energy_j,
        energy_per_request_j=run.energy_j / len(done) if done else float("nan"),
        energy_per_token_j=run.energy_j / tokens if tokens else float("nan"),
        preemptions=len(run.preemption_times_s), kv_peak_fraction=max(kv, default=0.0),
        kv_mean_fraction=sum(kv) / len(kv) if kv else 0.0, steps=run.steps,
        busy_fraction=min(1.0, run.busy_s / duration))
