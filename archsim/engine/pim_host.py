"""Where a PIM op streamed from the DRAM arrays keeps its "@pipeline" tensors.

PIM ops (`pim_bank` units on a DRAM level): an in-bank op (weights or KV cache in the banks,
`pim_bytes` > 0) gets its inputs broadcast over the host link and its results read back over it,
priced as the DRAM level's reads and writes. A PIM op streamed from the DRAM arrays (a prefill's
QKᵀ and PV, whose K, V and Q are activations) would store its "@pipeline" tensors in the DRAM:
there the rule of `pipeline_at_host` applies — a "@pipeline" activation crosses the host link to
or from the host buffer (PIM-GPT sends a row's scores to the ASIC buffer) when one row block fits
there, and only otherwise spills to the DRAM (`OpPlan.pipeline_spill_bytes`). The plan
(`plan.shape.plan_shape`), the mapper's homes (`mapper.mapspace.build_space`) and the result note
(`notes.pipeline_spill_note`) all read this rule."""
from __future__ import annotations

from dataclasses import dataclass
from math import ceil

from archsim.hardware import ComputeUnit, Hardware, MemoryLevel
from archsim.ir import Op, Role

from .plan import PIPELINE, buffer_level

__all__ = ["PipelineAtHost", "host_buffer", "row_block_fits", "pim_streams_from_dram",
           "pipeline_at_host"]


@dataclass(frozen=True, slots=True)
class PipelineAtHost:
    """Where a PIM op's "@pipeline" activations go (`pipeline_at_host`)."""
    buffer: str | None               # the host buffer (None: the chip has none)
    link: str | None                 # the host link's name (None: no interconnect is described)
    read_bytes: int                  # inputs held at the host, sent to the banks
    write_bytes: int                 # outputs sent to the host and held there
    spill_read_bytes: int            # inputs whose row block does not fit: read from the DRAM
    spill_write_bytes: int           # outputs whose row block does not fit: written to the DRAM


def host_buffer(hw: Hardware) -> MemoryLevel | None:
    """The on-chip level the host side of a PIM chip works in: of the on-chip levels that may hold
    activations and that a unit other than the PIM banks is attached to, the largest (PIM-GPT's
    ASIC buffer). None when there is none."""
    attached = {u.attached_to for u in hw.compute if u.type != "pim_bank"}
    cands = [lv for lv in hw.levels if not lv.off_chip and lv.name in attached
             and (not lv.holds or "activation" in lv.holds)]
    return max(cands, key=lambda lv: lv.capacity_bytes, default=None)


def row_block_fits(tensor, buf: MemoryLevel | None) -> bool:
    """`pipeline_at_host`'s rule: two rows of `tensor` (its innermost dim) fit in `buf`."""
    shape = tensor.shape or (1,)
    return buf is not None and 2 * ceil(shape[-1] * tensor.dtype_bits / 8) <= buf.capacity_bytes


def pim_streams_from_dram(op: Op, unit: ComputeUnit, hw: Hardware) -> bool:
    """`op` on `unit` is a PIM op streamed from the DRAM arrays (no weight or KV cache in the banks:
    a prefill's QKᵀ and PV), where `pipeline_at_host` decides where its "@pipeline" tensors live."""
    return (unit.type == "pim_bank" and buffer_level(unit, hw) is hw.levels[0]
            and not any(o.tensor.role in (Role.WEIGHT, Role.KV_CACHE) for o in op.inputs))


def pipeline_at_host(op: Op, homes: tuple, hw: Hardware) -> PipelineAtHost:
    """Where the "@pipeline" activations of `op`, a PIM op streamed from the DRAM arrays, live.

    Rule: such a tensor (a prefill's attention scores between QKᵀ on the banks and softmax on the
    host, the probabilities on their way to PV) stays in the host buffer (`host_buffer`) when one
    row block fits there: a row is the tensor's innermost dim (a query's scores over every key,
    which the host's softmax normalises whole), and the buffer holds two rows (one arriving over
    the host link while the host works on the other), so it fits when 2 × row bytes ≤ the
    buffer's capacity. It then crosses the host link once (banks → host for an output, host →
    banks for an input) and is written to (read from) the host buffer; no DRAM command touches it.
    When the row block does not fit (or the chip has no host buffer) it spills: written to and
    read from the DRAM as any off-chip activation, counted in the plan's off-chip bytes and
    reported as `OpPlan.pipeline_spill_bytes` (and a result note)."""
    buf = host_buffer(hw)
    link = hw.interconnect[0].name if hw.interconnect else None
    out = {"r": 0, "w": 0, "sr": 0, "sw": 0}
    for o, h in zip(op.operands, homes):
        if h != PIPELINE or o.tensor.role not in (Role.ACTIVATION, Role.OUTPUT):
            continue
        fits = row_block_fits(o.tensor, buf)
        out[("" if fits else "s") + ("w" if o.is_output else "r")] += o.tensor.size_bytes
    return PipelineAtHost(buffer=buf.name if buf is not None else None, link=link,
                          read_bytes=out["r"], write_bytes=out["w"],
                          spill_read_bytes=out["sr"], spill_write_bytes=out["sw"])
