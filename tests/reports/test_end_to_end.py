"""simulate / compare end to end through the CLI and the Python API, on the real pipeline
(workloads → config → mapper → engine → reports). Skips with "waiting for <module>" only while a
stage has not landed."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from archsim.cli import main

from .pipeline import require_pipeline

DECODE = ["simulate", "--model", "llama2-7b", "--hw", "h200-sxm", "--phase", "decode",
          "--context", "1024", "--fidelity", "analytic"]


def _run(argv, capsys) -> tuple[int, str, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_json_to_stdout_is_pure_and_byte_identical(capsys):
    require_pipeline("h200-sxm")
    code, out, err = _run(DECODE + ["--json", "-"], capsys)
    assert code == 0, err
    d = json.loads(out)                                  # stdout is the JSON and nothing else
    assert d["kind"] == "simulation" and d["model"] == "llama2-7b" and d["hw"] == "h200-sxm"
    assert d["phase"] == "decode" and d["context"] == 1024 and d["fits"] is True
    assert d["latency_s"] > 0 and d["energy_j"] > 0 and d["ops"]
    assert "latency" in err                              # the summary went to stderr
    # a fresh process (no warm caches) writes the same bytes
    proc = subprocess.run([sys.executable, "-m", "archsim"] + DECODE + ["--json", "-"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == out


def test_default_output_dir(tmp_path, monkeypatch, capsys):
    require_pipeline("h200-sxm")
    monkeypatch.chdir(tmp_path)
    code, out, err = _run(DECODE, capsys)
    assert code == 0, err
    files = sorted(p.name for p in (tmp_path / "archsim-out").iterdir())
    assert files == ["llama2-7b_h200-sxm_decode_ctx1024.csv", "llama2-7b_h200-sxm_decode_ctx1024.html",
                     "llama2-7b_h200-sxm_decode_ctx1024.json"]
    assert "tokens/s" in out and "top" in out


def test_context_and_batch_sweep(tmp_path, capsys):
    require_pipeline("h200-sxm")
    path = tmp_path / "s.json"
    code, out, err = _run(["simulate", "--model", "llama2-7b", "--hw", "h200-sxm", "--context",
                           "128,1024,4096", "--batch", "1,8", "--json", str(path), "--quiet"], capsys)
    assert code == 0, err
    assert out == "" and err == ""                       # --quiet: nothing at all
    d = json.loads(path.read_text())
    assert d["kind"] == "sweep" and d["parameters"] == ["batch", "context"]
    points = [(r["batch"], r["context"]) for r in d["results"]]
    assert points == [(1, 128), (1, 1024), (1, 4096), (8, 128), (8, 1024), (8, 4096)]
    fitting = [r for r in d["results"] if r["fits"]]
    by_point = {(r["batch"], r["context"]): r for r in fitting}
    if (1, 128) in by_point and (1, 4096) in by_point:   # a longer context never decodes faster
        assert by_point[(1, 4096)]["latency_s"] >= by_point[(1, 128)]["latency_s"]


def test_compare_with_a_chip_too_small(tmp_path, capsys):
    require_pipeline("h200-sxm", "pim-gpt", "stm32f746")
    path = tmp_path / "c.json"
    code, out, err = _run(["compare", "--model", "gpt2-xl", "--hw", "h200-sxm", "pim-gpt",
                           "stm32f746", "--phase", "decode", "--context", "512", "--json", str(path),
                           "--html", str(tmp_path / "c.html")], capsys)
    assert code == 0, err
    d = json.loads(path.read_text())
    rows = {r["hw"]: r for r in d["results"]}
    assert rows["h200-sxm"]["normalised"]["speedup"] == 1.0
    assert rows["stm32f746"]["fits"] is False and rows["stm32f746"]["does_not_fit"]
    assert "does not fit" in out and "assumptions:" in out
    assert (tmp_path / "c.html").stat().st_size > 1_000_000     # plotly.js embedded


def test_llama2_70b_on_an_mcu_is_a_clean_answer(capsys):
    require_pipeline("stm32f746")
    code, out, err = _run(["simulate", "--model", "llama2-70b", "--hw", "stm32f746", "--phase",
                           "decode", "--context", "128", "--json", "-", "--quiet"], capsys)
    assert "Traceback" not in err
    if code == 0:
        d = json.loads(out)
        assert d["fits"] is False and "short by" in d["does_not_fit"]
    else:
        assert code == 2 and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("argv, needle", [
    (["simulate", "--model", "llama2-7bb", "--hw", "h200-sxm"], "did you mean"),
    (["simulate", "--model", "llama2-7b", "--hw", "h200-sx"], "did you mean"),
    (["simulate", "--model", "llama2-7b", "--hw", "no/such/chip.yaml"], "no such file"),
    (["simulate", "--model", "no/such/config.json", "--hw", "h200-sxm"], "config.json"),
    (["compare", "--model", "llama2-7b", "--hw", "h200-sxm", "h200-sxm"], "more than once"),
    (["compare", "--model", "llama2-7b", "--hw", "h200-sxm", "--baseline", "pim"], "baseline"),
])
def test_bad_input_one_line_exit_2(argv, needle, capsys):
    require_pipeline("h200-sxm")
    code, out, err = _run(argv + ["--quiet"], capsys)
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and needle in lines[0], err


def test_python_api_equals_cli(capsys):
    require_pipeline("h200-sxm")
    import archsim
    from archsim.reports.json_report import dumps
    r = archsim.simulate("llama2-7b", "h200-sxm", phase="decode", context=1024)
    code, out, _ = _run(DECODE + ["--json", "-", "--quiet"], capsys)
    assert code == 0 and dumps(r) == out
