"""Structured exceptions. Every user-facing failure is one of these; the CLI prints them in one line
(or one line per problem) and exits 2 — never a traceback."""
from __future__ import annotations

from dataclasses import dataclass
import difflib

__all__ = [
    "ArchsimError", "ConfigError", "Problem", "ModelError", "MappingError", "DoesNotFit",
    "did_you_mean", "printable",
]


def printable(text: str) -> str:
    """`text` safe for a terminal: control and format characters (ESC sequences, carriage returns,
    bidi overrides, newlines) shown as escapes such as '\\x1b' instead of acting on the terminal.
    Names come from files (hardware `name:`, ONNX node names, paths) and are not trusted."""
    import unicodedata
    out = []
    for ch in str(text):
        if unicodedata.category(ch)[0] == "C":
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000
                       else f"\\U{code:08x}")
        else:
            out.append(ch)
    return "".join(out)


class ArchsimError(Exception):
    """Base of every error archsim raises on purpose."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem in an input file: where, what, what was got, what would be right."""
    file: str
    line: int | None
    key: str
    problem: str
    got: str | None = None
    hint: str | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        text = f"{where}: {self.key}: {self.problem}" if self.key else f"{where}: {self.problem}"
        if self.got is not None:
            text += f" (got {self.got})"
        if self.hint:
            text += f"; {self.hint}"
        return text


class ConfigError(ValueError, ArchsimError):
    """A hardware, search-space or model-config file is wrong. Holds every problem found."""

    def __init__(self, problems: list[Problem] | tuple[Problem, ...] | str):
        if isinstance(problems, str):
            problems = (Problem(file="<input>", line=None, key="", problem=problems),)
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class ModelError(ValueError, ArchsimError):
    """A model name, config.json or ONNX file cannot be turned into an OpGraph."""


class MappingError(ArchsimError):
    """No legal mapping exists; the message names level, tensor and shortfall."""


@dataclass(frozen=True, slots=True)
class DoesNotFit:
    """A result, not a crash: the workload needs more of a level than the chip has."""
    level: str
    tensor: str
    needed_bytes: int
    capacity_bytes: int

    @property
    def shortfall_bytes(self) -> int:
        return self.needed_bytes - self.capacity_bytes

    def __str__(self) -> str:
        return (f"does not fit: {self.tensor} needs {_readable_bytes(self.needed_bytes)} in "
                f"{self.level}, has {_readable_bytes(self.capacity_bytes)}; "
                f"short by {_readable_bytes(self.shortfall_bytes)}")


def _readable_bytes(n: int) -> str:
    """'12.55 GiB (13,476,831,232 B)'; under 1 KiB just '1000 B'. The exact count keeps digit
    grouping so it still reads as exact (and is not re-abbreviated by report formatters)."""
    value, unit = float(n), "B"
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"):
        if abs(value) < 1024 or unit == "EiB":
            break
        value /= 1024
    return f"{int(n)} B" if unit == "B" else f"{value:.4g} {unit} ({int(n):,} B)"


def did_you_mean(word: str, choices, n: int = 3) -> str:
    """'did you mean X?' text, or '' when nothing is close."""
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=n, cutoff=0.5)
    if not close:
        return ""
    return "did you mean " + " or ".join(repr(c) for c in close) + "?"
