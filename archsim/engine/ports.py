"""On-chip ports: every byte an op moves through an SRAM level occupies that level's ports
(`port_lanes`: min(ports, banks) lanes at bandwidth / ports each). The lowering times those
bytes on the ports at cycle fidelity; `port_seconds` is the analytic fidelity's SRAM bound."""
from __future__ import annotations

from archsim.hardware import Hardware, MemoryLevel

from .actions import fold_counts, merge_counts, op_action_counts, register_file_counts
from .analytic import in_place
from .plan import PIPELINE, OpPlan, offchip_traffic

__all__ = ["port_lanes", "port_seconds", "onchip_bytes", "staged_bytes", "priced_not_timed"]


def port_lanes(lv: MemoryLevel) -> int:
    """Accesses an on-chip level serves at once: one per port, but no more than it has banks (a
    bank answers one access per cycle)."""
    return max(1, min(lv.ports, lv.banks))


def staged_bytes(p: OpPlan, hw: Hardware) -> int:
    """Bytes of the op's operands at home in another on-chip level than the unit's buffer: read
    from (or written back to) there through the buffer (as `op_action_counts` counts them)."""
    homes = p.homes or (None,) * len(p.op.operands)
    off = {lv.name for lv in hw.levels if lv.off_chip}
    return sum(o.tensor.size_bytes for o, home in zip(p.op.operands, homes)
               if home not in (None, PIPELINE, p.buffer.name) and home not in off)


def onchip_bytes(p: OpPlan, hw: Hardware, verbs=("read", "write")) -> dict[int, float]:
    """Bytes the op's compute moves through each on-chip level (`verbs`, as `op_action_counts`
    counts them), without the off-chip bytes staged into and out of its buffer: DMA tasks move
    those (or, read in place by an MCU core, they never enter the buffer)."""
    c = op_action_counts(p)
    priced_only = priced_not_timed(p)
    out = {}
    for li, lv in enumerate(hw.levels):
        if lv.off_chip:
            continue
        nb = sum(c.get(f"{lv.name}.{v}", 0.0) - priced_only.get(f"{lv.name}.{v}", 0.0) for v in verbs)
        if lv.name == p.buffer.name:
            nb -= p.offchip_read_bytes + p.offchip_write_bytes
        if nb > 0:
            out[li] = nb
    return out


def priced_not_timed(p: OpPlan) -> dict[str, float]:
    """Accesses `op_action_counts` prices but the ports do not time yet: a register file's
    per-MAC operand traffic (per PE, not one level's ports) and a systolic array's fold traffic
    (inputs re-read and 32-bit partial sums written back between folds). The mapper's cost model
    does not see the fold traffic, so timing it at the buffer's ports would time mappings the
    mapper chose without it (edge-npu gpt2-small decode batch 128: lm_head 5.7 → 77.6 ms, the
    run 3.7x slower; TPU v4 prefill 2x); issue #18 times them once the mapper ranks by them."""
    c = register_file_counts(p)
    merge_counts(c, fold_counts(p))
    return c


def port_seconds(p: OpPlan, hw: Hardware) -> float:
    """Least time the op's bytes through on-chip levels take at the levels' port rate (every lane
    busy): the analytic fidelity's SRAM bound. Off-chip bytes pass through the unit's buffer,
    except those an MCU core reads in place (its internal flash operands)."""
    moved = onchip_bytes(p, hw)
    names = [lv.name for lv in hw.levels]
    if not p.buffer.off_chip:
        through = sum(w + (0 if in_place(p, hw.level(lv)) else r) for lv, r, w in offchip_traffic(p))
        if through:
            li = names.index(p.buffer.name)
            moved[li] = moved.get(li, 0.0) + through
    out = 0.0
    for li, nb in moved.items():
        lv = hw.levels[li]
        rate = max(lv.bandwidth_bytes_per_s, 1.0) / max(1, lv.ports) * port_lanes(lv)
        out = max(out, nb / rate)
    return out
