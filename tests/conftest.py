"""Shared test settings. Hypothesis: no per-example deadline (Numba compiles on first call; CI has
2 cores shared by many tests), a modest example count so the suite stays inside CI's budget, and a
fixed derandomised profile under CI so a red run can be reproduced."""
from __future__ import annotations

import os

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


import pytest  # noqa: E402


@pytest.fixture(autouse=True, scope="session")
def _mapping_cache_in_a_tmp_dir(tmp_path_factory):
    """The persistent mapping cache of a test run lives in a fresh folder, never the user's."""
    old = os.environ.get("ARCHSIM_CACHE_DIR")
    os.environ["ARCHSIM_CACHE_DIR"] = str(tmp_path_factory.mktemp("archsim-cache"))
    yield
    if old is None:
        os.environ.pop("ARCHSIM_CACHE_DIR", None)
    else:
        os.environ["ARCHSIM_CACHE_DIR"] = old
