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
block fits there (`pim_host.pipeline_at_host`), else they spill to the DRAM."""
from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from math import ceil, prod
from operator import attrgetter
from typing import TYPE_CHECKING

from archsim.energy import register_file
from archsim.errors import MappingError, did_you_mean
from archsim.hardware import ComputeUnit, Hardware, MemoryLevel
from archsim.hardware.ops import GENERAL_UNITS, unit_runs_kind
from archsim.ir import Op, OpGraph, OpKind, Role, ops_in_order
from archsim.mapping import Mapping, OpMapping

from .attention import causal_skips, fused_attention_groups, standard_attention
from .gpu_kernels import gpu_kernels
from .noc import NocTraffic, op_traffic
from .timing.shapes import op_dtype

if TYPE_CHECKING:
    from .pim_host import PipelineAtHost

__all__ = ["OpPlan", "plan_ops", "offchip_traffic", "default_unit", "buffer_level", "refetch_factor",
           "refetched_inputs", "accumulator_level", "operand_homes", "PIPELINE", "op_key", "plan_key",
           "plan_op_key", "plan_one", "in_bank", "loop_nest", "refetch_loop"]

_CONTRACTION_TYPES = ("systolic", "dsp_array", "pim_bank")
PIPELINE = "@pipeline"   # the mapper's home of a tensor streamed inside a fused group


@dataclass(frozen=True, slots=True)
class OpPlan:
    index: int
    op: Op
    unit: ComputeUnit
    dtype: str
    dataflow: str
    buffer: MemoryLevel              # on-chip level the unit reads (or the off-chip level for PIM)
    offchip: MemoryLevel
    offchip_read_bytes: int          # bytes read across the off-chip boundary
    offchip_write_bytes: int
    pim_bytes: int                   # bytes streamed inside the DRAM by in-bank MACs
    resident_bytes: int              # activations held in `buffer` while the op runs
    tiles: int                       # tile count from the mapping (0 = none given)
    producers: tuple[int, ...]
    streamed: bool = False           # dsp_array fed directly by a producer on the same array
    mapping: OpMapping | None = None  # the op's mapping (spatial unroll, tiles), when given
    homes: tuple[str | None, ...] = ()   # per operand: level name, PIPELINE, None = not placed
    residents: tuple[tuple[str, int], ...] = ()  # on-chip level → activation bytes held there
    offchip_act_read_bytes: int = 0  # of offchip_read_bytes: activations (placed or spilled off chip)
    kernel_s: float | None = None    # GPU: this op's share of a fused kernel's time (see timing.sm)
    register_file: MemoryLevel | None = None   # the unit's RF (archsim.energy.register_file)
    accumulators: MemoryLevel | None = None    # where its folds' partial sums collect
    # per off-chip level the op touches: (level, bytes read, bytes written); they add up to
    # offchip_read_bytes / offchip_write_bytes. A chip with one off-chip level has one entry; a
    # board (QSPI flash + SDRAM beside the internal flash) one per level holding the op's tensors
    offchip_traffic: tuple[tuple[str, int, int], ...] = ()
    flash_weight_bytes: int = 0      # weight bytes read in place from a flash with wait states
    flash_wait_states: int = 0       # that flash's wait states (MCU core timing)
    noc: NocTraffic | None = None    # bytes per NoC link when the op runs on the NoC's arrays (noc.py)
    # a PIM op streamed from the DRAM: its "@pipeline" activations kept at the host
    # (`pim_host.pipeline_at_host`)
    host_buffer: str | None = None   # the host-side level they cross to or from
    host_link: str | None = None     # the link they cross (priced as LINK.transfer), None = unnamed
    host_read_bytes: int = 0         # inputs sent from the host buffer to the banks over the link
    host_write_bytes: int = 0        # outputs sent from the banks to the host buffer over the link
    pipeline_spill_bytes: int = 0    # "@pipeline" bytes whose row block does not fit: off chip
    # (`op`, `op_key(op)`) as `plan_ops` computed it, read by `plan_op_key` while `op` is still
    # that very op (a copy with another op computes its own); not compared, not in repr
    op_key_of: tuple | None = field(default=None, repr=False, compare=False)


def offchip_traffic(p: OpPlan) -> tuple[tuple[str, int, int], ...]:
    """(level, read, write) per off-chip level of plan `p` (its one off-chip level if unsplit)."""
    return p.offchip_traffic or ((p.offchip.name, p.offchip_read_bytes, p.offchip_write_bytes),)


def in_bank(p: OpPlan) -> bool:
    """The op runs as in-bank PIM MACs (`lower.lower_pim`, `analytic._pim_s`) rather than a tile
    stream: a `pim_bank` unit working on a DRAM level, with bytes streamed inside the banks."""
    return p.unit.type == "pim_bank" and p.buffer.dram is not None and p.pim_bytes > 0


def _split(total: int, parts: dict[str, int]) -> dict[str, int]:
    """`total` bytes shared among levels in proportion to `parts` (raw tensor bytes per level)."""
    raw = sum(parts.values())
    if not total or not raw:
        return {}
    out, done, acc = {}, 0, 0
    for name, n in parts.items():
        acc += n
        share = total * acc // raw - done
        done += share
        if share:
            out[name] = share
    return out


def default_unit(op: Op, hw: Hardware) -> ComputeUnit:
    """The unit that supports the op; contractions prefer the highest MAC rate, other ops prefer a
    non-contraction unit (vector, core, SM)."""
    cands = [u for u in hw.compute if unit_runs_kind(u, op.kind)]
    if not cands:   # nothing lists the op: a general-purpose unit runs it (host fallback)
        cands = [u for u in hw.compute if u.type in GENERAL_UNITS] or list(hw.compute)
    if not cands:
        raise MappingError(f"{hw.name}: no compute unit runs op {op.name!r} of kind {op.kind.value}")
    if op.kind.is_contraction:
        return max(cands, key=lambda u: u.peak_macs_per_s(op_dtype(op, u)))
    plain = [u for u in cands if u.type not in _CONTRACTION_TYPES]
    return max(plain or cands, key=lambda u: u.peak_macs_per_s(op_dtype(op, u)))


def accumulator_level(hw: Hardware, unit: ComputeUnit) -> MemoryLevel | None:
    """A systolic unit's accumulators: the first on-chip SRAM level listed after (inside) the
    level the unit is attached to that may hold activations, e.g. TPU v1's 4 MiB of 32-bit
    accumulators behind its unified buffer. The array writes its results there, so the partial
    sums its k-folds write back and read again collect there (`actions.fold_counts`). None for
    other units, for a unit with a register file (the RF holds that reuse) and when no such
    level is listed."""
    names = [lv.name for lv in hw.levels]
    if (unit.type != "systolic" or unit.attached_to not in names
            or register_file(hw.levels, unit.type, unit.attached_to) is not None):
        return None
    return next((lv for lv in hw.levels[names.index(unit.attached_to) + 1:]
                 if not lv.off_chip and lv.kind in ("sram", "bram", "uram")
                 and (not lv.holds or "activation" in lv.holds)), None)


def buffer_level(unit: ComputeUnit, hw: Hardware) -> MemoryLevel:
    try:
        return hw.level(unit.attached_to)
    except KeyError:
        on_chip = [lv for lv in hw.levels if not lv.off_chip]
        return on_chip[0] if on_chip else hw.levels[0]


def _unit_for(om: OpMapping | None, op: Op, hw: Hardware) -> ComputeUnit:
    if om is None:
        return default_unit(op, hw)
    try:
        return hw.unit(om.unit)
    except KeyError:
        names = [u.name for u in hw.compute]
        raise MappingError(f"mapping for op {op.name!r}: unit {om.unit!r} is not in {hw.name}; "
                           f"{did_you_mean(om.unit, names) or 'units: ' + ', '.join(names)}") from None


def loop_nest(op: Op, om: OpMapping) -> tuple[dict[str, int], list[str]]:
    """The loop nest of the tiling's outer level (`om.tiling[0]`) over the tiles its next level
    holds: trip count per dim (the op's size over the next level's tile size, rounded up) and the
    loop order, outermost first (dims the order does not name innermost, in the op's order). The
    refetch factor (`refetch_factor`) and the tile stream (`tiles.tile_stream`) walk the same nest."""
    sizes = op.dim_sizes
    inner = om.tiling[1].tile_sizes
    trips = {d: ceil(n / max(1, inner.get(d, n))) for d, n in sizes.items()}
    order = [d for d in om.tiling[0].loop_order if d in trips]
    order += [d for d in sizes if d not in order]
    return trips, order


def refetch_loop(order: list[str], trips: dict[str, int], dims) -> int:
    """Position in `order` of the innermost loop that indexes one of `dims` and iterates (-1: none):
    an operand indexed by `dims` is fetched again on every iteration of the loops down to it."""
    return max((i for i, d in enumerate(order) if d in dims and trips[d] > 1), default=-1)


def refetch_factor(op: Op, om: OpMapping | None, operand, offchip: str) -> float:
    """How many times an operand crosses the off-chip boundary relative to once, under the
    mapping's tiling: the buffer holds one tile (the next level's tile sizes); an operand's tile is
    fetched again on every iteration of the loops at or outside the innermost loop that indexes it
    (Timeloop-style reuse: loops inside it that do not index the operand reuse the tile)."""
    if om is None or len(om.tiling) < 2 or om.tiling[0].level != offchip:
        return 1.0
    trips, order = loop_nest(op, om)
    mine = [d for d in operand.dims if d in trips]
    last = refetch_loop(order, trips, mine)
    fetches = prod(trips[d] for d in order[:last + 1])
    compulsory = prod(trips[d] for d in mine)
    return max(1.0, fetches / max(1, compulsory))


_ROLE_KEYS = {r: "activation" if r in (Role.ACTIVATION, Role.OUTPUT) else r.value for r in Role}


def _role_key(t) -> str:
    return _ROLE_KEYS[t.role]


def _streamed(mapping: Mapping | None) -> frozenset[str]:
    return frozenset(dict(mapping.attrs).get("streamed", ()) or ()) if mapping is not None else frozenset()


def operand_homes(op: Op, om: OpMapping | None, mapping: Mapping | None, hw: Hardware,
                  streamed: frozenset[str] | None = None,
                  level_names: frozenset[str] | None = None) -> tuple[str | None, ...]:
    """Per operand of `op`: the level the mapping places its tensor in, PIPELINE when it streams
    inside a fused group, None when the mapping says nothing about it. `streamed`: the mapping's
    streamed tensors, `level_names`: `hw`'s level names, when the caller has them already."""
    if mapping is None and om is None:
        return (None,) * len(op.operands)
    own = dict(om.attr("placement") or ()) if om is not None else {}
    streamed = _streamed(mapping) if streamed is None else streamed
    names = {lv.name for lv in hw.levels} if level_names is None else level_names
    out: list[str | None] = []
    for o in op.operands:
        t = o.tensor
        role = _role_key(t)
        home = own.get(t.name) or own.get(role)
        if home is None and mapping is not None:
            home = PIPELINE if t.name in streamed else (mapping.placed(t.name) or
                                                       mapping.placed(role))
        if home is not None and home != PIPELINE and home not in names:
            hint = did_you_mean(str(home), sorted(names)) or "levels: " + ", ".join(sorted(names))
            raise MappingError(f"mapping for op {op.name!r}: tensor {t.name!r} is placed in "
                               f"{home!r}, which is not a level of {hw.name}; {hint}")
        out.append(home)
    return tuple(out)


def op_key(op: Op) -> tuple:
    """Everything about `op` but its name, its layer and its tensors' names: ops with one key have
    the same plan, time and action counts wherever they are placed alike (transformer layers)."""
    return (op.kind, op.dims, op.macs, op.flops, op.attrs,
            tuple([(o.dims, o.is_output, o.tensor.shape, o.tensor.dtype_bits, o.tensor.role)
                   for o in op.operands]))


def _mapping_key(om: OpMapping | None):
    """An op's mapping without the names in it (the op's, its fusion root's, its tensors')."""
    if om is None:
        return None
    return (om.unit, om.spatial, om.dataflow, om.tiling,
            tuple(a for a in om.attrs if a[0] != "placement"))


# parts of the one `Hardware`
_BY_IDENTITY = ("unit", "buffer", "offchip", "register_file", "accumulators")
_KEYED = tuple(f.name for f in fields(OpPlan)
               if f.name not in ("index", "op", "producers", "mapping", "op_key_of") + _BY_IDENTITY)
_by_identity, _keyed = attrgetter(*_BY_IDENTITY), attrgetter(*_KEYED)


def plan_op_key(p: OpPlan) -> tuple:
    """`op_key(p.op)`, computed once per op by `plan_ops` (`OpPlan.op_key_of`) when it can."""
    kept = p.op_key_of
    return kept[1] if kept is not None and kept[0] is p.op else op_key(p.op)


def plan_key(p: OpPlan) -> tuple:
    """Every field of a plan but its position and names (`op_key`, the mapping without names, the
    hardware parts by identity): plans with one key time and count alike, within one `Hardware`."""
    return (plan_op_key(p), _mapping_key(p.mapping), *map(id, _by_identity(p)), *_keyed(p))


@dataclass(frozen=True, slots=True)
class _Shape:
    """The part of an op's plan that follows from its `op_key`, mapping and operand homes."""
    dtype: str
    dataflow: str
    buffer: MemoryLevel
    read: int
    write: int
    pim_bytes: int
    resident_bytes: int
    tiles: int
    act_read: int
    residents: tuple[tuple[str, int], ...]
    home: str                            # the off-chip level holding most of the op's traffic
    traffic: tuple[tuple[str, int, int], ...]   # (off-chip level, read, write) per level
    flash_weight_bytes: int
    flash_wait_states: int
    host: "PipelineAtHost | None" = None     # `pim_host.pipeline_at_host`, PIM ops streamed from DRAM


def _spilled(op: Op, homes: tuple, buf: MemoryLevel) -> frozenset[int]:
    """Operands (by position) of the activations the mapping does not place that the heuristic
    spills off chip: all of them unless in + out fit in half of the unit's buffer."""
    loose = [i for i, (o, h) in enumerate(zip(op.operands, homes))
             if h is None and o.tensor.role in (Role.ACTIVATION, Role.OUTPUT)]
    acts = sum(op.operands[i].tensor.size_bytes for i in loose)
    if buf.off_chip or acts <= buf.capacity_bytes // 2:
        return frozenset()
    return frozenset(loose)


def refetched_inputs(op: Op, homes: tuple, buf: MemoryLevel, hw: Hardware) -> tuple[str | None, ...]:
    """Per operand: the off-chip level whose bytes the mapping's tiling re-fetches for it
    (`refetch_factor`), else None. Inputs at home off chip re-fetch: placed there, weights and KV
    cache without a placement, activations the heuristic spills; never a gather's table or an
    append's cache (they move only the rows they touch). The mapper's cost model charges the
    same re-fetches at the unit's buffer ports (`mapper.costmodel`)."""
    if op.kind in (OpKind.EMBEDDING, OpKind.KV_APPEND):
        return (None,) * len(op.operands)
    off_chip = {lv.name for lv in hw.levels if lv.off_chip}
    spilled = _spilled(op, homes, buf)
    out: list[str | None] = []
    for i, (o, h) in enumerate(zip(op.operands, homes)):
        offsite = h in off_chip or (h is None and o.tensor.role in (Role.WEIGHT, Role.KV_CACHE))
        out.append(None if o.is_output or not (offsite or i in spilled)
                   else (h if h in off_chip else hw.levels[0].name))
    return tuple(out)


def _plan_shape(op: Op, om: OpMapping | None, unit: ComputeUnit, homes: tuple, hw: Hardware,
                off: MemoryLevel, off_chip: set[str]) -> _Shape:
    """The part of an op's plan that follows from its `op_key`, mapping, unit and operand homes."""
    dtype = op_dtype(op, unit)
    buf = buffer_level(unit, hw)
    pairs = list(zip(op.operands, homes))

    def offsite(o, h):       # weights and KV cache without a placement live off chip
        return h in off_chip or (h is None and o.tensor.role in (Role.WEIGHT, Role.KV_CACHE))

    def level_of(h) -> str:  # the off-chip level an off-site operand lives in
        return h if h in off_chip else off.name

    def by_level(pick) -> dict[str, int]:
        out: dict[str, int] = {}
        for i, (o, h) in enumerate(pairs):
            if pick(i, o, h):
                out[level_of(h)] = out.get(level_of(h), 0) + o.tensor.size_bytes
        return out

    weights = sum(o.tensor.size_bytes for o, h in pairs
                  if o.tensor.role is Role.WEIGHT and offsite(o, h))
    kv_read = sum(o.tensor.size_bytes for o, h in pairs
                  if o.tensor.role is Role.KV_CACHE and not o.is_output and offsite(o, h))
    kv_write = sum(o.tensor.size_bytes for o, h in pairs
                   if o.tensor.role is Role.KV_CACHE and o.is_output and offsite(o, h))
    is_act = [o.tensor.role in (Role.ACTIVATION, Role.OUTPUT) for o in op.operands]
    loose = [i for i, (h, a) in enumerate(zip(homes, is_act)) if a and h is None]
    acts = sum(op.operands[i].tensor.size_bytes for i in loose)
    spilled = _spilled(op, homes, buf)
    fits = not spilled
    act_off = [i for i, (h, a) in enumerate(zip(homes, is_act))
               if a and (h in off_chip or i in spilled)]
    act_in_off = sum(op.operands[i].tensor.size_bytes for i in act_off if not op.operands[i].is_output)
    act_out_off = sum(op.operands[i].tensor.size_bytes for i in act_off if op.operands[i].is_output)
    held: dict[str, int] = {}
    if fits and not buf.off_chip and acts:
        held[buf.name] = acts
    for (o, h), a in zip(pairs, is_act):
        if a and h is not None and h != PIPELINE and h not in off_chip:
            held[h] = held.get(h, 0) + o.tensor.size_bytes
    outs = sum(o.tensor.size_bytes for o in op.operands
               if o.is_output and o.tensor.role is not Role.KV_CACHE)
    ins_act = sum(o.tensor.size_bytes for o in op.operands
                  if not o.is_output and o.tensor.role is Role.ACTIVATION)
    if op.kind is OpKind.EMBEDDING:      # a gather reads only the rows it outputs
        weights = min(weights, outs)
    if op.kind is OpKind.KV_APPEND:      # appends the new entries, not the whole cache
        kv_write = min(kv_write, ins_act or kv_write)
        kv_read = 0
    flash_w = {lv: n for lv, n in by_level(lambda i, o, h: o.tensor.role is Role.WEIGHT
                                            and (h is None or h in off_chip)).items()
               if hw.level(lv).kind == "flash" and hw.level(lv).wait_states}
    flash_ws = max((hw.level(lv).wait_states for lv in flash_w), default=0)
    pim = unit.type == "pim_bank" and buf is off
    traffic: dict[str, list[int]] = {}
    if pim:
        # in-bank MACs: the inputs are broadcast to the banks and the results read back over
        # the host link, wherever the activations live on the host side
        act_all = sum(o.tensor.size_bytes for o, a in zip(op.operands, is_act) if a)
        read, write, pim_bytes = (act_all - outs), outs + kv_write, weights + kv_read
        held = {}
        if not pim_bytes:   # streamed from the DRAM arrays: "@pipeline" tensors at the host
            from .pim_host import pipeline_at_host
            host = pipeline_at_host(op, homes, hw)
            read -= host.read_bytes
            write -= host.write_bytes
    else:
        extra = 0.0      # re-fetches the mapping's tiling and loop order cause
        extra_at: dict[str, float] = {}
        if om is not None:
            for o, lv in zip(op.operands, refetched_inputs(op, homes, buf, hw)):
                if lv is not None:
                    f = refetch_factor(op, om, o, off.name)
                    extra += (f - 1.0) * o.tensor.size_bytes
                    extra_at[lv] = extra_at.get(lv, 0.0) + (f - 1.0) * o.tensor.size_bytes
        read = weights + kv_read + act_in_off + int(extra)
        write, pim_bytes = kv_write + act_out_off, 0
        kv = Role.KV_CACHE
        parts = [  # (total bytes, raw bytes per level it is shared by, read?)
            (weights, by_level(lambda i, o, h: o.tensor.role is Role.WEIGHT and offsite(o, h)), True),
            (kv_read, by_level(lambda i, o, h: o.tensor.role is kv and not o.is_output
                               and offsite(o, h)), True),
            (kv_write, by_level(lambda i, o, h: o.tensor.role is kv and o.is_output
                                and offsite(o, h)), False),
            (act_in_off, by_level(lambda i, o, h: i in act_off and not o.is_output), True),
            (act_out_off, by_level(lambda i, o, h: i in act_off and o.is_output), False),
            (int(extra), {lv: int(round(v)) for lv, v in extra_at.items()}, True)]
        for total, at, is_read in parts:
            for lv, n in _split(total, at).items():
                traffic.setdefault(lv, [0, 0])[0 if is_read else 1] += n
    tiles = 0
    if om is not None and om.tiling:
        inner = om.tiling[-1].tile_sizes
        sizes = op.dim_sizes
        tiles = prod(ceil(sizes[d] / max(1, inner.get(d, sizes[d]))) for d in sizes)
    df = om.dataflow if om is not None else (unit.dataflows[0] if unit.dataflows else "none")
    if pim or sum(map(sum, traffic.values())) != read + write:
        traffic = {off.name: [read, write]} if read or write else {}
    home = max(traffic, key=lambda lv: (sum(traffic[lv]), lv == off.name), default=off.name)
    return _Shape(dtype=dtype, dataflow=df, buffer=buf, read=int(read), write=int(write),
                  pim_bytes=int(pim_bytes), resident_bytes=int(sum(held.values())), tiles=tiles,
                  act_read=int(0 if pim else act_in_off),
                  residents=tuple(sorted((k, int(v)) for k, v in held.items() if v)),
                  home=home, traffic=tuple((lv, int(r), int(w)) for lv, (r, w) in traffic.items() if r or w),
                  flash_weight_bytes=int(sum(flash_w.values())), flash_wait_states=int(flash_ws),
                  host=host if pim and not pim_bytes else None)


def plan_ops(graph: OpGraph, hw: Hardware, mapping: Mapping | None, stack=None) -> list[OpPlan]:
    """Every op's plan in order. On a GPU, `stack` (a `stack.SoftwareStack` or its name; default
    `graph`) decides which ops run as one kernel (`gpu_kernels`) and each plan's `kernel_s`; a
    stack running standard attention unfuses the mapper's attention groups (`standard_attention`).
    Ops alike (`op_key`, mapping, homes) are planned once."""
    from .stack import software_stack
    st = software_stack(stack)
    if st.attention == "standard" and mapping is not None:
        mapping = standard_attention(graph, hw, mapping)
    by_name = {m.op: m for m in (mapping.ops if mapping is not None else ())}
    off = hw.levels[0]
    off_chip = {lv.name for lv in hw.levels if lv.off_chip}
    index: dict[str, int] = {}
    plans: list[OpPlan] = []
    streamed_tensors = _streamed(mapping)
    shapes: dict[tuple, _Shape] = {}
    nocs: dict[tuple, NocTraffic | None] = {}
    unit_parts: dict[tuple, tuple] = {}
    level_names = frozenset(lv.name for lv in hw.levels)
    for op in ops_in_order(graph):
        om = by_name.get(op.name)
        unit = _unit_for(om, op, hw)
        homes = operand_homes(op, om, mapping, hw, streamed_tensors, level_names)
        ok = op_key(op)
        key = (ok, _mapping_key(om), homes, id(unit))
        shape = shapes.get(key)
        if shape is None:
            shape = shapes[key] = _plan_shape(op, om, unit, homes, hw, off, off_chip)
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
        from .timing.sm import kernel_seconds
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
    shape = _plan_shape(op, None, unit, homes, hw, off, off_chip)
    return _plan(0, op, unit, shape, hw, homes, dataflow=dataflow, producers=())


def _unit_parts(hw: Hardware, unit: ComputeUnit, home: str) -> tuple:
    """(register file, accumulators, off-chip level) of a plan on `unit` whose traffic is mostly
    at `home`: the parts of `hw` a plan names."""
    return (register_file(hw.levels, unit.type, unit.attached_to), accumulator_level(hw, unit),
            hw.level(home))


def _plan(index: int, op: Op, unit: ComputeUnit, shape: _Shape, hw: Hardware, homes: tuple,
          parts: tuple | None = None, **rest) -> OpPlan:
    """An op's plan from its shape (`_plan_shape`) and the unit's parts of `hw` (`_unit_parts`,
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
