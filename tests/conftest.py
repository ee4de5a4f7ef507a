"""Shared test settings. Hypothesis: no per-example deadline (Numba compiles on first call; CI has
2 cores shared by many tests), a modest example count so the suite stays inside CI's budget, and a
fixed derandomised profile under CI so a red run can be reproduced. The persistent mapping cache
of a test session lives in a temporary folder."""
from __future__ import annotations

import os
import shutil
import tempfile

from hypothesis import HealthCheck, settings

settings.register_profile(
    "dev", deadline=None, max_examples=50,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.register_profile(
    "ci", deadline=None, max_examples=50, derandomize=True, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.load_profile("ci" if os.environ.get("CI") else os.environ.get("HYPOTHESIS_PROFILE", "dev"))


def pytest_configure(config):
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
