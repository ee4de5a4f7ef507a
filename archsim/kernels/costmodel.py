"""Numba kernels of the mapper's analytical cost model, batched over candidate mappings.

A candidate is either explicit (`tiles`, `orders`, spatial option) or a *genome* of small integers
decoded here (tile-size indices per level and dim, a loop-order index per level, a spatial option).
`mapper.costmodel` builds the arrays; `tests/mapper/twin_costmodel.py` is the plain-Python twin.

Array conventions (nl = memory levels on the op's path, outermost first; nd = loop dims):
- tiles[nl + 1, nd]: row 0 = full dim sizes (off-chip level), rows 1..nl-1 = tile resident at each
  on-chip level, row nl = the compute unit's spatial tile (array rows/cols, SIMD lanes).
- orders[nl, nd]: at level p, loop order (outer → inner) over the tiles of row p + 1.
- Access model: an operand's tile at boundary p → p+1 is refetched whenever a loop that indexes it
  advances, and kept across the innermost run of loops that do not (stationarity); see `_traffic`.
- unit params `up` (float64): see the U_* indices below.
- Systolic compute follows SCALE-Sim 3's demand-matrix convention: every fold costs
  T + R + C − 2 cycles (OS) or T + 2R + C − 2 (WS/IS, weights/inputs preloaded over R cycles), and
  the whole layer one cycle less.
- On-chip ports (the engine's `engine.ports.port_seconds`, same bytes, same rates): port[df, l] =
  bytes the op moves through port level l under dataflow code df (rows 0..3: operands, fold
  traffic, register file — independent of the tiling), port[4, l] = that level's port rate in
  bytes per unit cycle, port[df, npl] = energy (pJ) of those accesses the level traffic above does
  not price (the register file's); refetch[o] = 1 when the tiling's re-fetches of operand o cross
  the off-chip boundary into the unit's buffer (port level up[U_PORT_BUF]); they add to its bytes.
"""
from __future__ import annotations

import numpy as np
from numba import njit

__all__ = [
    "SYSTOLIC", "VECTOR", "PIM_BANK", "DSP_ARRAY", "SCALAR_CORE", "SM",
    "DF_NONE", "DF_OS", "DF_WS", "DF_IS", "N_UP", "N_OUT", "N_DF",
    "evaluate_explicit", "evaluate_genomes", "score_genomes", "systolic_fold_cycles",
]

SYSTOLIC, VECTOR, PIM_BANK, DSP_ARRAY, SCALAR_CORE, SM = 0, 1, 2, 3, 4, 5
DF_NONE, DF_OS, DF_WS, DF_IS = 0, 1, 2, 3

# unit parameter indices
U_TYPE, U_ROWS, U_COLS, U_MPC, U_COUNT, U_DEPTH, U_II, U_EMAC, U_PORT_BUF, U_OPP, U_MACS, U_ACT_CYC, \
    U_ROW_ELEMS, U_ACT_PJ, U_LAUNCH, U_STATIC_PJ = range(16)
N_UP = 16

# per-candidate scalar outputs
O_CYCLES, O_ENERGY, O_COMPUTE, O_FIT_LEVEL, O_NEED, O_UTIL, O_BOUND, O_PORT = range(8)
N_OUT = 8
N_DF = 4                  # dataflow codes: rows of the port array (its row N_DF holds the rates)


@njit(cache=True, inline="always")
def _cdiv(a, b):
    return (a + b - 1) // b


@njit(cache=True)
def systolic_fold_cycles(t_len, rows, cols, preload):
    """Cycles of one fold on a rows × cols systolic array streaming `t_len` rows (SCALE-Sim 3's
    analytical form, checked against it in tests/mapper/test_scalesim.py): the stream plus the
    array's fill and drain, T + R + C − 2, and R more when the stationary operand is preloaded
    (WS, IS). A layer of n folds takes n × this − 1 cycles. The mapper's cost model and the
    engine's systolic timing both call this one function."""
    return t_len + rows + cols - 2.0 + (rows if preload else 0.0)


@njit(cache=True)
def _eval_one(tiles, orders, inc, eb, is_out, home, keep, cap, bw, rd_pj, wr_pj, dbuf, up, port,
              refetch, df, t_dim, reads, writes, out):
    """Cost of one explicit candidate. Fills reads/writes (bytes per level) and out[N_OUT].
    bw[l] = bytes per cycle level l delivers to the next inner level (the unit for l = nl - 1);
    keep[o, l] = 0 when level l may not hold operand o (it then bypasses that level)."""
    nl = cap.shape[0]
    nd = tiles.shape[1]
    no = inc.shape[0]
    for i in range(nl):
        reads[i] = 0.0
        writes[i] = 0.0
    # capacity (a tensor's home level holds it whole; tiles double-buffered where asked)
    fit_level = -1
    need_bytes = 0.0
    for i in range(nl):
        need = 0.0
        for o in range(no):
            if home[o] > i or (home[o] < i and not keep[o, i]):
                continue
            row = 0 if home[o] == i else i
            v = 1.0
            for d in range(nd):
                if inc[o, d]:
                    v *= tiles[row, d]
            b = v * eb[o]
            if home[o] < i and dbuf[i]:
                b *= 2.0
            need += b
        if need > cap[i] and fit_level < 0:
            fit_level = i
            need_bytes = need
    # traffic per boundary i (level i-1 iterates tiles of row i; i == nl is the compute unit)
    sent = np.zeros(nl)                 # bytes each level delivers inward
    prologue = 0.0
    outer_mult = np.ones(no)            # product over outer levels of non-indexing trips
    refetched = 0.0                     # bytes re-fetched from off chip into the unit's buffer
    for i in range(1, nl + 1):
        p = i - 1
        for o in range(no):
            # multiplicity at level p: loops outside (and including) the innermost indexing loop
            # (a systolic array holds only its stationary operand: the operands it streams along
            # the temporal dim are re-read every fold even when that loop runs once)
            last = -1
            for k in range(nd):
                d = orders[p, k]
                if inc[o, d] and (_cdiv(tiles[p, d], tiles[i, d]) > 1 or (i == nl and d == t_dim)):
                    last = k
            m = outer_mult[o]
            for k in range(last + 1):
                d = orders[p, k]
                if not inc[o, d]:
                    m *= _cdiv(tiles[p, d], tiles[i, d])
            if i == 1 and nl > 1 and refetch[o]:
                compulsory = eb[o]
                for d in range(nd):
                    if inc[o, d]:
                        compulsory *= tiles[0, d]
                refetched += compulsory * (m - 1.0)
            om = outer_mult[o]
            for d in range(nd):
                if not inc[o, d]:
                    om *= _cdiv(tiles[p, d], tiles[i, d])
            outer_mult[o] = om
            if home[o] > p:
                continue
            if i < nl and not keep[o, i]:
                continue
            q = p                       # source: nearest level at or above p that holds o
            while q > home[o] and not keep[o, q]:
                q -= 1
            vol = eb[o]
            tile_b = eb[o]
            for d in range(nd):
                if inc[o, d]:
                    vol *= tiles[0, d]
                    tile_b *= tiles[i, d]
            moved = vol * m
            sent[q] += moved
            if is_out[o]:
                writes[q] += moved
                reads[q] += moved - vol
                if i < nl:
                    reads[i] += moved
                    writes[i] += moved - vol
            else:
                reads[q] += moved
                if i < nl:
                    writes[i] += moved
                    prologue += tile_b / bw[q]
    mem_cycles_max = 0.0
    mem_level = -1
    for q in range(nl):
        c = sent[q] / bw[q]
        if c > mem_cycles_max:
            mem_cycles_max = c
            mem_level = q
    # compute
    visits = 1.0
    for i in range(1, nl):
        for d in range(nd):
            visits *= _cdiv(tiles[i - 1, d], tiles[i, d])
    inner = nl - 1
    utype = int(up[U_TYPE])
    count = up[U_COUNT]
    acts = 0.0
    if utype == SYSTOLIC:
        folds = 1.0
        for d in range(nd):
            if d != t_dim:
                folds *= _cdiv(tiles[inner, d], tiles[nl, d])
        t_len = tiles[inner, t_dim] if t_dim >= 0 else 1
        per_fold = systolic_fold_cycles(t_len, up[U_ROWS], up[U_COLS], df == DF_WS or df == DF_IS)
        compute = np.ceil(visits / count) * folds * per_fold - 1.0
        lanes_total = up[U_ROWS] * up[U_COLS] * count
    elif utype == PIM_BANK:
        accesses = 1.0
        for d in range(nd):
            accesses *= _cdiv(tiles[inner, d], tiles[nl, d])
        lanes = up[U_ROWS]
        if up[U_ROW_ELEMS] > 0:
            acts = np.ceil(accesses * lanes / up[U_ROW_ELEMS])
        compute = visits * (accesses * up[U_OPP] * lanes / up[U_MPC] + acts * up[U_ACT_CYC])
        lanes_total = up[U_MPC] * count
    else:
        padded = 1.0
        for d in range(nd):
            padded *= _cdiv(tiles[inner, d], tiles[nl, d]) * tiles[nl, d]
        per_visit = padded * up[U_OPP] / up[U_MPC] * up[U_II] + up[U_DEPTH]
        compute = np.ceil(visits / count) * per_visit
        lanes_total = up[U_MPC] * count
    compute += up[U_LAUNCH]
    if compute < 1.0:
        compute = 1.0
    # on-chip ports (engine.ports.port_seconds)
    npl = port.shape[1] - 1
    dfr = df if df < N_DF else 0
    port_cycles = 0.0
    port_level = -1
    for q in range(npl):
        b = port[dfr, q]
        if q == int(up[U_PORT_BUF]):
            b += refetched
        c = b / port[N_DF, q]
        if c > port_cycles:
            port_cycles = c
            port_level = q
    cycles = compute if compute > mem_cycles_max else mem_cycles_max
    bound = 0.0 if compute >= mem_cycles_max else mem_level + 1.0
    if port_cycles > cycles:
        cycles = port_cycles
        bound = -1.0 - port_level
    cycles = np.ceil(cycles + prologue)
    energy = up[U_MACS] * up[U_EMAC] + up[U_STATIC_PJ] * cycles + port[dfr, npl]
    for i in range(nl):
        energy += reads[i] * rd_pj[i] + writes[i] * wr_pj[i]
    if utype == PIM_BANK:
        energy += acts * visits * up[U_ACT_PJ] * count
    out[O_CYCLES] = cycles
    out[O_ENERGY] = energy
    out[O_COMPUTE] = compute
    out[O_FIT_LEVEL] = fit_level
    out[O_NEED] = need_bytes
    out[O_UTIL] = up[U_MACS] / (cycles * lanes_total) if cycles > 0 and lanes_total > 0 else 0.0
    out[O_BOUND] = bound          # 0 compute, 1 + index of the limiting level, -1 - port level
    out[O_PORT] = port_cycles


@njit(cache=True)
def evaluate_explicit(tiles, orders, dfs, t_dims, inc, eb, is_out, home, keep, cap, bw, rd_pj,
                      wr_pj, dbuf, up, port, refetch):
    """Batch of explicit candidates: tiles[C, nl+1, nd], orders[C, nl, nd].
    Returns (out[C, N_OUT], reads[C, nl], writes[C, nl])."""
    c_n = tiles.shape[0]
    nl = cap.shape[0]
    out = np.zeros((c_n, N_OUT))
    reads = np.zeros((c_n, nl))
    writes = np.zeros((c_n, nl))
    for c in range(c_n):
        _eval_one(tiles[c], orders[c], inc, eb, is_out, home, keep, cap, bw, rd_pj, wr_pj, dbuf,
                  up, port, refetch, dfs[c], t_dims[c], reads[c], writes[c], out[c])
    return out, reads, writes


@njit(cache=True)
def _decode(g, sizes, vals, perms, opt_df, opt_tdim, opt_tile, opt_order, nl, tiles, orders):
    """Genome → explicit candidate. g = [option, tile idx per (level 1..nl-1, dim), order idx per
    level 0..nl-2]. Tiles are clipped to the parent's tile so every genome is legal-nested."""
    nd = sizes.shape[0]
    opt = g[0]
    for d in range(nd):
        tiles[0, d] = sizes[d]
    pos = 1
    for i in range(1, nl):
        for d in range(nd):
            v = vals[d, g[pos]]
            tiles[i, d] = v if v < tiles[i - 1, d] else tiles[i - 1, d]
            pos += 1
    for d in range(nd):
        tiles[nl, d] = opt_tile[opt, d]
    for p in range(nl - 1):
        for k in range(nd):
            orders[p, k] = perms[g[pos], k]
        pos += 1
    for k in range(nd):
        orders[nl - 1, k] = opt_order[opt, k]
    return opt_df[opt], opt_tdim[opt]


@njit(cache=True)
def evaluate_genomes(genomes, sizes, vals, perms, opt_df, opt_tdim, opt_tile, opt_order, inc, eb,
                     is_out, home, keep, cap, bw, rd_pj, wr_pj, dbuf, up, port, refetch):
    """Batch of genomes → (out[C, N_OUT], reads[C, nl], writes[C, nl])."""
    c_n = genomes.shape[0]
    nl = cap.shape[0]
    nd = sizes.shape[0]
    out = np.zeros((c_n, N_OUT))
    reads = np.zeros((c_n, nl))
    writes = np.zeros((c_n, nl))
    tiles = np.zeros((nl + 1, nd), dtype=np.int64)
    orders = np.zeros((nl, nd), dtype=np.int64)
    for c in range(c_n):
        df, td = _decode(genomes[c], sizes, vals, perms, opt_df, opt_tdim, opt_tile, opt_order, nl,
                         tiles, orders)
        _eval_one(tiles, orders, inc, eb, is_out, home, keep, cap, bw, rd_pj, wr_pj, dbuf, up, port,
                  refetch, df, td, reads[c], writes[c], out[c])
    return out, reads, writes


@njit(cache=True)
def score_genomes(genomes, objective, sizes, vals, perms, opt_df, opt_tdim, opt_tile, opt_order,
                  inc, eb, is_out, home, keep, cap, bw, rd_pj, wr_pj, dbuf, up, port, refetch):
    """Batch of genomes → scores[C, 2] (lower is better, compared lexicographically): column 0 is
    the objective (0 latency = cycles, 1 energy, 2 EDP = cycles × energy), column 1 its tie-break
    (energy for latency; cycles for energy and EDP, so equal — e.g. all-zero — energies fall back
    to the fastest candidate). Both +inf when the candidate does not fit."""
    c_n = genomes.shape[0]
    nl = cap.shape[0]
    nd = sizes.shape[0]
    scores = np.empty((c_n, 2))
    reads = np.zeros(nl)
    writes = np.zeros(nl)
    out = np.zeros(N_OUT)
    tiles = np.zeros((nl + 1, nd), dtype=np.int64)
    orders = np.zeros((nl, nd), dtype=np.int64)
    for c in range(c_n):
        df, td = _decode(genomes[c], sizes, vals, perms, opt_df, opt_tdim, opt_tile, opt_order, nl,
                         tiles, orders)
        _eval_one(tiles, orders, inc, eb, is_out, home, keep, cap, bw, rd_pj, wr_pj, dbuf, up, port,
                  refetch, df, td, reads, writes, out)
        if out[O_FIT_LEVEL] >= 0:
            scores[c, 0] = np.inf
            scores[c, 1] = np.inf
        elif objective == 0:
            scores[c, 0] = out[O_CYCLES]
            scores[c, 1] = out[O_ENERGY]
        elif objective == 1:
            scores[c, 0] = out[O_ENERGY]
            scores[c, 1] = out[O_CYCLES]
        else:
            scores[c, 0] = out[O_CYCLES] * out[O_ENERGY]
            scores[c, 1] = out[O_CYCLES]
    return scores
