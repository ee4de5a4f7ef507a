"""`within(seconds)`: fail a test block that runs longer than its time bound instead of hanging the
suite (SIGALRM, so main thread only: what pytest and its xdist workers use). A pure-Python loop
is interrupted; a compiled kernel is interrupted when it returns."""
from __future__ import annotations

import signal
from contextlib import contextmanager

__all__ = ["within"]


class Overran(AssertionError):
    pass


@contextmanager
def within(seconds: float):
    def _alarm(signum, frame):
        raise Overran(f"did not finish within {seconds} s")
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
