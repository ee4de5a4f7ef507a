"""Input files are data (issue 21): a space file cannot import or run code, expressions are bounded,
deep nesting and duplicate keys are refused clearly, an error never quotes a file it was pointed at,
and names never put raw escape sequences on the terminal."""
from __future__ import annotations

import json
import sys

import pytest

from archsim.cli import main
from archsim.cosearch import load_space, register_accuracy, space_from_dict
from archsim.cosearch.accuracy import load_accuracy
from archsim.errors import ConfigError, ModelError
from archsim.hardware import dump_hardware, load_hardware
from archsim.workloads import build_graph

from .bounded import within

SECRET = "root:x:0:0:SECRET-FIRST-LINE"
BASE = "name: s\nmodel: gpt2-small\nhardware: edge-npu\nmodel_params: {layers: [1, 2]}\n"


def test_callable_in_a_space_file_never_imports_a_module(tmp_path, monkeypatch):
    marker = tmp_path / "ran"
    (tmp_path / "evil_acc.py").write_text(f"open({str(marker)!r}, 'w').write('x')\ndef f(p, q):\n    return 1\n")
    (tmp_path / "s.yaml").write_text(BASE + "objectives: {accuracy: maximize}\n"
                                     "accuracy: {callable: 'evil_acc:f'}\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ConfigError, match="no accuracy function registered"):
        load_accuracy(load_space(tmp_path / "s.yaml").accuracy)
    with pytest.raises(ConfigError, match="no accuracy function registered"):
        load_accuracy({"callable": "evil_acc:f"})
    assert main(["cosearch", str(tmp_path / "s.yaml"), "--trials", "1", "--quiet"]) == 2
    assert not marker.exists() and "evil_acc" not in sys.modules


def test_a_registered_accuracy_function_is_allowed(tmp_path):
    register_accuracy("robustness-test", lambda params, facts: 0.5)
    space = space_from_dict({"name": "s", "model": "m", "hardware": "h",
                             "objectives": {"accuracy": "maximize"},
                             "accuracy": {"callable": "robustness-test"}})
    assert load_accuracy(space.accuracy)({}, {}) == 0.5


@pytest.mark.parametrize("expr", ["9 ** 9 ** 9", "10 ** 400", "2.0 ** 2000", "(" * 300 + "1" + ")" * 300,
                                  "1" + " + 1" * 120, "[" * 300 + "]" * 300],
                         ids=["power-tower", "int-power", "float-power", "parens", "terms", "lists"])
def test_derived_expressions_are_bounded(expr):
    with within(5), pytest.raises(ConfigError, match="derived.hw.x"):
        space_from_dict({"name": "s", "model": "m", "hardware": "h", "objectives": {"latency_s": "minimize"},
                         "var_params": {"a": [1, 2]}, "derived": {"hw.x": expr}})


@pytest.mark.parametrize("bound", [".nan", "nan", ".inf", "-.inf", "1e400"])
def test_nan_or_infinite_constraints_are_refused(tmp_path, bound):
    path = tmp_path / "s.yaml"
    path.write_text(BASE + f"objectives: {{latency_s: minimize}}\nconstraints: {{latency_s: {{max: {bound}}}}}\n")
    with pytest.raises(ConfigError, match="finite"):
        load_space(path)


def test_deep_yaml_and_json_nesting_are_clear_errors(tmp_path):
    deep_yaml = tmp_path / "deep.yaml"
    deep_yaml.write_text("version: 1\nname: x\nkind: npu\nnotes: " + "[" * 100_000 + "]" * 100_000 + "\n")
    with within(10), pytest.raises(ConfigError, match="nested too deeply"):
        load_hardware(deep_yaml)
    deep_space = tmp_path / "space.yaml"
    deep_space.write_text(BASE + "objectives: " + "{a: " * 5000 + "1" + "}" * 5000 + "\n")
    with within(10), pytest.raises(ConfigError, match="nested too deeply"):
        load_space(deep_space)
    deep_json = tmp_path / "config.json"
    deep_json.write_text('{"model_type": "gpt2", "x": ' + "[" * 100_000 + "]" * 100_000 + "}")
    with within(10), pytest.raises(ModelError, match="nested too deeply"):
        build_graph(str(deep_json))


def test_duplicate_json_keys_are_refused(tmp_path):
    cfg = {"model_type": "gpt2", "n_layer": 2, "n_embd": 64, "n_head": 2, "vocab_size": 100, "n_positions": 64}
    text = json.dumps(cfg)[:-1] + ', "n_layer": 4}'
    path = tmp_path / "config.json"
    path.write_text(text)
    with pytest.raises(ModelError, match="duplicate key 'n_layer'"):
        build_graph(str(path))


def test_errors_do_not_quote_a_file_a_path_points_at(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET + "\nmore\n")
    hw = tmp_path / "hw.yaml"
    hw.write_text(f"version: 1\nbase: {secret}\nname: x\nkind: npu\n")
    with pytest.raises(ConfigError) as exc:
        load_hardware(hw)
    assert "SECRET" not in str(exc.value) and "not a hardware description" in str(exc.value)
    csv_secret = tmp_path / "secret.csv"
    csv_secret.write_text(SECRET + "\n1\n")
    space = space_from_dict({"name": "s", "model": "m", "hardware": "h", "objectives": {"accuracy": "maximize"},
                             "accuracy": {"csv": str(csv_secret)}})
    with pytest.raises(ConfigError) as exc:
        load_accuracy(space.accuracy)
    assert "SECRET" not in str(exc.value) and "no column named 'accuracy'" in str(exc.value)
    text_secret = tmp_path / "secret.yaml"
    text_secret.write_text(SECRET + "\n")
    with pytest.raises(ConfigError) as exc:
        load_hardware(text_secret)
    assert "SECRET" not in str(exc.value)


def test_escape_sequences_never_reach_the_terminal(tmp_path, capsys):
    text = dump_hardware(load_hardware("edge-npu")).replace("name: edge-npu", 'name: "edge\\e[2J\\e]0;pwned\\a"', 1)
    path = tmp_path / "esc.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match="control characters"):
        load_hardware(path)
    assert main(["simulate", "--model", "gpt2-small\x1b[31m", "--hw", "edge-npu"]) == 2
    err = capsys.readouterr().err
    assert "\x1b" not in err and "\\x1b" in err


def test_decode_of_an_onnx_graph_is_an_error_not_an_encode_result(tmp_path, capsys):
    onnx = pytest.importorskip("onnx")
    from tests.workloads.onnx_builders import attention_mlp_model
    path = tmp_path / "enc.onnx"
    onnx.save(attention_mlp_model(), path)
    with pytest.raises(ModelError, match="phase decode"):
        build_graph(str(path), phase="decode")
    assert main(["simulate", "--model", str(path), "--hw", "edge-npu", "--phase", "decode", "--quiet"]) == 2
    assert "phase decode" in capsys.readouterr().err
