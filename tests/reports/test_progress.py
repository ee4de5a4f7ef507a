"""Progress: stderr only, silent when quiet, throttled."""
from __future__ import annotations

import io

from archsim.reports.progress import ProgressBar


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
    assert "\r" in text and "100%" in text and "4/4" in text and text.endswith("\n")


def test_non_tty_writes_a_line_per_run_of_work():
    out = io.StringIO()
    bar = ProgressBar(stream=out, clock=lambda: 0.0)       # time stands still: throttle everything
    for i in range(1, 101):
        bar(i, 100, f"op{i}")                              # the label changes every call
    for i in range(1, 4):
        bar(i, 3, "second run")
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("op1:") and "1/100" in lines[0]
    assert lines[1].startswith("op100: 100%") and "100/100" in lines[1]
    assert lines[2].startswith("second run:") and "3/3" in lines[3] and "100%" in lines[3]
    assert len(lines) == 4 and "\r" not in out.getvalue()


def test_non_tty_logs_a_line_with_rate_and_eta_every_interval():
    out = io.StringIO()
    now = [0.0]
    bar = ProgressBar(stream=out, log_interval_s=10.0, unit=" ops", clock=lambda: now[0])
    for i in range(1, 101):
        now[0] = i * 1.0                                   # one op a second: a line every 10 s
        bar(i, 100, "map")
    lines = out.getvalue().splitlines()
    assert 10 <= len(lines) <= 12, lines
    middle = next(line for line in lines if "51/100" in line)   # 51 ops in 50 s
    assert "1.02 ops/s" in middle and "00:50<00:48" in middle    # rate, elapsed and remaining


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
    assert lines[0].startswith("planned 611 ops:  10%|")
    assert lines[-1].startswith("done: 100%|####")
