"""Software-stack presets (archsim/engine/stack.py): the graph keeps one op per mathematical
operation; the stack decides which ops a GPU runs as one kernel. Kernel counts per layer below can
be checked by hand from the op list of one decoder layer:

LLaMA (17 ops with one kernel each when eager): norm1, q, k, v, rope_q, rope_k, k_append,
v_append, attention (QKᵀ·softmax·PV, one FlashAttention kernel), o, residual1, norm2, gate, up,
act, down, residual2.
- graph: q+k+v one GEMM (−2), gate+up one GEMM (−1) → 14.
- serving: also rope_q+rope_k (−1), k_append+v_append (−1), act in the gate/up epilogue (−1),
  residual1+norm2 and residual2+next norm1 fused (−2) → 9.
GPT-2 (no rope; fc1-gelu-fc2): eager 14, graph 12 (QKV), serving 8.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

import archsim
from archsim.api import ArgumentError
from archsim.cli import main
from archsim.engine.gpu_kernels import gpu_kernels
from archsim.engine.plan import plan_ops
from archsim.engine.stack import BASE_STACK_NAMES, software_stack
from archsim.errors import ArchsimError
from archsim.hardware import load_hardware

H200 = load_hardware("h200-sxm")
#: copy of shared/reference/h200-energy-calibration.json shipped with the engine
CALIBRATION = Path(archsim.__file__).resolve().parent / "engine" / "data" / "h200-energy-calibration.json"


def _kernels_in_layer(model: str, stack: str, layer: int = 3) -> list[list[str]]:
    from archsim import mapper
    g = archsim.build_graph(model, "decode", context=256)
    plans = plan_ops(g, H200, mapper.map_graph(g, H200), stack)
    return [[plans[i].op.name for i in k.members] for k in gpu_kernels(plans, software_stack(stack))
            if plans[min(k.members)].op.layer == layer]


@pytest.mark.parametrize("model, counts", [("llama2-7b", {"eager": 17, "graph": 14, "serving": 9}),
                                           ("gpt2-small", {"eager": 14, "graph": 12, "serving": 8})])
def test_kernels_per_layer(model, counts):
    got = {s: _kernels_in_layer(model, s) for s in BASE_STACK_NAMES}
    assert {s: len(k) for s, k in got.items()} == counts
    assert ["L3.attn.q", "L3.attn.k", "L3.attn.v"] in got["graph"]
    assert ["L3.attn.q"] in got["eager"]
    assert ["L3.residual1", "L3.norm2"] in got["serving"]
    assert ["L3.residual2", "L4.norm1"] in got["serving"]      # the next layer's norm
    if model == "llama2-7b":
        assert ["L3.mlp.gate", "L3.mlp.up"] in got["graph"]
        assert ["L3.mlp.gate", "L3.mlp.up", "L3.mlp.act"] in got["serving"]


def test_the_graph_stays_one_op_per_operation_and_fusion_only_saves_time():
    runs = {s: archsim.simulate("llama2-7b", "h200-sxm", phase="decode", context=1024, stack=s)
            for s in BASE_STACK_NAMES}
    names = {s: [o.name for o in r.ops] for s, r in runs.items()}
    assert names["eager"] == names["graph"] == names["serving"]
    assert runs["serving"].latency_s < runs["graph"].latency_s < runs["eager"].latency_s
    assert any("software stack graph" in n and "as " in n for n in runs["graph"].notes)
    # a fused QKV GEMM is one kernel: its three members' times add up to one GEMM over N = 3·4096
    from archsim.engine.calibration import h200_spec
    from archsim.engine.timing.gpu import gemm_seconds, load_gpu_calibration
    cal = load_gpu_calibration("h200-sxm")
    qkv = sum(o.latency_s for o in runs["graph"].ops if o.name in ("L0.attn.q", "L0.attn.k", "L0.attn.v"))
    assert qkv == pytest.approx(gemm_seconds(1, 3 * 4096, 4096, h200_spec(H200), cal=cal), rel=1e-3)


def test_non_gpu_chips_ignore_the_stack():
    a = archsim.simulate("gpt2-small", "pim-gpt", phase="decode", context=128, stack="eager")
    b = archsim.simulate("gpt2-small", "pim-gpt", phase="decode", context=128, stack="serving")
    assert a.latency_s == b.latency_s
    assert not any("software stack" in n for n in a.notes)


def test_unknown_stack_is_a_one_line_error(capsys):
    with pytest.raises(ArgumentError, match="unknown software stack 'graf'; did you mean 'graph'"):
        archsim.simulate("gpt2-small", "h200-sxm", stack="graf")
    with pytest.raises(ArchsimError, match="unknown software stack"):
        software_stack("vllm")
    assert main(["simulate", "--model", "gpt2-small", "--hw", "h200-sxm", "--context", "128",
                 "--stack", "servng", "--quiet"]) == 2
    assert "did you mean 'serving'" in capsys.readouterr().err


def test_cli_and_compare_take_the_stack(capsys):
    assert main(["compare", "--model", "gpt2-small", "--context", "128", "--hw", "h200-sxm",
                 "a100-80gb", "--stack", "serving", "--json", "-", "--quiet"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert "software stack serving" in json.dumps(out)


def _calibration_points():
    return json.loads(CALIBRATION.read_text())["points"]


def test_whole_model_h200_points_within_8_percent_with_graph():
    """The four whole-model runs of h200-energy-calibration.json (hand-written PyTorch decoders,
    fused QKV and gate/up, eager norms, SDPA flash, CUDA-graph replay; no rotary embedding and no
    position embedding, hence position=none), with the default `graph` stack."""
    residuals = {}
    for p in _calibration_points():
        kw = dict(phase=p["phase"], batch=p["batch"], overrides={"position": "none"})
        kw.update(context=p["context"]) if p["phase"] == "decode" else kw.update(seq=p["seq"])
        r = archsim.simulate(p["model"], "h200-sxm", **kw)
        residuals[f"{p['model']} {p['phase']}"] = r.latency_s / p["seconds"] - 1.0
    print("h200 whole-model latency residuals (graph):", {k: f"{v:+.3f}" for k, v in residuals.items()})
    assert all(abs(v) <= 0.08 for v in residuals.values()), residuals
