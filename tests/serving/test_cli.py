"""`archsim serve` end to end: one rate, a sweep and the capacity search write JSON, CSV and HTML;
bad input is one line with exit code 2."""
from __future__ import annotations

import json

import pytest

from archsim.cli import main

SMALL = ["--model", "gpt2-small", "--hw", "pim-gpt", "--prompt", "64", "--output", "16",
         "--max-batch", "4", "--token-budget", "256", "--requests", "200"]


@pytest.fixture
def cached(steps_cache, monkeypatch, tmp_path):
    monkeypatch.setenv("ARCHSIM_CACHE_DIR", str(steps_cache.parent))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_one_rate_writes_every_format(cached, capsys):
    assert main(["serve", *SMALL, "--rate", "20", "--json", "s.json", "--csv", "s.csv",
                 "--html", "s.html"]) == 0
    out = capsys.readouterr().out
    assert "pim-gpt · continuous · 20 req/s offered" in out and "TTFT p50/p90/p99" in out
    doc = json.loads((cached / "s.json").read_text())
    assert doc["kind"] == "serving" and doc["schema_version"] == 1
    (run,) = doc["runs"]
    m = run["metrics"]
    assert m["requests"] == 200 and m["finished"] == 200 and set(m["ttft_s"]) == {"p50", "p90", "p99"}
    assert run["step_table"]["interpolation_error"]["points"] >= 1
    kv = run["kv_over_time"]
    assert 1 < len(kv) <= 201 and all(0 <= u <= 1 for _, u in kv)
    assert [t for t, _ in kv] == sorted(t for t, _ in kv)
    lines = (cached / "s.csv").read_text().splitlines()
    assert lines[0].startswith("hw,scheduler,rate_rps,throughput_rps") and len(lines) == 2
    html = (cached / "s.html").read_text()
    for div in ("cdf-ttft", "cdf-tpot", "cdf-e2e", "kv", "Step times"):
        assert div in html


def test_sweep_and_capacity(cached, capsys):
    assert main(["serve", *SMALL, "--rate", "5,500", "--scheduler", "continuous", "static",
                 "--json", "-", "--quiet"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [(p["scheduler"], p["rate_rps"]) for p in doc["sweep"]] == [
        ("continuous", 5.0), ("continuous", 500.0), ("static", 5.0), ("static", 500.0)]
    assert main(["serve", *SMALL, "--capacity", "--ttft-slo", "0.05", "--tpot-slo", "0.01"]) == 0
    out = capsys.readouterr().out
    assert "requests/s at the SLO (TTFT ≤ 50 ms and TPOT ≤ 10 ms" in out and "pim-gpt" in out


@pytest.mark.parametrize("argv, message", [
    (["--model", "gpt2-small", "--hw", "pim-gpt"], "serve: give --rate, --trace or --capacity"),
    (["--model", "gpt2-small", "--hw", "pim-gpt", "--rate", "fast"], "--rate: expected positive"),
    (["--model", "bert-base", "--hw", "pim-gpt", "--rate", "1"], "without a decode phase"),
    (["--model", "gpt2-small", "--hw", "pim-gpt", "--capacity", "--ttft-slo", "-1"], "ttft_s must be a positive"),
])
def test_bad_input_is_one_line(argv, message, cached, capsys):
    assert main(["serve", *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_a_trace_file(cached, capsys):
    (cached / "t.jsonl").write_text("".join(
        f'{{"arrival_s": {i * 0.05}, "prompt_tokens": {32 + i}, "output_tokens": {4 + i % 5}}}\n'
        for i in range(40)))
    assert main(["serve", *SMALL, "--trace", "t.jsonl", "--json", "t.json", "--quiet"]) == 0
    m = json.loads((cached / "t.json").read_text())["runs"][0]["metrics"]
    assert m["requests"] == 40 and m["finished"] == 40


def test_disaggregated_on_two_chip_groups(cached, capsys):
    assert main(["serve", *SMALL, "--rate", "20", "--scheduler", "disaggregated", "--decode-devices",
                 "2", "--json", "d.json", "--quiet"]) == 0
    run = json.loads((cached / "d.json").read_text())["runs"][0]
    assert run["metrics"]["finished"] == 200
    assert run["step_table"]["devices"] == 1 and run["decode_step_table"]["devices"] == 2
