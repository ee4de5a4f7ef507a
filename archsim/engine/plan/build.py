"""Every op's plan (`plan_ops`), planning ops alike once, and one op's plan alone (`plan_one`)."""
from __future__ import annotations

from dataclasses import replace

from archsim.energy import register_file
from archsim.hardware import ComputeUnit, Hardware
from archsim.ir import Op, OpGraph, ops_in_order
from archsim.mapping import Mapping

from ..attention import causal_skips, fused_attention_groups, standard_attention
from ..gpu_kernels import gpu_kernels
from ..noc import NocTraffic, op_traffic
from .homes import operand_homes, streamed_tensors
from .keys import mapping_key, op_key
from .op_plan import OpPlan
from .shape import PlanShape, plan_shape
from .unit_choice import accumulator_level, unit_for

__all__ = ["plan_ops", "plan_one"]


def plan_ops(graph: OpGraph, hw: Hardware, mapping: Mapping | None, stack=None) -> list[OpPlan]:
    """Every op's plan in order. On a GPU, `stack` (a `stack.SoftwareStack` or its name; default
    `graph`) decides which ops run as one kernel (`gpu_kernels`) and each plan's `kernel_s`; a
    stack running standard attention unfuses the mapper's attention groups (`standard_attention`).
    Ops alike (`op_key`, mapping, homes) are planned once."""
    from ..stack import software_stack
    st = software_stack(stack)
    if st.attention == "standard" and mapping is not None:
        mapping = standard_attention(graph, hw, mapping)
    by_name = {m.op: m for m in (mapping.ops if mapping is not None else ())}
    off = hw.levels[0]
    off_chip = {lv.name for lv in hw.levels if lv.off_chip}
    index: dict[str, int] = {}
    plans: list[OpPlan] = []
    streamed_names = streamed_tensors(mapping)
    shapes: dict[tuple, PlanShape] = {}
    nocs: dict[tuple, NocTraffic | None] = {}
    unit_parts: dict[tuple, tuple] = {}
    level_names = frozenset(lv.name for lv in hw.levels)
    for op in ops_in_order(graph):
        om = by_name.get(op.name)
        unit = unit_for(om, op, hw)
        homes = operand_homes(op, om, mapping, hw, streamed_names, level_names)
        ok = op_key(op)
        key = (ok, mapping_key(om), homes, id(unit))
        shape = shapes.get(key)
        if shape is None:
            shape = shapes[key] = plan_shape(op, om, unit, homes, hw, off, off_chip)
        if hw.noc is not None and unit.name == hw.noc.unit and key not in nocs:
            nocs[key] = op_traffic(op, unit, shape.dataflow, hw.noc)
        producers = tuple(sorted(index[p] for p in graph.predecessors(op.name) if p in index))
        streamed = unit.type == "dsp_array" and any(plans[q].unit.name == unit.name for q in producers)
        part_key = (id(unit), shape.home)
        parts = unit_parts.get(part_key)
        if parts is None:
            parts = unit_parts[part_key] = _unit_parts(hw, unit, shape.home)
        plans.append(_plan(len(plans), op, unit, shape, hw, homes, parts, dataflow=shape.dataflow,
                           streamed=streamed, producers=producers,
                           mapping=om if om is not None and om.unit == unit.name else None,
                           noc=nocs.get(key), op_key_of=(op, ok)))
        index[op.name] = plans[-1].index
    for i, fraction in causal_skips(fused_attention_groups(plans), hw).items():
        op = plans[i].op
        plans[i] = replace(plans[i], op=replace(
            op, macs=round(op.macs * fraction), flops=round(op.flops * fraction),
            attrs=op.attrs + (("computed_fraction", fraction),)))
    if any(p.unit.type == "sm" for p in plans):
        from ..timing.sm import kernel_seconds
        for i, seconds in kernel_seconds(gpu_kernels(plans, st), plans, hw, st).items():
            # the plans are this function's own until it returns: set in place (as a
            # `__post_init__` would) rather than copied, one copy per GPU op
            object.__setattr__(plans[i], "kernel_s", seconds)
    return plans


def plan_one(op: Op, hw: Hardware, unit: ComputeUnit, dataflow: str,
             homes: tuple[str | None, ...]) -> OpPlan:
    """The plan of `op` alone on `unit` under `dataflow` with its operands at `homes`, before any
    tiling (no re-fetches: `refetched_inputs` names what a tiling adds). The mapper's cost model
    reads the engine's on-chip port bytes from it (`ports.port_bytes`)."""
    off = hw.levels[0]
    off_chip = {lv.name for lv in hw.levels if lv.off_chip}
    shape = plan_shape(op, None, unit, homes, hw, off, off_chip)
    return _plan(0, op, unit, shape, hw, homes, dataflow=dataflow, producers=())


def _unit_parts(hw: Hardware, unit: ComputeUnit, home: str) -> tuple:
    """(register file, accumulators, off-chip level) of a plan on `unit` whose traffic is mostly
    at `home`: the parts of `hw` a plan names."""
    return (register_file(hw.levels, unit.type, unit.attached_to), accumulator_level(hw, unit),
            hw.level(home))


def _plan(index: int, op: Op, unit: ComputeUnit, shape: PlanShape, hw: Hardware, homes: tuple,
          parts: tuple | None = None, **rest) -> OpPlan:
    """An op's plan from its shape (`plan_shape`) and the unit's parts of `hw` (`_unit_parts`,
    when the caller has them)."""
    rf, acc, offchip = parts or _unit_parts(hw, unit, shape.home)
    h = shape.host
    if h is not None and (h.read_bytes or h.write_bytes or h.spill_read_bytes or h.spill_write_bytes):
        rest.update(host_buffer=h.buffer, host_link=h.link, host_read_bytes=h.read_bytes,
                    host_write_bytes=h.write_bytes,
                    pipeline_spill_bytes=h.spill_read_bytes + h.spill_write_bytes)
    return OpPlan(index=index, op=op, unit=unit, dtype=shape.dtype,
                  register_file=rf, accumulators=acc, buffer=shape.buffer,
                  offchip=offchip, offchip_read_bytes=shape.read,
                  offchip_write_bytes=shape.write, pim_bytes=shape.pim_bytes,
                  resident_bytes=shape.resident_bytes, tiles=shape.tiles, homes=homes,
                  offchip_act_read_bytes=shape.act_read, residents=shape.residents,
                  offchip_traffic=shape.traffic, flash_weight_bytes=shape.flash_weight_bytes,
                  flash_wait_states=shape.flash_wait_states, **rest)
