"""Regression tests of the issue-14 audit of hwconfigs/: each pins a defect a shipped description had
(PIM op lists, DRAM tCCD read in another burst convention, CPU streaming at pin rate, the missing
power-limited AttAcc designs)."""
from __future__ import annotations

import pytest

from archsim.engine.dram import refresh_fraction, streaming_bandwidth_bytes_per_s
from archsim.engine.plan import plan_ops
from archsim.hardware import load_hardware
from archsim.workloads import build_graph

HBM3_PIM = ("hbm3-pim", "hbm3-pim-pl", "hbm3-pim-bg", "hbm3-pim-bg-pl", "hbm3-pim-buffer")


@pytest.mark.parametrize("name", HBM3_PIM)
def test_hbm3_pim_runs_every_decode_op_on_a_unit_that_lists_it(name):
    hw = load_hardware(name)
    graph = build_graph("llama2-7b", phase="decode", context=256)
    for p in plan_ops(graph, hw, None):
        assert p.op.kind.value in p.unit.ops, (p.op.name, p.op.kind.value, p.unit.name)
        if p.op.kind.value == "lm_head":
            assert p.unit.type == "pim_bank", p.unit.name


@pytest.mark.parametrize("name,level", [("aim-gddr6", "gddr6"), ("pim-gpt", "gddr6"), ("t4", "gddr6"),
                                        ("edge-npu", "lpddr5")])
def test_gddr6_and_lpddr5_stream_near_pin(name, level):
    """Long sequential reads on real GDDR6/LPDDR5 reach 70-90% of pin; the timing-limited rate is
    at least that (tCCD no longer read in a burst convention other than the description's)."""
    t = load_hardware(name).level(level).dram
    sustained = streaming_bandwidth_bytes_per_s(t) * t.channels * (1 - refresh_fraction(t))
    assert 0.70 <= sustained / t.peak_bandwidth_bytes_per_s <= 1.0


def test_xeon_streams_at_a_stream_like_fraction_of_pin():
    pin = 6 * 8 * 2.666e9                       # 6 channels x 64 bit x 2,666 MT/s
    bw = load_hardware("xeon-gold-6154").off_chip.bandwidth_bytes_per_s
    assert 0.70 <= bw / pin <= 0.85


@pytest.mark.parametrize("name,factor", [("hbm3-pim", 16), ("hbm3-pim-pl", 9), ("hbm3-pim-bg", 8),
                                         ("hbm3-pim-bg-pl", 3), ("hbm3-pim-buffer", 1)])
def test_attacc_internal_bandwidth_factors(name, factor):
    """AttAcc's internal-bandwidth scale (hardware-facts §1.4): 16x/8x/1x unconstrained, 9x/3x under
    the HBM power limit. Internal = operand bytes the PIM units consume per second."""
    hw = load_hardware(name)
    pim = hw.unit("pim")
    internal = pim.peak_macs_per_s("bf16") * 2          # one bf16 weight (2 B) per MAC
    assert internal / hw.off_chip.bandwidth_bytes_per_s == pytest.approx(factor, rel=0.02)
