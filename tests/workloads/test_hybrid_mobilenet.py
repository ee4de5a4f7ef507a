"""The gated-convolution hybrid (LFM2) and the MobileNetV5 encoder: what their structure implies,
checked on the built graphs."""
from __future__ import annotations

import pytest

from archsim.errors import ModelError
from archsim.ir import OpKind, Role, ops_in_order
from archsim.workloads import build_graph, model_config
from archsim.workloads.families.mobilenet import FUSED_CHANNELS


def _kv_bytes(model: str, context: int) -> int:
    seen = {}
    for op in ops_in_order(build_graph(model, "decode", context=context, dtypes="int8")):
        for o in op.operands:
            if o.tensor.role is Role.KV_CACHE:
                seen[o.tensor.name] = o.tensor.size_bytes
    return sum(seen.values())


def test_hybrid_kv_cache_grows_only_in_its_attention_layers():
    cfg = model_config("lfm2-1.2b")
    attention_layers = cfg.layers - len(cfg.conv_layers)
    per_token = {m: _kv_bytes(m, 2048) - _kv_bytes(m, 1024) for m in ("lfm2-1.2b", "llama3.2-1b")}
    # same KV heads and head width: bytes per token of context scale with the attention layers
    assert per_token["lfm2-1.2b"] * cfg.layers == per_token["llama3.2-1b"] * attention_layers
    assert per_token["lfm2-1.2b"] == attention_layers * 2 * cfg.kv_heads * cfg.head_dim_eff * 1024


def test_hybrid_conv_state_is_fixed_and_its_mixer_is_a_depthwise_conv():
    cfg = model_config("lfm2-1.2b")
    g = build_graph("lfm2-1.2b", "decode", batch=2, context=4096)
    states = {o.tensor.name: o.tensor.shape for op in ops_in_order(g) for o in op.operands
              if o.tensor.role is Role.KV_CACHE and "conv_state" in o.tensor.name}
    assert len(states) == len(cfg.conv_layers)
    assert set(states.values()) == {(2, cfg.hidden, cfg.d_conv - 1)}
    convs = [op for op in ops_in_order(g) if op.kind is OpKind.DWCONV2D]
    attn = [op for op in ops_in_order(g) if op.kind is OpKind.ATTN_QK]
    assert len(convs) == len(cfg.conv_layers) and len(attn) == cfg.layers - len(cfg.conv_layers)
    assert {op.layer for op in convs} == set(cfg.conv_layers)


@pytest.mark.parametrize("overrides,match", [
    ({"layers": 4}, "conv_layers"),                 # layer 15 no longer exists
])
def test_hybrid_rejects_conv_layers_outside_the_model(overrides, match):
    with pytest.raises(ModelError, match=match):
        build_graph("lfm2-1.2b", "decode", context=16, overrides=overrides)


@pytest.mark.parametrize("image", [256, 768])
def test_mobilenetv5_hands_over_at_most_a_16x16_map_of_2048_channels(image):
    g = build_graph("mobilenetv5-300m", "encode", batch=2, overrides={"image": image})
    last = list(ops_in_order(g))[-1]
    out = next(o.tensor for o in last.operands if o.is_output)
    grid = min(16, image // 16)              # the stage before last runs at image / 16
    assert out.shape == (2 * grid * grid, FUSED_CHANNELS)


def test_mobilenetv5_work_grows_with_pixels_and_attention():
    macs = {px: sum(op.macs for op in ops_in_order(build_graph("mobilenetv5-300m", "encode",
                                                                 overrides={"image": px})))
            for px in (256, 768)}
    # 9x the pixels; its attention blocks grow with the square of their tokens on top
    assert 9 < macs[768] / macs[256] < 11


def test_mobilenetv5_takes_square_images_only():
    with pytest.raises(ModelError, match="square image"):
        build_graph("mobilenetv5-300m", "encode", overrides={"image": (256, 512)})
