"""The CLI's shared error handling: every bad input is one `archsim: error: ...` line and exit 2
(argparse mistakes included); an internal bug is one `archsim: internal error: ...` line and exit 1
unless `--traceback` is given."""
from __future__ import annotations

import subprocess
import sys

import pytest

import archsim.cli.models
from archsim.cli import main


def _one_error_line(capsys, argv, code=2) -> str:
    with pytest.raises(SystemExit) as exc:     # argparse exits; our own errors return
        raise SystemExit(main(argv))
    assert exc.value.code == code
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


@pytest.mark.parametrize("argv, expected", [
    (["graph", "gpt2-small", "--batch", "abc"],
     "archsim: error: graph: argument --batch: invalid int value: 'abc' (see `archsim graph --help`)"),
    (["simulat"], "did you mean 'simulate'?"),
    (["hw", "shw", "edge-npu"], "archsim: error: hw: argument ACTION: invalid choice: 'shw'"),
    (["simulate", "--model", "gpt2-small"], "one of the arguments --hw --system is required"),
    (["graph", "gpt2-small", "--limit", "-1"], "--limit: expected a whole number ≥ 0 (got '-1')"),
])
def test_argparse_mistakes_are_one_line(capsys, argv, expected):
    line = _one_error_line(capsys, argv)
    assert line.startswith("archsim: error: ") and expected in line


def test_wrong_subcommand_suggests_the_right_one(capsys):
    line = _one_error_line(capsys, ["hw", "shw"])
    assert "did you mean 'show'?" in line


def test_internal_error_is_one_line_exit_1(capsys, monkeypatch):
    def broken(args):
        raise ZeroDivisionError("division by zero\nsecond line")
    monkeypatch.setattr(archsim.cli.models, "run", broken)
    line = _one_error_line(capsys, ["models"], code=1)
    assert line.startswith("archsim: internal error: ZeroDivisionError: division by zero second line")
    assert "--traceback" in line


def test_traceback_flag_reraises_internal_errors(monkeypatch):
    def broken(args):
        raise ZeroDivisionError("boom")
    monkeypatch.setattr(archsim.cli.models, "run", broken)
    with pytest.raises(ZeroDivisionError):
        main(["--traceback", "models"])


def test_os_errors_name_the_file(capsys, monkeypatch, tmp_path):
    def unreadable(args):
        raise IsADirectoryError(21, "Is a directory", str(tmp_path))
    monkeypatch.setattr(archsim.cli.models, "run", unreadable)
    line = _one_error_line(capsys, ["models"])
    assert line == f"archsim: error: {tmp_path}: is a directory, expected a file"


@pytest.mark.parametrize("flag", ["--json", "--html", "--csv"])
def test_output_into_a_directory_fails_before_simulating(capsys, junk, flag):
    line = _one_error_line(capsys, ["simulate", "--model", "gpt2-small", "--hw", "edge-npu",
                                    flag, str(junk["dir"])])
    assert f"{flag} {junk['dir']}: is a directory" in line


def test_output_under_a_file_fails_before_simulating(capsys, junk):
    target = junk["file"] / "out" / "r.json"
    line = _one_error_line(capsys, ["compare", "--model", "gpt2-small", "--hw", "edge-npu", "t4",
                                    "--json", str(target)])
    assert f"{junk['file']} is a file, not a directory" in line


@pytest.mark.parametrize("argv, expected", [
    (["--strategy", "foo"], "unknown strategy 'foo'"),
    (["--budget", "0"], "budget must be a positive number"),
    (["--budget", "-5"], "budget must be a positive number"),
    (["--seed", "-1"], "seed must be a whole number ≥ 0 (got -1)"),
])
def test_search_options_are_checked(capsys, argv, expected):
    line = _one_error_line(capsys, ["simulate", "--model", "gpt2-small", "--hw", "edge-npu",
                                    "--quiet", "--json", "-"] + argv)
    assert expected in line


def test_graph_phase_follows_context_like_simulate(capsys):
    assert main(["graph", "gpt2-small", "--context", "64", "--limit", "0"]) == 0
    assert "phase=decode" in capsys.readouterr().out


def test_subprocess_binary_hardware_no_traceback(junk):
    proc = subprocess.run([sys.executable, "-m", "archsim", "hw", "show", str(junk["bin.yaml"])],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and proc.stderr.count("\n") == 1
    assert "not a text (UTF-8) file" in proc.stderr


def test_hw_validate_checks_every_yaml_in_a_folder(capsys, tmp_path, junk):
    from archsim.hardware import hardware_path
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "good.yaml").write_text(hardware_path("zcu102").read_text())
    (tmp_path / "lib" / "bad.yaml").write_bytes(junk["bin.yaml"].read_bytes())
    assert main(["hw", "validate", str(tmp_path / "lib")]) == 2
    out, err = capsys.readouterr()
    assert "good.yaml: ok (zcu102, fpga, 2 levels, 1 compute unit)" in out
    assert "bad.yaml: not a text (UTF-8) file" in err and "Traceback" not in err
