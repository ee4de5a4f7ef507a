"""Models given the way users give them: a pathlib.Path, a folder, junk files."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

import archsim
from archsim.errors import ModelError

GPT2_TINY = {"model_type": "gpt2", "n_layer": 1, "n_embd": 64, "n_head": 2, "vocab_size": 128,
             "n_positions": 64}


def test_pathlib_path_is_a_file_path(tmp_path: Path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps(GPT2_TINY))
    graph = archsim.build_graph(path, seq=8)
    assert graph.graph["seq"] == 8
    with pytest.raises(ModelError, match="no such config file"):
        archsim.build_graph(tmp_path / "missing.json")


def test_folder_with_config_json_is_used(tmp_path: Path):
    (tmp_path / "config.json").write_text(json.dumps(GPT2_TINY))
    assert archsim.build_graph(str(tmp_path), seq=8).graph["batch"] == 1


def test_folder_without_config_json_says_so(junk):
    with pytest.raises(ModelError, match="is a directory without a config.json"):
        archsim.build_graph(str(junk["dir"]))


@pytest.mark.parametrize("name, expected", [
    ("bin.json", "cannot read"),
    ("bin.onnx", "not a readable ONNX model"),
])
def test_binary_model_files(junk, name, expected):
    with pytest.raises(ModelError, match=expected):
        archsim.build_graph(str(junk[name]))


def test_a_dtype_class_given_twice():
    with pytest.raises(ModelError, match="weights is given twice"):
        archsim.build_graph("gpt2-small", dtypes="weights=int4,weights=int8")


def test_seq_in_decode_of_a_decoder_only_model():
    """Before: `--seq 10 --context 20` silently dropped the 10."""
    with pytest.raises(ModelError, match="seq 10 does not apply"):
        archsim.build_graph("gpt2-small", phase="decode", seq=10, context=20)
    assert archsim.build_graph("gpt2-small", phase="decode", seq=20, context=20).graph["context"] == 20
    t5 = archsim.build_graph("t5-small", phase="decode", seq=10, context=20)    # source length
    assert t5.graph["context"] == 20


def test_absurd_layer_count_is_an_error_not_a_hang(tmp_path: Path):
    """Before: num_hidden_layers 10**7 in a config.json lowered for minutes (killed at 120 s)."""
    path = tmp_path / "config.json"
    path.write_text(json.dumps({**GPT2_TINY, "n_layer": 10**7}))
    with pytest.raises(ModelError, match="layers 10000000 is more than the 1024"):
        archsim.build_graph(path)
    with pytest.raises(ModelError, match="layers 5000 is more than"):
        archsim.build_graph("gpt2-small", overrides={"layers": 5000})
