"""A digest of source files, so results computed by one version of the code are reused only by
that version (co-search study names, the persistent mapping cache). The archsim version plus the
bytes of every matching file, in sorted relative-POSIX-path order: stable across machines and
processes (no timestamps; `__pycache__` ignored), cheap (one read of ~100 small files)."""
from __future__ import annotations

import hashlib
from pathlib import Path

__all__ = ["ROOT", "digest_sources"]

ROOT = Path(__file__).resolve().parents[1]          # the folder holding archsim/, mapper/, …
_SUFFIXES = (".py", ".yaml", ".yml", ".json", ".csv")


def _files(root: Path, sources: tuple[str, ...]) -> list[Path]:
    found: set[Path] = set()
    for pattern in sources:
        for hit in root.glob(pattern):
            candidates = hit.rglob("*") if hit.is_dir() else (hit,)
            found.update(p for p in candidates if p.is_file() and p.suffix in _SUFFIXES
                         and "__pycache__" not in p.parts)
    return sorted(found, key=lambda p: p.relative_to(root).as_posix())


def digest_sources(sources: tuple[str, ...], root: Path | None = None) -> str:
    """12 hex digits of archsim's version and the files under `root` matching `sources` (folders,
    taken whole, and globs, relative to `root`; default the installed tree)."""
    from archsim import __version__
    base = root or ROOT
    h = hashlib.sha256(f"archsim {__version__}\n".encode())
    for path in _files(base, sources):
        h.update(path.relative_to(base).as_posix().encode() + b"\0")
        h.update(path.read_bytes())
        h.update(b"\0")
    return h.hexdigest()[:12]
