"""`serve`: one serving simulation of a model on a chip, from arguments to metrics."""
from __future__ import annotations

from dataclasses import dataclass

from .arrivals import Request, gamma, load_trace
from .metrics import SLO, ServeMetrics, summarize
from .scheduler import Scheduler
from .sim import ServeRun, run_serving
from .steptime import StepTable, build_step_table

__all__ = ["ServeResult", "serve", "make_requests", "step_tables"]

ARRIVALS = ("poisson", "gamma")
KV_SAMPLES = 200                       # (time, used fraction) pairs of KV use kept in the JSON


def _thin(samples, count: int) -> list[list[float]]:
    """Every k-th sample so that at most `count` remain, the last one always kept."""
    step = max(1, -(-len(samples) // count))
    kept = list(samples[::step])
    if samples and kept[-1] != samples[-1]:
        kept.append(samples[-1])
    return [[t, u] for t, u in kept]


@dataclass(frozen=True, slots=True)
class ServeResult:
    model: str
    hw: str
    devices: int
    rate_rps: float                    # offered load (trace: its mean arrival rate)
    scheduler: Scheduler
    metrics: ServeMetrics
    run: ServeRun
    table: StepTable
    decode_table: StepTable | None = None

    def as_dict(self) -> dict:
        s = self.scheduler
        return {"model": self.model, "hw": self.hw, "devices": self.devices, "rate_rps": self.rate_rps,
                "scheduler": {"policy": s.policy, "max_batch": s.max_batch,
                              "token_budget": s.token_budget, "block_tokens": s.block_tokens,
                              "preemption": s.preemption},
                "metrics": self.metrics.as_dict(),
                "kv_over_time": _thin(self.run.kv_samples, KV_SAMPLES),
                "preemption_times_s": list(self.run.preemption_times_s),
                "step_table": self.table.as_dict(),
                "decode_step_table": self.decode_table.as_dict() if self.decode_table else None}


def make_requests(rate_rps: float | None = None, requests: int = 1000, prompt_tokens: int = 512,
                  output_tokens: int = 128, arrival: str = "poisson", cv: float = 1.0,
                  trace=None, seed: int = 0) -> tuple[Request, ...]:
    """The requests of a run: a trace file (its first `requests`) or synthetic arrivals."""
    if trace is not None:
        return load_trace(trace, limit=requests)
    if arrival not in ARRIVALS:
        from ..api import ArgumentError
        from ..errors import did_you_mean
        raise ArgumentError(f"unknown arrival process {arrival!r}; "
                            f"{did_you_mean(arrival, ARRIVALS) or 'choose one of ' + ', '.join(ARRIVALS)}")
    if rate_rps is None:
        from ..api import ArgumentError
        raise ArgumentError("serving needs an arrival rate (requests/s) or a trace file")
    return gamma(rate_rps, requests, prompt_tokens, output_tokens,
                 cv=1.0 if arrival == "poisson" else cv, seed=seed)


def step_tables(model, hw, requests, scheduler: Scheduler, devices: int = 1, dtype=None,
                decode_hw=None, decode_devices: int | None = None, cache_dir=None,
                progress=None) -> tuple[StepTable, StepTable | None]:
    """The step tables a run of `requests` needs: grids sized to its longest prompt and context."""
    max_prompt = max(r.prompt_tokens for r in requests)
    max_context = max(r.prompt_tokens + r.output_tokens for r in requests)
    kw = dict(dtype=dtype, max_batch=scheduler.max_batch, max_context=max_context,
              max_prefill_tokens=max(scheduler.token_budget, max_prompt)
              if scheduler.policy != "static" else max_prompt * scheduler.max_batch,
              cache_dir=cache_dir, progress=progress)
    table = build_step_table(model, hw, devices=devices, **kw)
    decode = None
    if scheduler.policy == "disaggregated" and (decode_hw is not None or decode_devices):
        decode = build_step_table(model, decode_hw if decode_hw is not None else hw,
                                  devices=decode_devices or devices, **kw)
    return table, decode


def serve(model, hw, rate_rps: float | None = None, *, requests: int = 1000,
          prompt_tokens: int = 512, output_tokens: int = 128, arrival: str = "poisson",
          cv: float = 1.0, trace=None, scheduler: str | Scheduler = "continuous",
          max_batch: int = 64, token_budget: int = 2048, block_tokens: int = 16,
          preemption: str = "recompute", devices: int = 1, decode_hw=None,
          decode_devices: int | None = None, dtype=None, slo: SLO = SLO(), seed: int = 0,
          table: StepTable | None = None, cache_dir=None, progress=None) -> ServeResult:
    """Simulate serving `model` on `hw` (or a tensor-parallel group of `devices`): requests arrive
    at `rate_rps` (Poisson, or gamma with coefficient of variation `cv`) or as in a `trace` file,
    a scheduler batches them (`static`, `continuous`, `chunked`, `disaggregated`; see
    `archsim.serving.scheduler`) and every step's time and energy is archsim's simulation of that
    step's shape. Returns latency percentiles, throughput, goodput under `slo` and energy."""
    sched = scheduler if isinstance(scheduler, Scheduler) else Scheduler(
        scheduler, max_batch=max_batch, token_budget=token_budget, block_tokens=block_tokens,
        preemption=preemption)
    reqs = make_requests(rate_rps, requests, prompt_tokens, output_tokens, arrival, cv, trace, seed)
    decode = None
    if table is None:
        table, decode = step_tables(model, hw, reqs, sched, devices, dtype, decode_hw,
                                    decode_devices, cache_dir, progress)
    run = run_serving(reqs, table, sched, decode)
    span = reqs[-1].arrival_s - reqs[0].arrival_s
    rate = rate_rps if rate_rps is not None else ((len(reqs) - 1) / span if span > 0 else float("inf"))
    return ServeResult(model=table.model, hw=table.hw, devices=table.devices, rate_rps=rate,
                       scheduler=sched, metrics=summarize(run, slo, reqs[0].arrival_s), run=run,
                       table=table, decode_table=decode)
