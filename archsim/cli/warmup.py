"""`archsim warmup`: compile every Numba kernel once (a fresh install pays a few seconds per kernel
family on its first use; Numba keeps the machine code in its on-disk cache, so later processes
only load it). Runs a tiny simulation of each chip kind at both fidelities, with the persistent
mapping cache bypassed so the search kernels run too; prints one progress line per step.

When it has run, a stamp beside Numba's cache (`archsim/kernels/__pycache__/warmup.stamp`: a
digest of the kernels' sources, Python's and Numba's versions) makes the next `archsim warmup` a
no-op (`--force` runs it again) and lets a simulating command know the kernels are compiled; an
interactive first run without it warms up first, with its progress lines (`warm_on_first_use`).
Deleting `__pycache__` (after editing a kernel) removes the stamp with the caches."""
from __future__ import annotations

import hashlib
import sys
import time
from pathlib import Path

__all__ = ["add_parser", "run", "STEPS", "is_warm", "warm_on_first_use", "stamp_path"]

_KERNELS = Path(__file__).resolve().parents[1] / "kernels"
#: commands that simulate, and so use the kernels
USES_KERNELS = ("simulate", "compare", "sweep", "map", "serve", "cosearch", "reproduce")

#: (chip, fidelity, model, phase, tokens, DRAM path or None for the default): together they
#: reach every kernel and code path (both DRAM paths of the cycle engine)
STEPS = (
    ("h200-sxm", "analytic", "gpt2-small", "decode", 64, None),
    ("pim-gpt", "cycle", "gpt2-small", "prefill", 32, None),
    ("tpu-v1", "cycle", "gpt2-small", "prefill", 32, "burst"),
    ("zcu102", "cycle", "deit-tiny", "encode", None, None),
    ("stm32f746", "cycle", "deit-tiny", "encode", None, None),
)


def add_parser(subparsers):
    p = subparsers.add_parser(
        "warmup", help="compile the simulator's kernels once, ahead of the first real run",
        description="Compile every Numba kernel now (a few seconds each, once per install) so "
                    "the first simulation is as fast as the next ones.")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    p.add_argument("--force", action="store_true",
                   help="run the warm-up even when the kernels are marked compiled already")
    return p


def stamp_path() -> Path:
    return _KERNELS / "__pycache__" / "warmup.stamp"


def _digest() -> str:
    """What the compiled kernels depend on: their sources and Python's version
    (`archsim.kernels.source_digest`), and Numba's version."""
    from importlib.metadata import PackageNotFoundError, version
    from archsim.kernels import source_digest
    try:
        numba = version("numba")
    except PackageNotFoundError:
        numba = ""
    return hashlib.sha256(f"{source_digest()} {numba}".encode()).hexdigest()[:16]


def is_warm() -> bool:
    """True when `archsim warmup` has run for these kernel sources (the stamp matches)."""
    try:
        return stamp_path().read_text(encoding="utf-8").strip() == _digest()
    except OSError:
        return False


def _mark_warm() -> None:
    try:
        stamp_path().parent.mkdir(exist_ok=True)
        stamp_path().write_text(_digest() + "\n", encoding="utf-8")
    except OSError:
        pass            # a read-only install: the warm-up just runs again next time


def warm_on_first_use(command: str) -> None:
    """Before a simulating command's first run, compile the kernels with progress lines (an
    interactive terminal only: scripts and CI run `archsim warmup` themselves, as the README says)."""
    if command not in USES_KERNELS or not sys.stderr.isatty() or is_warm():
        return
    print("archsim: first run: compiling the simulator's kernels once (`archsim warmup`)",
          file=sys.stderr, flush=True)
    warm_up(quiet=False)


def run(args) -> int:
    if is_warm() and not args.force:
        if not args.quiet:
            print(f"archsim warmup: kernels already compiled (remove {stamp_path()} or pass "
                  "--force to run it again)", file=sys.stderr)
        return 0
    return warm_up(args.quiet)


def warm_up(quiet: bool) -> int:
    from archsim import api
    from archsim.mapper.persistent_cache import bypassed
    start = time.perf_counter()
    with bypassed():       # search for real: the search kernels compile too
        for i, (chip, fidelity, model, phase, tokens, dram_model) in enumerate(STEPS, start=1):
            t0 = time.perf_counter()
            if not quiet:
                print(f"archsim warmup [{i}/{len(STEPS)}] {model} on {chip}, {fidelity} ...",
                      end="", file=sys.stderr, flush=True)
            kw = {"context": tokens} if phase == "decode" else {"seq": tokens}
            if dram_model is not None:
                kw["dram_model"] = dram_model
            api.simulate(model, chip, phase=phase, fidelity=fidelity, **kw)
            if not quiet:
                print(f" {time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True)
        from archsim.mapper.search import warm_kernels
        warm_kernels()       # the ask/tell entry points (searches with a progress callback)
    _mark_warm()
    if not quiet:
        print(f"archsim warmup: kernels compiled and cached in {time.perf_counter() - start:.1f} s",
              file=sys.stderr)
    return 0
