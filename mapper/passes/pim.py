"""PIM-GPT's mapping scheme (Wu, Wang, Lu 2024), as a partition of each in-bank op.

- A weight matrix is split along its output dim across channels × banks so every bank's MAC unit
  works at once; each bank's share is laid out row by row in its DRAM rows.
- Attention heads are concatenated so a DRAM row is filled (head_dim < row length), which keeps
  the open row hit for a whole row of MACs.
- K is stored row-major (one token's keys along a row: QKᵀ reads it as rows), V column-major
  (PV reduces over tokens, so tokens run along the row).
- Ops that the banks cannot run (softmax, norms, GELU, residual adds) run on the ASIC/host; the
  mapper decides this per op by cost (`map_op` searches every unit that can run the op).
"""
from __future__ import annotations

from dataclasses import dataclass
from math import ceil

from archsim.hardware import ComputeUnit, Hardware
from archsim.ir import Op, OpKind

__all__ = ["PimPartition", "pim_partition"]


@dataclass(frozen=True, slots=True)
class PimPartition:
    channels: int
    banks_per_channel: int
    split_dim: str              # dim spread across channels × banks
    per_bank: int               # elements of split_dim per bank
    layout: str                 # "row-major" | "column-major"
    heads_per_row: int          # heads concatenated in one DRAM row (1 when not attention)
    rows_per_bank: int          # DRAM rows each bank's share occupies
    row_utilization: float      # fraction of each opened row holding useful data

    def as_attrs(self) -> tuple[tuple[str, object], ...]:
        return tuple((k, getattr(self, k)) for k in self.__slots__)


def pim_partition(op: Op, hw: Hardware, unit: ComputeUnit, split_dim: str) -> PimPartition:
    level = hw.level(unit.attached_to)
    dram = level.dram
    channels = dram.channels if dram else 1
    banks = max(unit.count // channels, 1)
    row_bytes = dram.row_size_bytes if dram else 2048
    sizes = op.dim_sizes
    n = sizes.get(split_dim, 1)
    per_bank = ceil(n / (channels * banks))
    stored = [o for o in op.inputs if o.tensor.role.value in ("weight", "kv_cache")] or list(op.inputs[1:2])
    t = stored[0].tensor if stored else op.inputs[0].tensor
    eb = t.dtype_bits / 8
    red = 1
    for o in stored[:1]:
        for d in o.dims:
            if d != split_dim and d not in {x for x in op.outputs[0].dims}:
                red *= sizes.get(d, 1)
    heads_per_row = 1
    if op.kind in (OpKind.ATTN_QK, OpKind.ATTN_AV):
        head_dim = int(op.attr("head_dim") or red)
        heads = int(op.attr("kv_heads") or op.attr("heads") or 1)
        heads_per_row = max(1, min(heads, int(row_bytes // max(head_dim * eb, 1))))
    layout = "column-major" if op.kind is OpKind.ATTN_AV else "row-major"
    row_elems = row_bytes / eb
    line = red * heads_per_row                     # elements laid contiguously per row use
    used = min(line, row_elems) / row_elems if line < row_elems else line / (ceil(line / row_elems) * row_elems)
    share_bytes = per_bank * red * eb
    return PimPartition(channels, banks, split_dim, per_bank, layout, heads_per_row,
                        max(1, ceil(share_bytes / row_bytes)), round(used, 4))
