"""A digest of source files, so results computed by one version of the code are reused only by
that version (co-search study names, the persistent mapping cache). The archsim version plus the
bytes of every matching file, in sorted relative-POSIX-path order: stable across machines and
processes (no timestamps; `__pycache__` ignored), cheap (one read of ~100 small files)."""
from __future__ import annotations

import hashlib
from pathlib import Path

__all__ = ["ROOT", "digest_sources"]

ROOT = Path(__file__).resolve().parents[1]          # the folder holding archsim/ (and mapper/, … in a checkout)
_SUFFIXES = (".py", ".yaml", ".yml", ".json", ".csv")


def _base(root: Path, top: str) -> Path:
    """Where the folder named `top` lives: at the top of a source checkout, or inside archsim/
    once installed (pyproject maps workloads/, mapper/, … to archsim.workloads, …)."""
    from archsim import SUBPACKAGES
    if top in SUBPACKAGES and not (root / top).is_dir():
        return root / "archsim"
    return root


def _files(root: Path, sources: tuple[str, ...]) -> list[tuple[str, Path]]:
    """(key, path) of every matching file; the key is the path in the checkout's layout, so a
    source tree and its installed copy digest alike."""
    found: dict[str, Path] = {}
    for pattern in sources:
        base = _base(root, pattern.split("/", 1)[0])
        hits = list(base.glob(pattern))
        if not hits:
            raise FileNotFoundError(f"fingerprint source {pattern!r} matches nothing under {base}")
        for hit in hits:
            candidates = hit.rglob("*") if hit.is_dir() else (hit,)
            for p in candidates:
                if p.is_file() and p.suffix in _SUFFIXES and "__pycache__" not in p.parts:
                    found[p.relative_to(base).as_posix()] = p
    return sorted(found.items())


def digest_sources(sources: tuple[str, ...], root: Path | None = None) -> str:
    """12 hex digits of archsim's version and the files under `root` matching `sources` (folders,
    taken whole, and globs, relative to the checkout's top; default the running tree). A pattern
    that matches nothing is an error: a renamed folder must not drop out of the digest."""
    from archsim import __version__
    h = hashlib.sha256(f"archsim {__version__}\n".encode())
    for key, path in _files(root or ROOT, sources):
        h.update(key.encode() + b"\0")
        h.update(path.read_bytes())
        h.update(b"\0")
    return h.hexdigest()[:12]
