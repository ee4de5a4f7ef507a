"""`archsim cosearch`: model shape × hardware × mapping multi-objective search → a Pareto table in the
terminal, JSON and an HTML report. Resumable (SQLite by default); `--scheduler tcp://HOST:PORT`
evaluates trials on a Dask cluster."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from .outputs import add_cache_flag, output_path

__all__ = ["add_parser", "run"]


def add_parser(subparsers):
    p = subparsers.add_parser(
        "cosearch", help="multi-objective model × hardware × mapping search",
        description="Search model-shape and hardware parameters together (each trial: lower → map → "
                    "simulate at analytic fidelity), keep the feasible Pareto front, re-simulate it at "
                    "cycle fidelity. SPACE is a search-space YAML or a built-in name "
                    "(mcuformer-stm32f746, pim-decode, npu-bert, fpga-vit).")
    p.add_argument("space", metavar="SPACE", nargs="?", help="search-space YAML path or built-in space name")
    p.add_argument("--trials", type=int, default=50, help="complete trials wanted in the study (default 50)")
    p.add_argument("--seed", type=int, default=0, help="sampler seed (default 0)")
    p.add_argument("--sampler", default="nsga2", help="nsga2 (default) | tpe")
    p.add_argument("--storage", help="SQLAlchemy URL of the study database (default: "
                                     "sqlite:///SPACE.cosearch.db in the working directory); "
                                     "an interrupted run resumes from it")
    p.add_argument("--scheduler", metavar="ADDR", help="Dask scheduler address tcp://HOST:PORT: "
                                                        "evaluate trials on that cluster")
    p.add_argument("--jobs", type=int, default=None, help="local worker processes (default: min(batch, CPUs))")
    p.add_argument("--batch", type=int, default=4, help="trials sampled and evaluated together (default 4); "
                                                        "keep it fixed to reproduce a run")
    p.add_argument("--cycle-check", type=int, default=None, metavar="N",
                   help="re-simulate N Pareto designs at cycle fidelity (default all; 0 = skip)")
    p.add_argument("--json", metavar="PATH", type=output_path, help="write the study as JSON ('-' = stdout)")
    p.add_argument("--html", metavar="PATH", type=output_path, help="write an HTML report (Pareto plots, parallel "
                                                  "coordinates, a simulate report per Pareto design)")
    p.add_argument("--list", action="store_true", help="list the built-in spaces and exit")
    p.add_argument("--quiet", action="store_true", help="no progress bar or table")
    add_cache_flag(p)
    return p


def run(args) -> int:
    from archsim.cosearch import list_spaces
    if args.list:
        for name in list_spaces():
            print(name)
        return 0
    from archsim.api import ArgumentError
    if not args.space:
        raise ArgumentError("cosearch: give a SPACE: a search-space YAML or one of " + ", ".join(list_spaces()))
    from .outputs import unwritable
    for flag in ("json", "html"):
        target = getattr(args, flag)
        problem = target and target != "-" and unwritable(target)
        if problem:
            raise ArgumentError(f"--{flag} {target}: {problem}")
    from archsim.errors import printable
    from archsim.studies.cosearch_eval import pareto_table, report_to_dict, rerun_command, run_cosearch
    from archsim.reports.progress import ProgressBar
    from archsim.reports.table import grid

    with ProgressBar(quiet=args.quiet, unit=" trials") as bar:
        report = run_cosearch(args.space, trials=args.trials, seed=args.seed, storage=args.storage,
                              scheduler=args.scheduler, jobs=args.jobs, sampler=args.sampler,
                              batch=args.batch, cycle_check=args.cycle_check,
                              progress=lambda done, total: bar(done, total, "trials"))
    res = report.result
    out = sys.stderr if args.json == "-" else sys.stdout
    if not args.quiet:
        feasible = sum(t.feasible for t in res.trials)
        out.write(printable(f"{res.space.name}: {len(res.trials)} trials ({res.evaluated_now} run now, "
                            f"{feasible} feasible), study {res.study_name} in {res.storage}") + "\n")
        if report.accuracy_label:
            out.write(f"accuracy: {report.accuracy_label}\n")
        if res.pareto:
            header, rows = pareto_table(report)
            out.write(f"Pareto front ({len(rows)} designs):\n")
            out.write(grid(header, rows, right=set(range(1, len(header)))) + "\n")
            out.write("re-run a design on its own:\n")
            for t in res.pareto_trials:
                out.write(printable(f"  {t.number}: {rerun_command(res.space, dict(t.params))}") + "\n")
        else:
            reasons = sorted({t.reason or "violates " + ", ".join(k for k, v in t.violations if v > 0)
                              for t in res.trials if not t.feasible})
            out.write(printable("no feasible design; why: " + "; ".join(reasons[:3])) + "\n")
    if args.json:
        text = json.dumps(report_to_dict(report), indent=2, sort_keys=True) + "\n"
        if args.json == "-":
            sys.stdout.write(text)
        else:
            Path(args.json).parent.mkdir(parents=True, exist_ok=True)
            Path(args.json).write_text(text)
    if args.html:
        from archsim.studies.cosearch_html import write_report_html
        written = write_report_html(report, args.html)
        if not args.quiet:
            out.write(f"wrote {written}\n")
    return 0
