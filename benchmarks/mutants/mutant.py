"""One planted bug: the file, an exact text that must occur there once, its replacement, the test
files (or test ids) that should fail with it, and what the bug is in words."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Mutant:
    id: str
    file: str
    old: str
    new: str
    tests: tuple[str, ...]
    what: str
