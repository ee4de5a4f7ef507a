"""The Python API, equal to the CLI: `simulate`, `sweep`, `compare`, `build_graph`.

The composition root of the pipeline: workloads → (archsim.hardware) → mapper → archsim.engine. Every
stage is imported inside the function that needs it, so `import archsim` stays cheap.

    >>> import archsim
    >>> r = archsim.simulate("gpt2-xl", "pim-gpt", phase="decode", context=1024)
    >>> r.latency_s, r.energy_j, r.fits

A workload that cannot fit a chip is not an exception: the result has `fits=False` and
`does_not_fit` names the level, the tensor and the shortfall. Bad input (unknown model or chip,
contradictory arguments) raises an `archsim.errors.ArchsimError` with a one-line message.

Modules: `arguments` (what a caller hands the API, checked with one-line errors), `run` (one
workload point: build, map, simulate), `compare` (a sweep over shapes, a comparison over chips).
"""
from __future__ import annotations

from .arguments import FIDELITIES, PHASES, ArgumentError, resolve_phase
from .compare import compare, sweep
from .run import build_graph, dtype_label, kv_footprint, simulate, simulate_graph

__all__ = ["simulate", "sweep", "compare", "build_graph", "kv_footprint", "ArgumentError", "PHASES",
           "FIDELITIES", "dtype_label", "resolve_phase", "simulate_graph"]
