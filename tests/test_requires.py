"""A missing cross-check dependency fails the run under CI and skips, with how to install it,
elsewhere (`tests/requires.py`)."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.requires import in_ci, missing


@pytest.mark.parametrize("value, ci", [("true", True), ("1", True), ("", False), ("false", False)])
def test_ci_is_read_from_the_environment(monkeypatch, value, ci):
    monkeypatch.setenv("CI", value)
    assert in_ci() is ci


def test_missing_fails_in_ci_and_skips_locally(monkeypatch):
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true but torch is missing.*pip install"):
        missing("torch", "pip install torch")
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="torch is missing; pip install torch"):
        missing("torch", "pip install torch")


@pytest.mark.parametrize("ci, code, outcome", [("true", 1, "ERROR at setup"), ("", 0, "SKIPPED [1]")])
def test_scalesim_cross_check_without_its_venv(ci, code, outcome):
    env = dict(os.environ, CI=ci, ARCHSIM_SCALESIM_PYTHON="/nonexistent/python")
    run = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rfs",
                          "tests/mapper/test_scalesim.py", "-k", "os and 16-16"],
                         capture_output=True, text=True, env=env, timeout=300)
    assert run.returncode == code and outcome in run.stdout, run.stdout[-2000:]
    assert "SCALE-Sim (its venv) is missing" in run.stdout
