"""Per-op decisions the engine needs, from the `Mapping` or, for ops it lacks, a default it derives:
which unit runs the op, its dataflow, which level its operands stream from, how many bytes cross the
off-chip boundary (per off-chip level when a chip has several: `OpPlan.offchip_traffic`). Shared by the analytic closed form and the lowering, so both fidelities agree on
the work and differ only in timing.

Where each tensor lives (its "home") is the mapper's placement when the mapping gives one: the op's
`OpMapping.attrs["placement"]` (tensor name, then role → level; "@pipeline" = streamed inside a
fused group, never materialised), else the graph's `Mapping.attrs["streamed"]` and
`Mapping.placement`. A tensor at home in an on-chip level costs no off-chip traffic (it is read from
or written to that level, and held there while the op runs); a "@pipeline" tensor costs no memory
traffic at all; a tensor at home off chip streams across the off-chip boundary. Only activations of
an op the mapping does not place fall back to a heuristic: held in the unit's buffer when they fit
in half of it, else spilled off chip. Weights and KV cache without a placement live off chip.

PIM ops streamed from the DRAM arrays keep their "@pipeline" tensors in the host buffer when a row
block fits there (`pim_host.pipeline_at_host`), else they spill to the DRAM.

Files: `op_plan` (the `OpPlan`), `unit_choice` (the unit and its levels), `homes` (where
tensors live), `refetch` (the tiling's re-fetches), `shape` (traffic and residency), `keys` (ops and
plans alike), `build` (`plan_ops`, `plan_one`)."""
from __future__ import annotations

from .build import plan_one, plan_ops
from .homes import PIPELINE, operand_homes
from .keys import op_key, plan_key, plan_op_key
from .op_plan import OpPlan, in_bank, offchip_traffic
from .refetch import loop_nest, refetch_factor, refetch_loop, refetched_inputs
from .unit_choice import accumulator_level, buffer_level, default_unit

__all__ = ["OpPlan", "plan_ops", "offchip_traffic", "default_unit", "buffer_level", "refetch_factor",
           "refetched_inputs", "accumulator_level", "operand_homes", "PIPELINE", "op_key", "plan_key",
           "plan_op_key", "plan_one", "in_bank", "loop_nest", "refetch_loop"]
