"""Co-search that survives anything (issue 21): worker processes die with their driver, a second
driver on a study is refused (SQLite and a real PostgreSQL on loopback), a resume after a kill
while sampling equals an uninterrupted run, and damaged databases are clear errors."""
from __future__ import annotations

import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import optuna
import pytest

from archsim.cosearch import run_study
from archsim.errors import ConfigError
from tests.cosearch.toy_eval import toy_evaluate, toy_space

ROOT = Path(__file__).resolve().parents[2]
PG_BIN = Path("/usr/lib/postgresql/15/bin")


def _start_toy(storage: str, tmp_path: Path, trials=40, jobs=2) -> tuple[subprocess.Popen, Path]:
    log = tmp_path / f"evals-{time.monotonic_ns()}.jsonl"
    env = {**os.environ, "ARCHSIM_TOY_SLEEP_S": "0.3", "ARCHSIM_TOY_LOG": str(log), "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "tests.cosearch.run_toy", storage, str(trials), "7", str(jobs)],
                            cwd=ROOT, env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return proc, log


def _wait(predicate, seconds: float, what: str, proc=None):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if predicate():
            return
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"driver exited early: {proc.stderr.read().decode()[-2000:]}")
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _pids(log: Path) -> set[int]:
    import json
    if not log.exists():
        return set()
    return {json.loads(line)["pid"] for line in log.read_text().splitlines() if line.strip()}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:                      # a zombie (exited, not reaped) is not computing
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def test_pool_workers_die_with_a_killed_driver(tmp_path):
    proc, log = _start_toy(f"sqlite:///{tmp_path / 'w.db'}", tmp_path)
    try:
        _wait(lambda: len(_pids(log)) >= 2, 90, "two pool workers", proc)
        workers = _pids(log)
        os.kill(proc.pid, signal.SIGKILL)          # the driver only, not its process group
        proc.wait()
        _wait(lambda: not any(_alive(p) for p in workers), 15, "the workers to exit")
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _second_driver_refused_then_resume(storage: str, tmp_path: Path):
    proc, log = _start_toy(storage, tmp_path)
    try:
        _wait(lambda: len(_pids(log)) >= 1, 90, "the first driver's first evaluation", proc)
        with pytest.raises(ConfigError, match="being run by another driver"):
            run_study(toy_space(), toy_evaluate, trials=40, seed=7, storage=storage, jobs=1)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    # the holder is dead (same machine): its lease is free at once and the study resumes
    result = run_study(toy_space(), toy_evaluate, trials=12, seed=7, storage=storage, jobs=1)
    assert len(result.trials) >= 12


def test_second_driver_on_a_sqlite_study_is_refused(tmp_path):
    _second_driver_refused_then_resume(f"sqlite:///{tmp_path / 'two.db'}", tmp_path)


@pytest.fixture(scope="module")
def postgres_url():
    """A throw-away PostgreSQL 15 server on 127.0.0.1 (initdb + pg_ctl), stopped after the module."""
    if not (PG_BIN / "initdb").exists() or not (PG_BIN / "pg_ctl").exists():
        pytest.skip(f"PostgreSQL 15 server binaries not found in {PG_BIN} (.ci/run installs postgresql-15)")
    pytest.importorskip("psycopg", reason="the psycopg driver is not installed (pyproject's test extra)")
    base = Path(tempfile.mkdtemp(prefix="archsim-pg-"))
    os.chmod(base, 0o777)                       # the server runs as 'postgres' when we are root
    as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    data = base / "data"
    subprocess.run(as_user + [str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "archsim",
                              "--no-sync"], check=True, capture_output=True)
    subprocess.run(as_user + [str(PG_BIN / "pg_ctl"), "-D", str(data), "-w", "-l", str(base / "log"), "-o",
                              f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off", "start"],
                   check=True, capture_output=True)
    try:
        yield f"postgresql+psycopg://archsim@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(as_user + [str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                       capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


def test_second_driver_on_a_postgresql_study_is_refused(postgres_url, tmp_path):
    _second_driver_refused_then_resume(postgres_url, tmp_path)


def test_a_resume_after_a_kill_while_sampling_equals_an_uninterrupted_run(tmp_path, monkeypatch):
    whole = run_study(toy_space(), toy_evaluate, trials=12, seed=3, batch=4, storage=":memory:", jobs=1)
    storage = f"sqlite:///{tmp_path / 'resume.db'}"
    ask, calls = optuna.Study.ask, []

    def dying_ask(self, *args, **kwargs):
        trial = ask(self, *args, **kwargs)
        calls.append(trial.number)
        if len(calls) == 6:                        # the 2nd ask of the 2nd batch of 4
            raise KeyboardInterrupt
        return trial
    monkeypatch.setattr(optuna.Study, "ask", dying_ask)
    with pytest.raises(KeyboardInterrupt):
        run_study(toy_space(), toy_evaluate, trials=12, seed=3, batch=4, storage=storage, jobs=1)
    monkeypatch.setattr(optuna.Study, "ask", ask)
    resumed = run_study(toy_space(), toy_evaluate, trials=12, seed=3, batch=4, storage=storage, jobs=1)
    assert [(t.params, t.metrics) for t in resumed.trials] == [(t.params, t.metrics) for t in whole.trials]


def _optuna_db(path: Path) -> None:
    run_study(toy_space(), toy_evaluate, trials=2, seed=1, storage=f"sqlite:///{path}", jobs=1)


@pytest.mark.parametrize("damage", ["random-bytes", "foreign-tables", "unknown-schema", "truncated"])
def test_damaged_study_databases_are_clear_errors(tmp_path, damage):
    db = tmp_path / "d.db"
    if damage == "random-bytes":
        db.write_bytes(os.urandom(8192))
    elif damage == "foreign-tables":
        with sqlite3.connect(db) as con:
            con.execute("CREATE TABLE studies (x TEXT)")
            con.execute("CREATE TABLE version_info (y BLOB)")
    else:
        _optuna_db(db)
        if damage == "unknown-schema":             # written by some other (future) Optuna
            with sqlite3.connect(db) as con:
                con.execute("UPDATE alembic_version SET version_num = 'v9.9.9.zz'")
        else:
            with sqlite3.connect(db) as con:
                con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            db.write_bytes(db.read_bytes()[:4096 * 3])
    with pytest.raises(ConfigError, match="storage"):
        run_study(toy_space(), toy_evaluate, trials=3, seed=1, storage=f"sqlite:///{db}", jobs=1)
