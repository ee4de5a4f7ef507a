"""A cheap, deterministic stand-in for the real trial evaluator. The co-search machinery is
model-agnostic, so storage, resume, Dask dispatch, constraints and Pareto logic are tested against
this analytic function; the real lower → map → simulate glue is tested in test_glue.py.

Env knobs (inherited by pool and Dask worker processes): ARCHSIM_TOY_SLEEP_S slows each evaluation;
ARCHSIM_TOY_LOG appends one JSON line per finished evaluation (to prove nothing is evaluated twice).
"""
from __future__ import annotations

import json
import os
import time

from archsim.cosearch import space_from_dict
from archsim.errors import ModelError

TOY_SPACE = {
    "name": "toy",
    "model": "toy-model",
    "hardware": "toy-chip",
    "model_params": {"x": {"low": 0.0, "high": 1.0}, "n": {"low": 1, "high": 8}},
    "hw_params": {"bw": [1, 2, 4], "y": {"low": 0.0, "high": 1.0}},
    "constraints": {"peak_sram_bytes": {"max": 6000}},
    "objectives": {"latency_s": "minimize", "energy_j": "minimize"},
}


def toy_space(**changes):
    return space_from_dict({**TOY_SPACE, **changes})


def toy_evaluate(params: dict) -> dict:
    x, n, bw, y = params["model.x"], params["model.n"], params["hw.bw"], params["hw.y"]
    sleep_s = float(os.environ.get("ARCHSIM_TOY_SLEEP_S", "0"))
    if sleep_s:
        time.sleep(sleep_s)
    metrics = {
        "latency_s": n * (1.0 + x) / bw + 0.1 * y,
        "energy_j": n * (2.0 - x) * bw * 0.1 + (1.0 - y) ** 2,
        "peak_sram_bytes": 1000.0 * n * (1.0 + x),
        "area_mm2": bw * (1.0 + y),
    }
    log = os.environ.get("ARCHSIM_TOY_LOG")
    if log:
        with open(log, "a") as fh:
            fh.write(json.dumps({"params": params, "pid": os.getpid()}, sort_keys=True) + "\n")
    if n == 7 and bw == 4:
        raise ModelError("toy: n=7 cannot run at bw=4")     # an infeasible corner, like a bad shape
    return metrics
