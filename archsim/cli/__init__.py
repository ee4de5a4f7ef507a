"""The `archsim` command: a thin dispatcher. Each subcommand lives in its own module here with
`add_parser(subparsers)` (argparse only, cheap) and `run(args) -> int` (imports the heavy parts
lazily). Together with `archsim/api/` this package is the one composition root allowed to import
`workloads`, `mapper` and `reports`.

Errors: every `ArchsimError`, a file that cannot be read or written (`OSError`) and a wrong flag
(argparse) are printed as one `archsim: error: ...` line on stderr with exit code 2. Anything else
is a bug in archsim: one `archsim: internal error: ...` line and exit code 1 (`--traceback` shows
where).
"""
from __future__ import annotations

import argparse
import importlib
import re
import sys

__all__ = ["main", "COMMANDS"]

#: subcommand name → module under archsim.cli
COMMANDS = {
    "models": "models",
    "graph": "graph",
    "hw": "hw",
    "map": "map",
    "simulate": "simulate",
    "compare": "compare",
    "cosearch": "cosearch",
    "serve": "serve",
    "reproduce": "reproduce",
    "warmup": "warmup",
}


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors: `archsim: error: simulate: argument --batch: ...`, exit 2.
    Subcommand parsers inherit the class (argparse builds them with `type(parent)`)."""

    def error(self, message: str):
        command = self.prog.removeprefix("archsim").strip()
        where = f"{command}: " if command else ""
        choice = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)$", message)
        if choice:
            from archsim.errors import did_you_mean
            hint = did_you_mean(choice.group(1), re.findall(r"'([^']*)'", choice.group(2)))
            message += f"; {hint}" if hint else ""
        from archsim.errors import printable
        self.exit(2, f"archsim: error: {printable(where + message)} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="archsim",
        description="How a Transformer runs on a chip: latency, energy and on-chip buffer use on "
                    "PIM, FPGA, NPU, MCU, GPU and CPU.",
    )
    from archsim import __version__
    parser.add_argument("--version", action="version", version=f"archsim {__version__}")
    parser.add_argument("--traceback", action="store_true",
                        help="on an internal error, print the Python traceback (for bug reports)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module in COMMANDS.items():
        try:
            mod = importlib.import_module(f"archsim.cli.{module}")
        except ModuleNotFoundError as exc:
            if exc.name != f"archsim.cli.{module}":
                raise
            continue  # subcommand not built yet
        p = mod.add_parser(sub)
        p.set_defaults(_run=mod.run, _parser=p)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help()
        return 0
    if getattr(args, "no_cache", False):
        from archsim.mapper.persistent_cache import bypassed
        with bypassed():       # ARCHSIM_NO_CACHE=1 while the command runs (and in its workers)
            return _run(args)
    return _run(args)


def _run(args) -> int:
    from archsim.errors import ArchsimError, printable
    import warnings
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _show_warning
            from archsim.cli.warmup import warm_on_first_use
            warm_on_first_use(args.command)
            return int(args._run(args) or 0)
    except ArchsimError as exc:
        for line in str(exc).splitlines() or [type(exc).__name__]:
            print(f"archsim: error: {printable(line)}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0
    except OSError as exc:                   # unreadable / unwritable file, directory given, ...
        print(f"archsim: error: {printable(_os_error(exc))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("archsim: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:                 # a bug, not bad input: one line unless --traceback
        if args.traceback:
            raise
        text = " ".join(str(exc).split()) or "no message"
        print(f"archsim: internal error: {type(exc).__name__}: {printable(text[:300])} (a bug in archsim; "
              f"rerun with `archsim --traceback {args.command} ...` and report it)", file=sys.stderr)
        return 1


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Warnings as one `archsim: warning: ...` line (a lint problem of a loaded description)."""
    print(f"archsim: warning: {message}", file=sys.stderr)


def _os_error(exc: OSError) -> str:
    """'FILE: problem' for an OSError ('adir: is a directory', 'out.json: permission denied')."""
    if isinstance(exc, FileNotFoundError):
        problem = "no such file"
    elif isinstance(exc, IsADirectoryError):
        problem = "is a directory, expected a file"
    elif isinstance(exc, NotADirectoryError):
        problem = "a part of the path is not a directory"
    elif isinstance(exc, PermissionError):
        problem = "permission denied"
    else:
        problem = (exc.strerror or str(exc)).lower()
    return f"{exc.filename}: {problem}" if exc.filename else problem


if __name__ == "__main__":
    sys.exit(main())
