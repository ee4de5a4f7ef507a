"""A real Dask cluster on loopback — a scheduler and two workers as subprocesses — runs a 20-trial
co-search through `scheduler=` and finds the same Pareto front as the local run with the same seed."""
from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from archsim.cosearch import run_study
from tests.cosearch.toy_eval import toy_evaluate, toy_space

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def dask_cluster(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("dask")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DASK_DISTRIBUTED__WORKER__DAEMON": "False"}
    sched_file = tmp_path / "scheduler.json"
    procs = [subprocess.Popen(
        [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", "0",
         "--no-dashboard", "--scheduler-file", str(sched_file)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        deadline = time.time() + 30
        while not sched_file.exists() and time.time() < deadline:
            time.sleep(0.1)
        assert sched_file.exists(), "the Dask scheduler did not start"
        time.sleep(0.1)
        address = json.loads(sched_file.read_text())["address"]
        assert address.startswith("tcp://127.0.0.1:")
        for i in range(2):
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "distributed.cli.dask_worker", address, "--nthreads", "1",
                 "--no-nanny", "--no-dashboard", "--name", f"w{i}", "--host", "127.0.0.1"],
                cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        from dask.distributed import Client
        with Client(address, timeout="30s") as client:
            client.wait_for_workers(2, timeout=60)
            assert len(client.scheduler_info()["workers"]) == 2
        yield address
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()


def test_dask_cluster_gives_the_local_front(dask_cluster, tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("runs")
    # population 8: the 20 trials span three NSGA-II generations, not just the random first one
    local = run_study(toy_space(), toy_evaluate, trials=20, seed=11, storage=f"sqlite:///{tmp_path}/l.db",
                      jobs=1, population=8)
    remote = run_study(toy_space(), toy_evaluate, trials=20, seed=11, storage=f"sqlite:///{tmp_path}/r.db",
                       scheduler=dask_cluster, population=8)
    assert remote.scheduler == dask_cluster and remote.evaluated_now == 20
    assert len(remote.trials) == 20
    assert [(t.params, t.metrics, t.feasible) for t in remote.trials] == \
        [(t.params, t.metrics, t.feasible) for t in local.trials]
    assert remote.pareto == local.pareto and len(local.pareto) >= 1


def test_dask_cluster_runs_the_real_pipeline(dask_cluster):
    from archsim.studies.cosearch_eval import run_cosearch
    local = run_cosearch("fpga-vit", trials=4, seed=3, storage=":memory:", jobs=1, cycle_check=0).result
    remote = run_cosearch("fpga-vit", trials=4, seed=3, storage=":memory:", scheduler=dask_cluster,
                          cycle_check=0).result
    assert [(t.params, t.metrics) for t in remote.trials] == [(t.params, t.metrics) for t in local.trials]
    assert remote.pareto == local.pareto
