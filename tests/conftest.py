"""Shared test settings. Hypothesis: no per-example deadline (Numba compiles on first call; CI has
2 cores shared by many tests), a modest example count so the suite stays inside CI's budget, and a
fixed derandomised profile under CI so a red run can be reproduced. Serving step times are cached
in a temporary folder of this test process, not in the user's ~/.cache (ARCHSIM_CACHE_DIR)."""
from __future__ import annotations

import atexit
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

if "ARCHSIM_CACHE_DIR" not in os.environ:
    os.environ["ARCHSIM_CACHE_DIR"] = tempfile.mkdtemp(prefix="archsim-test-cache-")
    atexit.register(shutil.rmtree, os.environ["ARCHSIM_CACHE_DIR"], True)
