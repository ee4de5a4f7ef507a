"""Request arrivals: Poisson, gamma (bursty) or a trace file.

A request is an arrival time, a prompt length and an output length (tokens). Poisson arrivals have
exponential gaps; gamma arrivals have gaps with the same mean and a coefficient of variation `cv`
(cv > 1: bursty, cv = 1: Poisson, cv = 0: evenly spaced). A trace is a CSV or JSONL file with one
request per row: the arrival time in seconds and the two lengths, under the column names Vidur's
request traces use (`arrived_at`, `num_prefill_tokens`, `num_decode_tokens`, as in its processed
Splitwise conversation and code traces) or archsim's own (`arrival_s`, `prompt_tokens`,
`output_tokens`).
"""
from __future__ import annotations

import csv
import math
import random
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError, Problem, did_you_mean
from ..limits import MAX_TOKENS
from ..strict_json import JsonProblem, loads_strict

__all__ = ["Request", "poisson", "gamma", "load_trace", "TRACE_COLUMNS"]


@dataclass(frozen=True, slots=True)
class Request:
    id: int
    arrival_s: float
    prompt_tokens: int
    output_tokens: int


#: archsim's column → the names accepted for it in a trace file
TRACE_COLUMNS = {
    "arrival_s": ("arrival_s", "arrived_at", "arrival_time"),
    "prompt_tokens": ("prompt_tokens", "num_prefill_tokens", "input_tokens"),
    "output_tokens": ("output_tokens", "num_decode_tokens", "output_length"),
}


def _check(name: str, value, low=0, integer=True):
    ok = (isinstance(value, int) if integer else isinstance(value, (int, float))) \
        and not isinstance(value, bool) and value >= low and math.isfinite(value)
    if not ok:
        from ..api import ArgumentError
        kind = "a whole number" if integer else "a finite number"
        raise ArgumentError(f"{name} must be {kind} ≥ {low} (got {value!r})")
    return value


def gamma(rate_per_s: float, count: int, prompt_tokens: int, output_tokens: int, cv: float = 1.0,
          seed: int = 0) -> tuple[Request, ...]:
    """`count` requests with gaps of mean 1/rate and coefficient of variation `cv`."""
    _check("rate", rate_per_s, 0, integer=False)
    if rate_per_s <= 0:
        from ..api import ArgumentError
        raise ArgumentError(f"rate must be > 0 requests/s (got {rate_per_s!r})")
    _check("requests", count, 1)
    _check("prompt tokens", prompt_tokens, 1)
    _check("output tokens", output_tokens, 1)
    _check("cv", cv, 0, integer=False)
    rng = random.Random(seed)
    t, out = 0.0, []
    shape = 1.0 / (cv * cv) if cv > 0 else 0.0
    for i in range(count):
        if shape:
            t += rng.gammavariate(shape, 1.0 / (rate_per_s * shape))
        else:
            t += 1.0 / rate_per_s
        out.append(Request(i, t, prompt_tokens, output_tokens))
    return tuple(out)


def poisson(rate_per_s: float, count: int, prompt_tokens: int, output_tokens: int,
            seed: int = 0) -> tuple[Request, ...]:
    """`count` requests arriving as a Poisson process of `rate_per_s`."""
    return gamma(rate_per_s, count, prompt_tokens, output_tokens, cv=1.0, seed=seed)


def _rows(path: Path):
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError([Problem(str(path), None, "", f"not a text (UTF-8) file: undecodable byte at "
                                   f"offset {exc.start}", hint="a trace is a CSV or JSONL text file")]) from None
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        for line_no, line in enumerate(text.splitlines(), 1):
            if line.strip():
                try:
                    row = loads_strict(line)     # no NaN/Infinity, duplicate keys or 5,000-digit ints
                except JsonProblem as exc:
                    raise ConfigError([Problem(str(path), line_no, "", f"not JSON: {exc.problem}")]) from None
                if not isinstance(row, dict):
                    raise ConfigError([Problem(str(path), line_no, "", "expected a JSON object per line",
                                               type(row).__name__)])
                yield line_no, row
        return
    line_no = 1
    try:
        for line_no, row in enumerate(csv.DictReader(text.splitlines()), 2):
            yield line_no, row
    except csv.Error as exc:                 # a field past csv's 131,072-character limit, ...
        raise ConfigError([Problem(str(path), line_no + 1, "", f"not a readable CSV row: {exc}")]) from None


def load_trace(path, limit: int | None = None) -> tuple[Request, ...]:
    """Requests from a CSV or JSONL trace (columns: see `TRACE_COLUMNS`), sorted by arrival and
    shifted so the first arrives at 0; `limit` keeps the first that many."""
    path = Path(path)
    out, problems = [], []
    for line_no, row in _rows(path):
        lower = {str(k).strip().lower(): v for k, v in row.items()}
        values = {}
        for key, names in TRACE_COLUMNS.items():
            name = next((n for n in names if n in lower), None)
            if name is None:
                hint = did_you_mean(key, list(lower)) or "accepted: " + ", ".join(names)
                raise ConfigError([Problem(str(path), line_no, key, "missing column", None, hint)])
            try:
                number = float(lower[name])
            except (TypeError, ValueError):
                problems.append(Problem(str(path), line_no, name, "not a number", repr(lower[name])))
                continue
            if not math.isfinite(number) or number < 0 or \
                    (key != "arrival_s" and (number < 1 or number != int(number))):
                problems.append(Problem(str(path), line_no, name, "must be a finite number ≥ 0"
                                        if key == "arrival_s" else "must be a whole number ≥ 1",
                                        repr(lower[name])))
                continue
            if key != "arrival_s" and number > MAX_TOKENS:
                problems.append(Problem(str(path), line_no, name, f"must be at most {MAX_TOKENS:,} tokens",
                                        repr(lower[name]), "past any real request (archsim.limits)"))
                continue
            values[key] = number
        if len(values) == 3:
            out.append((values["arrival_s"], line_no, int(values["prompt_tokens"]),
                        int(values["output_tokens"])))
        if limit is not None and len(out) >= limit:
            break
    if problems:
        raise ConfigError(problems)
    if not out:
        raise ConfigError([Problem(str(path), None, "", "the trace has no requests")])
    out.sort()
    t0 = out[0][0]
    return tuple(Request(i, a - t0, p, o) for i, (a, _, p, o) in enumerate(out))
