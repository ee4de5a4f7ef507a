"""Numba kernels: the only place numba is imported. Every kernel is `cache=True`, compiled on first
call, and has a plain-Python twin in tests.

Numba's on-disk cache keys a compiled function on its own file's timestamp only, so a kernel that
calls into another file (the event loop into `dram/`, `sram.py`) would keep running machine code
compiled from the old callee after an edit or an upgrade that leaves `__pycache__` behind. On
import, a digest of every kernel source (`source_digest`) is compared with the one the caches were
built from (`__pycache__/sources.stamp`); when they differ, every cached kernel is dropped and
recompiled on first use."""
from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

__all__ = ["KERNELS_DIR", "source_digest", "drop_stale_caches"]

KERNELS_DIR = Path(__file__).resolve().parent
_STAMP = KERNELS_DIR / "__pycache__" / "sources.stamp"


def source_digest() -> str:
    """What compiled kernels depend on: every kernel source (sub-packages too), Python's version."""
    h = hashlib.sha256(sys.version.encode())
    for f in sorted(KERNELS_DIR.rglob("*.py")):
        if "__pycache__" not in f.parts:
            h.update(f.relative_to(KERNELS_DIR).as_posix().encode() + b"\0" + f.read_bytes())
    return h.hexdigest()[:16]


def drop_stale_caches() -> bool:
    """Delete Numba's cached kernels when the sources changed since they were compiled (or no
    stamp says what they were compiled from). True when caches were dropped."""
    digest = source_digest()
    try:
        if _STAMP.read_text(encoding="utf-8").strip() == digest:
            return False
    except OSError:
        pass
    dropped = False
    for cache in KERNELS_DIR.rglob("__pycache__"):
        for f in list(cache.glob("*.nb[ic]")):
            try:
                f.unlink()
                dropped = True
            except OSError:
                pass            # another process dropped it first, or a read-only install
    try:
        _STAMP.parent.mkdir(exist_ok=True)
        tmp = _STAMP.with_name(f"sources.stamp.{os.getpid()}")
        tmp.write_text(digest + "\n", encoding="utf-8")
        os.replace(tmp, _STAMP)
    except OSError:
        pass
    return dropped


drop_stale_caches()
