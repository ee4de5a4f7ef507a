"""Sourced per-action energy and area numbers (data only; functions live in `archsim.energy`).

Every entry is an `Entry(value, unit, source, assumption)`. `assumption=True` marks a documented
guess: the reference notes (hardware-facts.md) did not find a primary number, so we state a rule.
Source ids:
- H14    Horowitz, "Computing's Energy Problem", ISSCC 2014, Fig. 1.1.9, 45 nm, 0.9 V (hardware-facts §5.1)
- FGD17  O'Connor et al., FGDRAM, MICRO 2017, HBM2 breakdown as encoded in
         scale-snu/attacc_simulator:src/config.py (hardware-facts §5.2)
- MU     Micron "Ultra-Bandwidth Solutions" table via kylolab.com (hardware-facts §5.2) [secondary]
- DS3    umd-memsys/DRAMsim3 configs DDR4_8Gb_x8_3200.ini and HBM2_8Gb_x128.ini IDD values, reduced
         with the Micron TN-41-01 method (hardware-facts §5.2–5.3) [derived]
- ATT    scale-snu/attacc_simulator:src/config.py PIM energy model (hardware-facts §5.2)
- CES16  Chen, Emer, Sze, "Eyeriss: A Spatial Architecture for Energy-Efficient Dataflow for
         Convolutional Neural Networks", ISCA 2016, §VI energy analysis: an operand kept in the PE's
         register file (RF) is read from it by every MAC that uses it (input/filter: a·b·c·d RF
         accesses for a·b·c·d MACs) and a partial sum accumulated in the RF costs a read and a write
         per MAC (2·a·b·c·(d−1)); Table IV: normalised energy at 65 nm, MAC 1×, RF 1×, PE-to-PE 2×,
         global buffer 6×, DRAM 200×
"""
from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Entry", "HOROWITZ_45NM_PJ", "MAC_45NM_PJ", "SRAM_64BIT_ACCESS_45NM_PJ", "DRAM_PJ_PER_BIT",
           "HBM2_BREAKDOWN_PJ_PER_BIT", "PIM_ACCESS_PJ_PER_BYTE",
           "MAC_AREA_45NM_UM2", "SRAM_MM2_PER_MIB", "FLASH_READ_PJ_PER_BYTE",
           "RF_ACCESSES_PER_MAC"]


@dataclass(frozen=True, slots=True)
class Entry:
    value: float
    unit: str
    source: str
    assumption: bool = False


def _h(value: float) -> Entry:
    return Entry(value, "pJ", "H14")


#: Horowitz ISSCC 2014 operation energies at 45 nm, 0.9 V.
HOROWITZ_45NM_PJ: dict[str, Entry] = {
    "int8_add": _h(0.03), "int32_add": _h(0.1), "int8_mult": _h(0.2), "int32_mult": _h(3.1),
    "fp16_add": _h(0.4), "fp32_add": _h(0.9), "fp16_mult": _h(1.1), "fp32_mult": _h(3.7),
}

#: One multiply-accumulate at 45 nm = multiply + accumulate-add (rule: integer products accumulate in
#: 32 bits, floating-point products in the same format). Entries not in Horowitz are assumptions.
MAC_45NM_PJ: dict[str, Entry] = {
    "int8": Entry(0.2 + 0.1, "pJ", "H14: int8 mult + int32 add"),
    "int32": Entry(3.1 + 0.1, "pJ", "H14: int32 mult + int32 add"),
    "fp16": Entry(1.1 + 0.4, "pJ", "H14: fp16 mult + fp16 add"),
    "fp32": Entry(3.7 + 0.9, "pJ", "H14: fp32 mult + fp32 add"),
    "bf16": Entry(1.1 + 0.4, "pJ", "assumption: bf16 costs as fp16 (hardware-facts §5.1)", True),
    "tf32": Entry(3.7 + 0.9, "pJ", "assumption: tf32 costs as fp32", True),
    "int16": Entry(0.8 + 0.1, "pJ", "assumption: multiplier energy ∝ width² from H14 int8 0.2 pJ "
                   "(0.2 × 4 = 0.8) + int32 add", True),
    "int4": Entry(0.05 + 0.03, "pJ", "assumption: multiplier ∝ width² (0.2 / 4) + int8 add", True),
    "int2": Entry(0.03, "pJ", "assumption: 2-bit products are sign/select, one int8 add", True),
    "ternary": Entry(0.03, "pJ", "assumption: ternary MAC is one int8 add/sub", True),
    "fp8": Entry(0.55 + 0.4, "pJ", "assumption: fp8 multiply = half of fp16 mult, fp16 accumulate", True),
}

#: SRAM/cache 64-bit access energy at 45 nm by array size (H14). Between points: log-log
#: interpolation; outside: ∝ sqrt(size) (the 8 KB→32 KB step of H14 is exactly sqrt).
SRAM_64BIT_ACCESS_45NM_PJ: tuple[tuple[int, Entry], ...] = (
    (8 * 1024, _h(10.0)), (32 * 1024, _h(20.0)), (1024 * 1024, _h(100.0)),
)

#: HBM2 energy per accessed bit by stage (FGD17); the total 3.59 pJ/bit is the sum.
HBM2_BREAKDOWN_PJ_PER_BIT: dict[str, Entry] = {
    "cell_act_pre": Entry(0.11, "pJ/bit", "FGD17"),
    "cell_rd_wr": Entry(0.44, "pJ/bit", "FGD17"),
    "column_to_bank_group_mux": Entry(1.01, "pJ/bit", "FGD17"),
    "bank_group_to_global_io": Entry(1.23, "pJ/bit", "FGD17"),
    "tsv": Entry(0.5, "pJ/bit", "FGD17"),
    "interposer_io": Entry(0.3, "pJ/bit", "FGD17"),
}

#: Off-chip access energy per bit (read) by memory technology.
DRAM_PJ_PER_BIT: dict[str, Entry] = {
    "hbm2": Entry(round(sum(e.value for e in HBM2_BREAKDOWN_PJ_PER_BIT.values()), 4), "pJ/bit",
                  "FGD17: sum of the HBM2 breakdown"),
    "hbm2e": Entry(6.0, "pJ/bit", "MU (secondary)"),
    "hbm3": Entry(3.59, "pJ/bit", "assumption: HBM3 I/O-inclusive energy not found; HBM2 (FGD17) used", True),
    "hbm3e": Entry(3.59, "pJ/bit", "assumption: as hbm3", True),
    "gddr6": Entry(7.5, "pJ/bit", "MU (secondary): GDDR6 average device power"),
    "gddr6x": Entry(7.25, "pJ/bit", "MU (secondary)"),
    "ddr4": Entry(round((168 - 52) * 1.2 / 25.6 + 2.744, 4), "pJ/bit",
                  "DS3: DDR4-3200 x8 read burst (IDD4R 168 − IDD3N 52 mA)·1.2 V/(8 pins·3.2 Gb/s) ≈ 5.4 "
                  "+ I/O 2.74 (POD12 termination estimate, archsim.energy.dram; assumption)"),
    "ddr4_write": Entry(round((150 - 52) * 1.2 / 25.6 + 2.744, 4), "pJ/bit",
                        "DS3: DDR4-3200 x8 write burst ≈ 4.6 + I/O 2.74 (assumption)"),
    "ddr3": Entry(round((125 - 51) * 1.35 / 12.8 + 6.059, 4), "pJ/bit",
                  "DS3 DDR3_8Gb_x8_1600: (IDD4R 125 − IDD3N 51 mA)·1.35 V/(8 pins·1.6 Gb/s) ≈ 7.8 + I/O 6.06 "
                  "(SSTL135 termination estimate; assumption)"),
    "lpddr4x": Entry(4.0, "pJ/bit", "assumption: no reputable LPDDR4X number found (hardware-facts §5.2 NF)", True),
    "lpddr5": Entry(4.0, "pJ/bit", "assumption: no reputable LPDDR5 number found (hardware-facts §5.2 NF)", True),
}

#: PIM operand access energy per byte at each placement (ATT).
PIM_ACCESS_PJ_PER_BYTE: dict[str, Entry] = {
    "bank": Entry(4.4, "pJ/B", "ATT: (0.11 + 0.44) × 8"),
    "bank_group": Entry(12.48, "pJ/B", "ATT: (0.11 + 0.44 + 1.01) × 8"),
    "buffer_die": Entry(26.32, "pJ/B", "ATT: (0.11 + 0.44 + 1.01 + 1.23 + 0.5) × 8"),
}

#: Embedded flash read energy (MCU).
FLASH_READ_PJ_PER_BYTE = Entry(12.5, "pJ/B", "assumption: embedded NOR flash read ≈100 pJ per 64-bit "
                               "line (order of H14 1 MB SRAM), not found in the reference notes", True)

_AREA_NOTE = "Horowitz ISSCC 2014 area column as commonly transcribed; not verified in the reference store"

#: Area of one MAC at 45 nm (multiplier + adder of H14's area column).
MAC_AREA_45NM_UM2: dict[str, Entry] = {
    "int8": Entry(282.0 + 137.0, "um2", "assumption: " + _AREA_NOTE + " (8b mult 282 + 32b add 137)", True),
    "int32": Entry(3495.0 + 137.0, "um2", "assumption: " + _AREA_NOTE + " (32b mult 3495 + 32b add 137)", True),
    "fp16": Entry(1640.0 + 1360.0, "um2", "assumption: " + _AREA_NOTE + " (fp16 mult 1640 + add 1360)", True),
    "bf16": Entry(1640.0 + 1360.0, "um2", "assumption: as fp16", True),
    "fp32": Entry(7700.0 + 4184.0, "um2", "assumption: " + _AREA_NOTE + " (fp32 mult 7700 + add 4184)", True),
    "tf32": Entry(7700.0 + 4184.0, "um2", "assumption: as fp32", True),
    "int16": Entry(282.0 * 4 + 137.0, "um2", "assumption: multiplier area ∝ width²", True),
    "int4": Entry(282.0 / 4 + 36.0, "um2", "assumption: multiplier area ∝ width² + 8b add 36", True),
    "int2": Entry(36.0, "um2", "assumption: one 8b adder", True),
    "ternary": Entry(36.0, "um2", "assumption: one 8b adder", True),
    "fp8": Entry(820.0 + 1360.0, "um2", "assumption: half an fp16 multiplier + fp16 adder", True),
}

#: SRAM macro area per MiB by node: HD bitcell area ÷ 0.65 array efficiency (assumption; bitcell
#: areas as commonly reported at ISSCC/IEDM, not in the reference store).
SRAM_MM2_PER_MIB: tuple[tuple[float, Entry], ...] = tuple(
    (node, Entry(round(cell_um2 * 8 * 2 ** 20 * 1e-6 / 0.65, 3), "mm2/MiB",
                 f"assumption: {cell_um2} um2 bitcell at {node:g} nm / 0.65 efficiency", True))
    for node, cell_um2 in ((65, 0.52), (45, 0.346), (40, 0.242), (28, 0.127), (22, 0.092), (16, 0.074),
                           (12, 0.074), (7, 0.027), (5, 0.021), (4, 0.021), (3, 0.0199))
)

#: Register-file accesses per MAC by dataflow (CES16): (operand, reads, writes) of one word each for
#: the operands the dataflow keeps in the PE's RF. Row stationary keeps a filter row, an input
#: sliding window and the partial sums in the RF; weight / output / input stationary keep only the
#: weight / partial sum / input there (the other operands pass from PE to PE in pipeline registers,
#: priced with the MAC's operand delivery). Partial sums are counted at the operand width, as in
#: Eyeriss's 16-bit psum scratchpad.
RF_ACCESSES_PER_MAC: dict[str, tuple[tuple[str, int, int], ...]] = {
    "rs": (("input", 1, 0), ("weight", 1, 0), ("psum", 1, 1)),
    "ws": (("weight", 1, 0),),
    "os": (("psum", 1, 1),),
    "is": (("input", 1, 0),),
}
