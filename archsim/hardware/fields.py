"""Small field readers for the hardware loader (private helper of `archsim.hardware`).

Each reader takes one raw YAML value and returns the parsed value or raises `Bad(problem, hint)`.
`Checker.take` looks a key up in a `LocMap`, runs a reader, and on failure records a `Problem` with
the key's file and line and returns `BAD`, so the loader keeps going and reports every problem.
"""
from __future__ import annotations

from archsim.hardware.yaml_lines import LocList, LocMap, where
from archsim.errors import Problem, did_you_mean, printable
from archsim.limits import MAX_COUNT, out_of_range
from archsim.units import UnitError, parse_quantity

__all__ = ["BAD", "Bad", "Checker", "address", "text", "integer", "number", "boolean", "quantity", "cycles",
           "choice", "choices", "int_list", "text_list"]


class _Sentinel:
    def __repr__(self) -> str:
        return "BAD"

    def __bool__(self) -> bool:
        return False


BAD = _Sentinel()


class Bad(Exception):
    def __init__(self, problem: str, hint: str = "", got=None):
        super().__init__(problem)
        self.problem, self.hint, self.got = problem, hint, got


def _show(value) -> str:
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, LocMap):
        return "a mapping"
    if isinstance(value, LocList):
        shown = repr(list(value))          # a short list of plain values is shown as written
        scalar = all(isinstance(v, (int, float, str)) and not isinstance(v, bool) for v in value)
        return shown if scalar and len(shown) <= 60 else "a list"
    return repr(value)


def text(value):
    if not isinstance(value, str) or not value.strip():
        raise Bad("must be text")
    _no_control(value)
    return value


def _no_control(value: str) -> None:
    """Text reaches terminals: no escape sequences or other control characters (tabs and line
    breaks in notes are fine)."""
    import unicodedata
    bad = next((ch for ch in value if ch not in "\n\t" and unicodedata.category(ch)[0] == "C"), None)
    if bad is not None:
        raise Bad("must not contain control characters", got=printable(repr(bad)))


def integer(minimum: int | None = None, maximum: int = MAX_COUNT):
    """A whole number in [minimum, maximum] (`archsim.limits`: no count of real hardware is larger)."""
    def read(value):
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            else:
                raise Bad("must be a whole number")
        if minimum is not None and value < minimum:
            raise Bad(f"must be ≥ {minimum}" if minimum != 1 else "must be positive")
        if value > maximum:
            raise Bad(f"must be at most {maximum:,}", "larger than any real hardware; check the digits")
        return value
    return read


def address(value):
    """A base address: a whole number ≥ 0, written in hex (0x24000000) or decimal."""
    if isinstance(value, str):
        try:
            value = int(value.strip().replace("_", ""), 0)
        except ValueError:
            raise Bad("must be an address such as 0x20000000") from None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise Bad("must be an address such as 0x20000000")
    return value


def number(positive: bool = True, maximum: float = float(MAX_COUNT) ** 2):
    """A finite number ≤ `maximum` (a rate per cycle: MACs or bytes; default 2^64)."""
    def read(value):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise Bad("must be a number")
        if value != value or value in (float("inf"), float("-inf")):
            raise Bad("must be a finite number")
        if positive and value <= 0:
            raise Bad("must be positive")
        if value < 0:
            raise Bad("must not be negative")
        if value > maximum:
            raise Bad(f"must be at most {maximum:g}", "larger than any real hardware; check the digits")
        return value
    return read


def boolean(value):
    if not isinstance(value, bool):
        raise Bad("must be true or false")
    return value


def quantity(dimension: str, positive: bool = True, allow_bare: bool = False):
    """A number with a unit; `positive=False` allows zero (never negative)."""
    def read(value):
        try:
            parsed = parse_quantity(value, dimension, allow_bare=allow_bare)
        except UnitError as exc:
            raise Bad(exc.problem, exc.hint) from None
        if parsed < 0:
            raise Bad("must not be negative")
        if positive and parsed == 0:
            raise Bad("must be positive")
        problem = out_of_range(parsed, dimension)
        if problem:
            raise Bad(problem, "outside any real hardware (archsim.limits); check the digits and unit")
        return parsed
    return read


def cycles(value):
    """DRAM timing: a whole number of cycles, or a time ('13.75 ns') converted later with tCK."""
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 0:
            raise Bad("must not be negative")
        if value > MAX_COUNT:
            raise Bad(f"must be at most {MAX_COUNT:,} cycles", "check the digits")
        return value
    if isinstance(value, str):
        try:
            seconds = parse_quantity(value, "time")
        except UnitError as exc:
            raise Bad(exc.problem, "write cycles as a whole number, or a time like '13.75 ns'") from None
        if seconds < 0:
            raise Bad("must not be negative")
        problem = out_of_range(seconds, "time")
        if problem:
            raise Bad(problem, "outside any real DRAM timing; check the digits and unit")
        return ("time", seconds)
    raise Bad("must be a whole number of cycles or a time like '13.75 ns'")


def choice(options, aliases: dict | None = None):
    aliases = aliases or {}

    def read(value):
        if isinstance(value, str) and value in aliases:
            return aliases[value]
        if not isinstance(value, str) or value not in options:
            hint = did_you_mean(str(value), list(options) + list(aliases)) or f"choose one of {', '.join(options)}"
            raise Bad("unknown value", hint, got=_show(value))
        return value
    return read


def choices(options, aliases: dict | None = None):
    one = choice(options, aliases)

    def read(value):
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            raise Bad("must be a list")
        return tuple(one(v) for v in value)
    return read


def int_list(value):
    if isinstance(value, int) and not isinstance(value, bool):
        value = [value]
    if not isinstance(value, list) or not value:
        raise Bad("must be a list of whole numbers like [128, 128]")
    out = []
    for v in value:
        if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
            raise Bad("must be a list of positive whole numbers like [128, 128]")
        if v > MAX_COUNT:
            raise Bad(f"entries must be at most {MAX_COUNT:,}", "larger than any real hardware")
        out.append(v)
    if len(out) > 8:
        raise Bad("must have at most 8 entries (an array shape)")
    return tuple(out)


def text_list(value):
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise Bad("must be a list of text")
    if not value:
        raise Bad("is an empty list", "name at least one entry, or leave the key out")
    for v in value:
        _no_control(v)
    return tuple(value)


class Checker:
    """Collects problems; reads fields from LocMaps."""

    def __init__(self):
        self.problems: list[Problem] = []

    def add(self, container, key, path: str, problem: str, got=None, hint: str | None = None) -> None:
        file, line = where(container, key)
        self.problems.append(Problem(file, line, path, problem, got=got, hint=hint or None))

    def keys(self, m: LocMap, allowed: tuple[str, ...], path: str) -> None:
        for key in m:
            if key not in allowed:
                guess = did_you_mean(key, allowed)
                listing = f"allowed: {', '.join(allowed)}"
                hint = f"{guess} ({listing})" if guess else listing
                self.add(m, key, _join(path, key), "unknown key", hint=hint)

    def mapping(self, parent, key, path: str, value, required: bool = False):
        if value is None and not required:
            return None
        if not isinstance(value, LocMap):
            self.add(parent, key, path, "must be a mapping of keys", got=_show(value))
            return None
        return value

    def take(self, m: LocMap, key: str, path: str, reader, required: bool = False, default=None):
        if key not in m:
            if required:
                file, line = m.at
                self.problems.append(Problem(file, line, _join(path, key), "missing required field"))
                return BAD
            return default
        if m[key] is None:
            if required:
                self.add(m, key, _join(path, key), "has no value")
                return BAD
            return default
        value = m[key]
        try:
            return reader(value)
        except Bad as exc:
            self.add(m, key, _join(path, key), exc.problem, got=_show(value) if exc.got is None else exc.got,
                     hint=exc.hint)
            return BAD


def _join(path: str, key) -> str:
    return f"{path}.{key}" if path else str(key)
