"""The mapper: how each op runs on a chip and how the graph shares its memory hierarchy.

Public API: `map_graph`, `map_op`, `analytic_cost`, `Cost`, `plan_buffers`, `arena_plan`.
Imports only the `archsim` core (never `workloads` or `reports`).

Search budgets: "auto" enumerates every (op, unit) space of up to 20,000 candidates in full; larger
spaces get `budget` evaluations (default 6,000). Every search that does not enumerate its space
first scores a few heuristic seed mappings (`mapper.seeds`: largest tiles that fit with double
buffering, the unit filled, natural loop orders), so even budget=1 gives a sane mapping.
`map_graph(..., mcu_techniques=("operator_integration", "patch_decomposition",
"token_overwriting"))` picks the MCUFormer memory techniques applied on an MCU (default all).

What a `Mapping` produced here means (for the engine that lowers it):
- `OpMapping.tiling[i]` is one level of the path from the outermost level to the level the unit is
  attached to; `tiling[0].tile` is the whole iteration space. `tiling[i].loop_order` (outer →
  inner) iterates the tiles of `tiling[i + 1]` inside `tiling[i]`; at the last level it iterates
  the unit's spatial tile `OpMapping.spatial` (array rows × cols, SIMD lanes, PIM banks × lanes).
  Edge tiles are clipped (`mapper.tiles.iterate_tiles` walks them).
- A level whose `holds` excludes an operand's role is bypassed by that operand (e.g. TPU-v1 weights
  stream from DDR3 to the array, not through the unified buffer).
- `OpMapping.attrs["placement"]`: role or tensor name → level for this op ("@pipeline" = streamed
  inside a fused group, never materialised); `analytic_cost` uses it by default.
- `Mapping.attrs`: "op_costs" (name → Cost), "streamed" (tensor names), "does_not_fit" when the
  model cannot fit, "mcu" (techniques applied / requested, peak SRAM with and without them, flash)
  on MCUs; per-op
  "pim" (PIM-GPT partition) on in-bank ops.
"""
from __future__ import annotations

from .cost import Cost
from .costmodel import analytic_cost
from .graph import map_graph, op_costs, total_cost
from .map_op import map_op
from .passes.buffer_plan import ArenaPlan, Buffer, BufferPlan, arena_plan, plan_buffers
from .passes.mcu import TECHNIQUES as MCU_TECHNIQUES, mcu_report
from .cache import cache_clear, cache_info

__all__ = ["map_graph", "map_op", "analytic_cost", "Cost", "plan_buffers", "arena_plan", "Buffer",
           "ArenaPlan", "BufferPlan", "op_costs", "total_cost", "mcu_report", "MCU_TECHNIQUES",
           "cache_clear", "cache_info"]
