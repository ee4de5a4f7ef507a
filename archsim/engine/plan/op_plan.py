"""`OpPlan`: the per-op decisions the engine reads (unit, dataflow, levels, the bytes that cross the
off-chip boundary and the host link), and two questions asked of one."""
from __future__ import annotations

from dataclasses import dataclass, field

from archsim.hardware import ComputeUnit, MemoryLevel
from archsim.ir import Op
from archsim.mapping import OpMapping

from ..noc import NocTraffic

__all__ = ["OpPlan", "offchip_traffic", "in_bank"]


@dataclass(frozen=True, slots=True)
class OpPlan:
    index: int
    op: Op
    unit: ComputeUnit
    dtype: str
    dataflow: str
    buffer: MemoryLevel              # on-chip level the unit reads (or the off-chip level for PIM)
    offchip: MemoryLevel
    offchip_read_bytes: int          # bytes read across the off-chip boundary
    offchip_write_bytes: int
    pim_bytes: int                   # bytes streamed inside the DRAM by in-bank MACs
    resident_bytes: int              # activations held in `buffer` while the op runs
    tiles: int                       # tile count from the mapping (0 = none given)
    producers: tuple[int, ...]
    streamed: bool = False           # dsp_array fed directly by a producer on the same array
    mapping: OpMapping | None = None  # the op's mapping (spatial unroll, tiles), when given
    homes: tuple[str | None, ...] = ()   # per operand: level name, PIPELINE, None = not placed
    residents: tuple[tuple[str, int], ...] = ()  # on-chip level → activation bytes held there
    offchip_act_read_bytes: int = 0  # of offchip_read_bytes: activations (placed or spilled off chip)
    kernel_s: float | None = None    # GPU: this op's share of a fused kernel's time (see timing.sm)
    register_file: MemoryLevel | None = None   # the unit's RF (archsim.energy.register_file)
    accumulators: MemoryLevel | None = None    # where its folds' partial sums collect
    # per off-chip level the op touches: (level, bytes read, bytes written); they add up to
    # offchip_read_bytes / offchip_write_bytes. A chip with one off-chip level has one entry; a
    # board (QSPI flash + SDRAM beside the internal flash) one per level holding the op's tensors
    offchip_traffic: tuple[tuple[str, int, int], ...] = ()
    flash_weight_bytes: int = 0      # weight bytes read in place from a flash with wait states
    flash_wait_states: int = 0       # that flash's wait states (MCU core timing)
    noc: NocTraffic | None = None    # bytes per NoC link when the op runs on the NoC's arrays (noc.py)
    # a PIM op streamed from the DRAM: its "@pipeline" activations kept at the host
    # (`pim_host.pipeline_at_host`)
    host_buffer: str | None = None   # the host-side level they cross to or from
    host_link: str | None = None     # the link they cross (priced as LINK.transfer), None = unnamed
    host_read_bytes: int = 0         # inputs sent from the host buffer to the banks over the link
    host_write_bytes: int = 0        # outputs sent from the banks to the host buffer over the link
    pipeline_spill_bytes: int = 0    # "@pipeline" bytes whose row block does not fit: off chip
    # (`op`, `op_key(op)`) as `plan_ops` computed it, read by `plan_op_key` while `op` is still
    # that very op (a copy with another op computes its own); not compared, not in repr
    op_key_of: tuple | None = field(default=None, repr=False, compare=False)


def offchip_traffic(p: OpPlan) -> tuple[tuple[str, int, int], ...]:
    """(level, read, write) per off-chip level of plan `p` (its one off-chip level if unsplit)."""
    return p.offchip_traffic or ((p.offchip.name, p.offchip_read_bytes, p.offchip_write_bytes),)


def in_bank(p: OpPlan) -> bool:
    """The op runs as in-bank PIM MACs (`lower.lower_pim`, `analytic._pim_s`) rather than a tile
    stream: a `pim_bank` unit working on a DRAM level, with bytes streamed inside the banks."""
    return p.unit.type == "pim_bank" and p.buffer.dram is not None and p.pim_bytes > 0
