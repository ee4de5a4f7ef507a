"""What an op does, independent of timing: MACs on its unit and bytes read and written at each
memory level (the action counts the energy model prices, `archsim.energy`). Off-chip bytes are
staged through the unit's buffer; a register file's per-MAC operand traffic and a systolic
array's fold traffic (inputs re-read, partial sums written back between folds) are counted too."""
from __future__ import annotations

from math import ceil

from archsim.energy import rf_bytes_per_mac
from archsim.ir import OpKind, Role

from .plan import PIPELINE, OpPlan, offchip_traffic
from .timing.shapes import gemm_shape
from .timing.spatial import SYSTOLIC_ROLES
from .timing.units import work_units

__all__ = ["op_action_counts", "register_file_counts", "fold_counts", "fold_refetch_bytes",
           "count_action", "merge_counts", "PSUM_BYTES", "NOC_ACTION"]

#: the action the NoC's byte-hops are counted under (`archsim.energy.table_for` prices it)
NOC_ACTION = "noc.byte_hop"


def count_action(d: dict, key: str, v: float) -> None:
    if v:
        d[key] = d.get(key, 0.0) + float(v)


def op_action_counts(p: OpPlan) -> dict[str, float]:
    """Timing-independent actions of one op: MACs on its unit, bytes at each level. Off-chip bytes
    are staged through the unit's buffer; a tensor at home in another on-chip level is read from
    (or written to) that level and staged through the unit's buffer too; a tensor streamed inside
    a fused group ("@pipeline") touches no memory level, except the one a PIM op streamed from the
    DRAM sends to (or takes from) the host buffer over the host link (`pim_host.pipeline_at_host`):
    written to (read from) that buffer once and moved over the link once."""
    c: dict[str, float] = {}
    count_action(c, f"{p.unit.name}.mac.{p.dtype}", work_units(p.op))
    merge_counts(c, register_file_counts(p))
    for lv, r, w in offchip_traffic(p):
        count_action(c, f"{lv}.read", r)
        count_action(c, f"{lv}.write", w)
    count_action(c, f"{p.offchip.name}.pim_read", p.pim_bytes)     # in-bank operand reads, no I/O
    if p.host_buffer is not None:   # "@pipeline" tensors of a PIM op kept at the host (plan)
        count_action(c, f"{p.host_buffer}.write", p.host_write_bytes)
        count_action(c, f"{p.host_buffer}.read", p.host_read_bytes)
        if p.host_link is not None:
            count_action(c, f"{p.host_link}.transfer", p.host_read_bytes + p.host_write_bytes)
    if p.noc is not None:      # bytes × links traversed on the NoC (priced per bit per hop)
        count_action(c, NOC_ACTION, p.noc.byte_hops)
    homes = p.homes or (None,) * len(p.op.operands)
    buf = p.buffer
    offchip = {lv for lv, _, _ in offchip_traffic(p)} | {p.offchip.name}
    gathered = sum(o.tensor.size_bytes for o in p.op.operands if o.is_output)
    appended = sum(o.tensor.size_bytes for o in p.op.operands
                   if not o.is_output and o.tensor.role is Role.ACTIVATION)
    for o, home in zip(p.op.operands, homes):
        if home == PIPELINE:
            continue
        n = o.tensor.size_bytes
        if p.op.kind is OpKind.EMBEDDING and o.tensor.role is Role.WEIGHT:
            n = min(n, gathered)       # a gather reads only the rows it outputs
        if p.op.kind is OpKind.KV_APPEND and o.tensor.role is Role.KV_CACHE and appended:
            n = min(n, appended)       # an append writes only the new entries (as `plan_ops`)
        verb, back = ("write", "read") if o.is_output else ("read", "write")
        placed_elsewhere = home is not None and home != buf.name and home not in offchip
        if placed_elsewhere:
            count_action(c, f"{home}.{verb}", n)
        if not buf.off_chip:
            count_action(c, f"{buf.name}.{verb}", n)
            if placed_elsewhere:
                count_action(c, f"{buf.name}.{back}", n)
    if not buf.off_chip:
        count_action(c, f"{buf.name}.write", p.offchip_read_bytes)
        count_action(c, f"{buf.name}.read", p.offchip_write_bytes)
        merge_counts(c, fold_counts(p))
    return c


def merge_counts(c: dict[str, float], more: dict[str, float]) -> None:
    for k, v in more.items():
        count_action(c, k, v)


def register_file_counts(p: OpPlan) -> dict[str, float]:
    """The RF reads and writes the dataflow makes per MAC (archsim.energy.rf_bytes_per_mac)."""
    c: dict[str, float] = {}
    if p.register_file is not None and p.op.kind.is_contraction:
        rd, wr = rf_bytes_per_mac(p.dataflow, p.dtype)
        count_action(c, f"{p.register_file.name}.read", rd * p.op.macs)
        count_action(c, f"{p.register_file.name}.write", wr * p.op.macs)
    return c


def fold_counts(p: OpPlan) -> dict[str, float]:
    """A systolic array's fold traffic (`fold_refetch_bytes`): inputs re-read from the unit's
    buffer, partial sums written and read back in the array's accumulators
    (`plan.accumulator_level`), else in the on-chip level that holds the output, else the
    buffer."""
    c: dict[str, float] = {}
    if p.buffer.off_chip:
        return c
    refetch, psums = fold_refetch_bytes(p)
    count_action(c, f"{p.buffer.name}.read", refetch)
    homes = p.homes or (None,) * len(p.op.operands)
    out_home = next((h for o, h in zip(p.op.operands, homes) if o.is_output), None)
    level = (p.accumulators.name if p.accumulators is not None
             else out_home if out_home not in (None, PIPELINE, p.offchip.name) else p.buffer.name)
    count_action(c, f"{level}.read", psums)
    count_action(c, f"{level}.write", psums)
    return c


#: Bytes of one partial sum a systolic array writes back between folds (32-bit accumulators).
PSUM_BYTES = 4


def fold_refetch_bytes(p: OpPlan) -> tuple[float, float]:
    """(input bytes re-read from the unit's buffer, partial-sum bytes written and read again) that
    a systolic array's folds add beyond reading each operand once and writing the output once
    (SCALE-Sim's SRAM read/write counts; the unit's own RF, when it has one, holds that reuse
    instead and both are zero). Per GEMM role (`spatial.SYSTOLIC_ROLES`): an input whose missing
    dim (n for the activation, m for the weight) is spread over the array is re-read once per fold
    along that dim; when k is spread over the array rows, every k-fold but the last writes its
    partial sums back and every k-fold but the first reads them again (PSUM_BYTES each), where
    `fold_counts` says (TPU v1's accumulators)."""
    if (p.unit.type != "systolic" or p.register_file is not None or not p.op.kind.is_contraction
            or p.dataflow not in SYSTOLIC_ROLES or len(p.unit.shape) != 2):
        return 0.0, 0.0
    rows_role, cols_role, _ = SYSTOLIC_ROLES[p.dataflow]
    extent = {rows_role: p.unit.shape[0], cols_role: p.unit.shape[1]}
    B, M, N, K = gemm_shape(p.op)
    dims = {"m": M, "n": N, "k": K}
    folds = {r: ceil(dims[r] / extent[r]) if r in extent else 1 for r in dims}
    ins = sorted((o for o in p.op.operands if not o.is_output), key=lambda o: o.tensor.role is Role.WEIGHT)
    read = 0.0
    for o, missing in zip(ins[:2], ("n", "m")):
        read += o.tensor.size_bytes * (folds[missing] - 1)
    return read, B * M * N * PSUM_BYTES * (folds["k"] - 1)
