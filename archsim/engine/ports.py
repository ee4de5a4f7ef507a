"""On-chip ports: every byte an op moves through an on-chip level occupies that level's ports
(`port_lanes`: min(ports, banks) lanes at bandwidth / ports each). The lowering times those
bytes on the ports at cycle fidelity; `port_seconds` is the analytic fidelity's bound, and the
mapper's cost model ranks mappings by the same bytes (`port_bytes`) at the same rates.

The bytes are the energy model's (`actions.op_action_counts`), all of them timed:
- a systolic array's fold traffic (inputs re-read, 32-bit partial sums written back and read again
  between k-folds; `actions.fold_refetch_bytes`) at the unit's buffer or the level holding the
  output;
- a register file's per-MAC operand traffic (`actions.register_file_counts`). The register file
  of a systolic unit is per PE (`archsim.energy.register_file`): each PE reads and writes its own
  registers, so its ports are the PEs' and the level's `bandwidth` is the total over them (as the
  schema says of `instances`); its lanes serve every PE at once, so the bound is the RF bytes at
  that total rate. A description gives that total (PEs x bytes each PE's registers move per cycle)."""
from __future__ import annotations

from archsim.hardware import Hardware, MemoryLevel

from .actions import op_action_counts
from .analytic import in_place
from .plan import PIPELINE, OpPlan, offchip_traffic

__all__ = ["port_lanes", "port_rate_bytes_per_s", "port_bytes", "port_seconds", "onchip_bytes",
           "staged_bytes"]


def port_lanes(lv: MemoryLevel) -> int:
    """Accesses an on-chip level serves at once: one per port, but no more than it has banks (a
    bank answers one access per cycle)."""
    return max(1, min(lv.ports, lv.banks))


def port_rate_bytes_per_s(lv: MemoryLevel) -> float:
    """Bytes per second an on-chip level's ports move with every lane busy."""
    return max(lv.bandwidth_bytes_per_s, 1.0) / max(1, lv.ports) * port_lanes(lv)


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
    out = {}
    for li, lv in enumerate(hw.levels):
        if lv.off_chip:
            continue
        nb = sum(c.get(f"{lv.name}.{v}", 0.0) for v in verbs)
        if lv.name == p.buffer.name:
            nb -= p.offchip_read_bytes + p.offchip_write_bytes
        if nb > 0:
            out[li] = nb
    return out


def port_bytes(p: OpPlan, hw: Hardware) -> dict[int, float]:
    """Bytes through each on-chip level's ports (level index → bytes): the compute's
    (`onchip_bytes`) plus, at the unit's buffer, the off-chip bytes staged through it, except
    those an MCU core reads in place (its internal flash operands)."""
    moved = onchip_bytes(p, hw)
    if not p.buffer.off_chip:
        through = sum(w + (0 if in_place(p, hw.level(lv)) else r) for lv, r, w in offchip_traffic(p))
        if through:
            li = hw.level_index(p.buffer.name)
            moved[li] = moved.get(li, 0.0) + through
    return moved


def port_seconds(p: OpPlan, hw: Hardware) -> float:
    """Least time the op's bytes through on-chip levels take at the levels' port rate (every lane
    busy): the analytic fidelity's SRAM bound."""
    return max((nb / port_rate_bytes_per_s(hw.levels[li]) for li, nb in port_bytes(p, hw).items()),
               default=0.0)
