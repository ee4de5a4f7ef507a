"""Thin wrapper over `archsim.kernels.costmodel`: turns (op, hardware, unit, mapping) into arrays,
calls the Numba kernels, and turns their output back into `Cost` values.

Hardware numbers used here all come from the `Hardware` description (its YAML carries the sources):
level bandwidths and per-byte energies, unit MAC rates, array shapes, pipeline depth, II, launch
overhead, DRAM tRCD/tRP and activation energy for PIM banks.
"""
from __future__ import annotations

from dataclasses import dataclass
from math import prod

import numpy as np

from archsim.errors import MappingError
from archsim.hardware import Hardware
from archsim.ir import Op, vector_ops_per_element
from archsim.mapping import OpMapping

from .cost import Cost
from .mapspace import DF_CODES, UNIT_CODES, Space, build_space, op_dtype, unit_rate

__all__ = ["Arrays", "arrays_for", "score", "evaluate", "cost_of_genome", "analytic_cost",
           "OBJECTIVES"]

OBJECTIVES = {"latency": 0, "energy": 1, "edp": 2}


@dataclass(frozen=True, slots=True)
class Arrays:
    """Numpy inputs of the kernels for one Space (not hashable; built once per search)."""
    sizes: np.ndarray
    vals: np.ndarray
    perms: np.ndarray
    opt_df: np.ndarray
    opt_tdim: np.ndarray
    opt_tile: np.ndarray
    opt_order: np.ndarray
    inc: np.ndarray
    eb: np.ndarray
    is_out: np.ndarray
    home: np.ndarray
    keep: np.ndarray
    cap: np.ndarray
    bw: np.ndarray
    rd_pj: np.ndarray
    wr_pj: np.ndarray
    dbuf: np.ndarray
    up: np.ndarray
    port: np.ndarray                 # on-chip port bytes per dataflow code, rates (see the kernel)
    refetch: np.ndarray              # per operand: its tiling re-fetches enter the unit's buffer
    port_levels: tuple[str, ...] = ()   # names of the port array's levels

    @property
    def problem(self) -> tuple:
        return (self.inc, self.eb, self.is_out, self.home, self.keep, self.cap, self.bw, self.rd_pj,
                self.wr_pj, self.dbuf, self.up, self.port, self.refetch)

    @property
    def decoding(self) -> tuple:
        return (self.sizes, self.vals, self.perms, self.opt_df, self.opt_tdim, self.opt_tile,
                self.opt_order)


def _kernels():
    """The Numba cost-model kernels, imported on first use: a run whose mappings all come from
    the cache never imports Numba (a few hundred ms of a process's start)."""
    from archsim.kernels import costmodel
    return costmodel


def _unit_params(space: Space) -> np.ndarray:
    K = _kernels()
    op, hw, unit = space.op, space.hw, space.unit
    dtype = op_dtype(op, unit)
    up = np.zeros(K.N_UP)
    shape = tuple(unit.shape) + (1, 1)
    freq = unit.freq_hz
    up[K.U_TYPE] = UNIT_CODES[unit.type]
    up[K.U_ROWS], up[K.U_COLS] = shape[0], shape[1]
    up[K.U_MPC] = max(unit_rate(unit, dtype), 1e-9)
    up[K.U_COUNT] = max(unit.count, 1)
    up[K.U_DEPTH] = unit.pipeline_depth
    up[K.U_II] = max(unit.initiation_interval, 1)
    e_mac = dict(unit.energy_pj_per_mac)
    up[K.U_EMAC] = e_mac.get(dtype, next(iter(e_mac.values()), 0.0))
    inner = hw.levels[space.path[-1]]
    points = prod(space.sizes)
    if op.kind.is_contraction:
        up[K.U_OPP] = 1.0
        up[K.U_MACS] = op.macs or points
    else:
        up[K.U_OPP] = float(vector_ops_per_element(op.kind))   # as the engine charges it
        up[K.U_MACS] = points * up[K.U_OPP]
    if unit.type == "pim_bank":
        dram = inner.dram
        ebw = max(o.tensor.dtype_bits for o in op.inputs) / 8
        if dram is not None:
            act = (dram.trcd + dram.trp) * dram.tck_s * freq
            row_elems = dram.row_size_bytes / ebw
            # fewer PIM units per channel than banks: a row burst's precharge and activation
            # overlap the bursts in the other bank sets (as `engine.analytic._pim_s` times them)
            sets = max(1, dram.banks_per_channel // max(1, unit.count // max(1, dram.channels)))
            if sets > 1:
                burst = row_elems / max(unit_rate(unit, dtype), 1e-9)
                act = max(0.0, (burst + act) / sets - burst)
            up[K.U_ACT_CYC] = act
            up[K.U_ROW_ELEMS] = row_elems
            up[K.U_ACT_PJ] = dram.act_energy_pj
    up[K.U_LAUNCH] = unit.launch_overhead_s * freq
    up[K.U_STATIC_PJ] = hw.static_power_w * 1e12 / freq
    return up


def _port_arrays(space: Space, up: np.ndarray):
    """The engine's on-chip port bytes of the op (`engine.ports.port_bytes` on the op's plan
    before tiling, one per dataflow the unit offers: operands, fold traffic, register file) and
    the levels' port rates, so the kernel's port time is the engine's analytic `port_seconds`;
    which operands' tiling re-fetches enter the unit's buffer (`engine.plan.refetched_inputs`);
    and the register file's access energy (the level traffic does not price it). Sets
    up[U_PORT_BUF]. Returns (port, refetch, level names)."""
    from archsim.engine.actions import register_file_counts
    from archsim.engine.analytic import in_place
    from archsim.engine.plan import plan_one, refetched_inputs
    from archsim.engine.ports import port_bytes, port_rate_bytes_per_s
    K = _kernels()
    op, hw, unit = space.op, space.hw, space.unit
    homes = space.placed or (None,) * len(op.operands)
    dataflows = dict.fromkeys(o.dataflow for o in space.options)
    plans = {DF_CODES.get(df, 0): plan_one(op, hw, unit, df, homes) for df in dataflows}
    moved = {code: port_bytes(p, hw) for code, p in plans.items()}
    first = next(iter(plans.values()))
    buf = first.buffer
    levels = sorted(set().union(*moved.values()) | ({hw.level_index(buf.name)} if not buf.off_chip
                                                     else set()))
    port = np.zeros((K.N_DF + 1, len(levels) + 1))
    for j, li in enumerate(levels):
        port[K.N_DF, j] = port_rate_bytes_per_s(hw.levels[li]) / unit.freq_hz
    port[K.N_DF, len(levels)] = 1.0
    for code in range(K.N_DF):
        p = plans.get(code, first)
        for j, li in enumerate(levels):
            port[code, j] = moved.get(code, moved[DF_CODES.get(first.dataflow, 0)]).get(li, 0.0)
        rf = p.register_file
        for action, n in register_file_counts(p).items():
            port[code, len(levels)] += n * (rf.read_energy_pj_per_byte if action.endswith(".read")
                                            else rf.write_energy_pj_per_byte)
    up[K.U_PORT_BUF] = levels.index(hw.level_index(buf.name)) if not buf.off_chip else -1
    refetch = np.array([lv is not None and not buf.off_chip and not in_place(first, hw.level(lv))
                        for lv in refetched_inputs(op, homes, buf, hw)], dtype=np.uint8)
    return port, refetch, tuple(hw.levels[li].name for li in levels)


def arrays_for(space: Space) -> Arrays:
    op, hw = space.op, space.hw
    nd = len(space.sizes)
    width = max(len(v) for v in space.values)
    vals = np.array([list(v) + [v[-1]] * (width - len(v)) for v in space.values], dtype=np.int64)
    levels = [hw.levels[i] for i in space.path]
    freq = space.unit.freq_hz
    bw = np.array([max(lv.bandwidth_bytes_per_s, 1.0) / freq for lv in levels])
    if space.unit.type == "pim_bank":   # banks read their own rows: internal, not pin, bandwidth
        ebw = max(o.tensor.dtype_bits for o in op.inputs) / 8
        bw[-1] = max(bw[-1], space.unit.count * space.unit.shape[0] * ebw)
    roles = ["activation" if o.is_output else o.tensor.role.value for o in op.operands]
    keep = np.array([[1 if (not lv.holds or r in lv.holds) else 0 for lv in levels] for r in roles],
                    dtype=np.uint8)
    opts = space.options
    up = _unit_params(space)
    port, refetch, port_levels = _port_arrays(space, up)
    return Arrays(
        sizes=np.array(space.sizes, dtype=np.int64), vals=vals,
        perms=np.array(space.perms, dtype=np.int64).reshape(len(space.perms), nd),
        opt_df=np.array([DF_CODES[o.dataflow] for o in opts], dtype=np.int64),
        opt_tdim=np.array([o.t_dim for o in opts], dtype=np.int64),
        opt_tile=np.array([o.tile for o in opts], dtype=np.int64).reshape(len(opts), nd),
        opt_order=np.array([o.inner_order for o in opts], dtype=np.int64).reshape(len(opts), nd),
        inc=np.array([[d in o.dims for d in space.dim_names] for o in op.operands],
                     dtype=np.uint8),
        eb=np.array([o.tensor.dtype_bits / 8 for o in op.operands]),
        is_out=np.array([o.is_output for o in op.operands], dtype=np.uint8),
        home=np.array(space.homes, dtype=np.int64), keep=keep,
        cap=np.array([float(_outer_bytes(hw) if i == 0 and lv.off_chip else lv.size_bytes)
                      for i, lv in enumerate(levels)]),
        bw=bw,
        rd_pj=np.array([lv.read_energy_pj_per_byte for lv in levels]),
        wr_pj=np.array([lv.write_energy_pj_per_byte for lv in levels]),
        dbuf=np.array([0] + [1] * (len(levels) - 1), dtype=np.uint8),
        up=up, port=port, refetch=refetch, port_levels=port_levels,
    )


def _outer_bytes(hw) -> int:
    """Capacity behind the tiling's outermost (off-chip) level: every off-chip level together (a
    board's internal flash, QSPI flash and SDRAM; the placement decides which tensor is where)."""
    return sum(lv.size_bytes for lv in hw.levels if lv.off_chip)


def score(arrays: Arrays, genomes: np.ndarray, objective: str = "edp") -> np.ndarray:
    """Scores[n, 2] per genome: the objective, then its tie-break (see
    `archsim.kernels.costmodel.score_genomes`); lower is better, compared lexicographically by
    `mapper.search.order`; +inf when the candidate does not fit."""
    K = _kernels()
    return K.score_genomes(np.ascontiguousarray(genomes, dtype=np.int64), OBJECTIVES[objective],
                           *arrays.decoding, *arrays.problem)


def evaluate(arrays: Arrays, genomes: np.ndarray):
    """Full outputs (out, reads, writes) per genome."""
    K = _kernels()
    return K.evaluate_genomes(np.ascontiguousarray(genomes, dtype=np.int64), *arrays.decoding,
                              *arrays.problem)


def _to_cost(space: Space, arrays: Arrays, out: np.ndarray, reads: np.ndarray,
             writes: np.ndarray) -> Cost:
    K = _kernels()
    names = [space.hw.levels[i].name for i in space.path]
    cycles = int(out[K.O_CYCLES])
    code = int(out[K.O_BOUND])
    bound = ("compute" if code == 0 else "memory:" + names[code - 1] if code > 0
             else "ports:" + arrays.port_levels[-code - 1])
    return Cost(cycles=cycles, energy_pj=float(out[K.O_ENERGY]),
                reads_bytes=tuple((n, float(r)) for n, r in zip(names, reads)),
                writes_bytes=tuple((n, float(w)) for n, w in zip(names, writes)),
                utilization=float(out[K.O_UTIL]), bound=bound,
                latency_s=cycles / space.unit.freq_hz, compute_cycles=int(out[K.O_COMPUTE]),
                macs=int(space.op.macs), port_s=float(out[K.O_PORT]) / space.unit.freq_hz)


def cost_of_genome(space: Space, arrays: Arrays, genome) -> tuple[Cost, int, float]:
    """(Cost, failing path position or -1, bytes needed there)."""
    K = _kernels()
    out, reads, writes = evaluate(arrays, np.asarray([genome]))
    return (_to_cost(space, arrays, out[0], reads[0], writes[0]), int(out[0, K.O_FIT_LEVEL]),
            float(out[0, K.O_NEED]))


def explicit_arrays(space: Space, m: OpMapping):
    """An OpMapping as the explicit kernel inputs (tiles[1, nl+1, nd], orders[1, nl, nd], df, t)."""
    names = list(space.dim_names)
    nl, nd = space.n_levels, len(names)
    if len(m.tiling) != nl:
        raise MappingError(f"{m.op}: mapping has {len(m.tiling)} tiling levels, the path to unit "
                           f"{m.unit!r} has {nl}")
    tiles = np.ones((1, nl + 1, nd), dtype=np.int64)
    orders = np.zeros((1, nl, nd), dtype=np.int64)
    for i, lt in enumerate(m.tiling):
        sizes = lt.tile_sizes
        for d, n in enumerate(names):
            tiles[0, i, d] = sizes.get(n, space.sizes[d] if i == 0 else tiles[0, i - 1, d])
        order = [names.index(x) for x in lt.loop_order if x in names]
        order += [d for d in range(nd) if d not in order]
        orders[0, i] = order
    spatial = dict(m.spatial)
    for d, n in enumerate(names):
        tiles[0, nl, d] = spatial.get(n, 1)
    df = DF_CODES.get(m.dataflow, 0)
    t_dim = -1
    if space.unit.type == "systolic":
        spatial_tile = tuple(int(x) for x in tiles[0, nl])
        match = [o.t_dim for o in space.options
                 if o.dataflow == m.dataflow and tuple(o.tile) == spatial_tile]
        t_dim = match[0] if match else int(orders[0, nl - 1, -1])
    return tiles, orders, np.array([df], dtype=np.int64), np.array([t_dim], dtype=np.int64)


def analytic_cost(op: Op, op_mapping: OpMapping, hw: Hardware,
                  placement: dict[str, str] | None = None) -> Cost:
    """Cost of `op` under a fixed `op_mapping` on `hw` (the engine's analytic fidelity). The
    tensor placement defaults to the one `map_graph` recorded in `op_mapping.attrs["placement"]`
    (role or tensor name → level, "@pipeline" for tensors streamed inside a fused group)."""
    K = _kernels()
    if placement is None and op_mapping.attr("placement") is not None:
        placement = dict(op_mapping.attr("placement"))
    try:
        unit = hw.unit(op_mapping.unit)
    except KeyError:
        from archsim.errors import did_you_mean
        raise MappingError(f"{op.name}: unknown compute unit {op_mapping.unit!r}; "
                           f"{did_you_mean(op_mapping.unit, [u.name for u in hw.compute])}") from None
    space = build_space(op, hw, unit, placement)
    arrays = arrays_for(space)
    tiles, orders, dfs, tds = explicit_arrays(space, op_mapping)
    out, reads, writes = K.evaluate_explicit(tiles, orders, dfs, tds, *arrays.problem)
    return _to_cost(space, arrays, out[0], reads[0], writes[0])
