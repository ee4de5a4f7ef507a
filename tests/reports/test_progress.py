"""Progress: stderr only, silent when quiet, throttled."""
from __future__ import annotations

import io

from reports.progress import ProgressBar


class _Tty(io.StringIO):
    def isatty(self):
        return True


def test_quiet_writes_nothing():
    out = io.StringIO()
    bar = ProgressBar(quiet=True, stream=out)
    for i in range(10):
        bar(i, 10, "search")
    bar.close()
    assert out.getvalue() == "" and bar.updates == 10


def test_tty_redraws_and_ends_line():
    out = _Tty()
    clock = iter(range(100))
    bar = ProgressBar(stream=out, clock=lambda: next(clock) * 1.0)
    for i in range(5):
        bar(i, 4, "map")
    text = out.getvalue()
    assert "\r" in text and "4/4 100%" in text and text.endswith("\n")


def test_non_tty_writes_a_line_per_run_of_work():
    out = io.StringIO()
    bar = ProgressBar(stream=out, clock=lambda: 0.0)       # time stands still: throttle everything
    for i in range(1, 101):
        bar(i, 100, f"op{i}")                              # the label changes every call
    for i in range(1, 4):
        bar(i, 3, "second run")
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("op1: [") and lines[1].endswith("100/100 100%")
    assert lines[2].startswith("second run: [") and lines[3].endswith("3/3 100%")
    assert len(lines) == 4


def test_default_stream_is_stderr(capsys):
    bar = ProgressBar()
    bar(1, 1, "x")
    captured = capsys.readouterr()
    assert captured.out == "" and "1/1" in captured.err


def test_fraction_and_message_form():
    out = io.StringIO()
    bar = ProgressBar(stream=out, clock=lambda: 0.0)
    bar(0.1, "planned 611 ops")
    bar(0.5, "lowered")
    bar(1.0, "done")
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("planned 611 ops: [") and lines[0].endswith(" 10%")
    assert lines[-1].startswith("done: [####") and lines[-1].endswith("100%")
