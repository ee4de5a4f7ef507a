"""JSON read as data with limits: duplicate keys, NaN/Infinity, deep nesting and huge documents are
refused with one clear problem instead of being kept silently (the last duplicate wins in `json`)
or crashing (`RecursionError` past ~1000 levels)."""
from __future__ import annotations

import json

__all__ = ["JsonProblem", "loads_strict", "flow_depth", "MAX_JSON_DEPTH", "MAX_JSON_CHARS", "MAX_INT_DIGITS"]

#: deepest nesting of objects and arrays (an HF config.json nests ~3 deep)
MAX_JSON_DEPTH = 50
#: largest document read (HF configs are a few KB)
MAX_JSON_CHARS = 1_000_000
#: longest integer literal read: Python refuses to convert more than 4,300 digits (ValueError), and
#: no size in a configuration needs more than a few; the limits of archsim.limits apply afterwards
MAX_INT_DIGITS = 100


class JsonProblem(ValueError):
    """What is wrong and the line it is on (None when it is the whole document)."""

    def __init__(self, problem: str, line: int | None = None):
        super().__init__(problem)
        self.problem, self.line = problem, line


def flow_depth(text: str) -> int:
    """Deepest nesting of [ and { over the raw text (brackets inside strings count too: an
    over-estimate only for text no configuration contains)."""
    depth = deepest = 0
    for ch in text:
        if ch in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
        elif ch in "]}":
            depth = max(0, depth - 1)
    return deepest


def _pairs(pairs):
    out = {}
    for key, value in pairs:
        if key in out:
            raise JsonProblem(f"duplicate key {key!r} (JSON would silently keep the last)")
        out[key] = value
    return out


def _constant(name: str):
    raise JsonProblem(f"{name} is not a JSON number")


def _integer(literal: str) -> int:
    if len(literal.lstrip("-")) > MAX_INT_DIGITS:
        raise JsonProblem(f"an integer of {len(literal.lstrip('-')):,} digits (at most {MAX_INT_DIGITS} read); "
                          "check the digits")
    return int(literal)


def loads_strict(text: str):
    """`json.loads` with the limits above; raises JsonProblem."""
    if len(text) > MAX_JSON_CHARS:
        raise JsonProblem(f"larger than {MAX_JSON_CHARS:,} characters")
    if flow_depth(text) > MAX_JSON_DEPTH:
        raise JsonProblem(f"nested too deeply (more than {MAX_JSON_DEPTH} levels)")
    try:
        return json.loads(text, object_pairs_hook=_pairs, parse_constant=_constant, parse_int=_integer)
    except json.JSONDecodeError as exc:
        raise JsonProblem(f"malformed JSON at column {exc.colno}: {exc.msg}", exc.lineno) from None
