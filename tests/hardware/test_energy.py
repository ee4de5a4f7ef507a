"""Energy and area tables against the values of their cited sources (hardware-facts §5)."""
from __future__ import annotations

import math

import pytest
from hypothesis import given, strategies as st

from archsim import energy
from archsim.hardware import load_hardware
from archsim.energy import ActionCounts, EnergyTable, energy_from_counts
from archsim.energy import dram
from archsim.energy.tables import (
    DRAM_PJ_PER_BIT, HBM2_BREAKDOWN_PJ_PER_BIT, HOROWITZ_45NM_PJ, MAC_45NM_PJ, MAC_AREA_45NM_UM2,
    PIM_ACCESS_PJ_PER_BYTE, SRAM_MM2_PER_MIB,
)


@pytest.mark.parametrize("op, pj", [("int8_add", 0.03), ("int32_add", 0.1), ("int8_mult", 0.2), ("int32_mult", 3.1),
                                    ("fp16_add", 0.4), ("fp32_add", 0.9), ("fp16_mult", 1.1), ("fp32_mult", 3.7)])
def test_horowitz_45nm(op, pj):
    assert HOROWITZ_45NM_PJ[op].value == pj and HOROWITZ_45NM_PJ[op].source == "H14"


def test_mac_energy_is_mult_plus_add_at_45nm():
    assert energy.mac_energy_pj("int8", delivery=False) == pytest.approx(0.2 + 0.1)
    assert energy.mac_energy_pj("fp16", delivery=False) == pytest.approx(1.1 + 0.4)
    assert energy.mac_energy_pj("fp32", delivery=False) == pytest.approx(3.7 + 0.9)
    assert MAC_45NM_PJ["bf16"].assumption and not MAC_45NM_PJ["fp16"].assumption
    with pytest.raises(KeyError, match="no MAC energy"):
        energy.mac_energy_pj("int7")


@pytest.mark.parametrize("size, pj_per_64bit", [(8 * 1024, 10.0), (32 * 1024, 20.0), (1024 * 1024, 100.0)])
def test_sram_points_are_horowitz(size, pj_per_64bit):
    assert energy.sram_energy_pj_per_byte(size, 45) == pytest.approx(pj_per_64bit / 8)


def test_sram_energy_grows_with_size():
    sizes = [512, 4096, 8192, 20000, 32768, 200000, 1 << 20, 8 << 20]
    values = [energy.sram_energy_pj_per_byte(s) for s in sizes]
    assert values == sorted(values)


def test_mac_energy_includes_operand_delivery():
    # two int8 operands + a 32-bit partial sum = 6 bytes through the pipeline registers
    delivery = 6 * energy.OPERAND_DELIVERY_PJ_PER_BYTE_45NM
    assert energy.mac_energy_pj("int8") == pytest.approx(0.3 + delivery)
    assert energy.mac_energy_pj("bf16", 7) == pytest.approx((1.5 + 8 * energy.OPERAND_DELIVERY_PJ_PER_BYTE_45NM)
                                                            * energy.energy_factor(7))


def test_technology_scaling_rule_is_stillmaker_baas():
    from archsim.energy.scaling import SB17_ENERGY_POLY
    assert energy.scale_energy(1.0, 45) == pytest.approx(1.0)
    a7, b7, c7 = SB17_ENERGY_POLY[7]
    a45, b45, c45 = SB17_ENERGY_POLY[45]
    sb17_7 = (a7 * 0.49 + b7 * 0.7 + c7) / (a45 * 0.81 + b45 * 0.9 + c45)   # each node at its nominal Vdd
    assert energy.energy_factor(7) == pytest.approx(sb17_7)
    # not linear below 16 nm: C·V² ∝ node·V² would give (7/45)(0.7/0.9)² = 0.094
    assert energy.energy_factor(7) == pytest.approx(0.0566, abs=5e-4)
    assert energy.energy_factor(5) == pytest.approx(0.7 * energy.energy_factor(7))   # sub-7 nm assumption
    nodes = [3, 4, 5, 7, 12, 16, 28, 45, 65, 90, 130, 180]
    scaled = [energy.scale_energy(1.0, n) for n in nodes]
    assert scaled == sorted(scaled)


def test_hbm2_breakdown_sums_to_total_and_matches_attacc():
    total = sum(e.value for e in HBM2_BREAKDOWN_PJ_PER_BIT.values())
    assert total == pytest.approx(3.59)
    assert DRAM_PJ_PER_BIT["hbm2"].value == pytest.approx(total)
    assert energy.dram_energy_pj_per_byte("hbm2") == pytest.approx(28.72)       # AttAcc "GPU HBM access"


def test_dram_energy_per_bit_by_type():
    assert energy.dram_energy_pj_per_byte("gddr6") == pytest.approx(7.5 * 8)
    assert DRAM_PJ_PER_BIT["gddr6x"].value == 7.25 and DRAM_PJ_PER_BIT["hbm2e"].value == 6.0
    io = dram.DRAM_DEVICES["ddr4"].io_pj_per_bit
    assert DRAM_PJ_PER_BIT["ddr4"].value == pytest.approx(5.4 + io, abs=0.05)     # "≈5.4 pJ/bit" + I/O
    assert DRAM_PJ_PER_BIT["ddr4_write"].value == pytest.approx(4.6 + io, abs=0.05)
    assert DRAM_PJ_PER_BIT["lpddr5"].assumption and DRAM_PJ_PER_BIT["lpddr4x"].assumption
    assert not DRAM_PJ_PER_BIT["gddr6"].assumption


def test_ddr4_act_and_refresh_from_idd():
    d = dram.DRAM_DEVICES["ddr4"]
    act = 1.2 * (57 * 46.25 - (52 * 32.5 + 37 * 13.75))      # mA × ns × V = pJ
    assert dram.act_pre_pj(d) == pytest.approx(act)
    assert energy.act_pre_energy_pj("dram", "ddr4", 64) == pytest.approx(4200, rel=0.01)   # 8-device rank
    assert dram.refresh_pj(d) == pytest.approx(1.2 * (250 - 52) * 350)
    assert dram.burst_pj_per_bit(d) == pytest.approx((168 - 52) * 1.2 / 25.6)


def test_pim_access_energy_attacc():
    b = {k: e.value for k, e in HBM2_BREAKDOWN_PJ_PER_BIT.items()}
    assert energy.pim_access_pj_per_byte("bank") == pytest.approx((b["cell_act_pre"] + b["cell_rd_wr"]) * 8)
    assert energy.pim_access_pj_per_byte("bank_group") == pytest.approx(12.48)
    assert energy.pim_access_pj_per_byte("buffer_die") == pytest.approx(26.32)
    assert PIM_ACCESS_PJ_PER_BYTE["bank"].value < PIM_ACCESS_PJ_PER_BYTE["buffer_die"].value


def test_area_tables():
    assert energy.mac_area_mm2("int8", 45) == pytest.approx(MAC_AREA_45NM_UM2["int8"].value * 1e-6)
    assert energy.mac_area_mm2("int8", 22.5) == pytest.approx(energy.mac_area_mm2("int8", 45) / 4)
    assert energy.mac_area_mm2("fp32", 28) > energy.mac_area_mm2("fp16", 28) > energy.mac_area_mm2("int8", 28)
    assert energy.sram_area_mm2(2 ** 20, 28) == pytest.approx(dict(SRAM_MM2_PER_MIB)[28].value)
    assert energy.sram_area_mm2(2 ** 20, 7) < energy.sram_area_mm2(2 ** 20, 28) < energy.sram_area_mm2(2 ** 20, 65)
    assert all(e.assumption for _, e in SRAM_MM2_PER_MIB)


def test_energy_from_counts():
    table = EnergyTable((("gbuf.read", 1.25), ("pe.mac.int8", 0.3), ("dram.read", 43.2)))
    counts = ActionCounts.of({"gbuf.read": 1000, "pe.mac.int8": 4096, "dram.read": 10})
    out = energy_from_counts(counts, table)
    assert out.total_pj == pytest.approx(1250 + 1228.8 + 432)
    assert out.by_component() == pytest.approx({"gbuf": 1250, "pe": 1228.8, "dram": 432})
    with pytest.raises(KeyError, match="no energy for actions"):
        energy_from_counts(ActionCounts.of({"l9.read": 1}), table)


@given(st.dictionaries(st.sampled_from(["a.read", "b.write", "c.mac.int8", "d.activate"]),
                       st.floats(0, 1e12, allow_nan=False), min_size=1), st.floats(0.5, 4))
def test_energy_adds_up_and_is_linear(counts, factor):
    table = EnergyTable((("a.read", 1.5), ("b.write", 2.0), ("c.mac.int8", 0.3), ("d.activate", 576.0)))
    one = energy_from_counts(ActionCounts.of(counts), table)
    assert one.total_pj == pytest.approx(math.fsum(e for _, e in one.items))
    scaled = energy_from_counts(ActionCounts.of({k: v * factor for k, v in counts.items()}), table)
    assert scaled.total_pj == pytest.approx(one.total_pj * factor, rel=1e-9, abs=1e-6)


def test_table_for_hardware():
    hw = load_hardware("pim-gpt")
    table = dict(energy.table_for(hw).entries)
    assert table["gddr6.read"] == pytest.approx(60.0)                  # 7.5 pJ/bit
    assert table["gddr6.activate"] > 0 and "gddr6.refresh" in table
    assert table["pim_mac.mac.bf16"] == pytest.approx(energy.mac_energy_pj("bf16", 28))
    assert table["host_link.transfer"] == pytest.approx(60.0)


def test_above_130nm_dynamic_energy_scales_as_capacitance_times_v_squared():
    """Beyond the SB17 table (older than 130 nm) switching energy is C·V²: C grows with the feature
    size and V is the node's supply, so 250 nm over 130 nm is (250/130) × (1.8 V / 1.3 V)²."""
    from archsim.energy.scaling import energy_factor, vdd_at
    assert vdd_at(130) == 1.3 and vdd_at(250) == 1.8
    want = (250 / 130) * (1.8 / 1.3) ** 2
    assert energy_factor(250) / energy_factor(130) == pytest.approx(want, rel=1e-9)
