"""Cross-checks against other tools (SCALE-Sim, PyTorch's ONNX export, headless Chromium) need
installs that can fail. Locally a missing piece skips its test with how to install it; in CI
(`CI` set, as `.ci/run` and CI services do) it fails naming the piece, so a green CI run means the
cross-checks ran."""
from __future__ import annotations

import os

import pytest

__all__ = ["in_ci", "missing"]


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def missing(piece: str, how: str):
    """Fail (in CI) or skip (locally) a test whose cross-check dependency `piece` is absent."""
    if in_ci():
        pytest.fail(f"CI=true but {piece} is missing, so this cross-check cannot run; {how}",
                    pytrace=False)
    pytest.skip(f"{piece} is missing; {how}")
