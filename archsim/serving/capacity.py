"""Load: the largest arrival rate a chip serves within an SLO, chips compared there, and sweeps
over rates × chips × schedulers run locally or on a Dask cluster.

`slo_capacity` first measures the saturated throughput (every request arriving at once: the
step-time bound of the scheduler), then bisects the Poisson rate in (0, that throughput) for the
largest rate whose SLO attainment reaches the target: a load at or above saturation has a queue
that grows without bound, though a short run may not show it (hence thousands of requests by
default). The same seed gives the same arrival pattern at every rate, so attainment falls with load
without sampling noise between probes.

`serve_sweep` runs every (chip, scheduler, rate) point as an independent simulation; its points
are dispatched the way co-search dispatches trials (`archsim.cosearch.study.Dispatcher`: in
process, local processes, or a Dask scheduler address), and every point's result is the same
wherever it runs (fixed seeds, step tables built once beforehand and shipped with the point).
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from .arrivals import Request
from .metrics import SLO, ServeMetrics, summarize
from .scheduler import Scheduler
from .service import make_requests, step_tables
from .sim import run_serving
from .steptime import StepTable

__all__ = ["CapacityResult", "slo_capacity", "saturated_throughput", "SweepPoint", "serve_sweep",
           "compare_capacity"]


@dataclass(frozen=True, slots=True)
class CapacityResult:
    model: str
    hw: str
    devices: int
    scheduler: Scheduler
    slo: SLO
    saturated_rps: float               # throughput with every request queued at once
    max_rate_rps: float                # the largest rate probed that meets the SLO (0: none)
    at_max: ServeMetrics | None        # the metrics at that rate
    probes: tuple[tuple[float, float], ...]     # (rate, attainment) of every probe
    table: StepTable

    def as_dict(self) -> dict:
        return {"model": self.model, "hw": self.hw, "devices": self.devices,
                "scheduler": self.scheduler.policy, "slo": {"ttft_s": self.slo.ttft_s,
                                                            "tpot_s": self.slo.tpot_s,
                                                            "attainment": self.slo.attainment},
                "saturated_rps": self.saturated_rps, "max_rate_rps": self.max_rate_rps,
                "at_max": self.at_max.as_dict() if self.at_max else None,
                "probes": [{"rate_rps": r, "slo_attainment": a} for r, a in self.probes],
                "step_table": self.table.as_dict()}


def _at_once(requests) -> tuple[Request, ...]:
    return tuple(replace(r, arrival_s=0.0) for r in requests)


def saturated_throughput(requests, table: StepTable, scheduler: Scheduler,
                         decode_table: StepTable | None = None) -> float:
    """Requests/s when every request is queued at time 0: the scheduler's step-time bound."""
    run = run_serving(_at_once(requests), table, scheduler, decode_table)
    return summarize(run).throughput_rps


def slo_capacity(model, hw, *, slo: SLO = SLO(), scheduler: Scheduler = Scheduler(),
                 requests: int = 2000, prompt_tokens: int = 512, output_tokens: int = 128,
                 devices: int = 1, dtype=None, seed: int = 0, probes: int = 10,
                 decode_hw=None, decode_devices: int | None = None, cache_dir=None,
                 progress=None, table: StepTable | None = None) -> CapacityResult:
    """The largest Poisson arrival rate at which `model` on `hw` meets `slo` (bisection, `probes`
    simulations after the saturation run)."""
    def at(rate):
        return make_requests(rate, requests, prompt_tokens, output_tokens, seed=seed)
    decode = None
    if table is None:
        table, decode = step_tables(model, hw, at(1.0), scheduler, devices, dtype, decode_hw,
                                    decode_devices, cache_dir, progress)
    saturated = saturated_throughput(at(1.0), table, scheduler, decode)
    seen, best, best_metrics = [], 0.0, None
    lo, hi = 0.0, saturated
    for _ in range(probes if saturated > 0 else 0):
        rate = (lo + hi) / 2
        reqs = at(rate)
        m = summarize(run_serving(reqs, table, scheduler, decode), slo, reqs[0].arrival_s)
        seen.append((rate, m.slo_attainment))
        if m.meets_slo:
            best, best_metrics, lo = rate, m, rate
        else:
            hi = rate
    return CapacityResult(model=table.model, hw=table.hw, devices=table.devices,
                          scheduler=scheduler, slo=slo, saturated_rps=saturated, max_rate_rps=best,
                          at_max=best_metrics, probes=tuple(seen), table=table)


def compare_capacity(model, hws, **kw) -> tuple[CapacityResult, ...]:
    """`slo_capacity` of each chip in `hws`, in order."""
    return tuple(slo_capacity(model, hw, **kw) for hw in hws)


@dataclass(frozen=True, slots=True)
class SweepPoint:
    hw: str
    scheduler: str
    rate_rps: float
    metrics: dict                      # ServeMetrics flattened to numbers (see `_point_metrics`)


def _point_metrics(params: dict) -> dict:
    """One sweep point, where it is dispatched (a top-level function: Dask pickles it)."""
    reqs = make_requests(params["rate"], params["requests"], params["prompt_tokens"],
                         params["output_tokens"], seed=params["seed"])
    run = run_serving(reqs, params["table"], params["scheduler"], params.get("decode_table"))
    m = summarize(run, params["slo"], reqs[0].arrival_s).as_dict()
    flat = {}
    for key, value in m.items():
        if isinstance(value, dict):
            flat.update({f"{key}_{k}": v for k, v in value.items() if not isinstance(v, dict)})
        elif isinstance(value, (int, float)):
            flat[key] = float(value)
    return flat


def serve_sweep(model, hws, schedulers, rates, *, slo: SLO = SLO(), requests: int = 500,
                prompt_tokens: int = 512, output_tokens: int = 128, devices: int = 1, dtype=None,
                seed: int = 0, dask: str | None = None, jobs: int = 1, cache_dir=None,
                progress=None) -> tuple[SweepPoint, ...]:
    """Every (chip, scheduler, rate) point, in that order; on the Dask scheduler at `dask`
    (tcp://HOST:PORT) or in `jobs` local processes. Step tables are built here first."""
    from ..cosearch.study import Dispatcher
    scheds = [s if isinstance(s, Scheduler) else Scheduler(s) for s in schedulers]
    probe = make_requests(1.0, requests, prompt_tokens, output_tokens, seed=seed)
    widest = max(scheds, key=lambda s: (s.max_batch, s.token_budget))
    todo, labels = [], []
    for hw in hws:
        table, _ = step_tables(model, hw, probe, widest, devices, dtype, cache_dir=cache_dir,
                               progress=progress)
        for sched in scheds:
            for rate in rates:
                params = {"table": table, "scheduler": sched, "rate": float(rate), "slo": slo,
                          "requests": requests, "prompt_tokens": prompt_tokens,
                          "output_tokens": output_tokens, "seed": seed}
                todo.append((len(todo), params))
                labels.append((table.hw, sched.policy, float(rate)))
    dispatch = Dispatcher(dask, jobs)
    try:
        outcomes = dict(dispatch.run(_point_metrics, todo))
    finally:
        dispatch.close()
    points = []
    for number, (hw_name, policy, rate) in enumerate(labels):
        outcome = outcomes[number]
        if outcome["reason"]:
            from ..api import ArgumentError
            raise ArgumentError(f"serving sweep point {hw_name}/{policy}/{rate}: {outcome['reason']}")
        points.append(SweepPoint(hw_name, policy, rate, outcome["metrics"]))
    return tuple(points)
