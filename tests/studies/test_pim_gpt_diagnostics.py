"""The PIM-GPT study's diagnostic helpers on the real pipeline: the non-VMM (ASIC) share of a
decode token and a baseline's roofline bound."""
from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

import pytest

from archsim.result import OpResult
from archsim.studies import pim_gpt, pipeline
from archsim.studies.study import NotReady


def _hw(name):
    try:
        return pipeline.hardware(name)
    except NotReady as exc:                      # pragma: no cover - every stage has landed
        pytest.fail(f"{name}: {exc}")


def _op(unit: str, latency_s: float, start_s: float = 0.0) -> OpResult:
    return OpResult(name=f"{unit}@{start_s}", kind="add", unit=unit, cycles=1, latency_s=latency_s,
                    start_s=start_s, energy_j=0.0, macs=0, flops=0, bytes_by_level=(),
                    bound="compute")


def test_non_vmm_share_counts_summed_op_latency_off_pim_banks():
    hw = _hw("pim-gpt")
    pim = next(cu.name for cu in hw.compute if cu.type == "pim_bank")
    asic = next(cu.name for cu in hw.compute if cu.type != "pim_bank")
    # overlapping ops: the share is of summed op time (4 s), not of wall time (3 s)
    result = SimpleNamespace(ops=(_op(pim, 3.0), _op(asic, 1.0, start_s=1.0)))
    assert pim_gpt.non_vmm_share(result, hw) == pytest.approx(25.0)
    assert pim_gpt.non_vmm_share(SimpleNamespace(ops=()), hw) == 0.0


def test_non_vmm_share_grows_when_the_asic_slows():
    hw = _hw("pim-gpt")
    fast = pim_gpt.non_vmm_share(pim_gpt._decode("gpt2-small", hw), hw)
    slow_hw = pim_gpt.with_asic_clock(hw, 100e6)
    slow = pim_gpt.non_vmm_share(pim_gpt._decode("gpt2-small", slow_hw), slow_hw)
    assert 0 < fast < slow < 100


@pytest.mark.parametrize("chip", [pim_gpt.GPU, pim_gpt.CPU])
def test_roofline_bound_is_a_lower_bound_on_the_engine(chip):
    hw = _hw(chip)
    bounds = [pim_gpt.roofline_bound_s(m, hw) for m in ("gpt2-small", "gpt2-medium", "gpt3-1.3b")]
    assert bounds == sorted(bounds) and bounds[0] > 0
    for model, bound in zip(("gpt2-small", "gpt2-medium", "gpt3-1.3b"), bounds):
        assert bound <= pim_gpt._decode(model, hw).latency_s


def test_roofline_bound_scales_with_off_chip_bandwidth():
    hw = _hw(pim_gpt.GPU)
    dram = hw.levels[0]
    fast = replace(hw, levels=(replace(dram, bandwidth_bytes_per_s=2 * dram.bandwidth_bytes_per_s),)
                   + hw.levels[1:])
    base = pim_gpt.roofline_bound_s("gpt3-1.3b", hw)     # decode at batch 1: memory-bound
    assert pim_gpt.roofline_bound_s("gpt3-1.3b", fast) == pytest.approx(base / 2)


def test_wider_asic_scales_only_the_asic():
    from archsim.studies.pim_gpt_asic import with_asic_width
    hw = pipeline.hardware("pim-gpt")
    wide = with_asic_width(hw, 8)
    for old, new in zip(hw.compute, wide.compute):
        if old.type == "pim_bank":
            assert new == old
        else:
            assert new.shape[0] == 8 * old.shape[0]
            assert dict(new.macs_per_cycle) == {d: 8 * v for d, v in old.macs_per_cycle}
    assert wide.levels == hw.levels
