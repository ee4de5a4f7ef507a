"""Run a toy co-search in its own process (the kill-and-resume test kills this process)."""
from __future__ import annotations

import sys

from archsim.cosearch import run_study
from tests.cosearch.toy_eval import toy_evaluate, toy_space

if __name__ == "__main__":
    storage, trials, seed, jobs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    result = run_study(toy_space(), toy_evaluate, trials=trials, seed=seed, storage=storage, jobs=jobs)
    print(len(result.trials))
