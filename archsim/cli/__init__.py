"""The `archsim` command: a thin dispatcher. Each subcommand lives in its own module here with
`add_parser(subparsers)` (argparse only, cheap) and `run(args) -> int` (imports the heavy parts
lazily). Together with `archsim/api.py` this package is the one composition root allowed to import
`workloads`, `mapper` and `reports`.

Errors: every `ArchsimError` is printed as `archsim: error: ...` on stderr with exit code 2.
"""
from __future__ import annotations

import argparse
import importlib
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
    "reproduce": "reproduce",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="archsim",
        description="How a Transformer runs on a chip: latency, energy and on-chip buffer use on "
                    "PIM, FPGA, NPU, MCU, GPU and CPU.",
    )
    from archsim import __version__
    parser.add_argument("--version", action="version", version=f"archsim {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module in COMMANDS.items():
        try:
            mod = importlib.import_module(f"archsim.cli.{module}")
        except ModuleNotFoundError as exc:
            if exc.name != f"archsim.cli.{module}":
                raise
            continue  # subcommand not built yet
        p = mod.add_parser(sub)
        p.set_defaults(_run=mod.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help()
        return 0
    from archsim.errors import ArchsimError
    try:
        return int(args._run(args) or 0)
    except ArchsimError as exc:
        for line in str(exc).splitlines() or [type(exc).__name__]:
            print(f"archsim: error: {line}", file=sys.stderr)
        return 2
    except FileNotFoundError as exc:
        print(f"archsim: error: {exc.filename or exc}: no such file", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0
    except KeyboardInterrupt:
        print("archsim: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
