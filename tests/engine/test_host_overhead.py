"""An eager framework issues each GPU kernel from the host: under the `eager` stack no kernel takes
less than the description's `host_overhead` (kernels queue asynchronously, so the slower of host and
device sets the pace), or `stack.EAGER_HOST_S` when the description gives none; kernels replayed
from a CUDA graph (`graph`, `serving`) pay no host time."""
from __future__ import annotations

import pytest

import archsim
from archsim.hardware import load_hardware, parse_hardware
from archsim.errors import ConfigError

HOST_S = 50e-6


def _decode(overrides=None, stack="eager"):
    return archsim.simulate("gpt2-small", "a100-80gb", phase="decode", context=256,
                            hw_overrides=overrides, stack=stack)


def test_every_issued_kernel_takes_at_least_the_host_overhead():
    base = _decode(stack="graph")
    eager = _decode({"host_overhead": "50 us"})
    attention = [o for o in eager.ops if o.kind in ("attn_qk", "softmax", "attn_av")]
    others = [o for o in eager.ops if o.kind not in ("attn_qk", "softmax", "attn_av")]
    assert all(o.latency_s >= HOST_S * (1 - 1e-6) for o in others)
    by_layer: dict[int, float] = {}
    for o in attention:                                  # one fused kernel per layer
        by_layer[o.layer] = by_layer.get(o.layer, 0.0) + o.latency_s
    assert len(by_layer) == 12 and all(t >= HOST_S * (1 - 1e-6) for t in by_layer.values())
    assert eager.latency_s >= (len(others) + len(by_layer)) * HOST_S * (1 - 1e-6)
    assert eager.latency_s > 3 * base.latency_s          # batch-1 decode becomes host-bound


def test_eager_without_a_host_overhead_uses_the_stack_default():
    from archsim.engine.stack import EAGER_HOST_S
    eager = _decode()
    assert min(o.latency_s for o in eager.ops if o.kind == "matmul") >= EAGER_HOST_S * (1 - 1e-6)
    assert _decode({"host_overhead": "50 us"}, stack="graph").latency_s == \
        pytest.approx(_decode(stack="graph").latency_s)          # graph replay: no host time


def test_default_is_graph_replay():
    assert load_hardware("a100-80gb").host_overhead_s == 0.0
    assert load_hardware("a100-80gb", {"host_overhead": "10 us"}).host_overhead_s == 10e-6


def test_host_overhead_is_for_gpus_only():
    text = open("tests/hardware/data/tiny.yaml").read().replace("memory:", "host_overhead: 5 us\nmemory:", 1)
    with pytest.raises(ConfigError, match="only a GPU .* issues kernels from a host"):
        parse_hardware(text, "tiny.yaml")
