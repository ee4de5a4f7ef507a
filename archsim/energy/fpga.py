"""FPGA component energies: DSP slice, block RAM, LUT logic, routing, clock tree, static power.

One table for one technology, AMD/Xilinx UltraScale+ (16 nm), read off the vendor's own power
estimator as it priced a real design: Vivado `report_power` (post-implementation, vectorless) of a
DSP-bound CNN accelerator on a ZCU106 (XCZU7EV-2, PL at 50 MHz; 1,719 DSP48E2, 80.5 BRAM36 tiles,
193,186 LUTs, 103,487 FFs): DSP 0.196 W, BRAM 0.032 W, logic 0.678 W, signals 0.737 W, clocks
0.106 W, PL leakage 0.604 W, PS 2.655 W dynamic + 0.100 W leakage, junction 30 °C
[VIV-ZU7: Ahmedvini/fpga-atcnet docs/zcu106_impl_results.md, commit 6cc221e]. Each resource's
power ÷ (count × clock) is its energy per cycle at the estimator's vectorless activity
(**assumption**: a busy DSP datapath toggles as the estimator's defaults assume).

A `dsp_array` unit on an FPGA is DSP slices plus the LUTs, flip-flops and routing that feed them.
How much fabric a DSP engine carries per slice comes from AMD's DPU: B3136 on Kria K26 uses 548 DSPs
and 43,366 LUTs [DPU-K26: Kria KV260 NLP-SmartVision docs, "Resource Usage of Current Design"],
79 LUTs per DSP; flip-flops per LUT as in VIV-ZU7 (0.54, **assumption**). A MAC then costs the slice
and its fabric for one cycle ÷ the MACs a slice does per cycle (the description's macs_per_cycle ÷
its DSP count: int8 packs two per slice).

Static power: PL leakage ∝ the device's LUT count (VIV-ZU7's 0.604 W over 230,400 LUTs,
**assumption**: leakage scales with fabric size); a Zynq MPSoC adds its processing system (PS8).
"""
from __future__ import annotations

from archsim.energy.tables import Entry

__all__ = ["TABLE_NODE_NM", "FPGA_16NM", "DPU_LUTS_PER_DSP", "FF_PER_LUT", "dsp_cycle_pj", "dsp_mac_energy_pj",
           "bram_pj_per_byte", "uram_pj_per_byte", "pl_leakage_w", "MPSOC_PS_W"]

#: the node the table is measured at (UltraScale+, TSMC 16FF+)
TABLE_NODE_NM = 16.0

_VIV = "VIV-ZU7"
_HZ = 50e6                                  # the report's PL clock
_DSP, _BRAM, _LUT, _FF, _LUT_DEVICE = 1719, 80.5, 193186, 103487, 230400


def _per_cycle(watts: float, count: float, what: str) -> Entry:
    return Entry(watts / (count * _HZ) * 1e12, "pJ", f"{_VIV}: {watts} W ÷ ({count:g} {what} × 50 MHz)")


#: Energy per resource per cycle at 16 nm (UltraScale+), from VIV-ZU7.
FPGA_16NM: dict[str, Entry] = {
    "dsp": _per_cycle(0.196, _DSP, "DSP48E2"),
    "bram36": _per_cycle(0.032, _BRAM, "BRAM36 tiles"),
    "lut_logic": _per_cycle(0.678, _LUT, "LUTs"),
    "routing": _per_cycle(0.737, _LUT, "LUTs"),             # 'signals': nets, charged per LUT
    "clock": _per_cycle(0.106, _FF, "FFs"),
    "pl_leakage_per_lut": Entry(0.604 / _LUT_DEVICE * 1e6, "uW",
                                f"{_VIV}: PL leakage 0.604 W over the XCZU7EV's {_LUT_DEVICE:,} LUTs"),
}

#: LUTs per DSP slice in a DSP engine: AMD DPU B3136 on K26, 43,366 LUTs / 548 DSPs [DPU-K26].
DPU_LUTS_PER_DSP = Entry(43366 / 548, "LUT", "DPU-K26: 43,366 LUTs / 548 DSPs")
#: Flip-flops per LUT (VIV-ZU7's ratio, taken for DSP engines: assumption).
FF_PER_LUT = Entry(_FF / _LUT, "FF", f"{_VIV}: {_FF:,} FFs / {_LUT:,} LUTs", True)
#: Zynq UltraScale+ MPSoC processing system (PS8) as the estimator prices it: (dynamic, leakage) W.
MPSOC_PS_W = (Entry(2.655, "W", f"{_VIV}: PS dynamic (Cortex-A53 + peripherals)"),
              Entry(0.100, "W", f"{_VIV}: PS leakage"))
#: Bytes one BRAM36 port moves per access (64 data bits of its 72) — the per-cycle energy is taken as
#: one such access (assumption).
BRAM_BYTES_PER_ACCESS = 8


def dsp_cycle_pj() -> float:
    """One DSP slice busy for one cycle with the fabric that feeds it (LUT logic + routing + clock)."""
    luts = DPU_LUTS_PER_DSP.value
    fabric = luts * (FPGA_16NM["lut_logic"].value + FPGA_16NM["routing"].value) \
        + luts * FF_PER_LUT.value * FPGA_16NM["clock"].value
    return FPGA_16NM["dsp"].value + fabric


def dsp_mac_energy_pj(macs_per_dsp_cycle: float, scale: float = 1.0) -> float:
    """Energy of one MAC on DSP slices doing `macs_per_dsp_cycle` MACs each per cycle; `scale` moves
    the 16 nm table to another node (energy_factor(node) / energy_factor(16))."""
    return dsp_cycle_pj() / max(macs_per_dsp_cycle, 1e-9) * scale


def bram_pj_per_byte(scale: float = 1.0) -> float:
    """Block RAM (36 Kb) access energy per byte: a tile's energy per cycle ÷ one 64-bit access."""
    return FPGA_16NM["bram36"].value / BRAM_BYTES_PER_ACCESS * scale


def uram_pj_per_byte(scale: float = 1.0) -> float:
    """UltraRAM (288 Kb, 72-bit port): not in VIV-ZU7; priced as a BRAM access grown ∝ sqrt(size)
    (the SRAM table's rule outside its points), sqrt(8) × BRAM (assumption)."""
    return bram_pj_per_byte(scale) * 8 ** 0.5


def pl_leakage_w(luts: int) -> float:
    """Programmable-logic leakage of a device with `luts` LUTs (∝ fabric size, from VIV-ZU7)."""
    return FPGA_16NM["pl_leakage_per_lut"].value * 1e-6 * luts
