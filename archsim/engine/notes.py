"""Result notes for what the engine did that the description did not ask for: no silent fallbacks.

A PIM op's "@pipeline" tensors that spill to the DRAM because a row block does not fit the host
buffer (`pim_host.pipeline_at_host`) get one note (`pipeline_spill_note`).

Unit and dtype fallbacks: two kinds, one note per (op kind or dtype, unit), each with the ops, the
unit, their time and what to change:
- an op ran on a unit that does not run its kind as described (`archsim.hardware.ops`): the mapper
  fell back to a general-purpose unit, or a unit emulated it;
- an op's dtype has no MAC rate on its unit: it was timed at the rate of another dtype the unit lists
  (an alias such as bf16 ↔ fp16, a wider integer, or the unit's only rate), operands read at their
  stored width (assumes widening on the fly).
"""
from __future__ import annotations

from archsim.hardware import Hardware
from archsim.hardware.ops import unit_runs_kind
from archsim.ir import DTYPE_BITS

__all__ = ["fallback_notes", "op_dtype_name", "pipeline_spill_note"]


def op_dtype_name(op, dtypes: dict) -> str:
    """The dtype an op computes in, by name: its widest input's width named as the graph's dtypes
    (weights, then activations, then KV cache) name it; the first dtype of that width otherwise."""
    bits = max((o.tensor.dtype_bits for o in op.operands if not o.is_output), default=16)
    for role in ("weights", "activations", "kv"):
        name = dtypes.get(role)
        if name and DTYPE_BITS.get(name) == bits:
            return name
    default = {32: "fp32", 16: "bf16", 8: "int8", 4: "int4", 2: "int2"}
    return default.get(bits) or next((d for d, b in DTYPE_BITS.items() if b == bits), f"{bits}-bit")


def _rate_key(unit, dtype: str) -> str:
    """The entry of the unit's rate table an op planned in `dtype` is timed at."""
    listed = [d for d, v in unit.macs_per_cycle if v > 0]
    return unit.rate_dtype(dtype) or (listed[0] if listed else dtype)


def _time(seconds: float, total_s: float) -> str:
    share = f", {seconds / total_s:.1%} of the run" if total_s > 0 else ""
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.3g} ms{share}"
    return f"{seconds * 1e6:.3g} µs{share}"


def _fallbacks(p, dtypes: dict) -> tuple[tuple | None, tuple | None]:
    """Plan `p`'s unit fallback (op kind, unit) and dtype fallback (unit, dtype, rate used), or None."""
    kind = p.op.kind.value
    unit = None if unit_runs_kind(p.unit, kind) else (kind, p.unit.name)
    name = op_dtype_name(p.op, dtypes)
    rate = None if dict(p.unit.macs_per_cycle).get(name) else \
        (p.unit.name, name, _rate_key(p.unit, p.dtype))
    return unit, rate


def fallback_notes(plans, seconds: list[float], hw: Hardware, dtypes: dict,
                   alike: list[int] | None = None) -> list[str]:
    """Notes for unit and dtype fallbacks; `seconds[i]` is plan i's time in the result. `alike[i]`:
    a plan equal to plan i but for names and position (`plan.plan_key`), whose verdict plan i shares."""
    total = sum(seconds)
    units: dict[tuple[str, str], list] = {}
    rates: dict[tuple[str, str, str], list] = {}
    verdicts: dict[int, tuple] = {}
    for i, (p, s) in enumerate(zip(plans, seconds)):
        j = alike[i] if alike is not None else i
        verdict = verdicts.get(j)
        if verdict is None:
            verdict = verdicts[j] = _fallbacks(p, dtypes)
        unit, rate = verdict
        if unit is not None:
            units.setdefault(unit, [0, 0.0])
            units[unit][0] += 1
            units[unit][1] += s
        if rate is not None:
            rates.setdefault(rate, [0, 0.0])
            rates[rate][0] += 1
            rates[rate][1] += s
    where = hw.file or hw.name
    notes = [f"fallback: {n} {kind} op(s) ran on {unit}, which does not list {kind} ({_time(s, total)}); "
             f"add {kind!r} to the 'ops' of the unit meant to run it in {where} (`archsim hw show "
             f"{hw.name}` lists where each op kind goes)"
             for (kind, unit), (n, s) in sorted(units.items())]
    for (unit, name, used), (n, s) in sorted(rates.items()):
        listed = ", ".join(d for d, v in hw.unit(unit).macs_per_cycle if v > 0) or "none"
        notes.append(f"dtype fallback: {unit} has no {name} rate: {n} op(s) with {name} operands timed at "
                     f"its {used} rate ({_time(s, total)}), operands read at their stored width (assumes "
                     f"widening on the fly); run --dtype with a dtype it lists ({listed}) or give it a rate "
                     f"for {name} in {where}")
    return notes


def pipeline_spill_note(plans, hw: Hardware) -> str | None:
    """One note for the "@pipeline" bytes of PIM ops written to and read from the DRAM because a
    row block does not fit the host buffer (`pim_host.pipeline_at_host`), else None."""
    spilled = [p for p in plans if p.pipeline_spill_bytes]
    if not spilled:
        return None
    from .pim_host import host_buffer
    buf = host_buffer(hw)
    where = (f"the host buffer {buf.name} ({buf.capacity_bytes:,} B) holds "
             f"less than two rows" if buf is not None else "the chip has no host buffer")
    total = sum(p.pipeline_spill_bytes for p in spilled)
    return (f"PIM pipeline spill: {len(spilled)} op(s) moved {total:,} B of fused-group tensors "
            f"(attention scores) through the DRAM instead of the host: {where}; a larger host "
            f"buffer, or a shorter sequence, keeps them there")
