"""`archsim models` and `archsim graph`: output, determinism, and errors (exit 2, no traceback)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import onnx
import pytest

from archsim.cli import main
from archsim.ir import graph_totals
from archsim.workloads import build_graph
from .onnx_builders import attention_mlp_model

DATA = Path(__file__).parent / "data" / "hf"


def test_models_table_lists_every_zoo_model(capsys):
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    for name in ("gpt2-small", "llama2-70b", "mixtral-8x7b", "swin-t", "mamba-2.8b", "matmulfree-370m", "mcuformer"):
        assert name in out
    assert "46.70B" in out and "12.88B" in out


def test_models_json(capsys):
    assert main(["models", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {"name", "family", "params", "active_params", "phases"} <= set(rows[0])


def test_graph_json_keys_and_values(capsys):
    assert main(["graph", "llama2-7b", "--phase", "decode", "--context", "512", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    for key in ("params", "active_params", "macs", "flops", "weight_bytes", "activation_bytes", "kv_cache_bytes", "ops"):
        assert key in data
    assert {"name", "kind", "macs", "flops", "bytes"} <= set(data["ops"][0])
    totals = graph_totals(build_graph("llama2-7b", "decode", context=512))
    assert data["macs"] == totals.macs and data["kv_cache_bytes"] == totals.kv_cache_bytes
    assert data["kv_cache_bytes"] == 2 * 32 * 32 * 128 * 512 * 2


def test_graph_json_is_deterministic(capsys):
    outs = []
    for _ in range(2):
        main(["graph", "mixtral-8x7b", "--phase", "prefill", "--seq", "32", "--json", "--dtype", "int8"])
        outs.append(capsys.readouterr().out)
    assert outs[0] == outs[1]


def test_graph_table_with_config_and_onnx(capsys, tmp_path):
    assert main(["graph", str(DATA / "t5-small.json"), "--phase", "decode", "--context", "20", "--limit", "5"]) == 0
    out = capsys.readouterr().out
    assert "kv_cache_bytes" in out and "..." in out
    path = tmp_path / "m.onnx"
    onnx.save(attention_mlp_model(), str(path))
    assert main(["graph", str(path), "--seq", "8"]) == 0
    assert "attn_qk" in capsys.readouterr().out


def test_graph_overrides_via_set(capsys):
    assert main(["graph", "llama2-7b", "--set", "layers=2", "--json", "--seq", "16"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert max(op["layer"] for op in data["ops"]) == 1


ERRORS = [
    (["graph", "gpt2-smal"], "did you mean 'gpt2-small'"),
    (["graph", "llama2-7b", "--batch", "0"], "batch must be a positive integer (got 0)"),
    (["graph", "llama2-7b", "--seq", "-4"], "seq must be a positive integer (got -4)"),
    (["graph", "gpt2-small", "--seq", "4096"], "exceeds the model's 1024 learned positions"),
    (["graph", "bert-base", "--phase", "decode"], "phase 'decode' is not supported"),
    (["graph", "llama2-7b", "--dtype", "int3"], "unknown dtype 'int3'"),
    (["graph", "llama2-7b", "--set", "layrs=4"], "did you mean 'layers'"),
    (["graph", "llama2-7b", "--set", "heads=0"], "heads must be a positive integer"),
    (["graph", "mcuformer:embed=100"], "embed must be one of 168, 192, 216"),
    (["graph", "/nonexistent/config.json"], "no such config file"),
]


@pytest.mark.parametrize("argv,message", ERRORS)
def test_errors_exit_2_with_one_line(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err, err
    assert "Traceback" not in err and err.count("archsim: error:") == 1


def test_bad_files_through_the_real_command(tmp_path):
    bad_json = tmp_path / "config.json"
    bad_json.write_text('{"model_type": "llama", "hidden_size": 4096')
    odd = tmp_path / "odd.onnx"
    onnx.save(attention_mlp_model(("Mystery",)), str(odd))
    for path, message in ((bad_json, "malformed JSON"), (odd, "Mystery ×1")):
        proc = subprocess.run([sys.executable, "-m", "archsim", "graph", str(path)], capture_output=True,
                              text=True, timeout=120)
        assert proc.returncode == 2
        assert message in proc.stderr and str(path) in proc.stderr
        assert "Traceback" not in proc.stderr
