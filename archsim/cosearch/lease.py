"""One driver per co-search study: a lease row in the study's own database.

Two drivers on one study would each evaluate the other's in-flight trials (a resume takes over
RUNNING trials) and fail its half-asked ones. So the first driver takes a lease — a row keyed by
the study name in the table `archsim_driver`, inserted atomically (primary key) on SQLite and on
any server database — and renews it every `HEARTBEAT_S`; a second driver is refused with who holds
the lease. A lease is free again when its holder releases it, when it has not been renewed for
`TTL_S` (a killed driver on another machine), or at once when its holder was a process on this
machine that no longer exists (`kill -9`, then resume right away). Machines share one study's
work through the Dask scheduler, not through several drivers.
"""
from __future__ import annotations

import os
import socket
import threading
import time
import uuid

from archsim.errors import ConfigError, Problem

__all__ = ["DriverLease", "TTL_S", "HEARTBEAT_S"]

TTL_S = 60.0
HEARTBEAT_S = 5.0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class DriverLease:
    """`with DriverLease(engine, study_name, storage_label):` — refuses with a ConfigError when
    another live driver holds the study."""

    def __init__(self, engine, study_name: str, storage_label: str):
        import sqlalchemy as sa
        self.engine, self.study, self.label = engine, study_name, storage_label
        self.token = uuid.uuid4().hex
        self.host, self.pid = socket.gethostname(), os.getpid()
        meta = sa.MetaData()
        self.table = sa.Table("archsim_driver", meta,
                              sa.Column("study_name", sa.String(512), primary_key=True),
                              sa.Column("token", sa.String(64), nullable=False),
                              sa.Column("host", sa.String(255), nullable=False),
                              sa.Column("pid", sa.Integer, nullable=False),
                              sa.Column("heartbeat", sa.Float, nullable=False))
        self._meta = meta
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.lost = False

    # -- acquire / release ------------------------------------------------------------------
    def __enter__(self):
        import sqlalchemy as sa
        self._meta.create_all(self.engine, checkfirst=True)
        t = self.table
        row = dict(study_name=self.study, token=self.token, host=self.host, pid=self.pid, heartbeat=time.time())
        try:
            with self.engine.begin() as con:
                con.execute(t.insert().values(**row))
        except sa.exc.IntegrityError:
            with self.engine.begin() as con:
                held = con.execute(sa.select(t).where(t.c.study_name == self.study)).mappings().first()
            if held is not None and not self._free(held):
                raise self._refusal(held) from None
            with self.engine.begin() as con:           # take it over only if nobody did meanwhile
                cond = t.c.study_name == self.study
                if held is not None:
                    cond = cond & (t.c.token == held["token"])
                taken = con.execute(t.update().where(cond).values(**row)).rowcount
            if taken != 1:
                raise self._refusal(held) from None
        self._thread = threading.Thread(target=self._beat, name="archsim-lease", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=HEARTBEAT_S + 5)
        t = self.table
        try:
            with self.engine.begin() as con:
                con.execute(t.delete().where((t.c.study_name == self.study) & (t.c.token == self.token)))
        except Exception:            # the database went away: the lease expires by itself
            pass
        return False

    def _free(self, held) -> bool:
        if time.time() - float(held["heartbeat"]) > TTL_S:
            return True
        return held["host"] == self.host and not _alive(int(held["pid"]))

    def _refusal(self, held) -> ConfigError:
        who = (f"pid {held['pid']} on {held['host']}, last seen {time.time() - float(held['heartbeat']):.0f} s ago"
               if held is not None else "another process")
        return ConfigError([Problem(
            "cosearch", None, "storage",
            f"study {self.study!r} in {self.label} is being run by another driver ({who})",
            hint="one driver per study: wait for it to finish (a killed driver's lease lapses after "
                 f"{TTL_S:.0f} s), run another study (--seed or --storage), or share the work of one "
                 "study with --scheduler (Dask)")])

    def _beat(self) -> None:
        t = self.table
        while not self._stop.wait(HEARTBEAT_S):
            try:
                with self.engine.begin() as con:
                    kept = con.execute(t.update().where((t.c.study_name == self.study) & (t.c.token == self.token))
                                       .values(heartbeat=time.time())).rowcount
                if kept != 1:
                    self.lost = True
                    return
            except Exception:        # a transient database error: try again at the next beat
                continue
