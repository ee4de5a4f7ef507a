"""Time-proportional power (`energy.power.time_power_w`) term by term, on pim-gpt (GDDR6 with PIM
banks, no board idle figure): leakage per instance of a replicated level, DRAM background in
active standby for the share of the run its banks move bytes (PIM in-bank reads included),
precharge standby otherwise, per device of every rank, and none of it on a board whose measured
idle already includes the DRAM."""
from __future__ import annotations

import functools
from dataclasses import replace

import pytest

from archsim.energy import dram as D
from archsim.energy.power import dram_background_w, time_power_w
from archsim.hardware import load_hardware

LATENCY_S = 1e-3


@functools.lru_cache(maxsize=None)
def _hw():
    return load_hardware("pim-gpt")


def _with_level(hw, name, **kw):
    return replace(hw, levels=tuple(replace(lv, **kw) if lv.name == name else lv for lv in hw.levels))


def test_leakage_counts_every_instance_of_a_replicated_level():
    hw = _with_level(_with_level(_hw(), "pim_gbuf", leakage_w=0.25), "asic_sram", leakage_w=0.5)
    hw = replace(hw, static_power_w=1.0, idle_power_w=0.0)
    instances = hw.level("pim_gbuf").instances
    assert instances > 1
    got = time_power_w(hw, {}, LATENCY_S)["static"]
    assert got == pytest.approx(1.0 + 0.25 * instances + 0.5)
    # the idle power is a floor, not an addend
    assert time_power_w(replace(hw, idle_power_w=100.0), {}, LATENCY_S)["static"] == 100.0


def test_dram_background_follows_the_bytes_moved_pim_reads_included():
    hw, lv = _hw(), _hw().level("gddr6")
    half = lv.bandwidth_bytes_per_s * LATENCY_S / 2          # busy half the run
    idle = time_power_w(hw, {}, LATENCY_S)["dram_background"]
    for verb in ("read", "write", "pim_read"):
        got = time_power_w(hw, {f"gddr6.{verb}": half}, LATENCY_S)["dram_background"]
        assert got == pytest.approx(dram_background_w(lv, 0.5)), verb
        assert got > idle, verb
    d = D.device_for(lv.memory_type, lv.kind)
    assert d.idd3n_ma > d.idd2n_ma                           # active standby draws more
    assert idle == pytest.approx(dram_background_w(lv, 0.0))


def test_dram_background_counts_the_devices_of_every_rank():
    lv = _hw().level("gddr6")
    two = replace(lv, dram=replace(lv.dram, ranks=2 * lv.dram.ranks))
    for busy in (0.0, 0.3, 1.0):
        assert dram_background_w(two, busy) == pytest.approx(2 * dram_background_w(lv, busy))


def test_a_board_idle_that_includes_the_dram_adds_no_background():
    hw = replace(_hw(), idle_covers_dram=True, idle_power_w=5.0)
    moved = hw.level("gddr6").bandwidth_bytes_per_s * LATENCY_S
    out = time_power_w(hw, {"gddr6.read": moved}, LATENCY_S)
    assert out["dram_background"] == 0.0 and out["static"] == 5.0
    assert time_power_w(replace(hw, idle_covers_dram=False), {"gddr6.read": moved},
                        LATENCY_S)["dram_background"] > 0
