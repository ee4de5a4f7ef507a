"""Second first-user pass: `map` validates its search options like the API and reports a misfit as a
result (model or GEMM), readable byte counts in 'does not fit', `reproduce` checks names and output
paths before running anything, co-search studies are keyed by the simulator's fingerprint, and
`--hw-set` / `hw_overrides=` change a chip for one run."""
from __future__ import annotations

import json
import time

import pytest

import archsim
from archsim.api import ArgumentError
from archsim.cli import main
from archsim.errors import ConfigError, DoesNotFit

ONE_BLOCK = {"layers": 1}


def _error(capsys, argv) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err and "internal error" not in err, err
    return err


# 1. map: search options validated as in archsim.api, before any work

@pytest.mark.parametrize("extra, expected", [
    (["--seed", "-1", "--strategy", "random"], "seed must be a whole number ≥ 0 (got -1)"),
    (["--budget", "0"], "budget must be a positive number"),
    (["--budget", "-3"], "budget must be a positive number"),
    (["--strategy", "genetc"], "did you mean 'genetic'?"),
])
def test_map_rejects_bad_search_options(capsys, extra, expected):
    err = _error(capsys, ["map", "--model", "gpt2-small", "--hw", "edge-npu", *extra])
    assert err.startswith("archsim: error: ") and expected in err


# 2. map: a model that does not fit shows the shortfall, not a total

def test_map_model_that_does_not_fit_has_no_total(capsys):
    argv = ["map", "--model", "gpt2-small", "--hw", "stm32f746", "--seq", "16", "--op", "L0.attn.q"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "total:" not in out and " J," not in out
    last = out.strip().splitlines()[-1]
    assert last.startswith("does not fit: ") and "short by" in last and "MiB (" in last
    assert main(argv + ["--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["fits"] is False and "short by" in data["does_not_fit"]
    assert data["latency_s"] is None and data["energy_j"] is None and data["cycles"] is None


def test_map_model_that_fits_still_has_a_total(capsys):
    assert main(["map", "--gemm", "64,64,64", "--hw", "edge-npu"]) == 0
    assert "total: " in capsys.readouterr().out


# 3. map --gemm too big for the chip is a result

def test_map_gemm_too_big_is_a_result(capsys):
    argv = ["map", "--gemm", "1000000000,1000000000,1000000000", "--hw", "edge-npu"]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    assert captured.out.startswith("does not fit: gemm.") and "needs" in captured.out
    assert "PiB (" in captured.out and "has 2 GiB (2,147,483,648 B)" in captured.out
    assert main(argv + ["--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["fits"] is False and data["gemm"] == [10**9] * 3 and data["latency_s"] is None
    assert _error(capsys, ["map", "--gemm", "0,5,5", "--hw", "edge-npu"]).endswith("(got '0,5,5')")


# 4. DoesNotFit reads in binary prefixes, exact bytes kept

def test_does_not_fit_is_readable():
    text = str(DoesNotFit("dram", "w", 13476831232, 2147483648))
    assert text == ("does not fit: w needs 12.55 GiB (13,476,831,232 B) in dram, has 2 GiB "
                    "(2,147,483,648 B); short by 10.55 GiB (11,329,347,584 B)")
    assert str(DoesNotFit("sram", "act", 1000, 512)) == \
        "does not fit: act needs 1000 B in sram, has 512 B; short by 488 B"


# 5. reproduce: names and output paths checked before any study runs

@pytest.fixture
def no_study_runs(monkeypatch):
    from archsim.studies import registry

    def boom(*a, **k):
        raise AssertionError("a study ran before the arguments were checked")
    monkeypatch.setattr(registry, "run_studies", boom)


@pytest.mark.parametrize("flag", ["--json", "--html", "--markdown"])
def test_reproduce_checks_output_paths_first(capsys, tmp_path, no_study_runs, flag):
    err = _error(capsys, ["reproduce", "pim-gpt", flag, str(tmp_path), "--quiet"])
    assert err == f"archsim: error: {flag} {tmp_path}: is a directory; give a file path like out/result.json"


def test_reproduce_unknown_study_is_an_argument_error(capsys, no_study_runs):
    from archsim.studies.registry import STUDIES
    err = _error(capsys, ["reproduce", "pim-gtp"])
    assert err == ("archsim: error: unknown study 'pim-gtp'; did you mean 'pim-gpt'? (choose from "
                   + ", ".join([*STUDIES, "all"]) + ")")
    assert "<command line>" not in _error(capsys, ["reproduce", "zzz"])


# 6. co-search studies are keyed by the simulator's fingerprint

def test_fingerprint_is_stable_cheap_and_changes_with_the_code(tmp_path):
    from archsim.cosearch.fingerprint import simulator_fingerprint
    fresh = simulator_fingerprint.__wrapped__
    timings = []
    for _ in range(3):                       # best of three: the machine is shared
        start = time.perf_counter()
        first = fresh()
        timings.append(time.perf_counter() - start)
    # a sanity bound, not a performance target: hashing the sources takes ~25 ms; 0.5 s still
    # catches a fingerprint that reads far more than the evaluation sources (0.05 s flaked under load)
    assert min(timings) < 0.5
    assert first == fresh() == simulator_fingerprint() and len(first) == 12
    from archsim.cosearch.fingerprint import EVALUATION_SOURCES
    for pattern in EVALUATION_SOURCES:      # a tree with one file per source (a folder or a glob)
        path = tmp_path / pattern.replace("*", "x")
        path = path if path.suffix else path / "a.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("")
    (tmp_path / "mapper" / "cost.py").write_text("RATE = 1\n")
    (tmp_path / "hwconfigs" / "chip.yaml").write_text("name: chip\n")
    before = fresh(str(tmp_path))
    (tmp_path / "hwconfigs" / "chip.yaml").write_text("name: chip2\n")
    assert fresh(str(tmp_path)) != before
    (tmp_path / "hwconfigs" / "chip.yaml").write_text("name: chip\n")
    assert fresh(str(tmp_path)) == before
    (tmp_path / "README.txt").write_text("not evaluation code")
    assert fresh(str(tmp_path)) == before


def test_changed_simulator_starts_a_new_study(tmp_path, monkeypatch):
    from archsim.cosearch import fingerprint, run_study
    from archsim.cosearch.study import study_name_for
    from tests.cosearch.toy_eval import toy_evaluate, toy_space
    storage = f"sqlite:///{tmp_path}/s.db"
    first = run_study(toy_space(), toy_evaluate, trials=4, seed=1, storage=storage, jobs=1)
    assert f"-sim{fingerprint.simulator_fingerprint()}-" in first.study_name
    again = run_study(toy_space(), toy_evaluate, trials=4, seed=1, storage=storage, jobs=1)
    assert again.study_name == first.study_name and again.evaluated_now == 0       # resumed
    monkeypatch.setattr(fingerprint, "simulator_fingerprint", lambda: "0123456789ab")
    changed = run_study(toy_space(), toy_evaluate, trials=4, seed=1, storage=storage, jobs=1)
    assert changed.study_name == study_name_for(toy_space(), 1, "nsga2") != first.study_name
    assert changed.evaluated_now == 4                                                 # not reused


# 7. hardware overrides for one run

def test_api_hw_overrides_change_the_chip():
    base = archsim.simulate("gpt2-small", "edge-npu", context=16, overrides=ONE_BLOCK)
    big = archsim.simulate("gpt2-small", "edge-npu", context=16, overrides=ONE_BLOCK,
                           hw_overrides={"memory.gbuf.size": "4MiB", "dram.channels": 16})
    sizes = {lv.level: lv.capacity_bytes for lv in big.levels}
    assert sizes["gbuf"] == 4 * 2**20 and sizes["gbuf"] != {lv.level: lv.capacity_bytes
                                                              for lv in base.levels}["gbuf"]
    assert sizes["lpddr5"] > {lv.level: lv.capacity_bytes for lv in base.levels}["lpddr5"]
    c = archsim.compare("gpt2-small", ["edge-npu"], context=16, overrides=ONE_BLOCK,
                        hw_overrides={"memory.gbuf.size": "4MiB"})
    assert {lv.level: lv.capacity_bytes for lv in c.rows[0].result.levels}["gbuf"] == 4 * 2**20
    with pytest.raises(ConfigError, match=r"memory.gbf.size: no entry 'memory.gbf'; did you mean 'gbuf'\?"):
        archsim.simulate("gpt2-small", "edge-npu", hw_overrides={"memory.gbf.size": "4MiB"})
    with pytest.raises(ArgumentError, match="hw_overrides must be a dict"):
        archsim.simulate("gpt2-small", "edge-npu", hw_overrides=["memory.gbuf.size=4MiB"])


def test_cli_hw_set(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    argv = ["simulate", "--model", "gpt2-small", "--hw", "edge-npu", "--context", "8", "--quiet",
            "--json", "-"]
    sets = ["--hw-set", "memory.gbuf.size=4MiB", "--hw-set", "compute.pe_array.shape=[64,64]"]
    assert main(argv + sets) == 0
    data = json.loads(capsys.readouterr().out)
    assert {lv["level"]: lv["capacity_bytes"] for lv in data["levels"]}["gbuf"] == 4 * 2**20
    err = _error(capsys, argv + ["--hw-set", "memory.gbf.size=4MiB"])
    assert err == ("archsim: error: <overrides>: memory.gbf.size: no entry 'memory.gbf'; "
                   "did you mean 'gbuf'?")
    assert "expected KEY=VALUE" in _error(capsys, argv + ["--hw-set", "memory.gbuf.size"])
    assert "cannot read the value" in _error(capsys, argv + ["--hw-set", "x=[1,"])
    err = _error(capsys, ["compare", "--model", "gpt2-small", "--hw", "edge-npu", "tpu-v1",
                          "--hw-set", "memory.gbf.size=4MiB"])
    assert "did you mean 'gbuf'?" in err
    err = _error(capsys, argv + ["--hw-set", "compute.pe_array.macs_per_cycle.int8=999999"])
    assert "more than 8x the 1024 PEs" in err


def test_hw_set_parses_yaml_values():
    from archsim.cli.outputs import hw_overrides
    assert hw_overrides(["compute.pe.shape=[64,64]", "dram.channels=16", "memory.gbuf.size=4 MiB"]) == \
        {"compute.pe.shape": [64, 64], "dram.channels": 16, "memory.gbuf.size": "4 MiB"}
    assert hw_overrides(None) is None
    with pytest.raises(ArgumentError, match="set more than once"):
        hw_overrides(["dram.channels=16", "dram.channels=8"])
