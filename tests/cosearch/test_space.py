"""Search-space YAML: the built-in spaces load; bad files fail with file:line: key: problem; hints."""
from __future__ import annotations

import textwrap

import pytest

from archsim.cosearch import list_spaces, load_space
from archsim.cosearch.space import evaluate_expression
from archsim.errors import ConfigError

GOOD = """\
name: s
model: "mcuformer:patch={patch}"
hardware: stm32f746
model_params:
  patch: [16, 32]
  rank_ratio: {low: 0.4, high: 0.9, step: 0.1}
hw_params:
  clock: [108 MHz, 216 MHz]
var_params:
  rows: [2, 4]
derived:
  hw.compute.cortex_m7.lanes: "{var.rows} * 2"
constraints:
  peak_sram_bytes: {max: 327680}
objectives:
  latency_s: minimize
"""


def _write(tmp_path, text):
    path = tmp_path / "space.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def test_builtin_spaces_load():
    assert set(list_spaces()) >= {"mcuformer-stm32f746", "pim-decode", "npu-bert", "fpga-vit"}
    for name in list_spaces():
        space = load_space(name)
        assert space.name == name and space.objectives and space.params


def test_good_space(tmp_path):
    space = load_space(_write(tmp_path, GOOD))
    keys = {p.key: p for p in space.params}
    assert keys["model.patch"].choices == (16, 32)
    assert keys["model.rank_ratio"].step == 0.1 and not keys["model.rank_ratio"].is_int
    assert keys["hw.clock"].choices == ("108 MHz", "216 MHz")
    assert space.expand({"var.rows": 4})["hw.compute.cortex_m7.lanes"] == 8
    assert space.check({"peak_sram_bytes": 400000})["peak_sram_bytes <= 327680"] > 0
    assert space.check({"peak_sram_bytes": 1000})["peak_sram_bytes <= 327680"] <= 0


@pytest.mark.parametrize("edit, expected", [
    (("objectives:\n  latency_s: minimize", "objectives:\n  latency: minimize"),
     r"space.yaml:16: objectives.latency: unknown metric \(got 'latency'\); did you mean 'latency_s'"),
    (("objectives:\n  latency_s: minimize", "objectives:\n  latency_s: minimise"),
     r"space.yaml:16: objectives.latency_s: must be minimize or maximize .*did you mean 'minimize'"),
    (("hardware: stm32f746", "hardware: stm32f746\nhardwre: x"),
     r"space.yaml:4: hardwre: unknown key; did you mean 'hardware'"),
    (("  patch: [16, 32]", "  patch: [16, 32]\n  patch: [8]"),
     r"space.yaml:6: model_params.patch: duplicate key; first given at line 5"),
    (("{low: 0.4, high: 0.9, step: 0.1}", "{low: 0.9, high: 0.4}"),
     r"space.yaml:6: model_params.rank_ratio: low must be below high"),
    (("{low: 0.4, high: 0.9, step: 0.1}", "{lo: 0.4, high: 0.9}"),
     r"model_params.rank_ratio.lo: unknown key; did you mean 'low'"),
    (("{max: 327680}", "{most: 327680}"), r"constraints.peak_sram_bytes.most: unknown bound"),
    (('"{var.rows} * 2"', '"{var.row} * 2"'),
     r"space.yaml:12: derived.hw.compute.cortex_m7.lanes: names an unknown parameter .*did you mean 'var.rows'"),
    (('"{var.rows} * 2"', '"__import__(1)"'), r"derived.hw.compute.cortex_m7.lanes: not a valid expression"),
    (("name: s\n", ""), r"name: missing required key"),
    (("objectives:\n  latency_s: minimize", "objectives:\n  accuracy: maximize"),
     r"accuracy: objectives or constraints use 'accuracy' but no accuracy block"),
    (("objectives:\n  latency_s: minimize", "objectives:\n  latency_s: minimize\naccuracy: {proxy: vit_imagenet}"),
     r"space.yaml:17: accuracy.proxy: unknown proxy \(got 'vit_imagenet'\); did you mean 'vit-imagenet'"),
    (("  patch: [16, 32]", "  patch: [16, 16]"), r"model_params.patch.choices: choices repeat a value"),
])
def test_bad_spaces_name_line_key_and_fix(tmp_path, edit, expected):
    old, new = edit
    assert old in GOOD
    with pytest.raises(ConfigError, match=expected):
        load_space(_write(tmp_path, GOOD.replace(old, new, 1)))


def test_every_problem_is_reported_at_once(tmp_path):
    text = GOOD.replace("hardware: stm32f746", "hardwre: x").replace("latency_s: minimize", "latency: up")
    with pytest.raises(ConfigError) as err:
        load_space(_write(tmp_path, text))
    assert len(err.value.problems) >= 3   # unknown key, missing hardware, unknown metric


def test_unknown_builtin_and_yaml_syntax(tmp_path):
    with pytest.raises(ConfigError, match="did you mean 'npu-bert'"):
        load_space("npu-bret")
    with pytest.raises(ConfigError, match=r"space.yaml:2: YAML syntax error"):
        load_space(_write(tmp_path, "name: s\n  model: x\n"))


def test_expressions_are_arithmetic_only():
    assert evaluate_expression("[{a}, {a} * 2]", {"a": 3}) == [3, 6]
    assert evaluate_expression("{a} // 4 + 1", {"a": 9}) == 3
    with pytest.raises(ValueError):
        evaluate_expression("{a}.__class__", {"a": 1})
