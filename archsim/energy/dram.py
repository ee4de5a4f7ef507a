"""DRAM energy by technology from IDD currents (Micron TN-41-01 method): per-command energies,
background power by state, and I/O energy per bit.

One `DramDevice` per technology. A "device" is the unit the currents are specified for: one x8 DDR4
die, one 128-bit HBM2 channel, one 64-bit HBM3 channel (two pseudo-channels), one x32 GDDR device.
A memory level with N data pins at that technology has N / width devices per rank.

TN-41-01 reductions (VDD in V, IDD in mA, times in ns → energies in pJ):
- ACT+PRE of one bank: VDD·[IDD0·tRC − (IDD3N·tRAS + IDD2N·(tRC − tRAS))]
- read (write) burst energy per bit: VDD·(IDD4R − IDD3N) / (width·Gb/s)   (IDD4W for writes)
- REF (all-bank) of one device: VDD·(IDD5AB − IDD3N)·tRFC
- background power: precharge standby VDD·IDD2N, active standby VDD·IDD3N, power-down VDD·IDD2P
I/O energy (driver + termination) is not in the IDD currents and is listed separately per bit.

Sources: DS3 = umd-memsys/DRAMsim3 configs (DDR4_8Gb_x8_3200.ini, DDR3_8Gb_x8_1600.ini,
LPDDR3_8Gb_x32_1600.ini, HBM2_8Gb_x128.ini, GDDR5X_8Gb_x32.ini) [power] sections; FGD17 = the FGDRAM
HBM2 breakdown (TSV 0.5 + interposer 0.3 pJ/bit). Entries derived from another technology are marked
`assumption` with the rule used.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

__all__ = ["DramDevice", "DRAM_DEVICES", "device_for", "act_pre_pj", "burst_pj_per_bit", "refresh_pj",
           "background_w", "devices_in", "read_power_w"]


@dataclass(frozen=True, slots=True)
class DramDevice:
    tech: str
    vdd_v: float
    idd0_ma: float
    idd2p_ma: float          # precharge power-down
    idd2n_ma: float          # precharge standby
    idd3n_ma: float          # active standby
    idd4r_ma: float
    idd4w_ma: float
    idd5ab_ma: float
    width_bits: int          # data pins of the unit the currents are given for
    gbps_per_pin: float      # data rate the IDD4R/W currents were specified at
    trc_ns: float
    tras_ns: float
    trfc_ns: float
    io_pj_per_bit: float     # driver + termination / TSV + interposer energy, not in IDD
    source: str
    assumption: bool = False


def _scaled(base: DramDevice, tech: str, vdd: float, gbps: float, width: int, io: float, why: str) -> DramDevice:
    """Another generation from `base` (assumption): standby currents kept; burst current rescaled
    so the core energy per bit scales with VDD² (I ∝ VDD × data rate)."""
    k = (vdd / base.vdd_v) * (gbps / base.gbps_per_pin) * (width / base.width_bits)
    return replace(base, tech=tech, vdd_v=vdd, gbps_per_pin=gbps, width_bits=width, io_pj_per_bit=io,
                   idd4r_ma=base.idd3n_ma + (base.idd4r_ma - base.idd3n_ma) * k,
                   idd4w_ma=base.idd3n_ma + (base.idd4w_ma - base.idd3n_ma) * k,
                   source=f"assumption: {why}", assumption=True)


#: POD12 I/O (DDR4): VDDQ²/(Ron 34 Ω + RTT 48 Ω) while driving a 0, half the bits 0, per bit time
#: at 3.2 Gb/s = 1.44/82 × 0.5 / 3.2e9 ≈ 2.7 pJ/bit (assumption: typical JEDEC drive/ODT settings).
_DDR4_IO = 1.2 ** 2 / 82 * 0.5 / 3.2e9 * 1e12
#: SSTL15/135 I/O (DDR3L 1.35 V, Ron 34 Ω + RTT 60 Ω, 1.6 Gb/s) by the same rule ≈ 6.1 pJ/bit.
_DDR3_IO = 1.35 ** 2 / 94 * 0.5 / 1.6e9 * 1e12

_DDR4 = DramDevice("ddr4", 1.2, 57, 25, 37, 52, 168, 150, 250, 8, 3.2, 46.25, 32.5, 350, round(_DDR4_IO, 3),
                   "DS3 DDR4_8Gb_x8_3200 (tRC 74 × 0.625 ns); I/O: POD12 termination estimate (assumption)")
_HBM2 = DramDevice("hbm2", 1.2, 65, 28, 40, 55, 390, 500, 250, 128, 2.0, 48, 34, 260, 0.8,
                   "DS3 HBM2_8Gb_x128 (per 128-bit channel, tCK 1 ns); I/O: FGD17 TSV 0.5 + interposer 0.3 pJ/bit")
_LPDDR3 = DramDevice("lpddr3", 1.2, 40, 1.3, 20.5, 21, 250, 245, 150, 32, 1.6, 61.25, 42.5, 210, 1.0,
                     "DS3 LPDDR3_8Gb_x32_1600 (tCK 1.25 ns); I/O: HSUL12 unterminated, C·V² ≈ 1 pJ/bit (assumption)")
_GDDR5X = DramDevice("gddr5x", 1.35, 75, 30, 45, 55, 211, 198, 286, 32, 12.0, 53.3, 37.3, 49.3, 5.0,
                     "DS3 GDDR5X_8Gb_x32 (tCK 0.666 ns); I/O: POD135 estimate 5 pJ/bit (assumption)")

DRAM_DEVICES: dict[str, DramDevice] = {
    "ddr4": _DDR4,
    "ddr3": DramDevice("ddr3", 1.35, 67, 11, 36, 51, 125, 125, 245, 8, 1.6, 48.75, 35.0, 350, round(_DDR3_IO, 3),
                       "DS3 DDR3_8Gb_x8_1600 (tCK 1.25 ns); I/O: SSTL135 termination estimate (assumption)"),
    "lpddr3": _LPDDR3,
    "lpddr4x": _scaled(_LPDDR3, "lpddr4x", 1.1, 4.266, 16, 0.54,
                       "LPDDR3 (DS3) currents per x16 channel at VDD2 1.1 V, 4,266 MT/s; I/O LVSTL 0.6 V C·V² "
                       "≈ 0.54 pJ/bit (3 pF, activity 0.5)"),
    "lpddr5": _scaled(_LPDDR3, "lpddr5", 1.05, 6.4, 16, 0.38,
                      "LPDDR3 (DS3) currents per x16 channel at VDD2 1.05 V, 6,400 MT/s; I/O 0.5 V C·V² ≈ 0.38 pJ/bit"),
    "gddr6": _scaled(_GDDR5X, "gddr6", 1.35, 16.0, 32, 5.0,
                     "GDDR5X (DS3) per x32 device (2 × x16 channels) at 16 Gb/s; no sourced GDDR6 IDD table"),
    "gddr6x": _scaled(_GDDR5X, "gddr6x", 1.35, 21.0, 32, 5.0, "as gddr6 at 21 Gb/s"),
    "hbm2": _HBM2,
    "hbm2e": _scaled(_HBM2, "hbm2e", 1.2, 3.2, 128, 0.8, "HBM2 (DS3) channel currents at 3.2 Gb/s"),
    "hbm3": _scaled(_HBM2, "hbm3", 1.1, 6.4, 64, 0.8, "HBM2 (DS3) per-channel currents for a 64-bit HBM3 "
                    "channel (each channel has its own banks and periphery) at VDD 1.1 V, 6.4 Gb/s"),
    "hbm3e": _scaled(_HBM2, "hbm3e", 1.1, 9.6, 64, 0.8, "as hbm3 at 9.6 Gb/s"),
}

#: Technology of a DRAM level that names no memory_type.
KIND_DEFAULT = {"hbm": "hbm2", "gddr": "gddr6", "dram": "ddr4", "lpddr": "lpddr5"}


def device_for(memory_type: str, kind: str = "") -> DramDevice:
    """The device table of a memory technology (or of the level kind's default technology)."""
    tech = memory_type or KIND_DEFAULT.get(kind, "")
    if tech not in DRAM_DEVICES:
        raise KeyError(f"no DRAM device table for {tech!r}; known: {', '.join(DRAM_DEVICES)}")
    return DRAM_DEVICES[tech]


def act_pre_pj(d: DramDevice) -> float:
    """One ACT+PRE pair of one bank of one device (TN-41-01)."""
    trp = d.trc_ns - d.tras_ns
    return d.vdd_v * (d.idd0_ma * d.trc_ns - (d.idd3n_ma * d.tras_ns + d.idd2n_ma * trp))


def burst_pj_per_bit(d: DramDevice, write: bool = False) -> float:
    """Core (array + periphery) energy of a read or write burst per bit, without I/O."""
    idd = d.idd4w_ma if write else d.idd4r_ma
    return d.vdd_v * (idd - d.idd3n_ma) / (d.width_bits * d.gbps_per_pin)


def refresh_pj(d: DramDevice) -> float:
    """One all-bank REF of one device."""
    return d.vdd_v * (d.idd5ab_ma - d.idd3n_ma) * d.trfc_ns


def devices_in(d: DramDevice, dq_bits: int, ranks: int = 1) -> float:
    """Devices of a level with `dq_bits` data pins per rank and `ranks` ranks."""
    return dq_bits / d.width_bits * ranks


def background_w(d: DramDevice, devices: float, active_fraction: float, powerdown_fraction: float = 0.0) -> float:
    """Background power: active standby for `active_fraction` of the time, precharge power-down for
    `powerdown_fraction`, precharge standby for the rest."""
    a = min(max(active_fraction, 0.0), 1.0)
    p = min(max(powerdown_fraction, 0.0), 1.0 - a)
    ma = a * d.idd3n_ma + p * d.idd2p_ma + (1.0 - a - p) * d.idd2n_ma
    return d.vdd_v * ma * 1e-3 * devices


def read_power_w(d: DramDevice, write: bool = False) -> float:
    """IDD-derived power of one device bursting reads (writes) back to back: background (IDD3N)
    + burst core + I/O at the device's pin rate."""
    bits_per_s = d.width_bits * d.gbps_per_pin * 1e9
    return d.vdd_v * d.idd3n_ma * 1e-3 + (burst_pj_per_bit(d, write) + d.io_pj_per_bit) * 1e-12 * bits_per_s
