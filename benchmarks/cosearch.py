"""Co-search throughput: trials per second for each built-in example space at analytic fidelity, on one
core (in-process evaluation, SQLite storage in a temporary folder — the default path of a real run).

Prints one JSON line: {"benchmark": "cosearch", "spaces": {name: {"trials", "trials_per_s", ...}}, ...}.
The first trial of a space pays one-time costs (imports, Numba compilation, mapper cache warm-up);
`warmup` trials are run first in a separate in-memory study and not counted.

    python benchmarks/cosearch.py [--trials N] [--warmup N] [--spaces a,b]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TARGET_MCU_TRIALS_PER_S = 5.0


def bench_space(name: str, trials: int, warmup: int, seed: int = 0) -> dict:
    from archsim.cosearch import load_space, run_study
    from archsim.studies.cosearch_eval import check_space, make_evaluator
    space = load_space(name)
    check_space(space)
    evaluate = make_evaluator(space)
    if warmup:
        run_study(space, evaluate, trials=warmup, seed=seed + 1, storage=":memory:", jobs=1)
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        result = run_study(space, evaluate, trials=trials, seed=seed, storage=f"sqlite:///{tmp}/b.db", jobs=1)
        wall = time.perf_counter() - start
    eval_s = sum(t.eval_wall_s for t in result.trials)
    return {"trials": len(result.trials), "wall_s": round(wall, 3),
            "trials_per_s": round(len(result.trials) / wall, 3),
            "eval_s_per_trial": round(eval_s / len(result.trials), 4),
            "overhead_s_per_trial": round((wall - eval_s) / len(result.trials), 4),
            "feasible": sum(t.feasible for t in result.trials), "pareto": len(result.pareto)}


def main(argv=None) -> int:
    from archsim.cosearch import list_spaces
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--spaces", default=",".join(list_spaces()))
    args = ap.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    rows = {name: bench_space(name, args.trials, args.warmup) for name in args.spaces.split(",") if name}
    mcu = rows.get("mcuformer-stm32f746")
    print(json.dumps({
        "benchmark": "cosearch", "fidelity": "analytic", "jobs": 1, "spaces": rows,
        "target_mcu_trials_per_s": TARGET_MCU_TRIALS_PER_S,
        "mcu_meets_target": None if mcu is None else mcu["trials_per_s"] >= TARGET_MCU_TRIALS_PER_S,
        "python": platform.python_version(), "cpus": os.cpu_count(),
    }, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
