"""A digest of the simulator that evaluates co-search trials, so a study's results are only reused by
the simulator that produced them: the archsim version plus the bytes of every file the evaluation
reads (the engine, kernels, mapper, workloads, the hardware loader and library, the energy tables and
the trial glue). Any edit gives a new digest, hence a new study name; an unchanged tree resumes.

Cheap (< 50 ms: ~100 small files, read once per process) and stable across machines and processes
(see `archsim.fingerprint`)."""
from __future__ import annotations

import functools
from pathlib import Path

from archsim.fingerprint import digest_sources

__all__ = ["simulator_fingerprint", "EVALUATION_SOURCES"]

#: folders (every file under them) and file globs, relative to the project root
EVALUATION_SOURCES = (
    "archsim/engine", "archsim/kernels", "mapper", "workloads", "hwconfigs",
    "archsim/hardware/*.py", "archsim/energy", "archsim/ir.py",
    "archsim/units.py", "archsim/api", "archsim/studies/cosearch_eval.py",
)


@functools.lru_cache(maxsize=None)
def simulator_fingerprint(root: str | None = None) -> str:
    """12 hex digits identifying archsim's version and evaluation code (the installed tree)."""
    return digest_sources(EVALUATION_SOURCES, Path(root) if root else None)
