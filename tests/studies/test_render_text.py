"""`archsim reproduce` prints every column of every row whatever the terminal width: long metric
names and notes wrap inside their cells instead of pushing the archsim, ratio and in-band columns
off the line (they were cut at 180 characters)."""
from __future__ import annotations

import pytest

from archsim.studies.markdown import render_text
from archsim.studies.study import Row, StudyResult

LONG = ("speedup of PIM-GPT over the T4 GPU baseline on gpt3-1.3b decode, averaged over the "
        "paper's eight context lengths with the eager-framework host overhead")


def _result():
    rows = (Row(LONG, 41.0, 10.25, 0.25, (0.5, 2.0), False, note="n" * 150, unit="×"),
            Row("short", 2.0, 2.1, 1.05, (0.8, 1.25), True))
    return StudyResult("demo", "a demo study", "a source", "out-of-band", rows=rows,
                       gaps=("g " * 120,))


@pytest.mark.parametrize("width", [80, 120, 200])
def test_every_cell_is_shown_within_the_width(width):
    text = render_text(_result(), width=width)
    assert all(len(line) <= width for line in text.splitlines()), max(map(len, text.splitlines()))
    for cell in ("10.25 ×", "0.250", "NO", "2.1", "1.050", "yes", "41"):
        assert cell in text, (cell, text)
    # the long metric is wrapped, not cut: all its words are there
    words = " ".join(text.split())
    assert all(word in words for word in ("paper's", "eight", "overhead"))
    assert text.count("n") >= 150 and text.count(" g") >= 119      # note and gap kept whole
