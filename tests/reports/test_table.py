"""Terminal tables: what a user reads first."""
from __future__ import annotations

from archsim.reports import table

from .conftest import make_result


def test_si_and_bytes():
    assert table.si(0.0123, "s") == "12.3 ms"
    assert table.si(950.3, "W") == "950 W"
    assert table.si(None, "J") == "–"
    assert table.si(0, "J") == "0 J"
    assert table.si(2.5e-9, "s") == "2.5 ns"
    assert table.format_bytes(1536) == "1.5 KiB" and table.format_bytes(12) == "12 B"


def test_summary_names_everything_the_issue_asks(result):
    text = table.render_summary(result)
    for needle in ("latency", "tokens/s", "per token", "average power", "hbm", "capacity",
                   "top 7 of 7 ops", "memory:hbm", "lm_head"):
        assert needle in text, needle
    # the top op is the slowest one
    ops_part = text.split("ops by time")[1]
    assert ops_part.index("lm_head") < ops_part.index("layer0.rmsnorm")


def test_encode_counts_inferences():
    text = table.render_summary(make_result(phase="encode", model="bert-base"))
    assert "inferences/s" in text and "per inference" in text


def test_does_not_fit_summary():
    text = table.render_summary(make_result(fits=False))
    assert "DOES NOT FIT" in text and "short by" in text and "latency" not in text


def test_comparison_and_sweep(comparison, sweep):
    text = table.render_comparison(comparison)
    assert "h200-sxm (baseline)" in text and "does not fit" in text and "stm32f746:" in text
    assert "assumptions:" in text and "technology" in text
    assert "1.6" in text                                   # pim-gpt speedup 1.6×
    s = table.render_sweep(sweep)
    assert s.count("\n") == 2 + 1 + 6 and "context" in s


def test_misfit_reason_is_not_prefixed_twice():
    r = make_result(fits=False)
    assert table.misfit_reason(r).startswith("weights need")
    assert "does not fit: does not fit" not in table.render_summary(r).lower()


def test_used_share():
    assert table.used_share(50, 200) == "25.0 %"
    assert table.used_share(137_953_296_384, 1_048_576) == "1.32e+05× capacity"
    assert table.used_share(5, 0) == "–"
