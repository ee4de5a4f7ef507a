"""MCUFormer's memory techniques (Liang et al., NeurIPS 2023) as buffer transformations, and the
SRAM / flash report of a model on a microcontroller.

- Operator integration: QKᵀ–softmax–PV run one head and one block of query rows at a time, and
  fc1–GELU–fc2 one block of tokens at a time, so the score / hidden tensors shrink to a block.
- Patch-embedding decomposition: the patch-embedding convolution consumes the image one row of
  patches at a time, so only that strip of the image is resident.
- Token overwriting: a residual add writes its result over the residual-stream input it consumes
  last, so the two share one buffer.
Weights stay in flash (execute in place); activations live in one SRAM arena planned by the
TFLite-Micro greedy planner. Peak SRAM = arena; flash = weight bytes.
"""
from __future__ import annotations

from dataclasses import dataclass

from archsim.errors import DoesNotFit
from archsim.hardware import Hardware
from archsim.ir import OpGraph, OpKind, Role, ops_in_order

from .buffer_plan import Buffer, arena_plan, liveness, persistent_tensors

__all__ = ["TECHNIQUES", "McuReport", "mcu_buffers", "mcu_report", "ROW_BLOCK"]

TECHNIQUES = ("operator_integration", "patch_decomposition", "token_overwriting")
ROW_BLOCK = 8   # query rows / tokens per integrated block (assumption)


@dataclass(frozen=True, slots=True)
class McuReport:
    techniques: tuple[str, ...]     # the techniques applied (those that lowered the arena)
    peak_sram_bytes: int        # the activation arena (TFLite-Micro greedy plan)
    flash_bytes: int            # weights, executed in place
    sram_bytes: int             # capacity of the SRAM the arena may use
    flash_capacity_bytes: int

    @property
    def sram_fits(self) -> bool:
        return self.peak_sram_bytes <= self.sram_bytes

    @property
    def flash_fits(self) -> bool:
        return self.flash_bytes <= self.flash_capacity_bytes

    @property
    def fits(self) -> bool:
        return self.sram_fits and self.flash_fits

    @property
    def does_not_fit(self) -> DoesNotFit | None:
        if not self.sram_fits:
            return DoesNotFit("sram", "activation arena", self.peak_sram_bytes, self.sram_bytes)
        if not self.flash_fits:
            return DoesNotFit("flash", "weights", self.flash_bytes, self.flash_capacity_bytes)
        return None


def _integrated_sizes(graph: OpGraph) -> dict[str, int]:
    sizes: dict[str, int] = {}
    for op in ops_in_order(graph):
        if op.kind in (OpKind.ATTN_QK, OpKind.SOFTMAX):
            t = op.outputs[0].tensor
            d = op.dim_sizes
            heads = d.get("g", 1) * d.get("r", 1) * d.get("b", 1)
            rows = d.get("q", d.get("m", 1))
            block = max(1, t.size_bytes // max(heads * rows, 1) * min(ROW_BLOCK, rows))
            sizes[t.name] = block
        if op.kind in (OpKind.GELU, OpKind.SILU, OpKind.RELU, OpKind.SWIGLU):
            for o in list(op.inputs) + list(op.outputs):
                t = o.tensor
                rows = t.shape[0] if len(t.shape) > 1 else 1
                sizes[t.name] = max(1, t.size_bytes // max(rows, 1) * min(ROW_BLOCK, rows))
    return sizes


def _patch_sizes(graph: OpGraph) -> dict[str, int]:
    sizes: dict[str, int] = {}
    for op in ops_in_order(graph):
        if op.kind is OpKind.CONV2D and op.name.startswith("patch"):
            x = op.inputs[0].tensor
            rows = op.dim_sizes.get("y", 1)           # patch rows
            sizes[x.name] = max(1, x.size_bytes // max(rows, 1))
    return sizes


def _overwrite(buffers: list[Buffer], graph: OpGraph) -> list[Buffer]:
    """Residual adds write in place: merge the output buffer into the input dying at that op."""
    by_name = {b.name: b for b in buffers}
    alias: dict[str, str] = {}
    order = list(ops_in_order(graph))
    for i, op in enumerate(order):
        if op.kind is not OpKind.ADD:
            continue
        out = op.outputs[0].tensor.name
        for o in op.inputs:
            src = alias.get(o.tensor.name, o.tensor.name)
            b = by_name.get(src)
            if b is not None and b.last == i and o.tensor.size_bytes >= by_name[out].size_bytes:
                alias[out] = src
                break
    merged: dict[str, Buffer] = {}
    for b in buffers:
        root = b.name
        while root in alias:
            root = alias[root]
        cur = merged.get(root)
        if cur is None:
            merged[root] = Buffer(root, b.size_bytes, b.first, b.last)
        else:
            merged[root] = Buffer(root, max(cur.size_bytes, b.size_bytes), min(cur.first, b.first),
                                  max(cur.last, b.last))
    return list(merged.values())


def mcu_buffers(graph: OpGraph, techniques=()) -> list[Buffer]:
    unknown = set(techniques) - set(TECHNIQUES)
    if unknown:
        from archsim.errors import MappingError, did_you_mean
        bad = sorted(unknown)[0]
        raise MappingError(f"unknown MCU technique {bad!r}; "
                           f"{did_you_mean(bad, TECHNIQUES) or 'choose from ' + ', '.join(TECHNIQUES)}")
    sizes: dict[str, int] = {}
    if "operator_integration" in techniques:
        sizes.update(_integrated_sizes(graph))
    if "patch_decomposition" in techniques:
        sizes.update(_patch_sizes(graph))
    buffers = liveness(graph, sizes=sizes)
    if "token_overwriting" in techniques:
        buffers = _overwrite(buffers, graph)
    return buffers


def mcu_report(graph: OpGraph, hw: Hardware, techniques=TECHNIQUES) -> McuReport:
    """Peak SRAM (arena) and flash (weights) of `graph` on an MCU. The arena may span every on-chip
    SRAM level allowed to hold activations (assumption: they are contiguous in the address map, as
    DTCM + SRAM1 + SRAM2 are on the STM32F7, RM0385 memory map)."""
    techniques = tuple(techniques)
    arena = arena_plan(mcu_buffers(graph, techniques)).arena_bytes
    if "token_overwriting" in techniques:
        # overwriting merges lifetimes; the greedy planner may pack the merged buffer worse, so
        # the technique is applied only where it lowers the planned arena
        without = tuple(t for t in techniques if t != "token_overwriting")
        other = arena_plan(mcu_buffers(graph, without)).arena_bytes
        if other < arena:
            arena, techniques = other, without
    flash_bytes = sum(b for role, b in persistent_tensors(graph).values() if role == Role.WEIGHT.value)
    flash = [lv for lv in hw.levels if lv.holds and "weight" in lv.holds and lv.off_chip] or \
        [lv for lv in hw.levels if lv.kind == "flash"] or [hw.levels[0]]
    sram = [lv for lv in hw.levels if not lv.off_chip and (not lv.holds or "activation" in lv.holds)]
    return McuReport(techniques, int(arena), int(flash_bytes),
                     int(sum(lv.size_bytes for lv in sram)),
                     int(sum(lv.size_bytes for lv in flash)))
