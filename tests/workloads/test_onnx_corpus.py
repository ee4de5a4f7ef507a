"""Real exports: tiny random-weight Hugging Face models (built from configs, nothing downloaded)
exported with torch.onnx (TorchScript and dynamo exporters) and onnxruntime's transformer
optimiser, imported, checked against the PyTorch module and simulated on one chip of each kind.

Conventions: BERT, RoBERTa, ViT and DeiT are built without their pooler (the exported graph ends at
the last hidden state); Swin is exported without the exporter's constant folding, which would fold
each relative-position table lookup into the (heads, N, N) bias it produces (so the graph would
hold that bias instead of the table PyTorch counts).
"""
from __future__ import annotations

import json
import warnings
from collections import Counter

import pytest

torch = pytest.importorskip("torch", reason="the export corpus needs torch.onnx.export")
pytest.importorskip("transformers", reason="the export corpus builds models with transformers")

from archsim.api import simulate  # noqa: E402
from archsim.ir import OpKind, graph_totals, ops_in_order  # noqa: E402
from archsim.workloads import build_graph  # noqa: E402
from .export_corpus import BY_NAME, CORPUS, SEQ, export  # noqa: E402

#: one chip of each kind (gpu, pim, fpga, npu, mcu, cpu)
CHIPS = ("t4", "hbm-pim", "zcu102", "tpu-v1", "stm32h743", "xeon-gold-6154")
#: dynamo exports are slow (≈10–40 s each on a loaded 2-core machine): two models, one decoder
#: with rotary positions and masks, one vision model with a patch-embedding convolution
DYNAMO = ("llama", "vit")


@pytest.fixture(scope="session")
def exported(tmp_path_factory):
    """name (or name + ":dynamo") → `Exported`, exported once per session on first use."""
    folder = tmp_path_factory.mktemp("onnx_corpus")
    cache = {}

    def get(name: str, dynamo: bool = False):
        key = f"{name}:dynamo" if dynamo else name
        if key not in cache:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                cache[key] = export(BY_NAME[name], folder, dynamo=dynamo)
        return cache[key]
    return get


def _seq(name: str) -> int | None:
    return SEQ if BY_NAME[name].input == "ids" else None


def _check_counts(ex, graph) -> None:
    totals = graph_totals(graph)
    assert totals.params == ex.params, f"{ex.name}: {totals.params} parameters vs PyTorch's {ex.params}"
    assert totals.macs == ex.macs, f"{ex.name}: {totals.macs} MACs vs FlopCounterMode's {ex.macs}"
    assert graph.graph["batch"] == ex.input_shape[0]
    assert graph.graph["seq"] == _seq(ex.name)


@pytest.mark.parametrize("name", [m.name for m in CORPUS])
def test_torchscript_export_counts_match_pytorch(exported, name):
    ex = exported(name)
    _check_counts(ex, build_graph(str(ex.path), batch=1, seq=_seq(name)))


@pytest.mark.parametrize("name", DYNAMO)
def test_dynamo_export_counts_match_pytorch(exported, name):
    ex = exported(name, dynamo=True)
    _check_counts(ex, build_graph(str(ex.path), batch=1, seq=_seq(name)))


@pytest.mark.parametrize("name,model_type", [("bert", "bert"), ("gpt2", "gpt2"), ("llama", "gpt2")])
def test_onnxruntime_optimised_export(exported, tmp_path, name, model_type):
    """The transformer optimiser fuses norms and GELUs into contrib ops; counts stay exact."""
    pytest.importorskip("onnxruntime", reason="the optimiser is onnxruntime.transformers")
    import onnx
    from onnxruntime.transformers.optimizer import optimize_model
    ex = exported(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        optimised = optimize_model(str(ex.path), model_type=model_type, num_heads=4, hidden_size=32,
                                   opt_level=1, use_gpu=False)
    path = tmp_path / f"{name}_optimised.onnx"
    optimised.save_model_to_file(str(path))
    fused = Counter(n.op_type for n in onnx.load(str(path)).graph.node
                    if n.domain == "com.microsoft" or "Simplified" in n.op_type)
    assert fused, f"the optimiser fused nothing in {name}"
    _check_counts(ex, build_graph(str(path), batch=1, seq=SEQ))


@pytest.mark.parametrize("name", [m.name for m in CORPUS])
def test_export_simulates_on_every_kind_of_chip(exported, name):
    graph = build_graph(str(exported(name).path), batch=1, seq=_seq(name))
    for chip in CHIPS:
        result = simulate(graph, chip, budget=20)
        assert result.fits and result.latency_s > 0, (name, chip, result.does_not_fit)
        assert sum(op.macs for op in result.ops) >= graph_totals(graph).macs // 2, (name, chip)


def test_dynamic_axes_follow_batch_and_seq(exported):
    path = str(exported("llama").path)
    small, large = graph_totals(build_graph(path, seq=8)), graph_totals(build_graph(path, batch=2, seq=16))
    assert small.params == large.params
    ex = exported("llama")
    cfg = BY_NAME["llama"].config
    per_token = ex.macs // SEQ - cfg["num_hidden_layers"] * 2 * SEQ * cfg["hidden_size"]  # linear MACs
    attention = lambda b, s: b * cfg["num_hidden_layers"] * 2 * s * s * cfg["hidden_size"]
    assert large.macs == 2 * 16 * per_token + attention(2, 16)
    assert small.macs == ex.macs == SEQ * per_token + attention(1, SEQ)


#: the HF config.json builder lowers whole models: a causal LM's lm_head and BERT's pooler, which
#: the corpus's base-model exports do not have; these ops are set aside before comparing
_HEAD_OPS = ("lm_head", "pooler")
#: models whose export has no extra ops among the contractions: compared op for op
_OP_FOR_OP = ("bert", "roberta", "llama", "mistral", "qwen2", "vit", "deit")


def _contractions(graph) -> Counter:
    return Counter((op.kind.value, op.macs) for op in ops_in_order(graph)
                   if op.kind.is_contraction and not any(h in op.name for h in _HEAD_OPS))


@pytest.mark.parametrize("name", [m.name for m in CORPUS if m.hf_config])
def test_config_json_gives_the_graph_of_the_export(exported, tmp_path, name):
    ex = exported(name)
    raw = dict(ex.hf_config)
    raw.pop("id2label", None)      # a base model: no classifier head
    raw.pop("label2id", None)
    config = tmp_path / "config.json"
    config.write_text(json.dumps(raw))
    from_config = build_graph(str(config), batch=1, seq=_seq(name))
    from_onnx = build_graph(str(ex.path), batch=1, seq=_seq(name))
    heads = [op for op in ops_in_order(from_config) if any(h in op.name for h in _HEAD_OPS)]
    kept = {o.tensor.name for op in ops_in_order(from_config) if op not in heads for o in op.operands}
    head_params = sum(o.tensor.elems for op in heads for o in op.operands
                      if o.tensor.role.value == "weight" and o.tensor.name not in kept)
    assert graph_totals(from_config).params - head_params == graph_totals(from_onnx).params
    assert graph_totals(from_config).macs - sum(op.macs for op in heads) == graph_totals(from_onnx).macs
    by_kind = lambda g: Counter({k: sum(m * n for (kk, m), n in _contractions(g).items() if kk == k)
                                 for k in ("matmul", "attn_qk", "attn_av")})
    assert by_kind(from_config) == by_kind(from_onnx)
    if name in _OP_FOR_OP:
        assert _contractions(from_config) == _contractions(from_onnx)
        softmax = lambda g: sum(op.kind is OpKind.SOFTMAX for op in ops_in_order(g))
        assert softmax(from_config) == softmax(from_onnx)
