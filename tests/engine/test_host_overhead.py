"""An eager framework issues each GPU kernel from the host: with `host_overhead` set, no kernel takes
less than that (kernels queue asynchronously, so the slower of host and device sets the pace); by
default (kernels replayed from a CUDA graph) nothing changes."""
from __future__ import annotations

import pytest

import archsim
from archsim.hardware import load_hardware, parse_hardware
from archsim.errors import ConfigError

HOST_S = 50e-6


def _decode(overrides=None):
    return archsim.simulate("gpt2-small", "a100-80gb", phase="decode", context=256,
                            hw_overrides=overrides)


def test_every_issued_kernel_takes_at_least_the_host_overhead():
    base = _decode()
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


def test_default_is_graph_replay():
    assert load_hardware("a100-80gb").host_overhead_s == 0.0
    assert load_hardware("a100-80gb", {"host_overhead": "10 us"}).host_overhead_s == 10e-6


def test_host_overhead_is_for_gpus_only():
    text = open("tests/hardware/data/tiny.yaml").read().replace("memory:", "host_overhead: 5 us\nmemory:", 1)
    with pytest.raises(ConfigError, match="only a GPU .* issues kernels from a host"):
        parse_hardware(text, "tiny.yaml")
