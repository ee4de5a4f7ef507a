"""Which compute unit runs an op when the mapping does not say, and the levels a unit works from:
its buffer and, for a systolic array, its accumulators."""
from __future__ import annotations

from archsim.energy import register_file
from archsim.errors import MappingError, did_you_mean
from archsim.hardware import ComputeUnit, Hardware, MemoryLevel
from archsim.hardware.ops import GENERAL_UNITS, unit_runs_kind
from archsim.ir import Op
from archsim.mapping import OpMapping

from ..timing.shapes import op_dtype

__all__ = ["default_unit", "accumulator_level", "buffer_level", "unit_for"]

_CONTRACTION_TYPES = ("systolic", "dsp_array", "pim_bank")


def default_unit(op: Op, hw: Hardware) -> ComputeUnit:
    """The unit that supports the op; contractions prefer the highest MAC rate, other ops prefer a
    non-contraction unit (vector, core, SM)."""
    cands = [u for u in hw.compute if unit_runs_kind(u, op.kind)]
    if not cands:   # nothing lists the op: a general-purpose unit runs it (host fallback)
        cands = [u for u in hw.compute if u.type in GENERAL_UNITS] or list(hw.compute)
    if not cands:
        raise MappingError(f"{hw.name}: no compute unit runs op {op.name!r} of kind {op.kind.value}")
    if op.kind.is_contraction:
        return max(cands, key=lambda u: u.peak_macs_per_s(op_dtype(op, u)))
    plain = [u for u in cands if u.type not in _CONTRACTION_TYPES]
    return max(plain or cands, key=lambda u: u.peak_macs_per_s(op_dtype(op, u)))


def accumulator_level(hw: Hardware, unit: ComputeUnit) -> MemoryLevel | None:
    """A systolic unit's accumulators: the first on-chip SRAM level listed after (inside) the
    level the unit is attached to that may hold activations, e.g. TPU v1's 4 MiB of 32-bit
    accumulators behind its unified buffer. The array writes its results there, so the partial
    sums its k-folds write back and read again collect there (`actions.fold_counts`). None for
    other units, for a unit with a register file (the RF holds that reuse) and when no such
    level is listed."""
    names = [lv.name for lv in hw.levels]
    if (unit.type != "systolic" or unit.attached_to not in names
            or register_file(hw.levels, unit.type, unit.attached_to) is not None):
        return None
    return next((lv for lv in hw.levels[names.index(unit.attached_to) + 1:]
                 if not lv.off_chip and lv.kind in ("sram", "bram", "uram")
                 and (not lv.holds or "activation" in lv.holds)), None)


def buffer_level(unit: ComputeUnit, hw: Hardware) -> MemoryLevel:
    try:
        return hw.level(unit.attached_to)
    except KeyError:
        on_chip = [lv for lv in hw.levels if not lv.off_chip]
        return on_chip[0] if on_chip else hw.levels[0]


def unit_for(om: OpMapping | None, op: Op, hw: Hardware) -> ComputeUnit:
    if om is None:
        return default_unit(op, hw)
    try:
        return hw.unit(om.unit)
    except KeyError:
        names = [u.name for u in hw.compute]
        raise MappingError(f"mapping for op {op.name!r}: unit {om.unit!r} is not in {hw.name}; "
                           f"{did_you_mean(om.unit, names) or 'units: ' + ', '.join(names)}") from None
