"""The part of an op's plan that follows from its `op_key`, mapping, unit and operand homes: its
dtype, dataflow, buffer, off-chip traffic per level, held activations and tile count."""
from __future__ import annotations

from dataclasses import dataclass
from math import ceil, prod
from typing import TYPE_CHECKING

from archsim.hardware import ComputeUnit, Hardware, MemoryLevel
from archsim.ir import Op, OpKind, Role
from archsim.mapping import OpMapping

from ..timing.shapes import op_dtype
from .homes import PIPELINE, spilled_operands
from .refetch import refetch_factor, refetched_inputs
from .unit_choice import buffer_level

if TYPE_CHECKING:
    from ..pim_host import PipelineAtHost

__all__ = ["PlanShape", "plan_shape"]


@dataclass(frozen=True, slots=True)
class PlanShape:
    """The part of an op's plan that follows from its `op_key`, mapping and operand homes."""
    dtype: str
    dataflow: str
    buffer: MemoryLevel
    read: int
    write: int
    pim_bytes: int
    resident_bytes: int
    tiles: int
    act_read: int
    residents: tuple[tuple[str, int], ...]
    home: str                            # the off-chip level holding most of the op's traffic
    traffic: tuple[tuple[str, int, int], ...]   # (off-chip level, read, write) per level
    flash_weight_bytes: int
    flash_wait_states: int
    host: "PipelineAtHost | None" = None     # `pim_host.pipeline_at_host`, PIM ops streamed from DRAM


def _split(total: int, parts: dict[str, int]) -> dict[str, int]:
    """`total` bytes shared among levels in proportion to `parts` (raw tensor bytes per level)."""
    raw = sum(parts.values())
    if not total or not raw:
        return {}
    out, done, acc = {}, 0, 0
    for name, n in parts.items():
        acc += n
        share = total * acc // raw - done
        done += share
        if share:
            out[name] = share
    return out


def plan_shape(op: Op, om: OpMapping | None, unit: ComputeUnit, homes: tuple, hw: Hardware,
               off: MemoryLevel, off_chip: set[str]) -> PlanShape:
    """The part of an op's plan that follows from its `op_key`, mapping, unit and operand homes."""
    dtype = op_dtype(op, unit)
    buf = buffer_level(unit, hw)
    pairs = list(zip(op.operands, homes))

    def offsite(o, h):       # weights and KV cache without a placement live off chip
        return h in off_chip or (h is None and o.tensor.role in (Role.WEIGHT, Role.KV_CACHE))

    def level_of(h) -> str:  # the off-chip level an off-site operand lives in
        return h if h in off_chip else off.name

    def by_level(pick) -> dict[str, int]:
        out: dict[str, int] = {}
        for i, (o, h) in enumerate(pairs):
            if pick(i, o, h):
                out[level_of(h)] = out.get(level_of(h), 0) + o.tensor.size_bytes
        return out

    weights = sum(o.tensor.size_bytes for o, h in pairs
                  if o.tensor.role is Role.WEIGHT and offsite(o, h))
    kv_read = sum(o.tensor.size_bytes for o, h in pairs
                  if o.tensor.role is Role.KV_CACHE and not o.is_output and offsite(o, h))
    kv_write = sum(o.tensor.size_bytes for o, h in pairs
                   if o.tensor.role is Role.KV_CACHE and o.is_output and offsite(o, h))
    is_act = [o.tensor.role in (Role.ACTIVATION, Role.OUTPUT) for o in op.operands]
    loose = [i for i, (h, a) in enumerate(zip(homes, is_act)) if a and h is None]
    acts = sum(op.operands[i].tensor.size_bytes for i in loose)
    spilled = spilled_operands(op, homes, buf)
    fits = not spilled
    act_off = [i for i, (h, a) in enumerate(zip(homes, is_act))
               if a and (h in off_chip or i in spilled)]
    act_in_off = sum(op.operands[i].tensor.size_bytes for i in act_off if not op.operands[i].is_output)
    act_out_off = sum(op.operands[i].tensor.size_bytes for i in act_off if op.operands[i].is_output)
    held: dict[str, int] = {}
    if fits and not buf.off_chip and acts:
        held[buf.name] = acts
    for (o, h), a in zip(pairs, is_act):
        if a and h is not None and h != PIPELINE and h not in off_chip:
            held[h] = held.get(h, 0) + o.tensor.size_bytes
    outs = sum(o.tensor.size_bytes for o in op.operands
               if o.is_output and o.tensor.role is not Role.KV_CACHE)
    ins_act = sum(o.tensor.size_bytes for o in op.operands
                  if not o.is_output and o.tensor.role is Role.ACTIVATION)
    if op.kind is OpKind.EMBEDDING:      # a gather reads only the rows it outputs
        weights = min(weights, outs)
    if op.kind is OpKind.KV_APPEND:      # appends the new entries, not the whole cache
        kv_write = min(kv_write, ins_act or kv_write)
        kv_read = 0
    flash_w = {lv: n for lv, n in by_level(lambda i, o, h: o.tensor.role is Role.WEIGHT
                                            and (h is None or h in off_chip)).items()
               if hw.level(lv).kind == "flash" and hw.level(lv).wait_states}
    flash_ws = max((hw.level(lv).wait_states for lv in flash_w), default=0)
    pim = unit.type == "pim_bank" and buf is off
    traffic: dict[str, list[int]] = {}
    if pim:
        # in-bank MACs: the inputs are broadcast to the banks and the results read back over
        # the host link, wherever the activations live on the host side
        act_all = sum(o.tensor.size_bytes for o, a in zip(op.operands, is_act) if a)
        read, write, pim_bytes = (act_all - outs), outs + kv_write, weights + kv_read
        held = {}
        if not pim_bytes:   # streamed from the DRAM arrays: "@pipeline" tensors at the host
            from ..pim_host import pipeline_at_host
            host = pipeline_at_host(op, homes, hw)
            read -= host.read_bytes
            write -= host.write_bytes
    else:
        extra = 0.0      # re-fetches the mapping's tiling and loop order cause
        extra_at: dict[str, float] = {}
        if om is not None:
            for o, lv in zip(op.operands, refetched_inputs(op, homes, buf, hw)):
                if lv is not None:
                    f = refetch_factor(op, om, o, off.name)
                    extra += (f - 1.0) * o.tensor.size_bytes
                    extra_at[lv] = extra_at.get(lv, 0.0) + (f - 1.0) * o.tensor.size_bytes
        read = weights + kv_read + act_in_off + int(extra)
        write, pim_bytes = kv_write + act_out_off, 0
        kv = Role.KV_CACHE
        parts = [  # (total bytes, raw bytes per level it is shared by, read?)
            (weights, by_level(lambda i, o, h: o.tensor.role is Role.WEIGHT and offsite(o, h)), True),
            (kv_read, by_level(lambda i, o, h: o.tensor.role is kv and not o.is_output
                               and offsite(o, h)), True),
            (kv_write, by_level(lambda i, o, h: o.tensor.role is kv and o.is_output
                                and offsite(o, h)), False),
            (act_in_off, by_level(lambda i, o, h: i in act_off and not o.is_output), True),
            (act_out_off, by_level(lambda i, o, h: i in act_off and o.is_output), False),
            (int(extra), {lv: int(round(v)) for lv, v in extra_at.items()}, True)]
        for total, at, is_read in parts:
            for lv, n in _split(total, at).items():
                traffic.setdefault(lv, [0, 0])[0 if is_read else 1] += n
    tiles = 0
    if om is not None and om.tiling:
        inner = om.tiling[-1].tile_sizes
        sizes = op.dim_sizes
        tiles = prod(ceil(sizes[d] / max(1, inner.get(d, sizes[d]))) for d in sizes)
    df = om.dataflow if om is not None else (unit.dataflows[0] if unit.dataflows else "none")
    if pim or sum(map(sum, traffic.values())) != read + write:
        traffic = {off.name: [read, write]} if read or write else {}
    home = max(traffic, key=lambda lv: (sum(traffic[lv]), lv == off.name), default=off.name)
    return PlanShape(dtype=dtype, dataflow=df, buffer=buf, read=int(read), write=int(write),
                  pim_bytes=int(pim_bytes), resident_bytes=int(sum(held.values())), tiles=tiles,
                  act_read=int(0 if pim else act_in_off),
                  residents=tuple(sorted((k, int(v)) for k, v in held.items() if v)),
                  home=home, traffic=tuple((lv, int(r), int(w)) for lv, (r, w) in traffic.items() if r or w),
                  flash_weight_bytes=int(sum(flash_w.values())), flash_wait_states=int(flash_ws),
                  host=host if pim and not pim_bytes else None)
