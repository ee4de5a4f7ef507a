"""The analytic-vs-cycle gap and its parts (`SimResult.gap_attribution`) survive the runs built from
several simulations (#18): a chunked prefill sums its chunks' parts, a tensor-parallel run keeps the
device's with the all-reduces (one closed form at both fidelities) in its analytic time; the parts
still add up exactly to cycle − analytic latency."""
from __future__ import annotations

import pytest

import archsim
from archsim.chunked import combine_chunks
from archsim.result import RUN_GAP_PARTS, sum_gap_attribution

KW = dict(fidelity="cycle", overrides={"layers": 2}, budget=50)


def _adds_up(r):
    analytic_s = sum(op.analytic_cycles for op in r.ops) / r.freq_hz
    parts = dict(r.gap_attribution)
    assert tuple(parts)[:len(RUN_GAP_PARTS)] == RUN_GAP_PARTS
    assert sum(parts.values()) == pytest.approx(r.latency_s - analytic_s, rel=1e-9, abs=1e-12)
    assert r.analytic_vs_cycle_gap == pytest.approx((r.latency_s - analytic_s) / analytic_s, rel=1e-6)
    return parts


@pytest.mark.parametrize("hw", ["pim-gpt", "edge-npu"])
def test_chunked_prefill_sums_its_chunks_parts(hw):
    whole = archsim.simulate("gpt2-small", hw, phase="prefill", seq=48, prefill_chunk=16,
                             attribute_gap=True, **KW)
    chunks = [archsim.simulate("gpt2-small", hw, phase="prefill", seq=16, past=past,
                               attribute_gap=True, **KW) for past in (0, 16, 32)]
    assert whole.fits and len(whole.ops) == sum(len(c.ops) for c in chunks)
    parts = _adds_up(whole)
    for k in RUN_GAP_PARTS:
        assert parts[k] == pytest.approx(sum(dict(c.gap_attribution)[k] for c in chunks), abs=1e-15)
    # not the first chunk's alone (what combine_chunks kept before)
    assert parts != pytest.approx(dict(chunks[0].gap_attribution))
    assert any(dict(c.gap_attribution)["other_s"] for c in chunks[1:])


def test_sum_gap_attribution_of_nothing_is_empty():
    assert sum_gap_attribution([(), ()]) == ()
    a = (("op_overlap_s", 1.0), ("other_s", 2.0))
    b = (("op_overlap_s", 0.5), ("other_s", -1.0))
    assert dict(sum_gap_attribution([a, (), b])) == pytest.approx(
        {**dict.fromkeys(RUN_GAP_PARTS, 0.0), "op_overlap_s": 1.5, "other_s": 1.0})


def test_analytic_chunks_keep_no_parts():
    r = archsim.simulate("gpt2-small", "edge-npu", phase="prefill", seq=32, prefill_chunk=16,
                         **{**KW, "fidelity": "analytic"})
    assert r.gap_attribution == () and r.analytic_vs_cycle_gap is None


@pytest.mark.parametrize("hw", ["pim-gpt", "tpu-v4"])
def test_tensor_parallel_keeps_the_device_gap_and_adds_up(hw):
    from archsim.parallel import shard_overrides
    from archsim.workloads import model_config
    from archsim.workloads.config import apply_overrides
    cfg = apply_overrides(model_config("gpt2-small"), KW["overrides"], "test")
    shard = {**KW["overrides"], **shard_overrides(cfg, 2)}
    one = archsim.simulate("gpt2-small", hw, phase="decode", context=128, attribute_gap=True,
                           **{**KW, "overrides": shard})
    two = archsim.simulate("gpt2-small", hw, phase="decode", context=128, devices=2,
                           attribute_gap=True, **KW)
    reduces = [o for o in two.ops if o.kind == "allreduce"]
    assert reduces and all(o.analytic_cycles == o.cycles > 0 for o in reduces)
    parts = _adds_up(two)
    device = dict(one.gap_attribution)
    # the all-reduces add the same time to both fidelities: the parts are the device's (the
    # reduces' rounding to whole cycles aside, in `other_s`)
    for k in RUN_GAP_PARTS:
        assert parts[k] == pytest.approx(device[k], abs=len(reduces) / two.freq_hz), k


def test_combine_chunks_gap_weights_by_analytic_time():
    a = archsim.simulate("gpt2-small", "edge-npu", phase="prefill", seq=16, **KW)
    b = archsim.simulate("gpt2-small", "edge-npu", phase="prefill", seq=8, past=16, **KW)
    r = combine_chunks([a, b], 24, 16)
    _adds_up(r)
