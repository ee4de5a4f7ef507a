"""Every shipped description loads and keeps the library's invariants (Stream-style conformance)."""
from __future__ import annotations

import math

import pytest

from archsim.hardware import dump_hardware, list_hardware, load_hardware, parse_hardware
from archsim.hardware.check import BANDWIDTH_TOLERANCE, CAPACITY_SLACK

REQUIRED = {
    "pim": ["pim-gpt", "aim-gddr6", "hbm-pim", "hbm3-pim"],
    "fpga": ["zcu102", "alveo-u280"],
    "npu": ["tpu-v1", "tpu-v4", "eyeriss", "sa8295p-npu", "edge-npu"],
    "mcu": ["stm32f746", "stm32h743", "stm32f427"],
    "gpu": ["t4", "a100-80gb", "h100-sxm", "h200-sxm"],
    "cpu": ["xeon-gold-6154"],
}
NAMES = list_hardware()

#: Published peak rates (ops/s = 2 × MACs/s) each description must reproduce within 2 %.
#: (name, dtype, ops/s, where the number comes from[, only this compute unit])
PUBLISHED_PEAKS = [
    ("t4", "fp16", 65e12, "hardware-facts §1.1: 65 TFLOPS FP16"),
    ("t4", "int8", 130e12, "hardware-facts §1.1: 130 TOPS INT8"),
    ("t4", "fp32", 8.1e12, "hardware-facts §1.1: 8.1 TFLOPS FP32"),
    ("a100-80gb", "bf16", 312e12, "hardware-facts §7"),
    ("a100-80gb", "int8", 624e12, "hardware-facts §7"),
    ("h100-sxm", "bf16", 989.4e12, "hardware-facts §7"),
    ("h100-sxm", "fp8", 1978.9e12, "hardware-facts §7"),
    ("h200-sxm", "bf16", 989.4e12, "hardware-facts §7"),
    ("h200-sxm", "int8", 1978.9e12, "hardware-facts §7"),
    ("h200-sxm", "fp32", 66.9e12, "hardware-facts §7"),
    ("tpu-v1", "int8", 92e12, "hardware-facts §4.1: 92 TOPS"),
    ("tpu-v4", "bf16", 275e12, "hardware-facts §4.1: 275 TFLOPS"),
    ("aim-gddr6", "bf16", 1.024e12, "hardware-facts §1.3: 1 TFLOPS per chip (1.024 derived)", "pim_mac"),
    ("hbm-pim", "fp16", 1.2288e12, "hardware-facts §1.2: 128 PCUs × 9.6 GFLOPS", "pcu"),
    ("pim-gpt", "bf16", 4.096e12, "hardware-facts §1.1: 4.1 TFLOPS BF16 under the AiM inference", "pim_mac"),
    ("eyeriss", "int16", 168 * 2 * 200e6, "168 PEs (hardware-facts §4.2) at the assumed 200 MHz"),
    ("stm32f746", "int16", 0.864e9, "hardware-facts §2.2: 432 MMAC/s = 0.86 GOPS int16"),
    ("zcu102", "int16", 2520 * 2 * 300e6, "2,520 DSP48E2 at 300 MHz (hardware-facts §3.1)"),
]


def test_library_has_every_required_config():
    missing = [n for names in REQUIRED.values() for n in names if n not in NAMES]
    assert not missing, missing


@pytest.mark.parametrize("kind", sorted(REQUIRED))
def test_kinds_match(kind):
    for name in REQUIRED[kind]:
        if name in NAMES:
            assert load_hardware(name).kind == kind


@pytest.mark.parametrize("name", NAMES)
def test_invariants(name):
    hw = load_hardware(name)
    assert hw.name == name, "the name inside a file must equal its stem"
    # peak rate = Σ units × MACs/cycle × clock, and is positive for the unit's own dtypes
    for dtype in ("int8", "bf16", "fp16", "fp32"):
        expected = sum(cu.count * cu.macs_per_cycle_for(dtype) * cu.freq_hz for cu in hw.compute)
        assert math.isclose(hw.peak_macs_per_s(dtype), expected)
    for cu in hw.compute:
        assert cu.count >= 1 and cu.freq_hz > 0 and all(m > 0 for _, m in cu.macs_per_cycle)
        assert cu.attached_to in {lv.name for lv in hw.levels}
        if cu.type in ("systolic", "dsp_array"):
            assert len(cu.shape) == 2
            assert max(m for _, m in cu.macs_per_cycle) <= 2 * math.prod(cu.shape)
        assert {d for d, _ in cu.energy_pj_per_mac} >= {d for d, _ in cu.macs_per_cycle}
    # sizes and nesting
    assert hw.levels[0].off_chip, "the outermost level is off-chip memory"
    for lv in hw.levels:
        assert lv.size_bytes > 0 and lv.bandwidth_bytes_per_s > 0 and lv.read_energy_pj_per_byte > 0
    outer = max((lv.size_bytes for lv in hw.levels if lv.off_chip), default=0)
    for lv in hw.levels[1:]:     # on-chip levels fit off chip (a board's off-chip levels are siblings)
        assert lv.off_chip or lv.size_bytes * lv.instances <= outer
    assert len({lv.name for lv in hw.levels}) == len(hw.levels)
    # off-chip bandwidth and capacity consistent with the DRAM timing block
    for lv in hw.levels:
        if lv.dram is not None:
            d = lv.dram
            assert abs(lv.bandwidth_bytes_per_s / d.peak_bandwidth_bytes_per_s - 1) <= BANDWIDTH_TOLERANCE
            assert (1 - CAPACITY_SLACK) * d.capacity_bytes <= lv.size_bytes <= d.capacity_bytes
            assert d.row_size_bytes >= d.burst_bytes
            assert d.tras >= d.trcd and d.trefi > d.trfc > 0
    # sources: present, unique, and at least one that is not an assumption
    ids = [s.id for s in hw.sources]
    assert ids and len(set(ids)) == len(ids)
    assert any(not s.assumption for s in hw.sources)
    if hw.kind == "fpga":
        assert hw.fpga is not None and hw.fpga.dsp > 0


@pytest.mark.parametrize("row", PUBLISHED_PEAKS, ids=[f"{r[0]}-{r[1]}" for r in PUBLISHED_PEAKS])
def test_published_peaks(row):
    name, dtype, ops, where, *unit = row
    hw = load_hardware(name)
    peak = hw.unit(unit[0]).peak_macs_per_s(dtype) if unit else hw.peak_macs_per_s(dtype)
    assert math.isclose(2 * peak, ops, rel_tol=0.02), where


@pytest.mark.parametrize("name", NAMES)
def test_dump_round_trip(name):
    hw = load_hardware(name)
    assert parse_hardware(dump_hardware(hw), hw.file) == hw


def test_cli_list_shows_every_config(capsys):
    from archsim.cli import main
    assert main(["hw", "list"]) == 0
    out = capsys.readouterr().out
    listed = {line.split()[0] for line in out.splitlines()[1:]}
    assert listed == set(NAMES)


def test_stm32f746_real_banks():
    hw = load_hardware("stm32f746")
    sizes = {lv.name: lv.size_bytes for lv in hw.levels}
    assert sizes["dtcm"] == 64 * 1024 and sizes["sram1"] == 240 * 1024 and sizes["sram2"] == 16 * 1024
    assert sum(sizes[k] for k in ("dtcm", "sram1", "sram2")) == 320 * 1024
    flash = hw.level("flash")
    assert flash.kind == "flash" and flash.size_bytes == 1 << 20 and flash.wait_states > 0
    assert hw.compute[0].freq_hz == 216e6


def test_h200_fixed_numbers():
    hw = load_hardware("h200-sxm")
    assert hw.freq_hz == 1.98e9
    assert hw.level("l2").size_bytes == 60 * 2 ** 20
    assert hw.off_chip.bandwidth_bytes_per_s == 4.8e12
    assert {cu.count for cu in hw.compute} == {132}


def test_pim_gpt_organisation():
    hw = load_hardware("pim-gpt")
    pim = hw.unit("pim_mac")
    assert pim.type == "pim_bank" and pim.count == 8 * 16 and pim.macs_per_cycle_for("bf16") == 16
    assert pim.freq_hz == 1e9 and hw.tech_node_nm == 28
    d = hw.off_chip.dram
    assert d.channels == 8 and d.banks_per_channel == 16 and d.row_size_bytes == 2048
    assert any(s.assumption for s in hw.sources)
    assert any(cu.type == "vector" for cu in hw.compute)


#: Die areas (mm²) with a source in the description, so `compare` can report perf/mm²
DIE_AREAS_MM2 = {"a100-80gb": 826.0, "h100-sxm": 814.0, "h200-sxm": 814.0, "t4": 545.0,
                 "tpu-v1": 331.0}


@pytest.mark.parametrize("name, area", sorted(DIE_AREAS_MM2.items()))
def test_die_areas(name, area):
    assert load_hardware(name).area_mm2 == area            # h100-sxm inherits h200's (base:)
