"""The two exact skips that make a long DRAM stream cheap (`stream.burst` calls them; Numba).

Steady state: a stream visits every bank once per cycle of nb/span row bursts; when a whole cycle
leaves the channel state equal to the previous cycle's state shifted by Δ, the timing recurrences
(max-plus, time-invariant) repeat it, and whole cycles are advanced by Δ each up to the next
refresh (`steady_state_skip`).

Refresh period: right after a row burst that issued a refresh (all-bank or per-bank), once the
stream has visited every bank, the state — as far as it can still matter (`_canon`) and relative to
the next refresh due — is looked up among the ones kept earlier in the stream at the same phase; a
match Δ earlier means the row bursts in between repeat exactly, refreshes and all, and whole periods
are advanced to the end of the stream (`refresh_period_skip`).

Both compare states through `_canon`, which drops what can no longer bind — notably the read
(write) times a stream of the other mode left in the banks it now streams through: compared raw,
those kept any state from repeating, and a long stream after one of the other mode ran row by row
(issue #20). Fields a period rewrote move by Δ per skipped period; the rest stay as they are, so
the state after a skip is the command loop's. tests/engine/test_steady_state.py and
test_long_streams.py check both equal the row-by-row path."""
from __future__ import annotations

import numpy as np
from numba import njit

from .state import (NEG, P_NBANKS, P_CWL, P_RCD, P_RAS, P_RTP, P_WR, P_REFPB, P_CCDS, P_CCDL,
    P_RRDS, P_RRDL, P_FAW, P_BL, P_CCDAB, P_WTRS, P_WTRL, P_RTW, B_ROW, B_ACT, B_RD, B_WR, B_RDY,
    C_LASTCOL, C_LASTCOL_BG, C_LASTACT, C_LASTACT_BG, C_NEXTREF, C_RING, C_R0, C_REFS, C_ACTS,
    C_MACCOLS, C_ABACTS, C_RINGN, C_REFMASK, C_LASTRD, C_LASTWR, C_PBREFS, N_CHAN, MODE_READ, MODE_WRITE)


@njit(cache=True)
def _turnaround_live(P, chan, mode):
    """Whether the last column of `mode` can still delay a column of the other mode: later columns
    come after the channel's last column, so a turnaround that ends before it no longer binds."""
    if mode == MODE_READ:
        return chan[C_LASTRD] + P[P_RTW] > chan[C_LASTCOL]
    wtr = P[P_WTRL] if P[P_WTRL] > P[P_WTRS] else P[P_WTRS]
    return chan[C_LASTWR] + P[P_CWL] + P[P_BL] + wtr > chan[C_LASTCOL]


@njit(cache=True)
def _times(P, bank_st, bg_last, chan, end, out):
    """Every time-valued field of the channel state, ring in insertion order, into `out`."""
    nb = P[P_NBANKS]
    k = 0
    for b in range(nb):
        for f in (B_ACT, B_RD, B_WR, B_RDY):
            out[k] = bank_st[b, f]
            k += 1
    for g in range(bg_last.shape[0]):
        out[k] = bg_last[g]
        k += 1
    out[k] = chan[C_LASTCOL]
    out[k + 1] = chan[C_LASTACT]
    for j in range(4):
        out[k + 2 + j] = chan[C_R0 + (chan[C_RING] + j) % 4]
    out[k + 6] = chan[C_LASTRD] if _turnaround_live(P, chan, MODE_READ) else NEG
    out[k + 7] = chan[C_LASTWR] if _turnaround_live(P, chan, MODE_WRITE) else NEG
    out[k + 8] = end


@njit(cache=True)
def steady_state_skip(P, bank_st, bg_last, chan, end, r, nrows, m, nt, nb, have_prev, prev, cur,
                      prev_rows, prev_counts, ring, closed, closed_prev):
    """At a cycle boundary (r row bursts done, r % m == 0): when the last whole cycle left the
    channel state equal to the one before shifted by Δ (rows one higher, same refresh counts), as
    far as it can still matter (`_repeats`: a bank's read/write time its ACT already outlasts, as a
    stream of the other mode leaves it, never binds), the max-plus, time-invariant recurrences
    repeat it, so whole cycles are advanced by Δ each, up to the next refresh; fields the cycle
    rewrote move by Δ per cycle, the rest stay. Keeps this cycle's state in prev/prev_rows/
    prev_counts. Returns (r, end)."""
    lc = nt - 9                                 # index of the last column time in `_times`
    _times(P, bank_st, bg_last, chan, end, cur)
    if have_prev:
        delta = cur[lc] - prev[lc]                  # last column moved by Δ
        ok = delta > 0 and chan[C_REFS] == prev_counts[C_REFS] and \
            chan[C_PBREFS] == prev_counts[C_PBREFS]
        if ok:
            for b in range(nb):
                closed[b] = bank_st[b, B_ROW] < 0
                closed_prev[b] = prev_rows[b] < 0
                if bank_st[b, B_ROW] != prev_rows[b] + 1:
                    ok = False
        if ok:
            ok = _repeats(P, prev, cur, nt, nb, bg_last.shape[0], closed_prev, closed, NEG, NEG,
                          delta)
        if ok and chan[C_LASTCOL_BG] == prev_counts[C_LASTCOL_BG] and \
                chan[C_LASTACT_BG] == prev_counts[C_LASTACT_BG]:
            q = (nrows - r) // m
            room = (chan[C_NEXTREF] - 1 - chan[C_LASTACT]) // delta
            if room < q:
                q = room
            if q > 0:
                shift = q * delta
                ring_n = chan[C_RINGN] - prev_counts[C_RINGN]
                for b in range(nb):
                    for f in (B_ACT, B_RD, B_WR, B_RDY):
                        if bank_st[b, f] != prev[4 * b + f - B_ACT]:   # rewritten each cycle
                            bank_st[b, f] += shift
                    bank_st[b, B_ROW] += q
                for g in range(bg_last.shape[0]):
                    if bg_last[g] != prev[4 * nb + g]:
                        bg_last[g] += shift
                for ci in (C_LASTRD, C_LASTWR):   # the turnaround sources, when the cycle wrote them
                    if chan[ci] != prev_counts[ci]:
                        chan[ci] += shift
                chan[C_LASTCOL] += shift
                chan[C_LASTACT] += shift
                rot = (q * ring_n) % 4        # ring slots advance with the tFAW ACTs skipped
                for j in range(4):
                    v = chan[C_R0 + j]
                    ring[(j + rot) % 4] = v + shift if v > NEG // 2 else v
                for j in range(4):
                    chan[C_R0 + j] = ring[j]
                chan[C_RING] = (chan[C_RING] + rot) % 4
                for ci in range(C_ACTS, C_MACCOLS + 1):
                    chan[ci] += q * (chan[ci] - prev_counts[ci])
                for ci in range(C_ABACTS, C_RINGN + 1):
                    chan[ci] += q * (chan[ci] - prev_counts[ci])
                end += shift
                r += q * m                    # slot → (bank, row) of later rows follows
                _times(P, bank_st, bg_last, chan, end, cur)
    for i in range(nt):
        prev[i] = cur[i]
    for b in range(nb):
        prev_rows[b] = bank_st[b, B_ROW]
    for ci in range(N_CHAN):
        prev_counts[ci] = chan[ci]
    return r, end


@njit(cache=True)
def _canon(P, i, snap, nb, nbg, closed, horizon):
    """Field i of a `_times` snapshot `snap` as far as it can still matter, or NEG when it cannot.
    A bank's read (write) time binds only its precharge, through + tRTP (+ CWL + BL + tWR): never
    again once its ACT + tRAS is as late (a stream of the other mode leaves such a time behind; a
    later ACT only moves that bound up). A closed bank's ACT/read/write times never bind again
    (re-opening it overwrites them, and its precharge already waited for them) — except its ACT
    under per-bank refresh, which orders the banks a round refreshes. Given a `horizon` no bank
    activates before, and no column issues before horizon + tRCD (a stream past its first cycle
    of banks only misses), a column, ACT or tFAW-window time binds only while it + its spacing
    exceeds those bounds (horizon = NEG: no such bound)."""
    v = snap[i]
    if v <= NEG // 2:
        return NEG
    if i < 4 * nb:
        b = i // 4
        f = i % 4 + B_ACT
        if f == B_RDY:
            return v
        if closed[b]:
            return v if f == B_ACT and P[P_REFPB] != 0 else NEG
        lim = snap[4 * b] + P[P_RAS]                   # the open bank's ACT + tRAS
        if f == B_RD and v + P[P_RTP] <= lim:
            return NEG
        if f == B_WR and v + P[P_CWL] + P[P_BL] + P[P_WR] <= lim:
            return NEG
        return v
    if horizon <= NEG // 2:
        return v
    col_gap = max(max(P[P_CCDL], P[P_CCDS]), P[P_CCDAB])
    if i < 4 * nb + nbg + 1:                       # bank-group last columns, the last column
        return NEG if v + col_gap <= horizon + P[P_RCD] else v
    if i == 4 * nb + nbg + 1:                      # the last ACT
        return NEG if v + max(P[P_RRDL], P[P_RRDS]) <= horizon else v
    if i < 4 * nb + nbg + 6:                       # the tFAW window
        return NEG if v + P[P_FAW] <= horizon else v
    return v                                       # turnaround sources, data end


@njit(cache=True)
def _repeats(P, a, b, nt, nb, nbg, closed_a, closed_b, horizon_a, horizon_b, delta):
    """Whether snapshot b is snapshot a shifted by Δ as far as either can still matter: every
    field that matters in one matters in the other, Δ later. Then the commands from b are those
    from a, Δ later, and so is every value they write: a field rewritten between a and b (its
    value changed) moves by Δ per repetition, one left alone stays."""
    for i in range(nt):
        x = _canon(P, i, a, nb, nbg, closed_a, horizon_a)
        y = _canon(P, i, b, nb, nbg, closed_b, horizon_b)
        if x <= NEG // 2 or y <= NEG // 2:
            if x != y:
                return False
        elif y - x != delta:
            return False
    return True


@njit(cache=True)
def _state_key(P, cur, nt, nb, nbg, closed, horizon, phase, nextref, col_bg, act_bg, refmask):
    """A hash of the state as far as it can still matter, relative to the refresh schedule."""
    h = np.int64(1469598103934665603)
    mult = np.int64(1099511628211)
    h = (h ^ phase) * mult
    h = (h ^ refmask) * mult
    h = (h ^ col_bg) * mult
    h = (h ^ act_bg) * mult
    for b in range(nb):
        h = (h ^ (1 if closed[b] else 0)) * mult
    for i in range(nt):
        v = _canon(P, i, cur, nb, nbg, closed, horizon)
        h = (h ^ (v if v <= NEG // 2 else v - nextref)) * mult
    return h


@njit(cache=True)
def refresh_period_skip(P, bank_st, bg_last, chan, end, r, nrows, m, nt, nb, store, nstore, index, cur,
                    ring, ready, closed, closed_prev):
    """After a row burst that refreshed (r row bursts done): look up a kept state that equals
    this one, as far as either can still matter (`_canon`), shifted by Δ along with the refresh
    schedule, at the same stream phase. If found, the row bursts between them repeat exactly,
    refreshes and all: skip as many whole periods as fit before row burst `nrows` (fields the
    period rewrote move by Δ per period, fields it did not touch stay). Else keep this state.
    Returns (row bursts skipped, end, store, nstore)."""
    nbg = bg_last.shape[0]
    ph = r % m
    _times(P, bank_st, bg_last, chan, end, cur)
    horizon = bank_st[0, B_RDY]
    for b in range(nb):
        closed[b] = bank_st[b, B_ROW] < 0
        if bank_st[b, B_RDY] < horizon:
            horizon = bank_st[b, B_RDY]
    key = _state_key(P, cur, nt, nb, nbg, closed, horizon, ph, chan[C_NEXTREF],
                     chan[C_LASTCOL_BG], chan[C_LASTACT_BG], chan[C_REFMASK])
    if key in index:
        e = index[key]
        prev = store[e, 0:nt]
        prev_rows = store[e, nt:nt + nb]
        prev_chan = store[e, nt + nb:nt + nb + N_CHAN]
        r_prev = store[e, nt + nb + N_CHAN]
        h_prev = store[e, nt + nb + N_CHAN + 1]
        for b in range(nb):
            closed_prev[b] = prev_rows[b] < 0
        period = r - r_prev
        cycles = period // m
        delta = chan[C_NEXTREF] - prev_chan[C_NEXTREF]
        ok = delta > 0 and period > 0 and period % m == 0 and ready <= h_prev
        ok = ok and chan[C_LASTCOL_BG] == prev_chan[C_LASTCOL_BG]
        ok = ok and chan[C_LASTACT_BG] == prev_chan[C_LASTACT_BG]
        ok = ok and chan[C_REFMASK] == prev_chan[C_REFMASK]
        if ok:
            for b in range(nb):
                now = bank_st[b, B_ROW]
                was = prev_rows[b]
                if (now < 0 or was < 0) and now != was:
                    ok = False
                elif now >= 0 and now != was + cycles:
                    ok = False
        if ok:
            ok = _repeats(P, prev, cur, nt, nb, nbg, closed_prev, closed, h_prev, horizon, delta)
        q = (nrows - r) // period if ok else 0
        if q > 0:
            shift = q * delta
            for b in range(nb):
                for f in (B_ACT, B_RD, B_WR, B_RDY):
                    if bank_st[b, f] != prev[4 * b + f - B_ACT]:      # rewritten each period
                        bank_st[b, f] += shift
                if bank_st[b, B_ROW] >= 0:
                    bank_st[b, B_ROW] += q * cycles
            for g in range(nbg):
                if bg_last[g] != prev[4 * nb + g]:
                    bg_last[g] += shift
            if chan[C_LASTCOL] != prev[4 * nb + nbg]:
                chan[C_LASTCOL] += shift
            if chan[C_LASTACT] != prev[4 * nb + nbg + 1]:
                chan[C_LASTACT] += shift
            for ci in (C_LASTRD, C_LASTWR):           # the turnaround sources, when the period wrote them
                if chan[ci] != prev_chan[ci]:
                    chan[ci] += shift
            chan[C_NEXTREF] += shift
            rot = (q * (chan[C_RINGN] - prev_chan[C_RINGN])) % 4
            for j in range(4):
                v = chan[C_R0 + (chan[C_RING] + j) % 4]
                ring[j] = v + shift if v != prev[4 * nb + nbg + 2 + j] else v
            newring = (chan[C_RING] + rot) % 4
            for j in range(4):
                chan[C_R0 + (newring + j) % 4] = ring[j]
            chan[C_RING] = newring
            for ci in range(C_REFS, C_MACCOLS + 1):
                chan[ci] += q * (chan[ci] - prev_chan[ci])
            for ci in range(C_ABACTS, C_RINGN + 1):
                chan[ci] += q * (chan[ci] - prev_chan[ci])
            chan[C_PBREFS] += q * (chan[C_PBREFS] - prev_chan[C_PBREFS])
            end += shift
            index.clear()                     # states kept before the skip are stale now
            return q * period, end, store, 0
    if nstore == store.shape[0]:
        grown = np.empty((2 * store.shape[0], store.shape[1]), dtype=np.int64)
        grown[:nstore] = store[:nstore]
        store = grown
    row = store[nstore]
    row[0:nt] = cur[0:nt]
    for b in range(nb):
        row[nt + b] = bank_st[b, B_ROW]
    row[nt + nb:nt + nb + N_CHAN] = chan
    row[nt + nb + N_CHAN] = r
    row[nt + nb + N_CHAN + 1] = horizon
    index[key] = nstore
    return 0, end, store, nstore + 1
