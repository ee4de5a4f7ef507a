"""`archsim cosearch` with wrong arguments and files: one line naming the flag or file, exit 2."""
from __future__ import annotations


import pytest

from archsim.cli import main
from archsim.cosearch import load_space
from archsim.errors import ConfigError
from archsim.studies.cosearch_eval import run_cosearch


def _error(capsys, argv) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("archsim: error: "), err
    assert "<input>" not in err[0]
    return err[0]


@pytest.mark.parametrize("extra, expected", [
    (["--trials", "0"], "cosearch: trials: must be a whole number ≥ 1 (got 0)"),
    (["--batch", "-1"], "cosearch: batch: must be a whole number ≥ 1 (got -1)"),
    (["--jobs", "0"], "cosearch: jobs: must be a whole number ≥ 1 (got 0)"),
    (["--cycle-check", "-1"], "cosearch: cycle_check: must be a whole number ≥ 0"),
    (["--sampler", "nsga"], "did you mean 'nsga2'?"),
    (["--storage", "foo://bar"], "cosearch: storage: cannot open the study database"),
])
def test_bad_flags(capsys, tmp_path, extra, expected):
    argv = ["cosearch", "npu-bert", "--trials", "1", "--quiet",
            "--storage", f"sqlite:///{tmp_path}/s.db"] + extra
    assert expected in _error(capsys, argv)


def test_storage_in_a_missing_folder(capsys, tmp_path):
    line = _error(capsys, ["cosearch", "npu-bert", "--trials", "1", "--quiet",
                           "--storage", f"sqlite:///{tmp_path}/nowhere/s.db"])
    assert f"folder {tmp_path}/nowhere of the database does not exist" in line
    assert not (tmp_path / "nowhere").exists()


def test_no_space_given(capsys):
    assert "cosearch: give a SPACE" in _error(capsys, ["cosearch"])


def test_json_into_a_directory_fails_before_searching(capsys, junk):
    line = _error(capsys, ["cosearch", "npu-bert", "--json", str(junk["dir"])])
    assert f"--json {junk['dir']}: is a directory" in line


@pytest.mark.parametrize("name, expected", [
    ("bin.yaml", r"not a text \(UTF-8\) file"),
    ("nul.yaml", "contains NUL bytes"),
    ("dir", "is a directory, expected a search-space YAML file"),
])
def test_unreadable_space_files(junk, name, expected):
    with pytest.raises(ConfigError, match=expected):
        load_space(junk[name])


def test_a_hardware_yaml_given_as_the_space():
    from archsim.hardware import hardware_path
    with pytest.raises(ConfigError) as exc:
        load_space(hardware_path("edge-npu"))
    assert len(exc.value.problems) == 1
    assert "this is a hardware description, not a search space" in str(exc.value)


def test_sqlite_memory_url_runs_in_memory(tmp_path, monkeypatch):
    """'sqlite:///:memory:' used to fail on the first commit with an Optuna internal error."""
    monkeypatch.chdir(tmp_path)
    report = run_cosearch("npu-bert", trials=1, batch=1, jobs=1, storage="sqlite:///:memory:",
                          cycle_check=0)
    assert len(report.result.trials) == 1
    assert not list(tmp_path.iterdir())


def test_cycle_check_type_is_checked():
    with pytest.raises(ConfigError, match="cycle_check"):
        run_cosearch("npu-bert", trials=1, cycle_check=1.5)


def test_space_with_a_model_and_a_hardware_mistake_reports_both(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text("name: mine\nmodel: gpt2-small\nphase: decod\nhardware: edge-npx\n"
                    "model_params:\n  layers: [1, 2]\nobjectives:\n  latency_s: minimize\n")
    with pytest.raises(ConfigError) as exc:
        run_cosearch(str(path), trials=1, storage=":memory:")
    text = str(exc.value)
    assert "(first design: model.layers=1): gpt2-small: unknown phase 'decod'; did you mean 'decode'" in text
    assert "unknown hardware 'edge-npx'; did you mean 'edge-npu'?" in text


@pytest.mark.parametrize("address", ["foo", "http://localhost:8787", "tcp://host"])
def test_malformed_scheduler_address_fails_fast(capsys, address):
    """Before: a ValueError traceback, then a 40 s hang in dask's Client.__del__ at exit."""
    line = _error(capsys, ["cosearch", "npu-bert", "--trials", "1", "--storage", ":memory:",
                           "--scheduler", address])
    assert "cosearch: scheduler: not a Dask scheduler address" in line
