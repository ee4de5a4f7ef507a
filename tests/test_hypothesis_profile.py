"""Under CI the Hypothesis profile runs more examples than a test's own count, with a fresh seed per
run that the summary prints and `--hypothesis-seed` (or ARCHSIM_HYPOTHESIS_SEED) replays."""
from __future__ import annotations

import os
import re
import subprocess
import sys

TEST = "tests/engine/test_causal_skip.py::test_fraction_lies_between_the_triangle_and_the_whole"
OWN = 200     # that test's @settings(max_examples=...)


def _run(env_extra, *args):
    env = {k: v for k, v in os.environ.items()
           if k not in ("CI", "HYPOTHESIS_PROFILE", "ARCHSIM_HYPOTHESIS_SEED", "ARCHSIM_HYPOTHESIS_SCALE")}
    env.update(env_extra)
    run = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-o", "addopts=",
                          "--hypothesis-show-statistics", TEST, *args],
                         capture_output=True, text=True, env=env, timeout=300)
    assert run.returncode == 0, run.stdout[-2000:]
    return run.stdout


def _examples(out):
    return int(re.search(r"(\d+) passing examples", out).group(1))


def test_ci_profile_scales_examples_and_prints_a_fresh_seed():
    from tests.conftest import EXAMPLE_SCALE_CI
    a, b = _run({"CI": "true"}), _run({"CI": "true"})
    seeds = [re.search(r"hypothesis: profile ci, examples x(\d+), seed (\d+)", o) for o in (a, b)]
    assert all(seeds) and int(seeds[0].group(1)) == EXAMPLE_SCALE_CI > 1
    assert seeds[0].group(2) != seeds[1].group(2)                 # not derandomised
    assert _examples(a) > OWN                                     # more than the test's own count
    again = _run({"CI": "true", "ARCHSIM_HYPOTHESIS_SEED": seeds[0].group(2)})
    assert f"seed {seeds[0].group(2)}" in again


def test_dev_profile_keeps_the_tests_own_count():
    out = _run({})
    assert "hypothesis: profile dev, examples x1" in out
    assert _examples(out) <= OWN
