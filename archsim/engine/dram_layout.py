"""How bytes and PIM commands lay out over a DRAM level: the channel-interleave unit of its address
mapping (`interleave_bytes`), the row bursts a transfer's bytes make on one channel
(`burst_shape`), and for in-bank PIM the banks one all-bank MAC command works on (`pim_span`), the rows
and columns an in-bank op takes on each channel (`pim_layout`) and the least command spacing the PIM units' clock allows (`pim_issue_cycles`).

Read by the lowering (`lower`: per-channel transfer shapes, PIM MAC tasks, the all-bank command
floor), the analytic fidelity (`analytic._pim_s`) and the DRAM equivalence checks
(`dram_equivalence`).
"""
from __future__ import annotations

from math import ceil

from archsim.hardware import Hardware, MemoryLevel

from .dram import row_burst_span
from .dram_controller import FIELDS, parse_mapping
from .plan import OpPlan

__all__ = ["pim_issue_cycles", "pim_span", "pim_layout", "burst_shape", "interleave_bytes"]


def pim_issue_cycles(hw: Hardware, lv: MemoryLevel) -> int:
    """Least DRAM clock cycles between all-bank PIM MAC commands on `lv`: each PIM unit takes one
    column per unit clock, so commands issue no faster than the slowest attached PIM unit's clock
    (HBM-PIM's 300 MHz PCU against a 1.2 GHz HBM2 command clock: 4 tCK, more than a 2-tCK burst).
    0 without PIM units; 1 % slack for datasheet rounding of tCK, as `lower.ticks_per_cycle`."""
    t = lv.dram
    if t is None or t.tck_s <= 0:
        return 0
    clocks = [u.freq_hz for u in hw.compute
              if u.type == "pim_bank" and u.attached_to == lv.name and u.freq_hz > 0]
    return int(ceil(1.0 / (min(clocks) * t.tck_s) - 0.01)) if clocks else 0


def pim_span(unit, t) -> int:
    """Banks one PIM command works on per channel: the PIM units per channel (one per bank for
    bank-level PIM, fewer for bank-group or buffer-die placement)."""
    return max(1, min(t.banks_per_channel, unit.count // max(1, t.channels)))


def pim_layout(p: OpPlan) -> tuple[int, int, int]:
    """(span, rows, cols) of in-bank op `p` on each channel of its DRAM level: the banks one
    all-bank MAC command works on (`pim_span`), the row bursts its `pim_bytes` take over them, and
    the column MAC commands its MACs take (each bank's unit doing `macs_per_cycle_for` a column).
    The cycle lowering (`lower.lower_pim`) and the analytic time (`analytic._pim_s`) share it."""
    t = p.buffer.dram
    nb = pim_span(p.unit, t)
    lanes = max(1.0, p.unit.macs_per_cycle_for(p.dtype))
    macs = p.op.macs or p.op.flops // 2 or 1
    cols = ceil(macs / t.channels / (nb * lanes))
    rows = max(1, ceil(p.pim_bytes / (t.channels * nb * t.row_size_bytes)))
    return nb, rows, cols


def burst_shape(t, nbytes: int) -> tuple[int, int, int]:
    """(nrows, ncols, span) of the burst task moving `nbytes` on one channel: row bursts over
    `span` = `dram.row_burst_span` banks (distinct groups: min(4, bank groups), or 1 when the address
    mapping puts the column lowest), each at most a row per bank, the columns split evenly over the
    row bursts (rounded up: at most nrows − 1 bursts more than the bytes)."""
    k = row_burst_span(t)
    per_row = max(1, t.row_size_bytes // t.burst_bytes) * k
    cols = max(1, ceil(nbytes / t.burst_bytes))
    nrows = ceil(cols / per_row)
    ncols = ceil(cols / nrows)
    return nrows, ncols, min(k, ncols)


def interleave_bytes(t) -> int:
    """Bytes of one channel-interleave unit under the timing's address mapping: a burst times the
    sizes of the fields below the channel field (`archsim.engine.dram_controller`)."""
    fields, sizes = parse_mapping(t.address_mapping, t)
    unit = t.burst_bytes
    for f, n in zip(fields, sizes):
        if FIELDS[int(f)] == "Ch":
            break
        unit *= int(n)
    return unit
