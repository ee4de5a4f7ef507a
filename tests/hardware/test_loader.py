"""load_hardware: names, paths, overrides, base reuse, and the error for an unknown name."""
from __future__ import annotations

from pathlib import Path

import pytest

from archsim.hardware import dump_hardware, hardware_path, list_hardware, load_hardware, parse_hardware
from archsim.errors import ConfigError

TINY = Path(__file__).parent / "data" / "tiny.yaml"


def test_unknown_name_did_you_mean():
    with pytest.raises(ConfigError) as info:
        load_hardware("h200-smx")
    assert "unknown hardware 'h200-smx'" in str(info.value)
    assert "did you mean 'h200-sxm'" in str(info.value)


def test_missing_file():
    with pytest.raises(ConfigError, match="no such file"):
        load_hardware("nowhere/chip.yaml")


def test_hardware_path_and_list():
    assert hardware_path("t4").name == "t4.yaml"
    assert hardware_path(TINY) == TINY
    assert "pim-gpt" in list_hardware() and list_hardware() == sorted(list_hardware())


def test_overrides_dotted_paths():
    hw = load_hardware("edge-npu", {"compute.pe_array.shape": [64, 64], "memory.gbuf.size": "4 MiB",
                                    "dram.channels": 4, "clock": "800 MHz"})
    assert hw.unit("pe_array").shape == (64, 64)
    assert hw.level("gbuf").size_bytes == 4 * 2 ** 20
    assert hw.off_chip.dram.channels == 4
    assert hw.off_chip.size_bytes == 2 * load_hardware("edge-npu").off_chip.size_bytes
    assert hw.freq_hz == 800e6 and hw.unit("pe_array").freq_hz == 800e6


def test_override_errors_are_config_errors():
    with pytest.raises(ConfigError) as info:
        load_hardware("edge-npu", {"memory.gbfu.size": "4 MiB"})
    assert "<overrides>: memory.gbfu.size: no entry 'memory.gbfu'" in str(info.value)
    assert "did you mean 'gbuf'" in str(info.value)
    with pytest.raises(ConfigError, match="memory.gbuf.size: unknown bytes unit"):
        load_hardware("edge-npu", {"memory.gbuf.size": "4 MiBs"})
    with pytest.raises(ConfigError, match="no memory level has a DRAM timing block"):
        load_hardware("tpu-v1", {"dram.channels": 4})


def test_base_merges_by_name(tmp_path):
    derived = tmp_path / "big-t4.yaml"
    derived.write_text("base: t4\nversion: 1\nname: big-t4\nmemory:\n  - name: l2\n    size: 8 MiB\n"
                       "compute:\n  - name: tensor\n    count: 80\n")
    hw, t4 = load_hardware(derived), load_hardware("t4")
    assert hw.name == "big-t4" and hw.kind == "gpu"
    assert [lv.name for lv in hw.levels] == [lv.name for lv in t4.levels]
    assert hw.level("l2").size_bytes == 8 * 2 ** 20
    assert hw.unit("tensor").count == 80 and hw.unit("cuda").count == 40
    assert hw.sources == t4.sources


def test_base_problem_points_at_derived_file(tmp_path):
    derived = tmp_path / "bad.yaml"
    derived.write_text("base: t4\nversion: 1\nname: bad\ncompute:\n  - name: tensor\n    count: -1\n")
    with pytest.raises(ConfigError) as info:
        load_hardware(derived)
    assert "bad.yaml:6: compute.tensor.count: must be positive (got -1)" in str(info.value)


def test_base_loop(tmp_path):
    (tmp_path / "a.yaml").write_text("base: b.yaml\nname: a\n")
    (tmp_path / "b.yaml").write_text("base: a.yaml\nname: b\n")
    with pytest.raises(ConfigError, match="loop"):
        load_hardware(tmp_path / "a.yaml")


def test_hbm3_pim_placements():
    units = {n: load_hardware(n).unit("pim") for n in ("hbm3-pim", "hbm3-pim-bg", "hbm3-pim-buffer")}
    assert {n: u.placement for n, u in units.items()} == {
        "hbm3-pim": "bank", "hbm3-pim-bg": "bank_group", "hbm3-pim-buffer": "buffer_die"}
    external = load_hardware("hbm3-pim").off_chip.bandwidth_bytes_per_s
    # internal bandwidth (2 B per fp16 operand) / external ≈ AttAcc's 16x / 8x / 1x
    ratios = {n: u.peak_macs_per_s("fp16") * 2 / external for n, u in units.items()}
    assert ratios["hbm3-pim"] == pytest.approx(16, rel=0.05)
    assert ratios["hbm3-pim-bg"] == pytest.approx(8, rel=0.05)
    assert ratios["hbm3-pim-buffer"] == pytest.approx(1, rel=0.05)


def test_dram_timing_ns_converted_with_tck():
    d = load_hardware("zcu102").off_chip.dram
    assert d.tck_s == pytest.approx(0.833e-9)
    assert d.trcd == 17 and d.trefi == 9364   # ceil(13.75 / 0.833), ceil(7800 / 0.833)
    d = load_hardware("hbm3-pim").off_chip.dram
    assert d.cl == 19 and d.trfc == 586         # cycles given as written; 450 ns / 0.769 ns rounded up


def test_defaults_filled_from_energy_tables():
    hw = load_hardware(TINY)
    io = 2.744                                       # POD12 I/O estimate of archsim.energy.dram
    assert hw.level("dram").read_energy_pj_per_byte == pytest.approx(((168 - 52) * 1.2 / 25.6 + io) * 8, rel=1e-3)
    assert dict(hw.unit("pe").energy_pj_per_mac)["int8"] > 0


def test_parse_hardware_text_and_per_access_energy():
    text = TINY.read_text().replace("    bytes_per_cycle: 64", "    bytes_per_cycle: 64\n    width: 64 bit\n"
                                    "    read_energy: 10 pJ\n    write_energy: 12 pJ")
    hw = parse_hardware(text, "inline.yaml")
    assert hw.file == "inline.yaml"
    assert hw.level("gbuf").read_energy_pj_per_byte == pytest.approx(1.25)
    assert hw.level("gbuf").write_energy_pj_per_byte == pytest.approx(1.5)
    assert parse_hardware(dump_hardware(hw), "inline.yaml") == hw
    with pytest.raises(ConfigError, match="energy per access needs the access 'width'"):
        parse_hardware(text.replace("    width: 64 bit\n", ""), "inline.yaml")


def test_dram_geometry_override_rederives_size_and_bandwidth():
    base = load_hardware("zcu102")
    hw = load_hardware("zcu102", {"dram.channels": 2})
    assert hw.off_chip.size_bytes == 2 * base.off_chip.size_bytes
    assert hw.off_chip.bandwidth_bytes_per_s == pytest.approx(2 * base.off_chip.bandwidth_bytes_per_s, rel=0.01)
    with pytest.raises(ConfigError, match="DRAM geometry does not match the size"):
        load_hardware("zcu102", {"dram.channels": 2, "memory.ddr4.size": "4 GiB"})


def test_pim_operand_energy_by_placement():
    from archsim.energy import table_for
    bank = dict(table_for(load_hardware("hbm3-pim")).entries)["pim.operand_read"]
    buffer = dict(table_for(load_hardware("hbm3-pim-buffer")).entries)["pim.operand_read"]
    assert (bank, buffer) == (pytest.approx(4.4), pytest.approx(26.32))


def test_refresh_taking_most_of_its_interval_is_refused():
    """With tRFC near tREFI a channel owing 8 refreshes never catches up (a long PIM burst on such
    a description ran for minutes); the loader names the key instead."""
    with pytest.raises(ConfigError) as info:
        load_hardware("pim-gpt", {"memory.gddr6.dram.tRFC": 3000})      # tREFI is 3800 cycles
    text = str(info.value)
    assert "memory.gddr6.dram.tRFC" in text and "half of every refresh interval" in text
    assert "3000" in text and "3800" in text
    load_hardware("pim-gpt", {"memory.gddr6.dram.tRFC": 1900})          # half: still accepted
