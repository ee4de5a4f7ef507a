"""The cycle engine enforces on-chip SRAM bandwidth: no op moves bytes through an on-chip level faster
than the level's ports allow, a narrower buffer never speeds a run up and its stalls are named in the
op's `gap_effects`, and a dual-ported level serves its fill and compute sides at once."""
from __future__ import annotations

import functools

import pytest

import archsim
from archsim.engine.ports import port_lanes
from archsim.hardware import load_hardware


@functools.lru_cache(maxsize=None)
def _run(hw_name: str, bytes_per_cycle: int | None = None, phase: str = "prefill"):
    over = {"memory.gbuf.bytes_per_cycle": bytes_per_cycle} if bytes_per_cycle else None
    kw = dict(seq=32) if phase == "prefill" else dict(context=64)
    return archsim.simulate("gpt2-small", hw_name, phase=phase, overrides={"layers": 1},
                            fidelity="cycle", budget=10, hw_overrides=over, **kw)


# edge-npu: its array's buffer (fold traffic: none, the PEs' registers hold the reuse) and its
# per-PE register file; tpu-v1: the MXU's fold traffic into the unified buffer and accumulators
@pytest.mark.parametrize("hw_name,phase", [("hbm3-pim", "prefill"), ("hbm3-pim", "decode"),
                                           ("edge-npu", "prefill"), ("zcu102", "prefill"),
                                           ("tpu-v1", "prefill")])
def test_no_op_outruns_an_on_chip_level(hw_name, phase):
    hw = load_hardware(hw_name)
    r = _run(hw_name, phase=phase)
    rate = {lv.name: lv.bandwidth_bytes_per_s / lv.ports * port_lanes(lv) for lv in hw.levels
            if not lv.off_chip}
    checked = 0
    for op in r.ops:
        for level, nbytes in op.bytes_by_level:
            if level in rate and nbytes:
                assert op.latency_s * (1 + 1e-9) + 2 / hw.freq_hz >= nbytes / rate[level], (op.name, level)
                checked += 1
    assert checked


def test_a_narrow_buffer_stalls_and_says_so():
    wide, narrow = _run("edge-npu"), _run("edge-npu", 2)
    assert narrow.cycles > wide.cycles
    # the port waits on the critical path (a symptom shown beside the gap; the ports' share of it
    # is named with attribute_gap)
    stalled = sum(op.gap_effects.get("port_wait_s", 0.0) for op in narrow.ops)
    before = sum(op.gap_effects.get("port_wait_s", 0.0) for op in wide.ops)
    assert stalled > before and stalled > 0.1 * (narrow.latency_s - wide.latency_s)
    assert all(set(op.gap_effects) <= set(archsim.result.GAP_EFFECTS) for op in narrow.ops)


def test_dual_ported_bram_has_two_lanes():
    hw = load_hardware("zcu102")
    bram = hw.level("bram")
    assert (bram.ports, port_lanes(bram)) == (2, 2)
    assert port_lanes(load_hardware("edge-npu").level("gbuf")) == 1


def test_analytic_carries_no_effects():
    r = archsim.simulate("gpt2-small", "edge-npu", phase="prefill", seq=32, overrides={"layers": 1},
                         budget=10)
    assert all(op.gap_effects == {} for op in r.ops)
