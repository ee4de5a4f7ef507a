"""MCUFormer's memory techniques (Liang et al., NeurIPS 2023) as buffer transformations, and the
SRAM / flash report of a model on a microcontroller.

- Operator integration: QKᵀ–softmax–PV run one head and one block of query rows at a time, and
  fc1–GELU–fc2 one block of tokens at a time, so the score / hidden tensors shrink to a block.
- Patch-embedding decomposition: the patch-embedding convolution consumes the image one row of
  patches at a time, so only that strip of the image is resident.
- Token overwriting: a residual add writes its result over the residual-stream input it consumes
  last, so the two share one buffer.
Weights stay in flash (execute in place; on a board, the internal flash and the QSPI flash);
activations live in one SRAM arena planned by the TFLite-Micro greedy planner, or, on a board with
SDRAM (a level off chip that holds activations), there when the SRAM cannot hold them. Peak SRAM =
arena; flash = weight bytes.
"""
from __future__ import annotations

from dataclasses import dataclass

from archsim.errors import DoesNotFit
from archsim.hardware import Hardware
from archsim.ir import OpGraph, OpKind, Role, ops_in_order, unread_weight_bytes

from .buffer_plan import Buffer, liveness, persistent_tensors, pool_plan

__all__ = ["TECHNIQUES", "McuReport", "mcu_buffers", "mcu_report", "sram_pools", "ROW_BLOCK"]

TECHNIQUES = ("operator_integration", "patch_decomposition", "token_overwriting")
ROW_BLOCK = 8   # query rows / tokens per integrated block (assumption)


@dataclass(frozen=True, slots=True)
class McuReport:
    techniques: tuple[str, ...]     # the techniques applied (those that lowered the arena)
    peak_sram_bytes: int        # the activation arenas (greedy plan), summed over the SRAM pools
    flash_bytes: int            # weights, executed in place
    sram_bytes: int             # capacity of the SRAM the arenas may use
    flash_capacity_bytes: int
    pools: tuple[tuple[str, int, int], ...] = ()   # per SRAM pool: (levels, capacity, planned peak)
    # an off-chip level that may hold activations (a board's SDRAM): (name, capacity); an arena the
    # SRAM cannot hold lives there instead (slower, timed by the engine), so the model still fits
    spill: tuple[str, int] = ()

    @property
    def sram_fits(self) -> bool:
        if self.pools:
            return all(peak <= cap for _, cap, peak in self.pools)
        return self.peak_sram_bytes <= self.sram_bytes

    @property
    def spilled(self) -> bool:
        """The arena does not fit the SRAM but the off-chip activation level holds it."""
        return not self.sram_fits and bool(self.spill) and self.peak_sram_bytes <= self.spill[1]

    @property
    def flash_fits(self) -> bool:
        return self.flash_bytes <= self.flash_capacity_bytes

    @property
    def fits(self) -> bool:
        return (self.sram_fits or self.spilled) and self.flash_fits

    @property
    def does_not_fit(self) -> DoesNotFit | None:
        if not self.sram_fits and not self.spilled:
            over = next(((name, cap, peak) for name, cap, peak in self.pools if peak > cap),
                        ("sram", self.sram_bytes, self.peak_sram_bytes))
            return DoesNotFit(over[0], "activation arena", over[2], over[1])
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
        if op.attr("conv_as_gemm") or (op.kind is OpKind.CONV2D and op.name.startswith("patch")):
            x = op.inputs[0].tensor
            rows = op.attr("grid", (op.dim_sizes.get("y", 1),))[0]   # patch rows
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


def sram_pools(hw: Hardware) -> tuple[tuple[tuple[str, ...], int], ...]:
    """The separate SRAM regions an activation arena may use, largest first: on-chip levels that
    may hold activations, joined where their address ranges adjoin (`MemoryLevel.address`). A
    description without addresses is taken as one contiguous region (the earlier assumption)."""
    srams = [lv for lv in hw.levels if not lv.off_chip and (not lv.holds or "activation" in lv.holds)]
    if not srams:
        return ()
    if all(lv.address is None for lv in srams):
        srams.sort(key=lambda lv: -lv.size_bytes)
        return ((tuple(lv.name for lv in srams), sum(lv.size_bytes for lv in srams)),)
    placed = sorted((lv for lv in srams if lv.address is not None), key=lambda lv: lv.address)
    regions: list[list] = []
    for lv in placed:
        if regions and regions[-1][-1].address + regions[-1][-1].size_bytes == lv.address:
            regions[-1].append(lv)
        else:
            regions.append([lv])
    regions += [[lv] for lv in srams if lv.address is None]
    pools = [(tuple(lv.name for lv in r), sum(lv.size_bytes for lv in r)) for r in regions]
    return tuple(sorted(pools, key=lambda p: -p[1]))


def mcu_report(graph: OpGraph, hw: Hardware, techniques=TECHNIQUES) -> McuReport:
    """Peak SRAM (activation arenas) and flash (weights) of `graph` on an MCU. The buffers are
    planned over the SRAM pools (`sram_pools`: contiguous regions; one arena per pool, a buffer never
    straddles two), e.g. the STM32F7's DTCM + SRAM1 + SRAM2 are one 320 KB region, the STM32H7's
    DTCM and AXI SRAM two."""
    techniques = tuple(techniques)
    pools = sram_pools(hw)
    capacities = tuple(cap for _, cap in pools)
    plan = pool_plan(mcu_buffers(graph, techniques), capacities)
    if "token_overwriting" in techniques:
        # overwriting merges lifetimes; the greedy planner may pack the merged buffer worse, so
        # the technique is applied only where it lowers the planned arenas
        without = tuple(t for t in techniques if t != "token_overwriting")
        other = pool_plan(mcu_buffers(graph, without), capacities)
        if (not other.fits, other.used_bytes) < (not plan.fits, plan.used_bytes):
            plan, techniques = other, without
    flash_bytes = sum(b for role, b in persistent_tensors(graph).values() if role == Role.WEIGHT.value) \
        + unread_weight_bytes(graph)
    flash = [lv for lv in hw.levels if lv.holds and "weight" in lv.holds and lv.off_chip] or \
        [lv for lv in hw.levels if lv.kind == "flash"] or [hw.levels[0]]
    names = ["sram" if len(pools) == 1 else "+".join(levels) for levels, _ in pools]
    spill = max((lv for lv in hw.levels if lv.off_chip and lv.holds and "activation" in lv.holds),
                key=lambda lv: lv.size_bytes, default=None)
    return McuReport(techniques, int(plan.used_bytes), int(flash_bytes), int(sum(capacities)),
                     int(sum(lv.size_bytes for lv in flash)),
                     tuple(zip(names, capacities, plan.peaks)) if pools else (),
                     (spill.name, int(spill.size_bytes)) if spill is not None else ())
