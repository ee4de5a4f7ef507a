"""A digest of the simulator that evaluates co-search trials, so a study's results are only reused by
the simulator that produced them: the archsim version plus the bytes of every file the evaluation
reads (the engine, kernels, mapper, workloads, the hardware loader and library, the energy tables and
the trial glue). Any edit gives a new digest, hence a new study name; an unchanged tree resumes.

Cheap (< 50 ms: ~100 small files, read once per process) and stable across machines and processes
(relative POSIX paths in sorted order; no timestamps; `__pycache__` ignored)."""
from __future__ import annotations

import functools
import hashlib
from pathlib import Path

__all__ = ["simulator_fingerprint", "EVALUATION_SOURCES"]

_ROOT = Path(__file__).resolve().parents[2]          # the folder holding archsim/, mapper/, …
_SUFFIXES = (".py", ".yaml", ".yml", ".json", ".csv")

#: folders (every file under them) and file globs, relative to the project root
EVALUATION_SOURCES = (
    "archsim/engine", "archsim/kernels", "mapper", "workloads", "hwconfigs",
    "archsim/hardware/*.py", "archsim/energy*.py", "archsim/ir.py",
    "archsim/units.py", "archsim/api.py", "archsim/studies/cosearch_eval.py",
)


def _files(root: Path) -> list[Path]:
    found: set[Path] = set()
    for pattern in EVALUATION_SOURCES:
        for hit in root.glob(pattern):
            candidates = hit.rglob("*") if hit.is_dir() else (hit,)
            found.update(p for p in candidates if p.is_file() and p.suffix in _SUFFIXES
                         and "__pycache__" not in p.parts)
    return sorted(found, key=lambda p: p.relative_to(root).as_posix())


@functools.lru_cache(maxsize=None)
def simulator_fingerprint(root: str | None = None) -> str:
    """12 hex digits identifying archsim's version and evaluation code (the installed tree)."""
    from archsim import __version__
    base = Path(root) if root else _ROOT
    h = hashlib.sha256(f"archsim {__version__}\n".encode())
    for path in _files(base):
        h.update(path.relative_to(base).as_posix().encode() + b"\0")
        h.update(path.read_bytes())
        h.update(b"\0")
    return h.hexdigest()[:12]
