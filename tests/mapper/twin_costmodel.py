"""Plain-Python twin of archsim.kernels.costmodel._eval_one (same formulas, no numpy, no Numba).
Used to check the kernel on random candidates; kept independent of the kernel's code."""
from __future__ import annotations

import math

SYSTOLIC, VECTOR, PIM_BANK = 0, 1, 2
DF_WS, DF_IS = 2, 3


def cdiv(a, b):
    return -(-int(a) // int(b))


def eval_one(tiles, orders, inc, eb, is_out, home, keep, cap, bw, rd_pj, wr_pj, dbuf, up, df, t_dim,
             port, refetch):
    """port[df][l] bytes through port level l (row 4: rates; last column: extra energy),
    refetch[o]: operand o's off-chip re-fetches enter the buffer (port level up[8])."""
    nl, nd, no = len(cap), len(tiles[0]), len(inc)
    reads, writes = [0.0] * nl, [0.0] * nl
    fit_level, need_bytes = -1, 0.0
    for i in range(nl):
        need = 0.0
        for o in range(no):
            if home[o] > i or (home[o] < i and not keep[o][i]):
                continue
            row = 0 if home[o] == i else i
            b = eb[o] * math.prod(tiles[row][d] for d in range(nd) if inc[o][d])
            need += b * (2 if home[o] < i and dbuf[i] else 1)
        if need > cap[i] and fit_level < 0:
            fit_level, need_bytes = i, need

    def trips(p, d):
        return cdiv(tiles[p][d], tiles[p + 1][d])

    sent, prologue, refetched = [0.0] * nl, 0.0, 0.0
    for i in range(1, nl + 1):
        p = i - 1
        for o in range(no):
            if home[o] > p or (i < nl and not keep[o][i]):
                continue
            m = 1.0
            for j in range(p):   # every outer level: all non-indexing trips
                m *= math.prod(trips(j, d) for d in range(nd) if not inc[o][d])
            idx = [k for k in range(nd) if inc[o][orders[p][k]]
                   and (trips(p, orders[p][k]) > 1 or (i == nl and orders[p][k] == t_dim))]
            last = idx[-1] if idx else -1
            m *= math.prod(trips(p, orders[p][k]) for k in range(last + 1) if not inc[o][orders[p][k]])
            if i == 1 and nl > 1 and refetch[o]:
                refetched += (m - 1) * eb[o] * math.prod(tiles[0][d] for d in range(nd) if inc[o][d])
            q = p
            while q > home[o] and not keep[o][q]:
                q -= 1
            vol = eb[o] * math.prod(tiles[0][d] for d in range(nd) if inc[o][d])
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
                    prologue += eb[o] * math.prod(tiles[i][d] for d in range(nd) if inc[o][d]) / bw[q]
    mem = max(sent[q] / bw[q] for q in range(nl))
    visits = math.prod(trips(i - 1, d) for i in range(1, nl) for d in range(nd))
    inner = nl - 1
    utype, rows, cols, mpc, count = int(up[0]), up[1], up[2], up[3], up[4]
    depth, ii, emac, opp, macs = up[5], up[6], up[7], up[9], up[10]
    acts = 0.0
    if utype == SYSTOLIC:
        folds = math.prod(cdiv(tiles[inner][d], tiles[nl][d]) for d in range(nd) if d != t_dim)
        t_len = tiles[inner][t_dim] if t_dim >= 0 else 1
        fill = rows + cols - 2 + (rows if df in (DF_WS, DF_IS) else 0)
        compute = math.ceil(visits / count) * folds * (t_len + fill) - 1
    elif utype == PIM_BANK:
        acc = math.prod(cdiv(tiles[inner][d], tiles[nl][d]) for d in range(nd))
        if up[12] > 0:
            acts = math.ceil(acc * rows / up[12])
        compute = visits * (acc * opp * rows / mpc + acts * up[11])
    else:
        padded = math.prod(cdiv(tiles[inner][d], tiles[nl][d]) * tiles[nl][d] for d in range(nd))
        compute = math.ceil(visits / count) * (padded * opp / mpc * ii + depth)
    compute = max(compute + up[14], 1.0)
    row = port[df if df < 4 else 0]
    moved = [b + (refetched if q == int(up[8]) else 0.0) for q, b in enumerate(row[:-1])]
    port_cycles = max([b / r for b, r in zip(moved, port[4])] + [0.0])
    cycles = math.ceil(max(compute, mem, port_cycles) + prologue)
    energy = macs * emac + up[15] * cycles + sum(r * e for r, e in zip(reads, rd_pj)) \
        + sum(w * e for w, e in zip(writes, wr_pj)) + row[-1]
    if utype == PIM_BANK:
        energy += acts * visits * up[13] * count
    return {"cycles": cycles, "energy": energy, "compute": compute, "fit_level": fit_level,
            "port_cycles": port_cycles,
            "need": need_bytes, "reads": reads, "writes": writes}


def score_row(res, objective):
    """Twin of the kernel's score row: the objective, then its tie-break (energy for latency;
    cycles for energy and EDP); (inf, inf) when the candidate does not fit."""
    if res["fit_level"] >= 0:
        return (math.inf, math.inf)
    cycles, energy = res["cycles"], res["energy"]
    return {"latency": (cycles, energy), "energy": (energy, cycles),
            "edp": (cycles * energy, cycles)}[objective]
