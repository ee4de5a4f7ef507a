"""Bad input to `archsim simulate` / `archsim compare` that is caught before any model or chip is
loaded: one line on stderr, exit code 2, never a traceback."""
from __future__ import annotations

import subprocess
import sys

import pytest

from archsim.cli import main


@pytest.mark.parametrize("argv, message", [
    (["simulate", "--model", "llama2-7b", "--hw", "h200-sxm", "--phase", "prefill", "--context", "128"],
     "context applies to --phase decode only"),
    (["simulate", "--model", "bert-base", "--hw", "h200-sxm", "--phase", "encode", "--context", "64"],
     "context applies to --phase decode only"),
    (["simulate", "--model", "llama2-7b", "--hw", "h200-sxm", "--phase", "decod"],
     "did you mean 'decode'"),
    (["simulate", "--model", "llama2-7b", "--hw", "h200-sxm", "--fidelity", "cycles"],
     "did you mean 'cycle'"),
    (["simulate", "--model", "llama2-7b", "--hw", "h200-sxm", "--batch", "1,x,8"],
     "--batch: expected positive integers"),
    (["simulate", "--model", "llama2-7b", "--hw", "h200-sxm", "--context", "0"],
     "--context: expected positive integers"),
    (["simulate", "--model", "llama2-7b", "--hw", "h200-sxm", "--json", "-", "--csv", "-"],
     "only one output can go to stdout"),
    (["compare", "--model", "llama2-7b", "--hw", "h200-sxm", "pim-gpt", "--context", "128,256"],
     "compare takes one value"),
])
def test_one_line_error_exit_2(argv, message, capsys):
    assert main(argv) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("archsim: error: ") and message in lines[0], lines
    assert captured.out == ""


def test_subprocess_no_traceback():
    proc = subprocess.run([sys.executable, "-m", "archsim", "simulate", "--model", "llama2-7b",
                           "--hw", "h200-sxm", "--phase", "prefill", "--context", "128"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and proc.stderr.count("\n") == 1


def test_help_lists_both_commands(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "simulate" in out and "compare" in out


def test_api_rejects_contradictions_too():
    from archsim import api
    with pytest.raises(api.ArgumentError, match="context applies"):
        api.resolve_phase("llama2-7b", "prefill", None, 128)
    assert api.resolve_phase("llama2-7b", None, None, 128) == "decode"
    with pytest.raises(api.ArgumentError, match="did you mean 'analytic'"):
        api.simulate("llama2-7b", "h200-sxm", fidelity="analytc")
