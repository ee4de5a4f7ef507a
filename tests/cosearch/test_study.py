"""The search machinery against the cheap toy evaluator: determinism, resume, kill-and-resume,
constraints, process pools, samplers."""
from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest

from archsim.cosearch import run_study
from archsim.cosearch.pareto import dominates
from archsim.cosearch.study import study_name_for
from archsim.errors import ConfigError
from tests.cosearch.toy_eval import toy_evaluate, toy_space

ROOT = Path(__file__).resolve().parents[2]


def _front(result):
    return [(t.number, t.params) for t in result.pareto_trials]


def test_same_seed_same_trials_and_front(tmp_path):
    a = run_study(toy_space(), toy_evaluate, trials=16, seed=3, storage=":memory:", jobs=1, population=6)
    b = run_study(toy_space(), toy_evaluate, trials=16, seed=3, storage=f"sqlite:///{tmp_path}/b.db", jobs=1,
                  population=6)
    c = run_study(toy_space(), toy_evaluate, trials=16, seed=4, storage=":memory:", jobs=1, population=6)
    assert [t.params for t in a.trials] == [t.params for t in b.trials]
    assert _front(a) == _front(b) and a.pareto
    assert [t.params for t in a.trials] != [t.params for t in c.trials]


def test_resume_completes_exactly_the_requested_trials(tmp_path):
    storage = f"sqlite:///{tmp_path}/s.db"
    first = run_study(toy_space(), toy_evaluate, trials=6, seed=0, storage=storage, jobs=1)
    assert len(first.trials) == 6 and first.evaluated_now == 6
    again = run_study(toy_space(), toy_evaluate, trials=6, seed=0, storage=storage, jobs=1)
    assert again.evaluated_now == 0 and len(again.trials) == 6
    more = run_study(toy_space(), toy_evaluate, trials=13, seed=0, storage=storage, jobs=1)
    assert len(more.trials) == 13 and more.evaluated_now == 7
    straight = run_study(toy_space(), toy_evaluate, trials=13, seed=0, storage=":memory:", jobs=1)
    # the resumed run sampled exactly what an uninterrupted run samples (batch boundaries coincide)
    assert [t.params for t in more.trials][:4] == [t.params for t in straight.trials][:4]


def test_process_pool_gives_the_same_trials(tmp_path):
    serial = run_study(toy_space(), toy_evaluate, trials=12, seed=5, storage=":memory:", jobs=1)
    pooled = run_study(toy_space(), toy_evaluate, trials=12, seed=5, storage=":memory:", jobs=2)
    assert [(t.params, t.metrics) for t in serial.trials] == [(t.params, t.metrics) for t in pooled.trials]
    assert _front(serial) == _front(pooled)


def test_kill_and_resume_no_trial_evaluated_twice(tmp_path):
    db = tmp_path / "kill.db"
    storage = f"sqlite:///{db}"
    log = tmp_path / "evals.jsonl"
    env = {**os.environ, "ARCHSIM_TOY_SLEEP_S": "0.25", "ARCHSIM_TOY_LOG": str(log),
           "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "tests.cosearch.run_toy", storage, "20", "7", "2"],
                            cwd=ROOT, env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    name = study_name_for(toy_space(), 7, "nsga2")
    deadline = time.time() + 40
    complete, last_error = 0, None
    while time.time() < deadline and proc.poll() is None:
        time.sleep(0.1)
        if db.exists():                         # a cheap poll: optuna's own loader takes seconds under load
            try:
                with sqlite3.connect(db, timeout=5) as con:
                    complete = con.execute("SELECT COUNT(*) FROM trials WHERE state = 'COMPLETE'").fetchone()[0]
            except sqlite3.Error as exc:        # tables not created yet
                last_error = exc
                continue
            if complete >= 5:
                break
    assert proc.poll() is None, (complete, repr(last_error), proc.stderr.read().decode()[-2000:])
    os.killpg(proc.pid, signal.SIGKILL)          # the driver and its pool workers
    proc.wait()
    study = optuna.load_study(study_name=name, storage=storage)
    before = {t.number: t.params for t in study.get_trials(states=(optuna.trial.TrialState.COMPLETE,))}
    # in flight at the kill and not yet recorded: the only trials that may run again (if the kill
    # landed in the microseconds between an evaluation's end and its result being stored)
    unrecorded = {json.dumps(t.params, sort_keys=True) for t in study.get_trials()
                  if t.state == optuna.trial.TrialState.RUNNING and "outcome" not in t.user_attrs}
    assert 5 <= len(before) < 20

    os.environ["ARCHSIM_TOY_LOG"] = str(log)
    try:
        result = run_study(toy_space(), toy_evaluate, trials=20, seed=7, storage=storage, jobs=1)
    finally:
        del os.environ["ARCHSIM_TOY_LOG"]
    assert len(result.trials) == 20
    study = optuna.load_study(study_name=name, storage=storage)
    states = [t.state for t in study.get_trials()]
    assert states.count(optuna.trial.TrialState.COMPLETE) == 20
    assert optuna.trial.TrialState.RUNNING not in states
    for t in study.get_trials(states=(optuna.trial.TrialState.FAIL,)):
        assert "outcome" not in t.user_attrs      # only a batch killed while sampled is failed
    assert result.evaluated_now <= 20 - len(before)
    evaluated = [json.dumps(json.loads(line)["params"], sort_keys=True) for line in log.read_text().splitlines()]
    twice = {p for p in evaluated if evaluated.count(p) > 1}
    assert twice <= unrecorded and all(evaluated.count(p) == 2 for p in twice), "a trial was evaluated twice"
    for number, params in before.items():         # completed before the kill: kept, never re-run
        assert result.trial(number).params == tuple(sorted(params.items()))
        assert evaluated.count(json.dumps(params, sort_keys=True)) == 1
    assert len(set(evaluated)) == 20


def test_no_pareto_point_violates_a_constraint_or_is_dominated():
    from hypothesis import given, settings, strategies as st

    @settings(max_examples=8, deadline=None)
    @given(seed=st.integers(0, 10_000), sram_max=st.floats(1500, 9000), sampler=st.sampled_from(["nsga2", "tpe"]))
    def check(seed, sram_max, sampler):
        space = toy_space(constraints={"peak_sram_bytes": {"max": sram_max}, "area_mm2": {"max": 6.0}})
        result = run_study(space, toy_evaluate, trials=14, seed=seed, sampler=sampler, storage=":memory:", jobs=1)
        dirs = [o.direction for o in space.objectives]
        front = result.pareto_trials
        for t in front:
            assert t.feasible and not t.reason
            assert t.metric("peak_sram_bytes") <= sram_max and t.metric("area_mm2") <= 6.0
        for t in result.trials:
            if t.feasible and t.number not in result.pareto:
                pt = [t.metric(o.metric) for o in space.objectives]
                assert any(dominates([f.metric(o.metric) for o in space.objectives], pt, dirs) or
                           [f.metric(o.metric) for o in space.objectives] == pt for f in front)
        assert all(not t.feasible for t in result.trials if t.reason)
    check()


def test_errors_are_archsim_errors():
    with pytest.raises(ConfigError, match="sampler"):
        run_study(toy_space(), toy_evaluate, trials=2, sampler="cmaes", storage=":memory:")
    with pytest.raises(ConfigError, match="trials"):
        run_study(toy_space(), toy_evaluate, trials=0, storage=":memory:")


def _buggy(params):
    if params["model.n"] == 3:
        raise RuntimeError("evaluator bug")
    return toy_evaluate(params)


def test_an_evaluator_bug_stops_the_run_and_resume_samples_afresh(tmp_path):
    storage = f"sqlite:///{tmp_path}/bug.db"
    with pytest.raises(RuntimeError, match="evaluator bug"):
        run_study(toy_space(), _buggy, trials=30, seed=2, storage=storage, jobs=1)
    study = optuna.load_study(study_name=study_name_for(toy_space(), 2, "nsga2"), storage=storage)
    failed = study.get_trials(states=(optuna.trial.TrialState.FAIL,))
    assert failed and all(t.params["model.n"] == 3 or "outcome" not in t.user_attrs for t in failed)
    assert not study.get_trials(states=(optuna.trial.TrialState.RUNNING,))
    result = run_study(toy_space(), toy_evaluate, trials=30, seed=2, storage=storage, jobs=1)
    assert len(result.trials) == 30
