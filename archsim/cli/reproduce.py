"""`archsim reproduce [STUDY|all]`: run the seed papers' reproduction studies and print the published
number, archsim's number and their ratio side by side; optionally write JSON, HTML and the Markdown
validation report (docs/validation.md is generated with `--markdown docs/validation.md`)."""
from __future__ import annotations

from .outputs import add_cache_flag, output_path

__all__ = ["add_parser", "run"]


def add_parser(subparsers):
    from archsim.studies.registry import list_studies   # cheap: names only

    p = subparsers.add_parser(
        "reproduce", help="reproduce the seed papers' results and report the agreement",
        description="Run reproduction studies (" + ", ".join(list_studies()) + ") and print published "
                    "vs archsim vs ratio, with each row's agreement band. A study whose pipeline "
                    "stage is missing is reported as not run, with what it waits for.")
    p.add_argument("study", nargs="*", default=["all"], metavar="STUDY",
                   help="study names, or 'all' (default)")
    p.add_argument("--json", metavar="PATH", type=output_path, help="write the results as JSON ('-' for stdout)")
    p.add_argument("--html", metavar="PATH", type=output_path, help="write a self-contained HTML validation report")
    p.add_argument("--markdown", metavar="PATH", type=output_path, help="write the Markdown validation report")
    p.add_argument("--list", action="store_true", help="list the studies and exit")
    p.add_argument("--strict", action="store_true",
                   help="exit 1 when a study is out of band or errors (for CI)")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    add_cache_flag(p)
    return p


def _check_names(names, studies) -> None:
    """An unknown study name, said the way argparse says a bad choice."""
    from archsim.api import ArgumentError
    from archsim.errors import did_you_mean
    for name in names:
        if name != "all" and name not in studies:
            hint = did_you_mean(name, studies)
            raise ArgumentError(f"unknown study {name!r}{'; ' + hint if hint else ''} "
                                f"(choose from {', '.join(list(studies) + ['all'])})")


def _check_outputs(args) -> None:
    """Every output path writable, before the studies run (they take minutes)."""
    from archsim.api import ArgumentError
    from .outputs import unwritable
    for flag in ("json", "html", "markdown"):
        target = getattr(args, flag)
        if target and target != "-":
            problem = unwritable(target)
            if problem:
                raise ArgumentError(f"--{flag} {target}: {problem}")
    if args.html == "-" or args.markdown == "-":
        raise ArgumentError("only --json can go to stdout ('-'); give --html and --markdown a file path")


def run(args) -> int:
    import json
    import sys
    from pathlib import Path

    from archsim.studies.markdown import render_markdown, render_text
    from archsim.studies.registry import STUDIES, resolve, run_studies
    from archsim.studies.study import as_dict

    if args.list:
        for name in STUDIES:
            print(name)
        return 0
    _check_names(args.study, STUDIES)
    names = resolve(args.study)
    _check_outputs(args)
    to_stdout = args.json == "-"
    log = sys.stderr

    def progress(name):
        if not args.quiet:
            print(f"archsim reproduce: running {name} …", file=log, flush=True)

    results = run_studies(names, progress=progress)
    out = sys.stderr if to_stdout else sys.stdout
    for res in results:
        print(render_text(res), file=out)
        print(file=out)
    if args.json:
        text = json.dumps({"studies": [as_dict(r) for r in results]}, indent=2, sort_keys=False)
        if to_stdout:
            print(text)
        else:
            Path(args.json).parent.mkdir(parents=True, exist_ok=True)
            Path(args.json).write_text(text + "\n")
    if args.markdown:
        cmd = "archsim reproduce " + " ".join(args.study) + f" --markdown {args.markdown}"
        Path(args.markdown).parent.mkdir(parents=True, exist_ok=True)
        Path(args.markdown).write_text(render_markdown(results, command=cmd))
    if args.html:
        from archsim.reports.validation_html import write_validation_html
        Path(args.html).parent.mkdir(parents=True, exist_ok=True)
        write_validation_html([as_dict(r) for r in results], args.html)
    if args.strict and any(r.status in ("out-of-band", "error") for r in results):
        return 1
    return 0
