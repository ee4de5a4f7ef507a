"""The mapping cache on disk: an op's searched mapping is reused by every later process (sweep
points, co-search trials, Dask workers, the next `archsim simulate`) that maps the same op shape
and dtypes on the same hardware with the same placement and search options — and the same mapper
code: the key includes a digest of the sources a mapping depends on, so an edited mapper, cost
model or hardware loader starts afresh instead of reusing stale results.

One SQLite file (`mappings.sqlite` under the cache folder): each write is one transaction, so
processes sharing the file never see half an entry, and a busy file is waited for (timeout), never
corrupted. Entries are pickled `OpResult`s (or the reason nothing fits), so a hit returns exactly
what the search returned. When the file grows past the size cap, the oldest entries go.

Location: `$ARCHSIM_CACHE_DIR`, else `$XDG_CACHE_HOME/archsim`, else `~/.cache/archsim`.
`ARCHSIM_NO_CACHE=1` (the CLI's `--no-cache`) bypasses it; `ARCHSIM_CACHE_MAX_MB` caps its size
(default 256). A cache that cannot be opened or written (read-only home, full disk) is skipped
with one warning: the mapping is searched as if the cache were empty.
"""
from __future__ import annotations

import hashlib
import os
import pickle
import sqlite3
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from archsim.fingerprint import digest_sources

__all__ = ["cache_dir", "enabled", "bypassed", "disk_get", "disk_put", "disk_key", "disk_info",
           "disk_clear", "MAPPER_SOURCES", "DEFAULT_MAX_MB"]

FORMAT = 1                 # bump when the pickled value's layout changes
DEFAULT_MAX_MB = 256
FILE_NAME = "mappings.sqlite"

#: everything a searched mapping depends on besides its inputs
#: (the cost model reads the engine's on-chip port bytes: `engine.plan`/`ports`/`actions`)
MAPPER_SOURCES = ("mapper", "archsim/kernels", "archsim/hardware/*.py", "archsim/ir.py",
                  "archsim/mapping.py", "archsim/energy", "archsim/units.py",
                  "archsim/engine/plan", "archsim/engine/ports.py", "archsim/engine/actions.py",
                  "archsim/engine/attention.py", "archsim/engine/analytic.py", "archsim/engine/timing")

_STATE: dict = {"pid": None, "conn": None, "path": None, "warned": False, "code": None}


def cache_dir() -> Path:
    env = os.environ.get("ARCHSIM_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "archsim"


def enabled() -> bool:
    return os.environ.get("ARCHSIM_NO_CACHE", "").strip().lower() in ("", "0", "false", "no")


@contextmanager
def bypassed():
    """The disk cache bypassed inside the block: `ARCHSIM_NO_CACHE=1` (as the CLI's `--no-cache`;
    worker processes started inside inherit it), the variable as it was restored after."""
    old = os.environ.get("ARCHSIM_NO_CACHE")
    os.environ["ARCHSIM_NO_CACHE"] = "1"
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("ARCHSIM_NO_CACHE", None)
        else:
            os.environ["ARCHSIM_NO_CACHE"] = old


def _max_bytes() -> int:
    raw = os.environ.get("ARCHSIM_CACHE_MAX_MB", "")
    try:
        mb = float(raw) if raw.strip() else DEFAULT_MAX_MB
    except ValueError:
        _warn(f"ARCHSIM_CACHE_MAX_MB: not a number (got {raw!r}); using {DEFAULT_MAX_MB}")
        mb = DEFAULT_MAX_MB
    return int(max(mb, 0.0) * (1 << 20))


def _warn(message: str) -> None:
    if not _STATE["warned"]:
        _STATE["warned"] = True
        print(f"archsim: warning: mapping cache: {message}", file=sys.stderr)


def code_digest() -> str:
    if _STATE["code"] is None:
        _STATE["code"] = digest_sources(MAPPER_SOURCES)
    return _STATE["code"]


def disk_key(parts: tuple) -> str:
    """The entry key: a digest of the cache format, the mapper code and `parts` (op signature,
    hardware digest, placement, search options), whose repr is stable across processes."""
    text = repr((FORMAT, code_digest(), parts))
    return hashlib.sha256(text.encode()).hexdigest()


def _connection():
    """This process's connection (a forked Dask worker opens its own), or None if unusable."""
    path = cache_dir() / FILE_NAME
    if _STATE["pid"] == os.getpid() and _STATE["path"] == path:
        return _STATE["conn"]
    conn = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, timeout=30.0, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("CREATE TABLE IF NOT EXISTS mappings (key TEXT PRIMARY KEY, value BLOB NOT NULL,"
                     " created REAL NOT NULL)")
        conn.execute("CREATE INDEX IF NOT EXISTS mappings_created ON mappings (created)")
    except (OSError, sqlite3.Error) as exc:
        _warn(f"{path}: cannot be opened ({exc}); searching without it")
        conn = None
    _STATE.update(pid=os.getpid(), conn=conn, path=path)
    return conn


def disk_get(key: str):
    """The value stored under `key`, or None."""
    conn = _connection()
    if conn is None:
        return None
    try:
        row = conn.execute("SELECT value FROM mappings WHERE key = ?", (key,)).fetchone()
    except sqlite3.Error as exc:
        _warn(f"read failed ({exc}); searching without it")
        return None
    if row is None:
        return None
    try:
        return pickle.loads(row[0])
    except Exception:          # written by an incompatible build: treat as absent
        return None


def disk_put(key: str, value) -> None:
    conn = _connection()
    if conn is None:
        return
    blob = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    try:
        conn.execute("INSERT OR REPLACE INTO mappings (key, value, created) VALUES (?, ?, ?)",
                     (key, blob, time.time()))
        _trim(conn)
    except sqlite3.Error as exc:
        _warn(f"write failed ({exc}); results are not kept")


def _trim(conn) -> None:
    """Keep the stored values under the size cap: drop the oldest entries (down to 90 %)."""
    cap = _max_bytes()
    total = conn.execute("SELECT COALESCE(SUM(LENGTH(value)), 0) FROM mappings").fetchone()[0]
    if total <= cap:
        return
    target = int(cap * 0.9)
    rows = conn.execute("SELECT key, LENGTH(value) FROM mappings ORDER BY created").fetchall()
    drop = []
    for key, size in rows:
        if total <= target:
            break
        drop.append((key,))
        total -= size
    conn.executemany("DELETE FROM mappings WHERE key = ?", drop)


def disk_info() -> dict:
    conn = _connection()
    if conn is None:
        return {"path": str(cache_dir() / FILE_NAME), "entries": 0, "bytes": 0}
    n, size = conn.execute("SELECT COUNT(*), COALESCE(SUM(LENGTH(value)), 0) FROM mappings").fetchone()
    return {"path": str(cache_dir() / FILE_NAME), "entries": n, "bytes": size}


def disk_clear() -> None:
    conn = _connection()
    if conn is not None:
        conn.execute("DELETE FROM mappings")
