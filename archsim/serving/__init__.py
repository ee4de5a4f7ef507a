"""Serving: how many requests per second a chip serves within latency SLOs, and at what energy.

A discrete-event simulation on SimPy above the simulator: requests arrive (`arrivals`), a scheduler
batches them (`scheduler`) into steps over a paged KV cache (`kvcache`), and each step's latency and
energy is archsim's own simulation of that step's shape, cached and interpolated (`steptime`); the
serving layer never models hardware. `metrics` turns a run into percentiles, goodput and energy;
`capacity` sweeps the arrival rate for the largest one meeting the SLO, compares chips there and
runs sweeps over rates × chips × schedulers locally or on a Dask cluster.
"""
from __future__ import annotations

from .capacity import CapacityResult, SweepPoint, compare_capacity, serve_sweep, slo_capacity
from .arrivals import Request, gamma, load_trace, poisson
from .kvcache import PagedKVCache
from .metrics import SLO, ServeMetrics, summarize
from .scheduler import POLICIES, PREEMPTIONS, Scheduler
from .service import ServeResult, make_requests, serve, step_tables
from .sim import Finished, ServeRun, run_serving
from .steptime import StepPoint, StepTable, build_step_table

__all__ = [
    "Request", "gamma", "load_trace", "poisson", "PagedKVCache", "SLO", "ServeMetrics", "summarize",
    "POLICIES", "PREEMPTIONS", "Scheduler", "ServeResult", "make_requests", "serve", "step_tables",
    "CapacityResult", "SweepPoint", "compare_capacity", "serve_sweep", "slo_capacity",
    "Finished", "ServeRun", "run_serving", "StepPoint", "StepTable", "build_step_table",
]
