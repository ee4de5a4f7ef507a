"""Shared test settings. Hypothesis: no per-example deadline (Numba compiles on first call; CI has
2 cores shared by many tests).

Profiles: `dev` (default) runs each property test with the example count its `@settings` gives;
`ci` (chosen when the environment sets `CI`) runs EXAMPLE_SCALE_CI times as many, with a random
seed chosen per run and printed in the header (`hypothesis seed: N`), so CI explores new examples
every run and a red run reproduces with `pytest --hypothesis-seed=N` (or `ARCHSIM_HYPOTHESIS_SEED=N`).
Bugs found this way are kept as `@example`s on their tests. `HYPOTHESIS_PROFILE` picks a profile
explicitly; `ARCHSIM_HYPOTHESIS_SCALE` overrides the scale. The persistent mapping cache of a test
session lives in a temporary folder, never the user's."""
from __future__ import annotations

import os
import random
import shutil
import tempfile

import pytest
from hypothesis import HealthCheck, settings

from tests.requires import in_ci

#: how many times each property test's own example count the CI profile runs (measured: the
#: whole suite stays well inside CI's budget on 2 cores, see /work/notes/23.md)
EXAMPLE_SCALE_CI = 3

_COMMON = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                     HealthCheck.function_scoped_fixture])
settings.register_profile("dev", max_examples=50, **_COMMON)
settings.register_profile("ci", max_examples=50 * EXAMPLE_SCALE_CI, print_blob=True, **_COMMON)
PROFILE = os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if in_ci() else "dev")
settings.load_profile(PROFILE)
SCALE = int(os.environ.get("ARCHSIM_HYPOTHESIS_SCALE") or (EXAMPLE_SCALE_CI if PROFILE == "ci" else 1))


def _seed(config) -> int | None:
    """The run's Hypothesis seed under the ci profile: --hypothesis-seed, else ARCHSIM_HYPOTHESIS_SEED,
    else a fresh random one, exported so xdist workers use the same."""
    given = config.getoption("hypothesis_seed", default=None)
    if given is not None:
        return given
    if PROFILE != "ci":
        return None
    seed = os.environ.get("ARCHSIM_HYPOTHESIS_SEED") or str(random.SystemRandom().randrange(2 ** 32))
    os.environ["ARCHSIM_HYPOTHESIS_SEED"] = seed
    config.option.hypothesis_seed = int(seed)
    return int(seed)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    _seed(config)
    _private_cache(config)


def pytest_report_header(config):
    seed = config.getoption("hypothesis_seed", default=None)
    where = f"seed {seed} (reproduce: pytest --hypothesis-seed={seed})" if seed is not None else \
        "random seed per test"
    return f"hypothesis: profile {PROFILE}, examples x{SCALE}, {where}"


def pytest_collection_modifyitems(config, items):
    """Scale each property test's own example count by SCALE (the ci profile explores more)."""
    if SCALE == 1:
        return
    for item in items:
        fn = getattr(item, "obj", None)
        own = getattr(fn, "_hypothesis_internal_use_settings", None)
        if own is None or getattr(fn, "_archsim_scaled", False):
            continue
        fn._hypothesis_internal_use_settings = settings(own, max_examples=own.max_examples * SCALE)
        fn._archsim_scaled = True


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """The header is hidden under -q (the project's addopts): repeat the seed at the end."""
    if config.getoption("hypothesis_seed", default=None) is not None:
        terminalreporter.write_line(pytest_report_header(config))


def _private_cache(config) -> None:
    """The persistent mapping cache of a test run lives in a fresh folder, never the user's (set
    before collection, so nothing a test module does on import reaches the user's cache)."""
    config._archsim_cache = tempfile.mkdtemp(prefix="archsim-test-cache-")
    config._archsim_cache_old = os.environ.get("ARCHSIM_CACHE_DIR")
    os.environ["ARCHSIM_CACHE_DIR"] = config._archsim_cache


def pytest_unconfigure(config):
    old = getattr(config, "_archsim_cache_old", None)
    if old is None:
        os.environ.pop("ARCHSIM_CACHE_DIR", None)
    else:
        os.environ["ARCHSIM_CACHE_DIR"] = old
    shutil.rmtree(getattr(config, "_archsim_cache", ""), ignore_errors=True)
