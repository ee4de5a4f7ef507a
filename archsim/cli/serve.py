"""`archsim serve`: requests per second within an SLO, simulated request by request, on any chip.

One rate: a serving run per chip and scheduler. Several rates (`--rate 1,2,4`): a sweep over rates ×
chips × schedulers, locally or on a Dask cluster (`--dask tcp://HOST:PORT`). `--capacity`: the
largest rate meeting the SLO on each chip, compared."""
from __future__ import annotations

import sys

from .outputs import check_output_flags, output_path

__all__ = ["add_parser", "run"]


def _rates(text: str | None) -> list[float] | None:
    from archsim.api import ArgumentError
    if text is None:
        return None
    out = []
    for part in str(text).split(","):
        try:
            value = float(part)
        except ValueError:
            value = -1.0
        if not 0 < value < float("inf"):
            raise ArgumentError(f"--rate: expected positive finite requests/s separated by commas (got {text!r})")
        out.append(value)
    return out


def add_parser(subparsers):
    p = subparsers.add_parser(
        "serve", help="simulate serving: requests/s at an SLO, latency percentiles, energy",
        description="Simulate serving a model request by request (SimPy): arrivals, a batching "
                    "scheduler, a paged KV cache, and every step timed by archsim's own simulation "
                    "of that step on the chip. Reports TTFT, TPOT and end-to-end percentiles, "
                    "throughput, goodput under the SLO and energy per request.")
    p.add_argument("--model", required=True, help="a decoder from the zoo or a config.json")
    p.add_argument("--hw", required=True, nargs="+", metavar="H", help="hardware names or YAML paths")
    load = p.add_argument_group("load")
    load.add_argument("--rate", help="arrival rate in requests/s; several (1,2,4) run a sweep")
    load.add_argument("--capacity", action="store_true",
                      help="find the largest rate meeting the SLO on each chip and compare them")
    load.add_argument("--trace", metavar="FILE",
                      help="CSV/JSONL trace: arrival_s (or arrived_at), prompt_tokens "
                           "(num_prefill_tokens), output_tokens (num_decode_tokens)")
    load.add_argument("--requests", type=int, default=1000, help="requests to simulate (default 1000)")
    load.add_argument("--prompt", type=int, default=512, help="prompt tokens (default 512)")
    load.add_argument("--output", type=int, default=128, help="output tokens (default 128)")
    load.add_argument("--arrival", default="poisson", choices=("poisson", "gamma"))
    load.add_argument("--cv", type=float, default=2.0,
                      help="gamma arrivals: coefficient of variation of the gaps (default 2: bursty)")
    load.add_argument("--seed", type=int, default=0)
    sched = p.add_argument_group("scheduler")
    sched.add_argument("--scheduler", nargs="+", default=["continuous"],
                       choices=("static", "continuous", "chunked", "disaggregated"))
    sched.add_argument("--max-batch", type=int, default=64, help="sequences per step (default 64)")
    sched.add_argument("--token-budget", type=int, default=2048, help="tokens per step (default 2048)")
    sched.add_argument("--block-size", type=int, default=16, help="KV block in tokens (default 16)")
    sched.add_argument("--preemption", default="recompute", choices=("recompute", "swap"))
    sched.add_argument("--devices", type=int, default=1, help="tensor-parallel chips per group")
    sched.add_argument("--decode-devices", type=int, default=None,
                       help="disaggregated: chips in the decode group (default: --devices)")
    sched.add_argument("--decode-hw", default=None, metavar="H",
                       help="disaggregated: the decode group's chip (default: the --hw chip)")
    sched.add_argument("--dtype", default=None, help="e.g. bf16 or weights=int4,activations=bf16")
    slo = p.add_argument_group("SLO")
    slo.add_argument("--ttft-slo", type=float, default=0.2, help="seconds to first token (default 0.2)")
    slo.add_argument("--tpot-slo", type=float, default=0.05, help="seconds per output token (default 0.05)")
    slo.add_argument("--attainment", type=float, default=0.9,
                     help="share of requests that must meet both (default 0.9)")
    p.add_argument("--dask", metavar="ADDRESS", help="run a sweep's points on this Dask scheduler")
    p.add_argument("--jobs", type=int, default=1, help="local processes for a sweep's points")
    out = p.add_argument_group("output")
    out.add_argument("--json", metavar="PATH", type=output_path, help="write JSON to PATH ('-' = stdout)")
    out.add_argument("--csv", metavar="PATH", type=output_path, help="write CSV to PATH ('-' = stdout)")
    out.add_argument("--html", metavar="PATH", type=output_path, help="write a self-contained HTML page to PATH")
    out.add_argument("--quiet", action="store_true", help="no summary")
    return p


def run(args) -> int:
    from archsim.api import ArgumentError
    from archsim.serving import SLO, Scheduler, compare_capacity, serve, serve_sweep
    from archsim.reports.serve_report import write_serve_outputs

    rates = _rates(args.rate)
    check_output_flags(args)                 # an unwritable path is refused before the runs
    if (args.decode_hw or args.decode_devices) and args.scheduler != ["disaggregated"]:
        raise ArgumentError("serve: --decode-hw and --decode-devices apply to --scheduler "
                            "disaggregated alone")
    if not args.capacity and rates is None and args.trace is None:
        raise ArgumentError("serve: give --rate, --trace or --capacity")
    if args.capacity and (rates or args.trace):
        raise ArgumentError("serve: --capacity searches the rate itself; drop --rate/--trace")
    slo = SLO(args.ttft_slo, args.tpot_slo, args.attainment)
    schedulers = [Scheduler(s, max_batch=args.max_batch, token_budget=args.token_budget,
                            block_tokens=args.block_size, preemption=args.preemption)
                  for s in args.scheduler]
    common = dict(requests=args.requests, prompt_tokens=args.prompt, output_tokens=args.output,
                  devices=args.devices, dtype=args.dtype, seed=args.seed)
    say = (lambda *a: None) if args.quiet else (lambda text: print(text, file=sys.stderr))
    progress = None if args.quiet else (lambda kind, a, b: say(
        f"  simulating a {kind} step: {'tokens' if kind == 'prefill' else 'batch'} {a}, "
        f"{'past' if kind == 'prefill' else 'context'} {b}"))
    runs, capacities, sweep = [], [], []
    if args.capacity:
        for sched in schedulers:
            for c in compare_capacity(args.model, args.hw, slo=slo, scheduler=sched,
                                      decode_hw=args.decode_hw, decode_devices=args.decode_devices,
                                      progress=progress, **common):
                capacities.append(c)
                if c.max_rate_rps > 0:
                    runs.append(serve(args.model, c.hw, c.max_rate_rps, scheduler=sched, slo=slo,
                                      table=c.table, **common))
    elif rates is not None and len(rates) > 1:
        if args.trace:
            raise ArgumentError("serve: a sweep over --rate uses synthetic arrivals; drop --trace")
        sweep = list(serve_sweep(args.model, args.hw, schedulers, rates, slo=slo, dask=args.dask,
                                 jobs=args.jobs, progress=progress, **common))
    else:
        for hw in args.hw:
            for sched in schedulers:
                runs.append(serve(args.model, hw, rates[0] if rates else None, scheduler=sched,
                                  slo=slo, trace=args.trace, arrival=args.arrival, cv=args.cv,
                                  decode_hw=args.decode_hw, decode_devices=args.decode_devices,
                                  progress=progress, **common))
    if not args.quiet:
        stream = sys.stderr if "-" in (args.json, args.csv) else sys.stdout
        stream.write(_summary(runs, capacities, sweep, slo))
    write_serve_outputs(runs, capacities, sweep, args.json, args.csv, args.html)
    return 0


def _ms(x) -> str:
    return f"{x * 1e3:.3g}"


def _summary(runs, capacities, sweep, slo) -> str:
    lines = []
    if capacities:
        lines.append(f"requests/s at the SLO (TTFT ≤ {_ms(slo.ttft_s)} ms and TPOT ≤ {_ms(slo.tpot_s)} ms "
                     f"for {slo.attainment:.0%} of requests):")
        for c in capacities:
            extra = ""
            if c.at_max is not None:
                extra = (f"  (TTFT p90 {_ms(c.at_max.ttft_s[1][1])} ms, TPOT p90 "
                         f"{_ms(c.at_max.tpot_s[1][1])} ms, {c.at_max.energy_per_request_j:.3g} J/request)")
            elif c.probes:
                extra = "  (misses the SLO at every rate tried)"
            lines.append(f"  {c.hw:<14} {c.scheduler.policy:<13} {c.max_rate_rps:10.4g} req/s  "
                         f"saturates at {c.saturated_rps:.4g}{extra}")
    for r in runs if not capacities else ():
        m = r.metrics
        lines.append(f"{r.hw} · {r.scheduler.policy} · {r.rate_rps:.4g} req/s offered: "
                     f"{m.throughput_rps:.4g} req/s served, goodput {m.goodput_rps:.4g} req/s "
                     f"({m.slo_attainment:.0%} within the SLO)")
        lines.append(f"  TTFT p50/p90/p99 {'/'.join(_ms(v) for _, v in m.ttft_s)} ms · TPOT "
                     f"{'/'.join(_ms(v) for _, v in m.tpot_s)} ms · E2E {'/'.join(_ms(v) for _, v in m.e2e_s)} ms")
        lines.append(f"  {m.energy_per_request_j:.3g} J/request, {m.energy_per_token_j * 1e3:.3g} mJ/token, "
                     f"KV peak {m.kv_peak_fraction:.0%}, {m.preemptions} preemptions, "
                     f"{m.rejected} rejected; step-time interpolation error "
                     f"{_err(r.table)}")
    if sweep:
        lines.append(f"{'hw':<14} {'scheduler':<13} {'rate':>8} {'served':>8} {'goodput':>8} "
                     f"{'TTFT p90 ms':>12} {'TPOT p90 ms':>12}")
        for p in sweep:
            m = p.metrics
            lines.append(f"{p.hw:<14} {p.scheduler:<13} {p.rate_rps:8.4g} {m['throughput_rps']:8.4g} "
                         f"{m['goodput_rps']:8.4g} {_ms(m['ttft_s_p90']):>12} {_ms(m['tpot_s_p90']):>12}")
    return "\n".join(lines) + "\n"


def _err(table) -> str:
    e = table.interpolation_error()
    return "not measured" if e["median"] is None else f"{e['median']:.2%} median, {e['max']:.2%} max"
