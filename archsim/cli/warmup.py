"""`archsim warmup`: compile every Numba kernel once (a fresh install pays a few seconds per kernel
family on its first use; Numba keeps the machine code in its on-disk cache, so later processes
only load it). Runs a tiny simulation of each chip kind at both fidelities, with the persistent
mapping cache bypassed so the search kernels run too; prints one progress line per step."""
from __future__ import annotations

import os
import sys
import time

__all__ = ["add_parser", "run", "STEPS"]

#: (chip, fidelity, model, phase, tokens): together they reach every kernel and code path
STEPS = (
    ("h200-sxm", "analytic", "gpt2-small", "decode", 64),
    ("pim-gpt", "cycle", "gpt2-small", "prefill", 32),
    ("tpu-v1", "cycle", "gpt2-small", "prefill", 32),
    ("zcu102", "cycle", "deit-tiny", "encode", None),
    ("stm32f746", "cycle", "deit-tiny", "encode", None),
)


def add_parser(subparsers):
    p = subparsers.add_parser(
        "warmup", help="compile the simulator's kernels once, ahead of the first real run",
        description="Compile every Numba kernel now (a few seconds each, once per install) so "
                    "the first simulation is as fast as the next ones.")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    return p


def run(args) -> int:
    from archsim import api
    old = os.environ.get("ARCHSIM_NO_CACHE")
    os.environ["ARCHSIM_NO_CACHE"] = "1"       # search for real: the search kernels compile too
    start = time.perf_counter()
    try:
        for i, (chip, fidelity, model, phase, tokens) in enumerate(STEPS, start=1):
            t0 = time.perf_counter()
            if not args.quiet:
                print(f"archsim warmup [{i}/{len(STEPS)}] {model} on {chip}, {fidelity} ...",
                      end="", file=sys.stderr, flush=True)
            kw = {"context": tokens} if phase == "decode" else {"seq": tokens}
            api.simulate(model, chip, phase=phase, fidelity=fidelity, **kw)
            if not args.quiet:
                print(f" {time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True)
    finally:
        if old is None:
            os.environ.pop("ARCHSIM_NO_CACHE", None)
        else:
            os.environ["ARCHSIM_NO_CACHE"] = old
    if not args.quiet:
        print(f"archsim warmup: kernels compiled and cached in {time.perf_counter() - start:.1f} s",
              file=sys.stderr)
    return 0
