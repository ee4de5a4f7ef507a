"""HF config.json import: equals the zoo where both exist; published counts for the rest; bad files."""
from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from archsim.errors import ModelError
from archsim.ir import graph_totals
from archsim.workloads import build_graph, model_config
from archsim.workloads.build import list_models
from .published_params import PUBLISHED_HF

DATA = Path(__file__).parent / "data" / "hf"
ZOO_TWINS = {
    "llama2-7b.json": "llama2-7b", "llama3-8b.json": "llama3-8b", "mistral-7b.json": "mistral-7b",
    "mixtral-8x7b.json": "mixtral-8x7b", "gpt2.json": "gpt2-small", "gpt2-xl.json": "gpt2-xl",
    "opt-1.3b.json": "opt-1.3b", "bert-base-uncased.json": "bert-base",
    "distilbert-base-uncased.json": "distilbert", "vit-base-patch16-224.json": "vit-b16",
    "t5-small.json": "t5-small", "mamba-130m.json": "mamba-130m",
}


def test_at_least_eight_model_types_have_zoo_twins():
    types = {json.loads((DATA / f).read_text())["model_type"] for f in ZOO_TWINS}
    assert len(types) >= 8, types


@pytest.mark.parametrize("file,zoo", sorted(ZOO_TWINS.items()))
def test_hf_config_equals_zoo_definition(file, zoo):
    imported = model_config(str(DATA / file))
    assert replace(imported, name=zoo) == model_config(zoo)
    phase = model_config(zoo).phases[0]
    kw = {"seq": 64} if phase != "encode" or model_config(zoo).family == "encoder" else {}
    a = graph_totals(build_graph(str(DATA / file), phase, **kw))
    b = graph_totals(build_graph(zoo, phase, **kw))
    assert a == b


@pytest.mark.parametrize("file", sorted(PUBLISHED_HF))
def test_hf_only_models_match_published_params(file):
    published, source, tol = PUBLISHED_HF[file]
    params = build_graph(str(DATA / file), "prefill", seq=16).graph["params"]   # encode for encoders
    assert abs(params - published) <= tol * published, f"{file}: {params:,} vs {published:,.0f} ({source})"


def test_hf_features_are_honoured():
    gemma = model_config(str(DATA / "gemma-2b.json"))
    assert gemma.head_dim == 256 and gemma.kv_heads == 1 and gemma.tied_embeddings and gemma.activation == "gelu"
    neox = model_config(str(DATA / "pythia-1.4b.json"))
    assert neox.parallel_residual and neox.rotary_pct == 0.25 and not neox.tied_embeddings
    qwen = model_config(str(DATA / "qwen2-7b.json"))
    assert qwen.qkv_bias and not qwen.out_bias and qwen.sliding_window == 0
    mixtral = model_config(str(DATA / "mixtral-8x7b.json"))
    assert (mixtral.experts, mixtral.top_k, mixtral.kv_heads) == (8, 2, 8)
    g = build_graph(str(DATA / "pythia-1.4b.json"), "prefill", seq=16)
    rope = g.nodes["L0.attn.rope_q"]["op"]
    assert rope.flops == 3 * 16 * 2048 // 4


def test_every_supported_type_is_covered_by_a_test_file():
    from archsim.workloads.hf_config import SUPPORTED_TYPES
    covered = {json.loads(f.read_text())["model_type"] for f in DATA.glob("*.json")}
    assert set(SUPPORTED_TYPES) <= covered


def _write(tmp_path, text, name="config.json"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


BAD = [
    ("", "file is empty"),
    ('{"model_type": "llama", "hidden_size": 4096,', "malformed JSON"),
    ("[1, 2]", "expected a JSON object"),
    ('{"hidden_size": 4096}', "missing key 'model_type'"),
    ('{"model_type": "lama"}', "did you mean 'llama'"),
    ('{"model_type": "llama", "hidden_size": 4096, "vocab_size": 32000}',
     "missing required keys 'num_hidden_layers', 'num_attention_heads', 'intermediate_size'"),
    ('{"model_type": "gpt2", "n_layer": 0, "n_embd": 768, "n_head": 12, "vocab_size": 50257, "n_positions": 1024}',
     "layers must be a positive integer (got 0)"),
    ('{"model_type": "gpt2", "n_layer": 12, "n_embd": -768, "n_head": 12, "vocab_size": 50257, "n_positions": 1024}',
     "hidden must be a positive integer (got -768)"),
    ('{"model_type": "gpt2", "n_layer": "twelve", "n_embd": 768, "n_head": 12, "vocab_size": 50257, "n_positions": 1024}',
     "n_layer must be an integer (got 'twelve')"),
    ('{"model_type": "llama", "num_hidden_layers": 2, "hidden_size": 4096, "num_attention_heads": 32, '
     '"num_key_value_heads": 5, "intermediate_size": 11008, "vocab_size": 32000}', "not a multiple of kv_heads"),
]


@pytest.mark.parametrize("text,message", BAD)
def test_bad_config_gives_one_clear_error(tmp_path, text, message):
    path = _write(tmp_path, text)
    with pytest.raises(ModelError) as info:
        build_graph(path)
    text = str(info.value)
    assert message in text and path in text and "\n" not in text


def test_truncated_real_config(tmp_path):
    full = (DATA / "llama2-7b.json").read_text()
    path = _write(tmp_path, full[: len(full) // 2])
    with pytest.raises(ModelError, match=r"config.json:\d+: malformed JSON"):
        model_config(path)


def test_missing_config_file(tmp_path):
    with pytest.raises(ModelError, match="no such config file"):
        build_graph(str(tmp_path / "nope.json"))


def test_list_models_is_cached_and_stable():
    assert list_models() is list_models()


def test_directory_with_config_json_and_wrong_file_kind(tmp_path):
    (tmp_path / "config.json").write_text((DATA / "gpt2.json").read_text())
    assert build_graph(str(tmp_path), seq=8).graph["params"] == build_graph("gpt2-small", seq=8).graph["params"]
    other = tmp_path / "weights.bin"
    other.write_bytes(b"0")
    with pytest.raises(ModelError, match="not a model file"):
        build_graph(str(other))


@pytest.mark.parametrize("value, message", [
    ({}, "hidden_act must be text such as 'gelu'"),
    (0, "hidden_act must be text such as 'gelu'"),
    ("mish", "hidden_act 'mish' is not an activation archsim models"),
])
def test_bad_activation_is_refused(tmp_path, value, message):
    raw = json.loads((DATA / "llama2-7b.json").read_text())
    raw["hidden_act"] = value
    with pytest.raises(ModelError, match=message):
        model_config(str(_write(tmp_path, json.dumps(raw))))


@pytest.mark.parametrize("value, kind", [("gelu_pytorch_tanh", "gelu"), ("quick_gelu", "gelu"),
                                         ("relu", "relu"), ("swish", "silu"), ("SiLU", "silu")])
def test_activation_variants(tmp_path, value, kind):
    raw = json.loads((DATA / "llama2-7b.json").read_text())
    raw["hidden_act"] = value
    assert model_config(str(_write(tmp_path, json.dumps(raw)))).activation == kind
