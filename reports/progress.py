"""A progress bar on stderr for long work (mapping search, cycle simulation over many ops).

Stages call `progress` in one of two forms: `progress(done, total, label)` (the mapper: ops mapped
of ops to map) or `progress(fraction, message)` (the engine: 0.0–1.0 and what it is doing).
`ProgressBar` accepts both and writes only to its stream (stderr by default, never stdout, so
`--json -` stays clean); it is silent when `quiet=True`. Lines are laid out by tqdm
(`tqdm.format_meter`: percentage, count, elapsed, ETA and rate). On a terminal the line is redrawn
at most every `min_interval_s`; on a log (a non-terminal stream) a plain line is written when a run
of work starts, every `log_interval_s` while it goes on, and when it completes.
"""
from __future__ import annotations

import sys
import time

from archsim.errors import printable

__all__ = ["ProgressBar", "null_progress"]


def null_progress(done: int, total: int | None = None, label: str = "") -> None:
    """The do-nothing progress callable."""


class ProgressBar:
    def __init__(self, quiet: bool = False, stream=None, width: int = 80,
                 min_interval_s: float = 0.1, log_interval_s: float = 10.0, unit: str = " it",
                 clock=time.monotonic):
        self.quiet = quiet
        self.stream = stream if stream is not None else sys.stderr
        self.width = width
        self.min_interval_s = min_interval_s
        self.log_interval_s = log_interval_s
        self.unit = unit          # what `done` counts, for the rate (' ops' → '12.5 ops/s')
        self._clock = clock
        self._last_draw = -float("inf")
        self._started = 0.0
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
        now = self._clock()
        if new_run:
            self._started = now
        self._total, self._done = total, done
        interval = self.min_interval_s if self._tty else self.log_interval_s
        if not (finished or new_run or now - self._last_draw >= interval):
            return
        self._last_draw = now
        line = self._line(done, total, label, now - self._started)
        if self._tty:
            self.stream.write("\r" + line + "\x1b[K")
            self._open_line = True
            if finished:
                self.stream.write("\n")
                self._open_line = False
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def _line(self, done, total, label: str, elapsed_s: float) -> str:
        from tqdm import tqdm
        label = printable(label)                 # op names may come from a file
        if isinstance(total, float):        # a fraction of the work: percentage, elapsed and ETA
            return tqdm.format_meter(round(100 * done), 100, elapsed_s, ncols=self.width, prefix=label,
                                     ascii=not self._tty, bar_format="{l_bar}{bar}| [{elapsed}<{remaining}]")
        return tqdm.format_meter(done, total or None, elapsed_s, ncols=self.width, prefix=label,
                                 unit=self.unit, ascii=not self._tty)

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
