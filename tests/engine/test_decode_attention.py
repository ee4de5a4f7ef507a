"""Decode attention on a GPU: split-KV (flash-decoding) at small batch, one CTA per (sequence, head)
at large batch (timing/gpu.py: decode_work_seconds). Held to the measured H200 kernels' TREND —
the cost of one more context token and of one more sequence — through the whole engine (LLaMA-2-7B
has the measured shape: 32 heads of 128), not only to single points."""
from __future__ import annotations

import json
import statistics

import pytest

import archsim
from archsim.engine.calibration import DEFAULT_KERNELS_JSON, cross_validate, load_measurements

_FLASH = {(a["B"], a["Skv"]): a["seconds"] for a in json.loads(DEFAULT_KERNELS_JSON.read_text())["attention"]
          if a["phase"] == "decode" and a["backend"] == "flash" and a["H"] == 32 and a["D"] == 128}


def _attention_s(batch: int, context: int) -> float:
    """One layer's decode attention kernel in a LLaMA-2-7B decode on h200-sxm."""
    r = archsim.simulate("llama2-7b", "h200-sxm", phase="decode", batch=batch, context=context,
                         overrides={"layers": 1})
    return sum(o.latency_s for o in r.ops if o.kind in ("attn_qk", "softmax", "attn_av"))


def test_cost_per_extra_context_token_follows_the_measured_trend():
    for lo, hi in ((1024, 4096), (4096, 16384), (16384, 65536)):
        measured = (_FLASH[(1, hi)] - _FLASH[(1, lo)]) / (hi - lo)
        model = (_attention_s(1, hi) - _attention_s(1, lo)) / (hi - lo)
        assert model == pytest.approx(measured, rel=0.15), (lo, hi)


def test_cost_per_extra_sequence_follows_the_measured_trend():
    measured = (_FLASH[(64, 4096)] - _FLASH[(16, 4096)]) / 48
    model = (_attention_s(64, 4096) - _attention_s(16, 4096)) / 48
    assert model == pytest.approx(measured, rel=0.10)
    # batch 1 (split-KV) to 64 (batched): the step the single-efficiency model got 48% too steep
    assert _attention_s(64, 4096) / _attention_s(1, 4096) == pytest.approx(
        _FLASH[(64, 4096)] / _FLASH[(1, 4096)], rel=0.10)


def test_decode_attention_out_of_sample():
    """Leave-one-family-out over the decode attention kernels (each family refitted without it)."""
    ms = load_measurements()
    pts = [p for p in cross_validate(ms) if p.kind == "attention" and p.label.startswith("decode")]
    errors = [abs(p.error) for p in pts]
    print(f"decode attention leave-one-family-out: median |error| {statistics.median(errors):.3f}, "
          f"max {max(errors):.3f} over {len(pts)} kernels")
    assert statistics.median(errors) <= 0.10
    assert max(p.ratio for p in pts) <= 1.5
