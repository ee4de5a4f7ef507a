"""The mapspace of one op on one compute unit: legal tilings per memory level, loop orders, and the
spatial options of the unit (systolic dataflows, SIMD lane dim, DSP rows×cols, PIM banks×lanes).

A candidate is a *genome* of small integers — [spatial option, tile index per (on-chip level, dim),
loop-order index per level] — so search strategies can work on it without knowing any of this.
`Space.decode` turns a genome into an `OpMapping`; tiles are clipped to their parent so every genome
decodes to a legal nest, and `Space.prune` drops genomes whose clipping would duplicate another.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache
from itertools import permutations
from math import isqrt, prod

import numpy as np

from archsim.hardware import ComputeUnit, Hardware
from archsim.hardware.ops import GENERAL_UNITS, unit_runs_kind
from archsim.ir import Op, Role
from archsim.mapping import LevelTiling, OpMapping

from .search.nesting import Nesting

__all__ = ["Space", "build_space", "op_dtype", "roles_of", "unit_can_run", "path_levels",
           "default_homes", "MAX_VALUES", "PIPELINE", "unit_rate", "GENERAL_UNITS"]

MAX_VALUES = 12      # tile sizes considered per dim
PIPELINE = "@pipeline"   # placement of a tensor that stays inside a fused op group
MAX_PERMS = 24

_UNIT_CODES = {"systolic": 0, "vector": 1, "pim_bank": 2, "dsp_array": 3, "scalar_core": 4, "sm": 5}
_DF_CODES = {"none": 0, "os": 1, "ws": 2, "is": 3, "rs": 1}


def op_dtype(op: Op, unit: ComputeUnit | None = None) -> str:
    """The dtype name the op computes in: weights' width if it has weights, else its widest input."""
    ins = op.inputs or op.operands
    weights = [o for o in ins if o.tensor.role is Role.WEIGHT]
    bits = max(o.tensor.dtype_bits for o in (weights or ins))
    names = {32: ("fp32",), 16: ("bf16", "fp16", "int16"), 8: ("int8", "fp8"), 4: ("int4",),
             2: ("int2", "ternary")}.get(bits, ("int8",))
    if unit is not None:
        for n in names:
            if dict(unit.macs_per_cycle).get(n):
                return n
    return names[0]


def unit_rate(unit: ComputeUnit, dtype: str) -> float:
    """MACs per cycle per instance for `dtype`; a dtype the unit lacks runs at its slowest listed
    rate (assumption: emulated through a supported wider type)."""
    rate = unit.macs_per_cycle_for(dtype)
    if rate > 0:
        return rate
    rates = [r for _, r in unit.macs_per_cycle if r > 0]
    return min(rates) if rates else 0.0


def unit_can_run(unit: ComputeUnit, op: Op, strict_ops: bool = True, any_type: bool = False) -> bool:
    """Whether `unit` can run `op` (`archsim.hardware.ops.unit_runs_kind`, and a MAC rate for it).
    With strict_ops=False a general-purpose unit ignores its declared `ops` list (the fallback when
    no unit lists the op kind); with any_type=True any unit with a MAC rate takes it (last resort on
    chips without a vector unit, e.g. Eyeriss)."""
    if unit_rate(unit, op_dtype(op, unit)) <= 0:
        return False
    if any_type or (not strict_ops and unit.type in GENERAL_UNITS):
        return True                  # a general-purpose unit's type runs every kind
    return unit_runs_kind(unit, op.kind)


def path_levels(hw: Hardware, unit: ComputeUnit) -> tuple[int, ...]:
    """Indices of the memory levels an op on `unit` moves data through, outermost first. Of several
    off-chip levels (a board's internal flash, QSPI flash and SDRAM are siblings, not nested) the
    tiling sees the outermost: the engine times each off-chip level's own bytes."""
    return tuple(i for i in range(hw.level_index(unit.attached_to) + 1)
                 if i == 0 or not hw.levels[i].off_chip)


def default_homes(hw: Hardware, op: Op, path: tuple[int, ...],
                  placement: dict[str, str] | None = None) -> tuple[int, ...]:
    """Per operand: the path position where the whole tensor lives (placement first, then the
    outermost level allowed to hold its role)."""
    placement = placement or {}
    homes = []
    for o in op.operands:
        role = "output" if o.is_output else o.tensor.role.value
        key_role = "activation" if role == "output" else role
        where = placement.get(o.tensor.name) or placement.get(key_role)
        pos = None
        if where == PIPELINE:
            homes.append(len(path))   # streamed inside a fused group: never materialised
            continue
        if where is not None:
            idx = hw.level_index(where)
            if idx in path:
                pos = path.index(idx)
            elif hw.levels[idx].off_chip and hw.levels[path[0]].off_chip:
                pos = 0          # another off-chip level (a board's QSPI flash, SDRAM): the outermost

        if pos is None:
            pos = len(path) - 1
            for j, li in enumerate(path):
                holds = hw.levels[li].holds
                if not holds or key_role in holds:
                    pos = j
                    break
        homes.append(pos)
    return tuple(homes)


def roles_of(op: Op) -> dict[str, int]:
    """GEMM roles (m, n, k, batch) → the largest op dim playing it (index), -1 when absent.
    Operand A is the activation ("ifmap"), B the weight/second input ("filter")."""
    names = [d for d, _ in op.dims]
    sizes = dict(op.dims)
    ins = list(op.inputs)
    ins.sort(key=lambda o: o.tensor.role is Role.WEIGHT)
    a = set(ins[0].dims) if ins else set()
    b = set(ins[1].dims) if len(ins) > 1 else set()
    out = set().union(*(o.dims for o in op.outputs)) if op.outputs else set()
    groups = {
        "m": [d for d in names if d in out and d in a and d not in b],
        "n": [d for d in names if d in out and d in b and d not in a],
        "k": [d for d in names if d not in out],
        "batch": [d for d in names if d in out and d in a and d in b],
    }
    if not b:  # unary ops: treat every output dim as m
        groups["m"] = [d for d in names if d in out]
    roles = {}
    for r, ds in groups.items():
        roles[r] = names.index(max(ds, key=lambda d: (sizes[d], -names.index(d)))) if ds else -1
    return roles


#: trial division for tile sizes stops here: exact divisors for every dim ≤ 2^40, and a bounded
#: search (these, their cofactors and powers of two) for larger ones, which fit no buffer anyway.
MAX_TRIAL_DIVISOR = 2 ** 20


@lru_cache(maxsize=4096)
def _tile_values(n: int) -> tuple[int, ...]:
    """Tile sizes considered for a dim of `n` (every space of a model asks for the same few dims:
    kept per process)."""
    return tuple(_tile_values_of(n))


def _tile_values_of(n: int) -> list[int]:
    vals = {1, n}
    vals.update(d for d in range(1, min(isqrt(n), MAX_TRIAL_DIVISOR) + 1) if n % d == 0)
    vals.update(n // d for d in list(vals) if n % d == 0)
    p = 2
    while p < n:
        vals.add(p)
        p *= 2
    vals = sorted(vals)
    if len(vals) > MAX_VALUES:   # keep a log-spaced subset, always 1 and n
        idx = np.unique(np.round(np.geomspace(1, len(vals), MAX_VALUES)).astype(int) - 1)
        vals = [vals[i] for i in idx]
        if vals[-1] != n:
            vals[-1] = n
    return vals


def _perms(nd: int, inc: np.ndarray) -> list[tuple[int, ...]]:
    if nd <= 4:
        return list(permutations(range(nd)))
    out = [tuple(range(nd))]
    for o in range(inc.shape[0]):  # operand-stationary orders: its dims outer, the others inner
        idx = [d for d in range(nd) if inc[o, d]] + [d for d in range(nd) if not inc[o, d]]
        out.append(tuple(idx))
    for d in range(nd):             # each dim innermost
        out.append(tuple([x for x in range(nd) if x != d] + [d]))
    return list(dict.fromkeys(out))[:MAX_PERMS]


@dataclass(frozen=True, slots=True)
class SpatialOption:
    dataflow: str
    tile: tuple[int, ...]          # array tile per dim
    t_dim: int                     # systolic temporal dim (-1 when none)
    inner_order: tuple[int, ...]   # loop order at the innermost level


@dataclass(frozen=True, slots=True)
class Space:
    """Everything needed to decode genomes for one (op, hardware, unit, placement)."""
    op: Op
    hw: Hardware
    unit: ComputeUnit
    path: tuple[int, ...]            # hardware level indices, outermost first
    homes: tuple[int, ...]           # per operand, position on path
    dim_names: tuple[str, ...]
    sizes: tuple[int, ...]
    values: tuple[tuple[int, ...], ...]
    perms: tuple[tuple[int, ...], ...]
    options: tuple[SpatialOption, ...]
    # per operand: the level its tensor is placed in, PIPELINE, or None (the placement as the
    # engine reads it: `engine.plan.operand_homes`); the cost model's port bytes follow it
    placed: tuple[str | None, ...] = ()

    @property
    def n_levels(self) -> int:
        return len(self.path)

    @property
    def cardinalities(self) -> tuple[int, ...]:
        nl = self.n_levels
        return ((len(self.options),) + tuple(len(v) for v in self.values) * (nl - 1)
                + (len(self.perms),) * (nl - 1))

    @property
    def size(self) -> int:
        return prod(self.cardinalities)

    @property
    def prune(self) -> Nesting:
        """The prune rule (called on genomes: mask of those kept): inner tile indices never
        exceed the outer ones. A value, so the search kernels apply it themselves."""
        return Nesting(self.n_levels, len(self.sizes))

    def decode(self, genome) -> OpMapping:
        g = [int(x) for x in genome]
        nl, nd = self.n_levels, len(self.sizes)
        opt = self.options[g[0]]
        tiles = [list(self.sizes)]
        pos = 1
        for _ in range(1, nl):
            tiles.append([min(self.values[d][g[pos + d]], tiles[-1][d]) for d in range(nd)])
            pos += nd
        orders = [self.perms[g[pos + p]] for p in range(nl - 1)] + [opt.inner_order]
        names = self.dim_names
        tiling = tuple(
            LevelTiling(level=self.hw.levels[self.path[i]].name,
                        tile=tuple((names[d], int(tiles[i][d])) for d in range(nd)),
                        loop_order=tuple(names[d] for d in orders[i]),
                        double_buffer=i > 0)
            for i in range(nl))
        spatial = tuple((names[d], int(opt.tile[d])) for d in range(nd) if opt.tile[d] > 1)
        return OpMapping(op=self.op.name, unit=self.unit.name, spatial=spatial,
                         dataflow=opt.dataflow, tiling=tiling)


def _inner_orders(perms, nd: int) -> list[tuple[int, ...]]:
    """A few innermost-level loop orders: one ending in each dim (that dim varies fastest)."""
    out = [tuple(range(nd))]
    for d in range(nd):
        out.append(next((tuple(p) for p in perms if p[-1] == d), tuple(range(nd))))
    return list(dict.fromkeys(out))


def _options(op: Op, unit: ComputeUnit, nd: int, perms) -> list[SpatialOption]:
    roles = roles_of(op)
    inner_orders = _inner_orders(perms, nd)
    t = unit.type
    shape = tuple(unit.shape) + (1, 1)
    opts: list[SpatialOption] = []

    def inner(*last: int) -> tuple[int, ...]:
        last = tuple(d for d in last if d >= 0)
        return tuple(d for d in range(nd) if d not in last) + last

    if t == "systolic":
        rows, cols = shape[0], shape[1]
        m, n, k = roles["m"], roles["n"], roles["k"]
        # SCALE-Sim's spatio-temporal mapping; row-stationary (Eyeriss) is taken as WS-shaped
        # (reduction along rows, outputs along columns) with no separate preload (assumption)
        table = {"os": (m, n, k), "ws": (k, n, m), "is": (k, m, n), "rs": (k, n, m)}
        dfs = [d for d in (unit.dataflows or ()) if d in table] or ["os", "ws", "is"]
        for df in dfs:
            sr, sc, tdim = table[df]
            tile = [1] * nd
            if sr >= 0:
                tile[sr] = rows
            if sc >= 0:
                tile[sc] = cols
            opts.append(SpatialOption(df, tuple(tile), tdim, inner(sr, sc, tdim)))
    elif t == "pim_bank":
        lanes, banks = shape[0], unit.count
        k = roles["k"]
        for bank_dim in dict.fromkeys(d for d in (roles["n"], roles["batch"], roles["m"]) if d >= 0):
            tile = [1] * nd
            tile[bank_dim] = banks
            if k >= 0:
                tile[k] = lanes
            opts.append(SpatialOption("none", tuple(tile), -1, inner(bank_dim, k)))
    elif t in ("vector", "dsp_array") and nd:
        lanes_a = shape[0]
        lanes_b = shape[1] if t == "dsp_array" and len(unit.shape) > 1 else 1
        sizes = [s for _, s in op.dims]
        cand = sorted(range(nd), key=lambda d: -sizes[d])[:3]
        for da in cand:
            for db in ([x for x in cand if x != da] if lanes_b > 1 else [-1]):
                tile = [1] * nd
                tile[da] = lanes_a
                if db >= 0:
                    tile[db] = lanes_b
                for p in inner_orders:
                    opts.append(SpatialOption("none", tuple(tile), -1, p))
    if not opts:  # scalar_core, sm (and anything left without a spatial option)
        for p in inner_orders:
            opts.append(SpatialOption("none", (1,) * nd, -1, p))
    return list(dict.fromkeys(opts))


def gather_normalised(op: Op) -> Op:
    """A non-contraction op iterates its output only: dims that index no output (an embedding's
    vocabulary, a KV read's unused positions) are gathered, not looped; an operand indexed by such
    a dim is read at the output's points instead."""
    if op.kind.is_contraction or not op.outputs:
        return op
    out_dims = set().union(*(o.dims for o in op.outputs))
    dropped = [d for d, _ in op.dims if d not in out_dims]
    if not dropped or len(dropped) == len(op.dims):    # a scalar output (an ONNX rank-0 op) keeps its
        return op                                       # loops: an empty nest has nothing to tile
    keep = tuple((d, s) for d, s in op.dims if d in out_dims)
    order = tuple(d for d, _ in keep)
    operands = tuple(
        o if not (set(o.dims) & set(dropped)) else replace(o, dims=order)
        for o in op.operands)
    return replace(op, dims=keep, operands=operands)


def build_space(op: Op, hw: Hardware, unit: ComputeUnit,
                placement: dict[str, str] | None = None) -> Space:
    op = gather_normalised(op)
    names = tuple(d for d, _ in op.dims)
    sizes = tuple(int(s) for _, s in op.dims)
    nd = len(names)
    inc = np.array([[d in o.dims for d in names] for o in op.operands], dtype=np.uint8)
    perms = _perms(nd, inc)
    path = path_levels(hw, unit)
    pl = placement or {}
    acts = (Role.ACTIVATION, Role.OUTPUT)
    placed = tuple(pl.get(o.tensor.name)
                   or pl.get("activation" if o.tensor.role in acts else o.tensor.role.value)
                   for o in op.operands)
    homes = default_homes(hw, op, path, placement)
    from archsim.engine.pim_host import host_buffer, pim_streams_from_dram, row_block_fits
    if pim_streams_from_dram(op, unit, hw):
        # a "@pipeline" activation whose row block does not fit the host buffer spills to the
        # DRAM, as the engine plans it (`engine.pim_host.pipeline_at_host`); one that fits lives there
        buf = host_buffer(hw)
        homes = tuple(0 if where == PIPELINE and o.tensor.role in acts
                      and not row_block_fits(o.tensor, buf) else h
                      for h, where, o in zip(homes, placed, op.operands))
    return Space(op=op, hw=hw, unit=unit, path=path, homes=homes,
                 dim_names=names, sizes=sizes, values=tuple(_tile_values(s) for s in sizes),
                 perms=tuple(perms), options=tuple(_options(op, unit, nd, perms)), placed=placed)


UNIT_CODES = _UNIT_CODES
DF_CODES = _DF_CODES
