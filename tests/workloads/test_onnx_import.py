"""ONNX import on graphs built with onnx.helper at test time (and a torch export when torch exists)."""
from __future__ import annotations

import importlib.util
from collections import Counter

import onnx
import pytest

from archsim.errors import ModelError
from archsim.ir import OpKind, graph_totals, ops_in_order
from archsim.workloads import build_graph
from .onnx_builders import (D, FFN, HEADS, HD, attention_mlp_macs, attention_mlp_model, attention_mlp_params,
                            embedding_model)


@pytest.fixture()
def model_path(tmp_path):
    path = tmp_path / "block.onnx"
    onnx.save(attention_mlp_model(), str(path))
    return str(path)


def test_attention_mlp_block_is_lowered(model_path):
    g = build_graph(model_path, batch=2, seq=10)
    t = graph_totals(g)
    assert t.params == attention_mlp_params()
    assert t.macs == attention_mlp_macs(2, 10)
    kinds = Counter(op.kind for op in ops_in_order(g))
    assert kinds[OpKind.ATTN_QK] == 1 and kinds[OpKind.ATTN_AV] == 1
    assert kinds[OpKind.SOFTMAX] == 1 and kinds[OpKind.LAYERNORM] == 2
    assert kinds[OpKind.MATMUL] == 6 and kinds[OpKind.GELU] == 1
    qk = g.nodes["qk"]["op"]
    assert qk.dim_sizes == {"b": 2 * HEADS, "m": 10, "n": 10, "k": HD}
    # data flow survives the free Reshape/Transpose ops
    for edge in [("q_proj", "qk"), ("k_proj", "qk"), ("softmax", "av"), ("v_proj", "av"), ("av", "o_proj"),
                 ("fc2", "residual2")]:
        assert g.has_edge(*edge), edge
    assert g.graph["family"] == "onnx" and g.graph["phase"] == "encode"


def test_gather_from_initializer_is_an_embedding(tmp_path):
    path = tmp_path / "emb.onnx"
    onnx.save(embedding_model(vocab=100), str(path))
    g = build_graph(str(path), batch=3, seq=5)
    embed = g.nodes["embed"]["op"]
    assert embed.kind is OpKind.EMBEDDING and embed.flops == 0 and embed.dim_sizes == {"m": 15, "n": D} and embed.attr("rows") == 100
    assert g.has_edge("embed", "proj")
    assert graph_totals(g).macs == 15 * D * 100 and graph_totals(g).params == 2 * 100 * D


def test_symbolic_dims_follow_batch_and_seq(model_path):
    a = graph_totals(build_graph(model_path, batch=1, seq=16))
    b = graph_totals(build_graph(model_path, batch=1, seq=32))
    qk = lambda s: 2 * HEADS * s * s * HD
    assert b.macs - a.macs == 32 * (4 * D * D + 2 * D * FFN) - 16 * (4 * D * D + 2 * D * FFN) + qk(32) - qk(16)


def test_external_data_next_to_the_model(tmp_path):
    path = tmp_path / "ext.onnx"
    onnx.save(attention_mlp_model(), str(path), save_as_external_data=True, all_tensors_to_one_file=True,
              location="ext.weights", size_threshold=0)
    g = build_graph(str(path), batch=1, seq=8)
    assert graph_totals(g).params == attention_mlp_params()
    (tmp_path / "ext.weights").unlink()
    with pytest.raises(ModelError) as info:
        build_graph(str(path))
    message = str(info.value)
    assert "ext.weights" in message and "missing" in message and str(path) in message


def test_truncated_external_data(tmp_path):
    path = tmp_path / "ext.onnx"
    onnx.save(attention_mlp_model(), str(path), save_as_external_data=True, all_tensors_to_one_file=True,
              location="ext.weights", size_threshold=0)
    with open(tmp_path / "ext.weights", "r+b") as f:
        f.truncate(64)
    with pytest.raises(ModelError, match="too short"):
        build_graph(str(path))


def test_unknown_ops_listed_by_name_and_count(tmp_path):
    path = tmp_path / "odd.onnx"
    onnx.save(attention_mlp_model(("FancyNorm", "FancyNorm", "Mystery")), str(path))
    with pytest.raises(ModelError) as info:
        build_graph(str(path))
    message = str(info.value)
    assert "FancyNorm ×2" in message and "Mystery ×1" in message and str(path) in message
    assert "\n" not in message
    g = build_graph(str(path), overrides={"skip_unknown_ops": True})
    assert g.graph["skipped_ops"] == {"FancyNorm": 2, "Mystery": 1}
    assert graph_totals(g).params == attention_mlp_params()


@pytest.mark.parametrize("content,message", [(b"", "not a readable ONNX model|no nodes"),
                                             (b"\x08\x07garbage\xff\xff", "not a readable ONNX model")])
def test_corrupt_onnx_files(tmp_path, content, message):
    path = tmp_path / "bad.onnx"
    path.write_bytes(content)
    with pytest.raises(ModelError, match=message):
        build_graph(str(path))


def test_missing_onnx_file(tmp_path):
    with pytest.raises(ModelError, match="no such ONNX file"):
        build_graph(str(tmp_path / "absent.onnx"))


def test_torch_exported_block(tmp_path):
    if importlib.util.find_spec("torch") is None:
        from tests.requires import missing
        missing("torch", "the torch-exported ONNX test needs torch.onnx.export: "
                         "pip install torch==2.13.0 (CPU; .ci/run does it)")
    import torch

    class Block(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.attn = torch.nn.MultiheadAttention(D, HEADS, batch_first=True)
            self.norm1, self.norm2 = torch.nn.LayerNorm(D), torch.nn.LayerNorm(D)
            self.mlp = torch.nn.Sequential(torch.nn.Linear(D, FFN), torch.nn.GELU(), torch.nn.Linear(FFN, D))

        def forward(self, x):
            h = self.norm1(x)
            x = x + self.attn(h, h, h, need_weights=False)[0]
            return x + self.mlp(self.norm2(x))

    path = tmp_path / "torch_block.onnx"
    torch.onnx.export(Block().eval(), torch.randn(1, 12, D), str(path), opset_version=17, dynamo=False)
    g = build_graph(str(path), batch=1, seq=12)     # every op the exporter writes is read
    assert graph_totals(g).params == sum(p.numel() for p in Block().parameters())
    assert graph_totals(g).macs == 12 * (4 * D * D + 2 * D * FFN) + 2 * 12 * 12 * D
    assert not g.graph["skipped_ops"]
