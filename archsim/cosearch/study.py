"""The co-search loop: Optuna multi-objective ask/tell around an injected trial evaluator.

The search knows nothing of models or chips. `evaluate(params) -> metrics` is handed in (the glue in
`archsim.studies.cosearch_eval` lowers, maps and simulates); here we only sample, dispatch, record,
check constraints and keep the Pareto front.

Determinism: parameters are sampled with `ask()` sequentially in the driver, `batch` trials at a time;
the batch is evaluated in parallel (local processes, or a Dask cluster given `scheduler=`); results are
told in trial order. The sampler is re-seeded from (seed, first trial number of the batch) before every
batch, so sampling is a pure function of the seed and what the storage holds: a local run and a Dask run
with the same seed and batch give the same trials, and a resumed run continues as if never stopped.

Resume: the study lives in a database (SQLite file by default, any SQLAlchemy URL). Only COMPLETE
trials count toward `trials`. Each result is written to its trial the moment it arrives, before the
batch is told, so after a kill a RUNNING trial that already has a result is completed from it (never
evaluated twice), and one without a result is evaluated in place under its own number. A batch killed
while it was being sampled (the study's `asking` mark is still set) is failed as a whole and sampled
again from the same seed, and batch seeds count only trials that are not FAILed, so a resumed study
gives the same trials (parameters and metrics, in order) as an uninterrupted one; only the trial
numbers move past the failed ones. That holds for both samplers (they read COMPLETE trials only); it
cannot hold across a change of `batch`, `seed`, sampler or population size.

One driver per study (`lease.py`): a second driver on the same study is refused with a clear message
naming the holder; a killed driver's lease is free at once on its own machine, after `TTL_S`
elsewhere. Several machines share one study's work through the Dask scheduler. Local worker
processes watch their driver and exit when it is gone, so a killed driver leaves none behind.
"""
from __future__ import annotations

import math
import os
import threading
import time
import warnings
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from archsim.errors import ArchsimError, ConfigError, Problem, did_you_mean

from .lease import DriverLease
from .pareto import pareto_indices
from .space import SearchSpace

__all__ = ["TrialRecord", "CoSearchResult", "run_study", "pareto_front", "default_storage", "study_name_for",
           "load_records", "SAMPLERS", "Dispatcher", "evaluate_one"]

SAMPLERS = ("nsga2", "tpe")
Evaluator = Callable[[dict], dict]


@dataclass(frozen=True, slots=True)
class TrialRecord:
    number: int
    params: tuple[tuple[str, object], ...]
    metrics: tuple[tuple[str, float], ...]
    violations: tuple[tuple[str, float], ...]      # constraint text → violation (> 0 = violated)
    feasible: bool
    reason: str = ""                               # why infeasible beyond constraints (does not fit, …)
    eval_wall_s: float = 0.0

    def metric(self, name: str, default=None):
        return dict(self.metrics).get(name, default)


@dataclass(frozen=True, slots=True)
class CoSearchResult:
    space: SearchSpace
    study_name: str
    storage: str
    seed: int
    sampler: str
    scheduler: str
    trials: tuple[TrialRecord, ...]                # every COMPLETE trial, by number
    pareto: tuple[int, ...]                        # trial numbers on the feasible Pareto front
    evaluated_now: int = 0                         # evaluations this call ran (the rest were resumed)
    wall_s: float = 0.0
    notes: tuple[str, ...] = ()

    def trial(self, number: int) -> TrialRecord:
        return next(t for t in self.trials if t.number == number)

    @property
    def pareto_trials(self) -> tuple[TrialRecord, ...]:
        return tuple(self.trial(n) for n in self.pareto)


def default_storage(space: SearchSpace, directory: str | Path = ".") -> str:
    return "sqlite:///" + str((Path(directory) / f"{space.name}.cosearch.db").resolve())


def study_name_for(space: SearchSpace, seed: int, sampler: str) -> str:
    """Space, simulator and search: `sim<digest>` changes with archsim's version or evaluation code,
    so a changed simulator starts a new study instead of reusing the old one's results."""
    from .fingerprint import simulator_fingerprint
    return f"{space.name}-{space.digest}-sim{simulator_fingerprint()}-seed{seed}-{sampler}"


def run_study(space: SearchSpace, evaluate: Evaluator, trials: int = 50, seed: int = 0,
              storage: str | None = None, scheduler: str | None = None, jobs: int | None = None,
              sampler: str = "nsga2", batch: int = 4, study_name: str | None = None,
              population: int | None = None, progress: Callable[[int, int], None] | None = None,
              ) -> CoSearchResult:
    """Run (or resume) a co-search until `trials` trials are COMPLETE; return every trial and the front.

    `evaluate(params)` takes `{"model.hidden": 192, "hw.x.y": 3, ...}` and returns metrics named in
    `archsim.cosearch.space.METRICS` (plus optional `reason`: why the design is infeasible, e.g. it does
    not fit). An `ArchsimError` raised by it marks the trial infeasible with its message. It must be
    picklable when `jobs > 1` or `scheduler` is given. `storage=":memory:"` keeps nothing on disk.
    """
    import optuna
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    if sampler not in SAMPLERS:
        raise _bad_argument("sampler", "unknown sampler", repr(sampler),
                            did_you_mean(str(sampler), SAMPLERS) or f"choose one of {', '.join(SAMPLERS)}")
    for key, value in (("trials", trials), ("batch", batch)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise _bad_argument(key, "must be a whole number ≥ 1", repr(value))
    if jobs is not None and (isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1):
        raise _bad_argument("jobs", "must be a whole number ≥ 1", repr(jobs),
                            "leave it unset for min(batch, CPUs)")
    if not space.objectives:
        raise ConfigError(f"{space.file}: objectives: a co-search needs at least one objective")
    storage = storage or default_storage(space)
    study_name = study_name or study_name_for(space, seed, sampler)
    directions = [o.direction for o in space.objectives]
    rdb = _storage(storage)
    with _database_errors(storage, opening=True):
        study = optuna.create_study(
            storage=rdb, study_name=study_name, directions=directions, load_if_exists=True,
            sampler=_sampler(sampler, seed, population))
    lease = DriverLease(rdb.engine, study_name, storage) if hasattr(rdb, "engine") else nullcontext()
    with _database_errors(storage), lease:
        return _drive(study, space, evaluate, trials, seed, storage, scheduler, jobs, sampler, batch,
                      study_name, population, progress, directions, lease)


def _drive(study, space, evaluate, trials, seed, storage, scheduler, jobs, sampler, batch, study_name,
           population, progress, directions, lease) -> CoSearchResult:
    import optuna
    if [d.name.lower() for d in study.directions] != directions:
        raise ConfigError(f"study {study_name!r} in {storage} has objectives {study.directions}, "
                          f"this space wants {directions}; use another --storage or study name")
    for key, value in (("space", space.name), ("digest", space.digest), ("seed", seed), ("sampler", sampler)):
        study.set_user_attr(key, value)
    with warnings.catch_warnings():                  # experimental in Optuna 3.x, stable in 4
        warnings.simplefilter("ignore")
        study.set_metric_names([o.metric for o in space.objectives])   # optuna-dashboard shows them
    distributions = {p.key: _distribution(p) for p in space.params}
    stepped = _stepped(space)
    dispatch = Dispatcher(scheduler, jobs if jobs is not None else min(batch, os.cpu_count() or 1))
    started = time.perf_counter()
    evaluated = 0
    try:
        while True:
            all_trials = study.get_trials(deepcopy=False)
            done = sum(t.state == optuna.trial.TrialState.COMPLETE for t in all_trials)
            if progress:
                progress(done, trials)
            if getattr(lease, "lost", False):
                raise ConfigError([Problem("cosearch", None, "storage", f"lost the driver lease of study "
                                           f"{study_name!r} in {storage} (another driver took it over)")])
            running = [t for t in all_trials if t.state == optuna.trial.TrialState.RUNNING]
            if study.user_attrs.get("asking"):               # killed while sampling a batch:
                for t in running:                            # none of it was evaluated; sample it
                    if "outcome" not in t.user_attrs:        # again from the same seed
                        study.tell(t.number, state=optuna.trial.TrialState.FAIL)
                study.set_user_attr("asking", None)
                continue
            recorded = [t for t in running if "outcome" in t.user_attrs]
            if recorded:                                      # results that arrived before a kill
                for t in sorted(recorded, key=lambda t: t.number):
                    _tell(study, space, t.number, t.user_attrs)
                continue
            if done >= trials:
                for t in running:                            # more leftovers than still wanted
                    study.tell(t.number, state=optuna.trial.TrialState.FAIL)
                break
            need = trials - done
            todo = [(t.number, _clean(t.params, stepped)) for t in sorted(running, key=lambda t: t.number)][:need]
            if not todo:
                n_ask = min(batch, need)
                sampled = sum(t.state != optuna.trial.TrialState.FAIL for t in all_trials)
                study.sampler = _sampler(sampler, _batch_seed(seed, sampled), population)
                study.set_user_attr("asking", n_ask)
                for _ in range(n_ask):
                    trial = study.ask(distributions)
                    todo.append((trial.number, _clean(trial.params, stepped)))
                study.set_user_attr("asking", None)
            try:
                for number, outcome in dispatch.run(evaluate, todo):
                    _record(study, number, outcome)
                    evaluated += 1
            except Exception:                                 # a bug in the evaluator, not a design
                by_number = {t.number: t for t in study.get_trials(deepcopy=False)}
                for number, _ in todo:                       # FAIL, so a resume samples afresh
                    if "outcome" in by_number[number].user_attrs:
                        _tell(study, space, number, by_number[number].user_attrs)
                    else:
                        study.tell(number, state=optuna.trial.TrialState.FAIL)
                raise
            by_number = {t.number: t for t in study.get_trials(deepcopy=False)}
            for number, _ in todo:
                _tell(study, space, number, by_number[number].user_attrs)
    finally:
        dispatch.close()
    records = load_records(space, study)
    return CoSearchResult(
        space=space, study_name=study_name, storage=storage, seed=seed, sampler=sampler,
        scheduler=scheduler or f"local:{dispatch.jobs}", trials=records,
        pareto=pareto_front(space, records), evaluated_now=evaluated,
        wall_s=time.perf_counter() - started)


def pareto_front(space: SearchSpace, records) -> tuple[int, ...]:
    """Trial numbers of the feasible, non-dominated records."""
    feasible = [r for r in records if r.feasible]
    points = [[_objective_value(r.metric(o.metric), o.direction) for o in space.objectives] for r in feasible]
    directions = [o.direction for o in space.objectives]
    return tuple(feasible[i].number for i in pareto_indices(points, directions))


def load_records(space: SearchSpace, study) -> tuple[TrialRecord, ...]:
    import optuna
    stepped = _stepped(space)
    out = []
    for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)):
        outcome = t.user_attrs.get("outcome", {})
        metrics = outcome.get("metrics", {})
        violations = t.user_attrs.get("violations", {})
        reason = outcome.get("reason", "")
        out.append(TrialRecord(
            number=t.number, params=tuple(sorted(_clean(t.params, stepped).items())),
            metrics=tuple(sorted(metrics.items())), violations=tuple(sorted(violations.items())),
            feasible=not reason and all(v <= 0 for v in violations.values()), reason=reason,
            eval_wall_s=float(outcome.get("eval_wall_s", 0.0))))
    return tuple(sorted(out, key=lambda r: r.number))


# --- internals ----------------------------------------------------------------------------------

def _stepped(space: SearchSpace) -> set[str]:
    return {p.key for p in space.params if p.step is not None and not p.is_int}


def _clean(params: dict, stepped: set[str]) -> dict:
    """Stepped float ranges come back as 0.7000000000000001; hand evaluators 0.7."""
    return {k: float(f"{v:.12g}") if k in stepped and isinstance(v, float) else v for k, v in params.items()}


def _bad_argument(key: str, problem: str, got: str | None = None, hint: str | None = None) -> ConfigError:
    """A ConfigError for a wrong co-search argument: 'cosearch: trials: must be ... (got 0)'."""
    return ConfigError([Problem("cosearch", None, key, problem, got, hint)])


def _storage(url: str):
    """The Optuna storage for `url`; a URL that cannot be opened is a ConfigError naming it."""
    import optuna
    if url in (":memory:", "sqlite://", "sqlite:///:memory:"):   # an in-memory SQLite database
        return optuna.storages.InMemoryStorage()                  # lives per connection: use Optuna's
    hint = "use sqlite:///PATH.db (a file), ':memory:' or a SQLAlchemy URL of a reachable database"
    if url.startswith("sqlite:///"):
        folder = Path(url.removeprefix("sqlite:///")).parent
        if not folder.is_dir():
            raise _bad_argument("storage", f"folder {folder} of the database does not exist", repr(url), hint)
    try:
        return _open_storage(url)
    except Exception as exc:               # SQLAlchemy / driver errors: a wrong URL, not a bug
        if isinstance(exc, ArchsimError):
            raise
        text = " ".join(str(exc).split("(Background on this error")[0].split())
        raise _bad_argument("storage", f"cannot open the study database ({type(exc).__name__}: {text})",
                            repr(url), hint) from None


@contextmanager
def _database_errors(url: str, opening: bool = False):
    """A study database that is damaged or not Optuna's (a truncated file, another program's
    tables, an unknown schema version when `opening`) is a ConfigError naming it, not an internal
    error."""
    import sqlite3

    import sqlalchemy.exc
    try:
        yield
    except (sqlalchemy.exc.SQLAlchemyError, sqlite3.DatabaseError) as exc:
        text = " ".join(str(exc).split("(Background on this error")[0].split())[:200]
        raise _bad_argument("storage", f"the study database is damaged or not an Optuna study "
                            f"database ({type(exc).__name__}: {text})", repr(url),
                            "move it aside and start afresh, or give another --storage") from None
    except RuntimeError as exc:           # Optuna: "The runtime optuna version ... is no longer compatible"
        if not opening or ("schema" not in str(exc).lower() and "version" not in str(exc).lower()):
            raise
        raise _bad_argument("storage", f"the study database has another schema ({exc})", repr(url),
                            "run `optuna storage upgrade`, or give another --storage") from None


def _open_storage(url: str):
    import optuna
    if not url.startswith("sqlite"):
        return optuna.storages.RDBStorage(url)
    storage = optuna.storages.RDBStorage(url, engine_kwargs={"connect_args": {"timeout": 60}})
    # WAL + synchronous=NORMAL: a commit no longer waits for fsync (10 ms each here, ~15 per
    # trial) yet a killed process loses nothing already committed; only an OS crash could.
    from sqlalchemy import event

    def _pragmas(connection, _record):
        cursor = connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
    event.listen(storage.engine, "connect", _pragmas)
    storage.engine.dispose()                 # reconnect with the pragmas
    return storage


def _batch_seed(seed: int, first_number: int) -> int:
    return (seed * 1_000_003 + first_number * 7_919 + 17) % (2**32 - 1)


def _sampler(kind: str, seed: int, population: int | None):
    import optuna
    if kind == "tpe":
        return optuna.samplers.TPESampler(seed=seed, multivariate=True)
    return optuna.samplers.NSGAIISampler(seed=seed, population_size=population or 20)


def _distribution(p):
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
    if p.choices:
        return CategoricalDistribution(list(p.choices))
    if p.is_int:
        return IntDistribution(int(p.low), int(p.high), log=p.log, step=int(p.step or 1))
    return FloatDistribution(float(p.low), float(p.high), log=p.log, step=p.step)


def _objective_value(value, direction: str) -> float:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return math.inf if direction == "minimize" else -math.inf
    return float(value)


def evaluate_one(evaluate: Evaluator, params: dict) -> dict:
    """Run one evaluation where it is dispatched; an ArchsimError becomes the trial's reason."""
    start = time.perf_counter()
    try:
        raw = dict(evaluate(params))
    except ArchsimError as exc:
        raw = {"reason": str(exc).splitlines()[0]}
    reason = str(raw.pop("reason", "") or "")
    metrics = {k: float(v) for k, v in raw.items() if v is not None and not isinstance(v, str)}
    return {"metrics": metrics, "reason": reason, "eval_wall_s": time.perf_counter() - start}


def _record(study, number: int, outcome: dict) -> None:
    trial_id = study._storage.get_trial_id_from_study_id_trial_number(study._study_id, number)
    study._storage.set_trial_user_attr(trial_id, "outcome", outcome)   # one write: present = recorded


def _tell(study, space: SearchSpace, number: int, attrs: dict) -> None:
    metrics = attrs["outcome"]["metrics"]
    violations = space.check(metrics)
    reason = attrs["outcome"]["reason"]
    constraint_values = list(violations.values()) or [0.0]
    if reason:
        constraint_values = [max(1.0, *constraint_values)]
    trial_id = study._storage.get_trial_id_from_study_id_trial_number(study._study_id, number)
    study._storage.set_trial_user_attr(trial_id, "violations", violations)
    # Samplers read constraint values from this system attribute (optuna >= 3.x; "≤ 0 = feasible").
    study._storage.set_trial_system_attr(trial_id, "constraints", constraint_values)
    values = [_objective_value(metrics.get(o.metric), o.direction) for o in space.objectives]
    study.tell(number, values)


def _die_with_driver(driver_pid: int, poll_s: float = 0.5) -> None:
    """Worker initializer: a daemon thread ends this process once its driver is gone (a killed
    driver's workers are re-parented, so getppid() changes), instead of computing on for nobody."""
    def watch():
        while os.getppid() == driver_pid:
            time.sleep(poll_s)
        os._exit(1)
    threading.Thread(target=watch, name="archsim-driver-watch", daemon=True).start()


class Dispatcher:
    """Evaluates (number, params) pairs: in-process, in local processes, or on a Dask cluster.
    Yields (number, outcome) as each finishes. Shared with the serving sweep
    (`archsim.serving.capacity`), whose points go to the same cluster plumbing."""

    def __init__(self, scheduler: str | None, jobs: int):
        self.scheduler = scheduler
        self.jobs = max(1, jobs)
        self._pool = None
        self._client = None
        if scheduler:
            import re
            if not re.fullmatch(r"((tcp|tls|ucx|ws|wss)://)?(\[[0-9A-Fa-f:.]+\]|[^\s/:\[\]]+):\d+/?", scheduler):
                # checked before Client(): a half-made Client hangs 40 s in __del__ at exit
                raise _bad_argument("scheduler", "not a Dask scheduler address", repr(scheduler),
                                    "give tcp://HOST:PORT (e.g. tcp://10.0.0.5:8786)")
            from dask.distributed import Client
            try:
                self._client = Client(scheduler, timeout="20s", set_as_default=False)
            except (OSError, TimeoutError, ValueError) as exc:
                raise _bad_argument("scheduler", f"cannot reach the Dask scheduler: {exc}", repr(scheduler),
                                    "start one with `dask scheduler` and pass its tcp://HOST:PORT") from None

    def run(self, evaluate: Evaluator, todo: list[tuple[int, dict]]):
        if self._client is not None:
            from dask.distributed import as_completed
            futures = {self._client.submit(evaluate_one, evaluate, params, pure=False): number
                       for number, params in todo}
            for future in as_completed(list(futures), loop=self._client.loop):
                yield futures[future], future.result()
            return
        if self.jobs == 1 or len(todo) == 1:
            for number, params in todo:
                yield number, evaluate_one(evaluate, params)
            return
        from concurrent.futures import ProcessPoolExecutor, as_completed
        if self._pool is None:
            self._pool = ProcessPoolExecutor(max_workers=self.jobs, initializer=_die_with_driver,
                                             initargs=(os.getpid(),))
        futures = {self._pool.submit(evaluate_one, evaluate, params): number for number, params in todo}
        for future in as_completed(futures):
            yield futures[future], future.result()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
        if self._client is not None:
            self._client.close()
