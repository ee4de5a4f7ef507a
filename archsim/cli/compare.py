"""`archsim compare`: the same workload on several chips of any kinds, normalised to a baseline
(speedup, energy efficiency, perf/W, perf/mm² where area is known), with the assumptions listed and,
at cycle fidelity, each chip's analytic-vs-cycle gap by named part."""
from __future__ import annotations

from .outputs import add_hw_set_flag, add_output_flags, check_output_flags, emit, hw_overrides, stem
from .simulate import add_workload_flags, workload_args

__all__ = ["add_parser", "run"]


def add_parser(subparsers):
    p = subparsers.add_parser(
        "compare", help="compare one workload across chips",
        description="Run the same workload on several chips and normalise to a baseline. A chip "
                    "the model does not fit is a row saying so, with the shortfall.")
    add_workload_flags(p)
    p.add_argument("--hw", required=True, nargs="+", metavar="H",
                   help="hardware library names or YAML paths; a system's name (hwconfigs/systems/, "
                        "e.g. attacc-dgx-h100) or YAML runs that system")
    p.add_argument("--baseline", help="the chip to normalise to (default: the first --hw)")
    add_hw_set_flag(p)
    add_output_flags(p)
    return p


def run(args) -> int:
    from archsim import api
    from archsim.reports.progress import ProgressBar

    kw = workload_args(args)
    overrides = hw_overrides(args.hw_set)
    check_output_flags(args)
    for flag in ("batch", "seq", "context"):
        values = kw[flag]
        if values is not None and len(values) > 1:
            raise api.ArgumentError(f"--{flag}: compare takes one value (got {len(values)}); "
                                    "use `archsim simulate` for a sweep")
        kw[flag] = values[0] if values else None
    with ProgressBar(quiet=args.quiet, unit=" ops") as bar:
        # --attribute-gap (a workload flag): each chip's DRAM effect shares, at --fidelity cycle
        comparison = api.compare(args.model, args.hw, baseline=args.baseline, progress=bar,
                                 hw_overrides=overrides, attribute_gap=args.attribute_gap, **kw)
    first = comparison.rows[0].result
    return emit(comparison, args, f"{stem(comparison.model or args.model)}_{first.phase}_compare")
