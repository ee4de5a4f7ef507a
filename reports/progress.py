"""A progress bar on stderr for long work (mapping search, cycle simulation over many ops).

Stages call `progress` in one of two forms: `progress(done, total, label)` (the mapper: ops mapped
of ops to map) or `progress(fraction, message)` (the engine: 0.0–1.0 and what it is doing).
`ProgressBar` accepts both; it
writes only to its stream (stderr by default, never stdout, so `--json -` stays clean), redraws at
most every `min_interval_s`, and is silent when `quiet=True`. On a non-terminal stream it writes a
plain line when a run of work starts and when it completes instead of carriage-return redraws.
"""
from __future__ import annotations

import sys
import time

__all__ = ["ProgressBar", "null_progress"]


def null_progress(done: int, total: int | None = None, label: str = "") -> None:
    """The do-nothing progress callable."""


class ProgressBar:
    def __init__(self, quiet: bool = False, stream=None, width: int = 28,
                 min_interval_s: float = 0.1, clock=time.monotonic):
        self.quiet = quiet
        self.stream = stream if stream is not None else sys.stderr
        self.width = width
        self.min_interval_s = min_interval_s
        self._clock = clock
        self._last_draw = -float("inf")
        self._total: int | None = -1
        self._done = 0
        self._open_line = False
        self.updates = 0          # calls received (for tests and callers that want to know)

    @property
    def _tty(self) -> bool:
        isatty = getattr(self.stream, "isatty", None)
        return bool(isatty and isatty())

    def __call__(self, done, total=None, label: str = "") -> None:
        self.updates += 1
        if self.quiet:
            return
        if isinstance(total, str):          # the (fraction, message) form: progress(0.4, "lowered")
            done, total, label = min(max(float(done), 0.0), 1.0), 1.0, total
        finished = total is not None and done >= total
        # a new run of work starts when the total changes or the count goes back; labels (often the
        # name of the op being worked on) change on every call and are only displayed
        new_run = total != self._total or done < self._done
        self._total, self._done = total, done
        now = self._clock()
        if not (finished or new_run or now - self._last_draw >= self.min_interval_s):
            return
        self._last_draw = now
        if self._tty:
            self.stream.write("\r" + self._line(done, total, label) + "\x1b[K")
            self._open_line = True
            if finished:
                self.stream.write("\n")
                self._open_line = False
        elif new_run or finished:
            self.stream.write(self._line(done, total, label) + "\n")
        self.stream.flush()

    def _line(self, done: int, total: int | None, label: str) -> str:
        prefix = f"{label}: " if label else ""
        if not total:
            return f"{prefix}{done}"
        frac = min(max(done / total, 0.0), 1.0)
        filled = int(round(frac * self.width))
        count = "" if isinstance(total, float) else f" {done}/{total}"
        return f"{prefix}[{'#' * filled}{'.' * (self.width - filled)}]{count} {100 * frac:3.0f}%"

    def close(self) -> None:
        """End an open redraw line (call when work stops before reaching `total`)."""
        if self._open_line and not self.quiet:
            self.stream.write("\n")
            self.stream.flush()
        self._open_line = False

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()
