"""Serving simulation speed and step-time interpolation error, against their targets. Prints one
JSON line.

    python benchmarks/serve.py [--model llama2-7b] [--hw h100-sxm] [--requests 10000]

- requests simulated per second once the step times are cached (target ≥ 10,000 requests/s):
  `run_serving` of `--requests` Poisson requests (512-token prompts, 128 output tokens) at 80% of
  the saturated rate, best of `--repeat`, for each scheduler (the headline: continuous batching).
  The simulation is single-threaded, so its process CPU time is its wall time on an idle core; the
  headline uses CPU time because a shared machine (the load average is in the JSON) stretches the
  wall time by the other processes' share. Both are reported;
- the interpolation error of the step table (target ≤ 3% median): latency at `--checks` off-grid
  shapes, interpolated vs simulated directly by archsim.

The step table is built first (its points are simulated once and cached on disk; the build time
is reported separately and is not part of the rate).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TARGET_RPS = 10_000
TARGET_MEDIAN_ERROR = 0.03


def main() -> None:
    from archsim.serving import Scheduler, build_step_table, poisson, run_serving, summarize
    from archsim.serving.capacity import saturated_throughput
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="llama2-7b")
    ap.add_argument("--hw", default="h100-sxm")
    ap.add_argument("--requests", type=int, default=10_000)
    ap.add_argument("--prompt", type=int, default=512)
    ap.add_argument("--output", type=int, default=128)
    ap.add_argument("--max-batch", type=int, default=64)
    ap.add_argument("--checks", type=int, default=12)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    start = time.perf_counter()
    table = build_step_table(args.model, args.hw, max_batch=args.max_batch, max_prefill_tokens=2048,
                             max_context=args.prompt + args.output, checks=args.checks)
    build_s = time.perf_counter() - start
    per_scheduler = {}
    for policy in ("static", "continuous", "chunked", "disaggregated"):
        sched = Scheduler(policy, max_batch=args.max_batch)
        if policy == "disaggregated" and table.link_bytes_per_s <= 0:
            per_scheduler[policy] = None            # the chip has no link to move KV over
            continue
        probe = poisson(1.0, min(args.requests, 2000), args.prompt, args.output, seed=0)
        rate = 0.8 * saturated_throughput(probe, table, sched)
        reqs = poisson(rate, args.requests, args.prompt, args.output, seed=0)
        best_wall = best_cpu = float("inf")
        for _ in range(args.repeat):
            t0, c0 = time.perf_counter(), time.process_time()
            run = run_serving(reqs, table, sched)
            best_wall = min(best_wall, time.perf_counter() - t0)
            best_cpu = min(best_cpu, time.process_time() - c0)
        m = summarize(run)
        assert m.finished + m.rejected == args.requests
        per_scheduler[policy] = {"requests_per_cpu_s": round(args.requests / best_cpu),
                                 "requests_per_wall_s": round(args.requests / best_wall),
                                 "offered_rps": round(rate, 3), "steps": m.steps,
                                 "throughput_rps": round(m.throughput_rps, 3)}
    err = table.interpolation_error()
    headline = per_scheduler["continuous"]["requests_per_cpu_s"]
    print(json.dumps({
        "benchmark": "serve", "model": args.model, "hw": args.hw, "requests": args.requests,
        "requests_simulated_per_cpu_s": headline, "target_requests_per_s": TARGET_RPS,
        "load_average_1min": round(os.getloadavg()[0], 2), "cpus": os.cpu_count(),
        "per_scheduler": per_scheduler,
        "interpolation_median_error": err["median"], "interpolation_max_error": err["max"],
        "interpolation_checks": err["points"], "target_median_error": TARGET_MEDIAN_ERROR,
        "interpolation_by_kind": {k: err[k] for k in ("decode", "prefill")},
        "grid_points": len(table.points), "table_build_s": round(build_s, 1),
        "within_target": headline >= TARGET_RPS and (err["median"] or 1) <= TARGET_MEDIAN_ERROR,
    }, sort_keys=True))


if __name__ == "__main__":
    main()
