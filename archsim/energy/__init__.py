"""Energy and area per action, Accelergy style: the engine counts actions, this module prices them.

`energy_from_counts(ActionCounts, EnergyTable) -> EnergyBreakdown` is the one pricing step.
`table_for(hw)` builds the per-action table of a `Hardware` (action names below); the numbers come
from each level's and unit's energy fields, which the loader fills from the sourced defaults here
when a description leaves them out (`archsim.energy.tables` lists every value and its source).

Action names: `LEVEL.read` and `LEVEL.write` (per byte), `LEVEL.activate` and `LEVEL.refresh` (per
command, DRAM levels), `UNIT.mac.DTYPE` (per MAC), `UNIT.operand_read` (per byte a PIM unit reads
inside the DRAM, priced by its placement: bank / bank_group / buffer_die), `LINK.transfer` (per byte).

**Technology scaling rule**: `archsim.energy.scaling` (Stillmaker & Baas 2017 polynomials, not
linear below 16 nm). Area scales ∝ (node / 45)².

**MAC energy includes operand delivery**: the arithmetic (H14 multiply + accumulate add) plus moving
its operands and partial sum through the unit's pipeline registers / register file
(`OPERAND_DELIVERY_PJ_PER_BYTE_45NM` per byte of operand + 32-bit accumulator; assumption) — unless
the description gives the unit a register file (`register_file`): then the engine counts the RF
reads and writes its dataflow makes (`rf_bytes_per_mac`, Chen et al. ISCA 2016) as that level's
actions, and the MAC's default energy is the arithmetic alone. DRAM
per-command energies, background power and I/O come from `archsim.energy.dram` (IDD tables).
"""
from __future__ import annotations

from dataclasses import dataclass
import math

from archsim.energy import dram as _dram
from archsim.energy import fpga as _fpga
from archsim.energy.scaling import energy_factor, scale_energy, vdd_at
from archsim.energy.tables import (
    DRAM_PJ_PER_BIT, FLASH_READ_PJ_PER_BYTE, MAC_45NM_PJ, MAC_AREA_45NM_UM2, PIM_ACCESS_PJ_PER_BYTE,
    RF_ACCESSES_PER_MAC, SRAM_64BIT_ACCESS_45NM_PJ, SRAM_MM2_PER_MIB,
)

__all__ = ["ActionCounts", "EnergyTable", "EnergyBreakdown", "energy_from_counts", "table_for",
           "scale_energy", "energy_factor", "vdd_at", "mac_energy_pj", "operand_delivery_pj",
           "OPERAND_DELIVERY_PJ_PER_BYTE_45NM", "sram_energy_pj_per_byte",
           "dram_energy_pj_per_byte", "level_energy_pj_per_byte", "pim_access_pj_per_byte",
           "act_pre_energy_pj", "refresh_energy_pj", "mac_area_mm2", "sram_area_mm2", "register_file",
           "rf_bytes_per_mac", "dsp_array_mac_energy_pj"]


@dataclass(frozen=True, slots=True)
class ActionCounts:
    """How many times each action happened: ((action, count), ...)."""
    counts: tuple[tuple[str, float], ...]

    @staticmethod
    def of(mapping: dict[str, float]) -> "ActionCounts":
        return ActionCounts(tuple(sorted(mapping.items())))


@dataclass(frozen=True, slots=True)
class EnergyTable:
    """Energy per action in pJ: ((action, energy_pj), ...)."""
    entries: tuple[tuple[str, float], ...]

    def energy_pj(self, action: str) -> float:
        return dict(self.entries)[action]


@dataclass(frozen=True, slots=True)
class EnergyBreakdown:
    """Energy per action in pJ; `total_pj` is exactly their sum."""
    items: tuple[tuple[str, float], ...]
    total_pj: float

    def by_component(self) -> dict[str, float]:
        """Energy summed by the part of the action name before the first dot."""
        out: dict[str, float] = {}
        for action, energy in self.items:
            key = action.split(".", 1)[0]
            out[key] = out.get(key, 0.0) + energy
        return out


def energy_from_counts(action_counts: ActionCounts, table: EnergyTable) -> EnergyBreakdown:
    """Σ count × energy per action. An action missing from the table is a programming error."""
    prices = dict(table.entries)
    missing = [a for a, _ in action_counts.counts if a not in prices]
    if missing:
        raise KeyError(f"no energy for actions {missing}; the table has {sorted(prices)[:20]}")
    items = tuple((a, float(n) * prices[a]) for a, n in action_counts.counts)
    return EnergyBreakdown(items, math.fsum(e for _, e in items))


def table_for(hw) -> EnergyTable:
    """Per-action table of a `Hardware` (see the module docstring for action names)."""
    entries: list[tuple[str, float]] = []
    for lv in hw.levels:
        entries += [(f"{lv.name}.read", lv.read_energy_pj_per_byte),
                    (f"{lv.name}.write", lv.write_energy_pj_per_byte)]
        if lv.dram is not None:
            entries += [(f"{lv.name}.activate", lv.dram.act_energy_pj),
                        (f"{lv.name}.refresh", lv.dram.refresh_energy_pj)]
    for cu in hw.compute:
        entries += [(f"{cu.name}.mac.{dtype}", e) for dtype, e in cu.energy_pj_per_mac]
        if cu.type == "pim_bank":
            entries.append((f"{cu.name}.operand_read", pim_access_pj_per_byte(cu.placement or "bank")))
    for link in hw.interconnect:
        entries.append((f"{link.name}.transfer", link.energy_pj_per_bit * 8))
    if hw.noc is not None:     # one byte over one NoC hop (archsim.engine.actions.NOC_ACTION)
        entries.append(("noc.byte_hop", hw.noc.energy_pj_per_bit_hop * 8))
    return EnergyTable(tuple(entries))


#: Energy to move one byte through a unit's pipeline registers / small register file at 45 nm
#: (assumption): H14's 8 KB SRAM 64-bit access (10 pJ) scaled ∝ sqrt(size) down to a 64-byte register
#: array, per byte: 10 × sqrt(64 / 8192) / 8 ≈ 0.11 pJ/B.
OPERAND_DELIVERY_PJ_PER_BYTE_45NM = 10.0 * math.sqrt(64 / 8192) / 8


def operand_delivery_pj(dtype: str) -> float:
    """Operand delivery of one MAC at 45 nm: two operands of `dtype` read + one 32-bit partial sum
    passed on, each byte at OPERAND_DELIVERY_PJ_PER_BYTE_45NM. Widths from archsim.ir.DTYPE_BITS."""
    from archsim.ir import DTYPE_BITS
    operand_bytes = 2 * DTYPE_BITS.get(dtype, 16) / 8
    return (operand_bytes + 4) * OPERAND_DELIVERY_PJ_PER_BYTE_45NM


def mac_energy_pj(dtype: str, node_nm: float = 45.0, delivery: bool = True) -> float:
    """Energy of one MAC of `dtype` at `node_nm`: H14 arithmetic at 45 nm (+ operand delivery),
    scaled by the SB17 rule."""
    if dtype not in MAC_45NM_PJ:
        raise KeyError(f"no MAC energy for dtype {dtype!r}; known: {', '.join(MAC_45NM_PJ)}")
    e45 = MAC_45NM_PJ[dtype].value + (operand_delivery_pj(dtype) if delivery else 0.0)
    return scale_energy(e45, node_nm)


def sram_energy_pj_per_byte(size_bytes: int, node_nm: float = 45.0) -> float:
    """SRAM read energy per byte for an array of `size_bytes` (H14 64-bit access ÷ 8, log-log
    interpolated between 8 KB, 32 KB and 1 MB, ∝ sqrt(size) outside), scaled to the node."""
    pts = [(s, e.value) for s, e in SRAM_64BIT_ACCESS_45NM_PJ]
    size = max(float(size_bytes), 1.0)
    if size <= pts[0][0]:
        e64 = pts[0][1] * math.sqrt(size / pts[0][0])
    elif size >= pts[-1][0]:
        e64 = pts[-1][1] * math.sqrt(size / pts[-1][0])
    else:
        for (s0, e0), (s1, e1) in zip(pts, pts[1:]):
            if s0 <= size <= s1:
                t = math.log(size / s0) / math.log(s1 / s0)
                e64 = math.exp(math.log(e0) + t * math.log(e1 / e0))
                break
    return scale_energy(e64 / 8.0, node_nm)


def dram_energy_pj_per_byte(memory_type: str) -> float:
    """Off-chip access energy per byte for a memory technology name (hbm2, gddr6, ddr4, …)."""
    if memory_type not in DRAM_PJ_PER_BIT:
        raise KeyError(f"no DRAM energy for {memory_type!r}; known: {', '.join(DRAM_PJ_PER_BIT)}")
    return DRAM_PJ_PER_BIT[memory_type].value * 8


def level_energy_pj_per_byte(kind: str, size_bytes: int, node_nm: float) -> float:
    """Default read energy per byte of a memory level when its description gives none (FPGA block
    RAM and UltraRAM from the FPGA table, `archsim.energy.fpga`)."""
    if kind in _dram.KIND_DEFAULT:
        return dram_energy_pj_per_byte(_dram.KIND_DEFAULT[kind])
    if kind == "flash":
        return FLASH_READ_PJ_PER_BYTE.value
    if kind == "bram":
        return _fpga.bram_pj_per_byte(_fpga_scale(node_nm))
    if kind == "uram":
        return _fpga.uram_pj_per_byte(_fpga_scale(node_nm))
    return sram_energy_pj_per_byte(size_bytes, node_nm)


def _fpga_scale(node_nm: float) -> float:
    """The FPGA table is at 16 nm (UltraScale+); another node scales by SB17."""
    return energy_factor(node_nm) / energy_factor(_fpga.TABLE_NODE_NM)


def dsp_array_mac_energy_pj(macs_per_dsp_cycle: float, node_nm: float) -> float:
    """Default energy of one MAC on an FPGA `dsp_array` whose slices each do `macs_per_dsp_cycle`
    MACs per cycle: one DSP slice and its feeding fabric for a cycle, shared by those MACs."""
    return _fpga.dsp_mac_energy_pj(macs_per_dsp_cycle, _fpga_scale(node_nm))


def pim_access_pj_per_byte(placement: str) -> float:
    """Operand access energy of a PIM unit at bank / bank_group / buffer_die (AttAcc model)."""
    return PIM_ACCESS_PJ_PER_BYTE[placement].value


def act_pre_energy_pj(kind: str, memory_type: str = "", bus_width_bits: int = 0) -> float:
    """Default ACT+PRE energy of one activation on a channel/rank `bus_width_bits` wide (TN-41-01 on
    the technology's IDD table; one device when the width is unknown)."""
    d = _dram.device_for(memory_type, kind)
    return _dram.act_pre_pj(d) * max(1.0, _dram.devices_in(d, bus_width_bits or d.width_bits))


def refresh_energy_pj(kind: str, memory_type: str = "", bus_width_bits: int = 0) -> float:
    """Default all-bank REF energy of one rank `bus_width_bits` wide (TN-41-01 on the IDD table)."""
    d = _dram.device_for(memory_type, kind)
    return _dram.refresh_pj(d) * max(1.0, _dram.devices_in(d, bus_width_bits or d.width_bits))


def register_file(levels, unit_type: str, attached_to: str):
    """The register file of a systolic unit: the first `register` level listed after the level the
    unit is attached to (inside it), or None. Other unit types keep operand delivery in the MAC."""
    names = [lv.name for lv in levels]
    if unit_type != "systolic" or attached_to not in names:
        return None
    return next((lv for lv in levels[names.index(attached_to) + 1:] if lv.kind == "register"), None)


def rf_bytes_per_mac(dataflow: str, dtype: str) -> tuple[float, float]:
    """(bytes read, bytes written) in the register file per MAC under `dataflow` (RF_ACCESSES_PER_MAC),
    words of `dtype`; (0, 0) for a dataflow without RF reuse."""
    from archsim.ir import DTYPE_BITS
    word = DTYPE_BITS.get(dtype, 16) / 8
    accesses = RF_ACCESSES_PER_MAC.get(dataflow, ())
    return sum(r for _, r, _ in accesses) * word, sum(w for _, _, w in accesses) * word


def mac_area_mm2(dtype: str, node_nm: float) -> float:
    """Area of one MAC of `dtype` at a node: 45 nm value × (node/45)²."""
    return MAC_AREA_45NM_UM2[dtype].value * 1e-6 * (node_nm / 45.0) ** 2


def sram_area_mm2(size_bytes: int, node_nm: float) -> float:
    """SRAM macro area: mm²/MiB at the nearest tabulated node (log distance) × size."""
    node, entry = min(SRAM_MM2_PER_MIB, key=lambda p: abs(math.log(p[0] / node_nm)))
    return entry.value * size_bytes / 2 ** 20
