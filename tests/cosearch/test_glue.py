"""The real composition: workloads → archsim.hardware → mapper → archsim.engine inside the co-search,
the built-in spaces, the CLI and its JSON / HTML outputs."""
from __future__ import annotations

import dataclasses
import json
import math

import pytest

from archsim.cosearch import load_space, space_from_dict
from archsim.errors import ConfigError, ModelError


SRAM_BYTES, FLASH_BYTES = 320 * 1024, 1024 * 1024


def test_mcuformer_space_finds_designs_that_fit_and_reports_latency_energy():
    from archsim.studies.cosearch_eval import run_cosearch
    report = run_cosearch("mcuformer-stm32f746", trials=30, seed=1, storage=":memory:", jobs=1, cycle_check=1)
    res = report.result
    assert len(res.trials) == 30
    fitting = [t for t in res.trials if t.feasible]
    assert fitting, "no design fits 320 KB SRAM and 1 MB flash"
    assert res.pareto
    for t in res.pareto_trials:                       # every reported design really fits
        assert t.metric("peak_sram_bytes") <= SRAM_BYTES and t.metric("flash_bytes") <= FLASH_BYTES
        assert t.metric("latency_s") > 0 and t.metric("energy_j") > 0
        assert 0.3 < t.metric("accuracy") < 0.82       # a top-1 proxy, not a loss
    for t in res.trials:
        if not t.feasible:                             # a reason or a violated constraint, always
            assert t.reason or any(v > 0 for _, v in t.violations)
    over = [t for t in res.trials if (t.metric("flash_bytes") or 0) > FLASH_BYTES]
    assert all(not t.feasible and "flash" in t.reason for t in over)
    (gap,) = report.gaps                               # the cycle-fidelity re-simulation
    assert gap.number == res.pareto[0] and gap.cycle_latency_s > 0 and math.isfinite(gap.latency_gap)
    assert "proxy" in report.accuracy_label


def test_hardware_parameters_reach_the_simulation():
    from archsim.studies.cosearch_eval import build_trial, evaluate_trial
    space = load_space("npu-bert")
    small_p = {"var.rows": 32, "var.cols": 32, "hw.memory.unified_buffer.size": "2 MiB"}
    large_p = {"var.rows": 256, "var.cols": 128, "hw.memory.unified_buffer.size": "8 MiB"}
    _, hw, _ = build_trial(space, large_p)                  # derived values land in the Hardware
    mxu = hw.unit("mxu")
    assert mxu.shape == (256, 128) and mxu.macs_per_cycle_for("int8") == 256 * 128
    assert hw.level("unified_buffer").size_bytes == 8 * 2**20
    small, large = evaluate_trial(space, small_p), evaluate_trial(space, large_p)
    assert large["area_mm2"] > small["area_mm2"]
    assert large["latency_s"] != small["latency_s"]
    assert small["params"] == large["params"] > 100e6      # BERT-base, unchanged by the chip


def test_model_parameters_reach_the_graph():
    from archsim.studies.cosearch_eval import evaluate_trial
    space = load_space("mcuformer-stm32f746")
    base = {"model.hidden": 168, "model.layers": 4, "model.heads": 3, "model.head_dim": 64,
            "model.mlp_ratio": 3.5, "model.rank_ratio": 0.5, "model.patch": 24}
    few = evaluate_trial(space, base)
    more = evaluate_trial(space, {**base, "model.layers": 8})
    assert more["params"] > few["params"] and more["macs"] > few["macs"]
    assert more["latency_s"] > few["latency_s"] and more["flash_bytes"] > few["flash_bytes"]


def test_bad_model_and_hardware_names_fail_before_the_search():
    from archsim.studies.cosearch_eval import check_space
    space = load_space("mcuformer-stm32f746")
    typo = dataclasses.replace(space, params=tuple(dataclasses.replace(p, name="hiden") if p.name == "hidden" else p
                                                   for p in space.params))
    with pytest.raises(ModelError, match=r"mcuformer-stm32f746.yaml: .*'hiden'.*did you mean 'hidden'"):
        check_space(typo)
    bad_hw = space_from_dict({"name": "x", "model": "deit-tiny", "hardware": "zcu102", "phase": "encode",
                              "hw_params": {"memory.bramm.size": ["1 MiB"]},
                              "objectives": {"latency_s": "minimize"}})
    with pytest.raises(ConfigError, match=r"memory.bramm.size: .*did you mean 'bram'"):
        check_space(bad_hw)


def test_cli_json_html_and_resume(tmp_path, capsys):
    from archsim.cli import main
    db = f"sqlite:///{tmp_path}/fpga.db"
    out_json, out_html = tmp_path / "r.json", tmp_path / "r.html"
    argv = ["cosearch", "fpga-vit", "--trials", "4", "--seed", "2", "--storage", db, "--jobs", "1",
            "--cycle-check", "1", "--json", str(out_json), "--html", str(out_html)]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "fpga-vit: 4 trials (4 run now" in text and "Pareto front" in text
    data = json.loads(out_json.read_text())
    assert len(data["trials"]) == 4 and data["pareto"] and data["cycle_check"]
    assert set(data["objectives"]) == {"latency_s", "energy_j"}
    html = out_html.read_text()
    for number in data["pareto"]:
        link = f"r_designs/trial-{number}.html"
        assert link in html and (tmp_path / link).is_file()
    assert "plotly-graph-div" in html
    assert main(argv[:-4] + ["--cycle-check", "0", "--json", str(tmp_path / "again.json")]) == 0
    assert "(0 run now" in capsys.readouterr().out      # resumed: nothing evaluated twice
    again = json.loads((tmp_path / "again.json").read_text())
    assert again["trials"] == data["trials"]


def test_cli_errors_are_one_line(capsys):
    from archsim.cli import main
    assert main(["cosearch", "npu-bret", "--trials", "1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("archsim: error:") and "did you mean 'npu-bert'" in err


@pytest.mark.parametrize("space_name, params", [
    ("mcuformer-stm32f746", {"model.hidden": 168, "model.layers": 4, "model.heads": 3, "model.head_dim": 64,
                             "model.mlp_ratio": 3.5, "model.rank_ratio": 0.5, "model.patch": 24}),
    ("npu-bert", {"var.rows": 64, "var.cols": 32, "hw.memory.unified_buffer.size": "4 MiB"}),
])
def test_every_design_reruns_from_its_printed_command(space_name, params):
    """The command a co-search prints for a design, run through the CLI, gives the trial's own
    latency and energy (the design is reproducible by hand, outside the study)."""
    import shlex
    from archsim.cli import main
    from archsim.studies.cosearch_eval import evaluate_trial, rerun_command
    space = load_space(space_name)
    command = rerun_command(space, params)
    argv = shlex.split(command)
    assert argv[:2] == ["archsim", "simulate"]
    metrics = evaluate_trial(space, params)
    import io
    import contextlib
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(argv[1:] + ["--json", "-", "--quiet"]) == 0, command
    result = json.loads(out.getvalue())
    assert result["latency_s"] == pytest.approx(metrics["latency_s"], rel=1e-9), command
    assert result["energy_j"] == pytest.approx(metrics["energy_j"], rel=1e-9), command


def test_mcuformer_names_accept_the_depths_the_builtin_space_searches():
    from archsim import workloads
    space = load_space("mcuformer-stm32f746")
    (layers,) = [p for p in space.params if p.key == "model.layers"]
    for depth in range(int(layers.low), int(layers.high) + 1):
        assert workloads.model_config(f"mcuformer:depth={depth}").layers == depth
    with pytest.raises(ModelError, match=r"depth must be a whole number 4\.\.14"):
        workloads.model_config("mcuformer:depth=3")


def test_the_disco_board_space_runs_int8_designs_from_qspi_flash():
    """MCUFormer's own ranges (int8, depth 12-14) do not fit the chip's 1 MB flash; on the DISCO
    board the QSPI flash holds what the internal flash cannot, the design fits and its latency
    includes the QSPI stream."""
    from archsim.studies.cosearch_eval import evaluate_trial
    params = {"model.hidden": 168, "model.layers": 12, "model.heads": 3, "model.head_dim": 64,
              "model.mlp_ratio": 3.5, "model.rank_ratio": 0.4, "model.patch": 32}
    board = evaluate_trial(load_space("mcuformer-stm32f746-disco"), params)
    assert not board["reason"], board["reason"]
    assert FLASH_BYTES < board["flash_bytes"] == board["weight_bytes"] <= 17 * 2 ** 20
    assert board["peak_sram_bytes"] <= SRAM_BYTES and board["latency_s"] > 0 and board["energy_j"] > 0
    int8_chip = dataclasses.replace(load_space("mcuformer-stm32f746"),
                                    dtypes=load_space("mcuformer-stm32f746-disco").dtypes)
    assert "flash" in evaluate_trial(int8_chip, params)["reason"]
