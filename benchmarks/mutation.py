"""Mutation score of the core: realistic, hand-written bugs planted one at a time in a copy of the
tree; each is "killed" when the tests relevant to it fail. mutmut and cosmic-ray were not used:
both mutate syntax blindly (thousands of mostly trivial mutants here, hours per run with the Numba
kernels recompiling) and cosmic-ray needs its own session database; a short list of bugs a person
would plausibly write gives a score that means something in minutes.

Covers archsim/units.py, archsim/energy*.py and the engine's accounting, archsim/engine,
archsim/kernels, archsim/hardware, archsim/serving, archsim/system, mapper/ and workloads/. The
mutants live in benchmarks/mutants/, one file per area; this file only runs them. Each mutant
names a file, an exact text that must occur once, its replacement and the test files to run. When
the code moves and the text no longer occurs once, the mutant is reported as "mutant no longer
applies" (and not scored) instead of silently passing. Mutants proven equivalent are listed in
mutants/equivalent.py's EQUIVALENT with the reason and not scored.

Prints one JSON line: {"benchmark": "mutation", "score": killed / scored, "killed", "scored",
"survived": [...], "not_applicable": [...], "equivalent": [...], "seconds"}.

    python benchmarks/mutation.py [--jobs 2] [--only id,id] [--list]

Run time (`--jobs 1`): the first 56 mutants 45 min wall at load average 8-12 on 2 shared cores;
the 47 of the third round plus the two retargeted ones 19 min at load 3-4 (a mutant in
archsim/kernels/ recompiles every Numba kernel, 1-3 min). Use `--only` to batch.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

if __package__:            # imported as benchmarks.mutation
    from .mutants import EQUIVALENT, MUTANTS, Mutant
else:                      # run as a script: benchmarks/ is first on sys.path
    from mutants import EQUIVALENT, MUTANTS, Mutant

ROOT = Path(__file__).resolve().parents[1]
TARGET_SCORE = 0.90


def _copy_tree(dest: Path) -> None:
    ignore = shutil.ignore_patterns(".git", "__pycache__", ".hypothesis", ".pytest_cache", "*.egg-info",
                                    "archsim-out", "build", "dist")
    shutil.copytree(ROOT, dest, ignore=ignore, dirs_exist_ok=True)


def _pytest(cwd: Path, tests: tuple[str, ...], timeout: float) -> tuple[int, float]:
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "HYPOTHESIS_PROFILE")}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    t0 = time.time()
    try:
        run = subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider",
                              "-o", "addopts=", *tests], cwd=cwd, env=env, capture_output=True,
                             timeout=timeout)
        return run.returncode, time.time() - t0
    except subprocess.TimeoutExpired:
        return -1, time.time() - t0


def run_mutant(m: Mutant, workdir: Path, timeout: float) -> dict:
    path = workdir / m.file
    if not path.is_file():
        return {"id": m.id, "status": "not_applicable", "note": f"mutant no longer applies: no file {m.file}"}
    original = path.read_text(encoding="utf-8")
    stat = path.stat()
    if original.count(m.old) != 1:
        return {"id": m.id, "status": "not_applicable",
                "note": f"mutant no longer applies: {m.file} has the text {original.count(m.old)} times"}
    # Numba's cache of one kernel file does not notice an edit of another it calls: a mutated
    # kernel runs with no cache at all, and the unmutated tree's cache is put back afterwards
    # (valid again: the file's text and time stamp are restored), so later mutants need not
    # compile every kernel again
    kernel = m.file.startswith("archsim/kernels/")
    cache = workdir / "archsim" / "kernels" / "__pycache__"
    kept = cache.with_name("__pycache__.unmutated")
    try:
        path.write_text(original.replace(m.old, m.new), encoding="utf-8")
        if kernel:
            shutil.rmtree(kept, ignore_errors=True)
            if cache.exists():
                cache.rename(kept)
        code, seconds = _pytest(workdir, m.tests, timeout)
    finally:
        path.write_text(original, encoding="utf-8")
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
        if kernel:
            shutil.rmtree(cache, ignore_errors=True)
            if kept.exists():
                kept.rename(cache)
    status = {0: "survived", 5: "no_tests", -1: "killed"}.get(code, "killed")
    out = {"id": m.id, "status": status, "seconds": round(seconds, 1), "what": m.what}
    if code == -1:
        out["note"] = "timed out"
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--only", default="")
    ap.add_argument("--timeout", type=float, default=900.0)
    ap.add_argument("--list", action="store_true")
    args = ap.parse_args(argv)
    todo = [m for m in MUTANTS if not args.only or m.id in args.only.split(",")]
    if args.list:
        for m in todo:
            print(f"{m.id:28s} {m.file:36s} {m.what}")
        return 0
    t0 = time.time()
    scored = [m for m in todo if m.id not in EQUIVALENT]
    with tempfile.TemporaryDirectory(prefix="archsim-mutation-") as tmp:
        dirs = [Path(tmp) / f"w{i}" for i in range(max(1, args.jobs))]
        for d in dirs:
            _copy_tree(d)
        # the unmutated tree must pass every test subset used, or no verdict means anything
        subsets = sorted({t for m in scored for t in m.tests})
        code, _ = _pytest(dirs[0], tuple(subsets), args.timeout * 4)
        if code != 0:
            print(json.dumps({"benchmark": "mutation", "error": "the unmutated tests fail",
                              "tests": subsets}))
            return 1
        free = list(dirs)
        import threading
        lock = threading.Lock()

        def job(m):
            with lock:
                d = free.pop()
            try:
                result = run_mutant(m, d, args.timeout)
                print(json.dumps(result), file=sys.stderr, flush=True)     # progress
                return result
            finally:
                with lock:
                    free.append(d)

        with ThreadPoolExecutor(max_workers=len(dirs)) as pool:
            results = list(pool.map(job, scored))
    killed = [r["id"] for r in results if r["status"] == "killed"]
    survived = [r["id"] for r in results if r["status"] in ("survived", "no_tests")]
    gone = [r for r in results if r["status"] == "not_applicable"]
    counted = len(killed) + len(survived)
    score = len(killed) / counted if counted else 0.0
    print(json.dumps({"benchmark": "mutation", "score": round(score, 4), "target": TARGET_SCORE,
                      "killed": len(killed), "scored": counted, "survived": survived,
                      "not_applicable": [f"{r['id']}: {r['note']}" for r in gone],
                      "equivalent": [f"{k}: {v}" for k, v in EQUIVALENT.items()
                                     if any(m.id == k for m in todo)],
                      "seconds": round(time.time() - t0, 1)}))
    return 0 if score >= TARGET_SCORE else 1


if __name__ == "__main__":
    sys.exit(main())
