"""On a GPU, an attention block the mapper fused (QKᵀ → softmax → PV) is one FlashAttention kernel:
timed by the calibrated fused-attention model, split over the two matmuls, with no elementwise
softmax kernel of its own — not three kernels whose scores round-trip through HBM."""
from __future__ import annotations

from math import ceil

import pytest

import archsim
from archsim.hardware import load_hardware
from archsim.engine.attention import causal_block_fraction
from archsim.engine.plan import plan_ops
from archsim.engine.timing import gpu
from archsim.engine.timing.sm import gpu_calibration, gpu_spec, sm_op_seconds
from archsim.ir import Role
from archsim.mapper import map_graph


def _layer0(result):
    return {op.name.split(".", 1)[1]: op for op in result.ops if op.name.startswith("L0.attn.")}


@pytest.fixture(scope="module")
def a100():
    return load_hardware("a100-80gb")


def test_prefill_group_is_one_flash_kernel(a100):
    r = archsim.simulate("gpt2-small", a100, phase="prefill", seq=1024)
    ops = _layer0(r)
    qk, sm, av = ops["attn.qk"], ops["attn.softmax"], ops["attn.av"]
    spec, cal = gpu_spec(a100.compute[0], a100, "bf16"), gpu_calibration(a100)
    heads, n, d = 12, 1024, 64
    nbytes = 4 * heads * n * d * 2                         # Q, K, V in and O out, bf16
    causal = causal_block_fraction(n, n, cal.attn_tile_q)  # masked key blocks are skipped
    assert qk.macs == round(heads * n * n * d * causal)
    kernel = gpu.attention_work_seconds(2.0 * (qk.macs + av.macs), nbytes,
                                        heads * ceil(n / cal.attn_tile_q), spec, cal=cal,
                                        scores=heads * n * n * causal)
    assert qk.latency_s + av.latency_s == pytest.approx(kernel, rel=1e-3)
    assert sm.latency_s < 0.02 * kernel                     # inside the kernel, not its own pass
    unfused = sum(sm_op_seconds(p.op, p.unit, a100) for p in plan_ops(
        archsim.build_graph("gpt2-small", "prefill", seq=1024), a100, None)
        if p.op.name in ("L0.attn.qk", "L0.attn.softmax", "L0.attn.av"))
    assert kernel < unfused


def test_decode_group_streams_the_kv_cache_once(a100):
    g = archsim.build_graph("llama2-7b", "decode", context=4096)
    plans = plan_ops(g, a100, map_graph(g, a100))
    qk = next(p for p in plans if p.op.name == "L0.attn.qk")
    av = next(p for p in plans if p.op.name == "L0.attn.av")
    kv = sum(o.tensor.size_bytes for p in (qk, av) for o in p.op.operands
             if o.tensor.role is Role.KV_CACHE and not o.is_output)
    spec, cal = gpu_spec(qk.unit, a100, "bf16"), gpu_calibration(a100)
    expected = gpu.decode_work_seconds(kv, 32, spec, cal=cal, kv_len=4096)
    assert qk.kernel_s + av.kernel_s == pytest.approx(expected, rel=1e-12)


def test_fidelities_agree_on_the_fused_kernel(a100):
    kw = dict(phase="prefill", seq=512)
    ana = _layer0(archsim.simulate("gpt2-small", a100, fidelity="analytic", **kw))
    cyc = _layer0(archsim.simulate("gpt2-small", a100, fidelity="cycle", **kw))
    for name in ("attn.qk", "attn.av"):
        assert cyc[name].latency_s == pytest.approx(ana[name].latency_s, rel=0.02)
