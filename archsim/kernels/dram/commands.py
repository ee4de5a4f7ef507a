"""DRAM command timing of one channel (Numba): `row_burst` issues one row burst of a burst task, i.e. `nrows` row bursts, each
opening a row in `span` banks (distinct bank groups) and issuing `ncols` column commands round-robin
over them, or, in PIM mode, `ncols` all-bank MAC column commands.

All-bank activate (P[P_ACTAB] = 1, GDDR6-AiM's ACT4/ACT16): a PIM MAC row burst whose banks share one
row opens it in all of them with ONE command, spaced tRRD_L from any other ACT (both directions) and
outside the tFAW window (aim_simulator GDDR6.cpp comments the tFAW rule out); MAC after it waits
tRCD; PREs keep tRAS/tRTP per bank (PREA has the same timing as per-bank PREs here). Energy still
counts one activation per bank opened (C_ACTS); C_ABACTS counts the all-bank commands.

Commands are issued in order per channel: ACT/PRE in burst order, column commands in burst order.
Per bank: open-row policy (a row stays open until a conflicting row or a refresh closes it); a
burst first precharges every bank it needs, then activates them in order.
Constraints: tRCD, tRP, tRAS, tRTP, tWR, tCCD_S/L, tRRD_S/L, tFAW, tREFI/tRFC (all-bank refresh,
issued when a burst finds the refresh due; postponed while a burst streams, as JEDEC permits, up
to MAX_POSTPONED: see below), and
the read/write turnaround: a read column waits CWL + BL + tWTR_S/L (same bank group: _L) after the
last write column, a write column tRTW after the last read column.

Postponement is bounded as JEDEC bounds it (DDR4/DDR5, LPDDR4/5, GDDR6, HBM: at most 8 REF
commands postponed). Refreshes are checked when a row burst starts, at max(ready, last ACT); a
stream that only hits open rows issues no ACT, and a PIM MAC burst may run for thousands of tREFI,
so that check alone let refreshes pile up. The rule, for every column command (read, write or PIM
MAC, over any number of banks, all-bank or per-bank refresh): no column issues at or after the
time MAX_POSTPONED refreshes are owed (`postponed_limit`). A burst whose columns reach it stops
there: its banks precharge (after their last columns), the owed refreshes are issued
(`refresh_if_due` at that time: all-bank ones back to back, or per-bank ones bank by bank), its
rows reopen and its remaining columns go on (a read/write burst from the bank its next column
goes to). Later bursts are planned after the stop, so their look-ahead ACTs follow the refresh;
the SimPy reference plans each burst's column times ahead of its column process for the same
reason (`archsim.engine.reference._Columns`). So at most MAX_POSTPONED refreshes (rounds of
per-bank ones) are ever owed. Streams that miss rows activate every row burst and keep far from
the limit: their timing is unchanged, and so are the skips (`skips.py`), which compare states
relative to the refresh schedule.

Per-bank refresh (P[P_REFPB] = 1; HBM3 REFsb, LPDDR5/DDR5 REFpb): one bank is refreshed every
tREFI / banks for tRFCpb while the others keep working; the controller picks, among the banks not yet
refreshed this round, the one activated most recently (a stream is in it or has just left it and
returns to it last;
assumption: a controller that sees its queue does at least this well). PIM all-bank MACs need every
bank, so a channel running them refreshes all banks at once (tRFC, one tREFI's worth of rounds).
Refreshes that fall due over an idle gap, or pile up behind a long row burst, are issued in closed
form once they become regular (`refresh_if_due`): catching up costs O(1), not O(gap / tREFI).

The first `span` column commands of a row burst are resolved command by command; the rest use the
closed form t_j = max_i c_i + (j-i)·tCCD_S + ⌊(j-i)/k⌋·max(0, tCCD_L - k·tCCD_S) (a max-plus
recurrence solved exactly; tests/engine/test_dram_burst.py proves it equal to the command loop).

State layout: `state.py`. Nothing compiles at import time; `cache=True`.
"""
from __future__ import annotations

from numba import njit

from .address import all_bank_ok, slot_bank
from .state import (NEG, P_NBANKS, P_BPG, P_CL, P_CWL, P_RCD, P_RP, P_RAS, P_CCDS, P_CCDL, P_RRDS,
    P_RRDL, P_FAW, P_WR, P_RTP, P_REFI, P_RFC, P_BL, P_CCDAB, P_REFPB, P_RFCPB, P_WTRS, P_WTRL,
    P_RTW, B_ROW, B_ACT, B_RD, B_WR, B_RDY, C_LASTCOL, C_LASTCOL_BG, C_LASTACT, C_LASTACT_BG,
    C_NEXTREF, C_RING, C_R0, C_REFS, C_ACTS, C_PRES, C_HITS, C_MISSES, C_RDCOLS, C_WRCOLS,
    C_MACCOLS, C_ABACTS, C_RINGN, C_REFMASK, C_LASTRD, C_LASTWR, C_LASTWR_BG, C_PBREFS,
    ALL_BANKS_BG, MODE_WRITE, MODE_PIM_MAC, MAX_POSTPONED)


@njit(cache=True, inline="always")   # a call would incref/decref bank_st (controller._INLINE_NOTE)
def _precharge_time(P, bank_st, b, floor):
    t = max(floor, bank_st[b, B_ACT] + P[P_RAS])
    t = max(t, bank_st[b, B_RD] + P[P_RTP])
    t = max(t, bank_st[b, B_WR] + P[P_CWL] + P[P_BL] + P[P_WR])
    return t


@njit(cache=True)
def _refresh_bank(P, bank_st, chan):
    """The bank a per-bank refresh goes to: the most recently activated of those not yet refreshed
    this round (lowest index on ties); the round restarts when every bank has been refreshed."""
    nb = P[P_NBANKS]
    if chan[C_REFMASK] == (1 << nb) - 1:
        chan[C_REFMASK] = 0
    best = -1
    best_t = NEG
    for b in range(nb):
        if (chan[C_REFMASK] >> b) & 1:
            continue
        used = bank_st[b, B_ACT]
        if best < 0 or used > best_t:
            best = b
            best_t = used
    chan[C_REFMASK] |= 1 << best
    return best


@njit(cache=True)
def refresh_if_due(P, bank_st, chan, t, pim):
    """Issue every refresh due by time `t` (per bank, or all banks; see the module docstring);
    returns nothing, updates state.

    Past the first refresh the ones due by `t` are regular and issued in closed form, so catching
    up an idle gap costs O(1), not O(gap / tREFI): all-bank ones back to back while behind, then
    at their due times (`_refreshes_in_closed_form`); per-bank ones, once a whole round of `nb`
    found its banks closed and ready at their due times, in whole rounds (each round repeats the
    last one tREFI·nb later, every bank's ready time with it: the order depends only on the round
    mask and the banks' last ACTs, which idle refreshes do not change)."""
    nb = P[P_NBANKS]
    regular = 0                              # consecutive per-bank refreshes issued at their due
    while t >= chan[C_NEXTREF]:
        # A controller issues a refresh when it falls due (after the banks allow it), also while
        # the channel idles: refreshes that came due before `t` are not deferred to `t`.
        due = chan[C_NEXTREF]
        if P[P_REFPB] != 0 and not pim:      # one bank; the channel keeps working
            if regular >= nb and chan[C_REFMASK] == (1 << nb) - 1 and P[P_RFCPB] <= nb * P[P_REFI]:
                step = nb * P[P_REFI]        # whole regular rounds, each bank once, due to due
                last = due + (nb - 1) * P[P_REFI]
                if t >= last:
                    q = (t - last) // step + 1
                    for b in range(nb):
                        bank_st[b, B_RDY] += q * step
                    chan[C_PBREFS] += q * nb
                    chan[C_NEXTREF] += q * step
                    continue
            b = _refresh_bank(P, bank_st, chan)
            ref_t = max(due, bank_st[b, B_RDY])
            if bank_st[b, B_ROW] >= 0:
                ref_t = max(ref_t, _precharge_time(P, bank_st, b, due) + P[P_RP])
                chan[C_PRES] += 1
                regular = 0
            elif ref_t == due:
                regular += 1
            else:
                regular = 0
            bank_st[b, B_ROW] = -1
            bank_st[b, B_RDY] = ref_t + P[P_RFCPB]
            chan[C_PBREFS] += 1
            chan[C_NEXTREF] += P[P_REFI]
            continue
        ref_t = due
        for b in range(nb):
            if bank_st[b, B_ROW] >= 0:
                pre = _precharge_time(P, bank_st, b, due)
                ref_t = max(ref_t, pre + P[P_RP])
                chan[C_PRES] += 1
            ref_t = max(ref_t, bank_st[b, B_RDY])
        end = ref_t + P[P_RFC]
        for b in range(nb):
            bank_st[b, B_ROW] = -1
            bank_st[b, B_RDY] = end
        chan[C_REFS] += 1
        step = P[P_REFI] * nb if P[P_REFPB] != 0 else P[P_REFI]
        chan[C_NEXTREF] += step
        if P[P_REFPB] != 0:                  # all banks at once stand for a round of per-bank ones
            chan[C_REFMASK] = 0
        t = max(t, end)
        if step > P[P_RFC]:
            end = _refreshes_in_closed_form(P, bank_st, chan, t, end, step)
            t = max(t, end)


@njit(cache=True)
def _refreshes_in_closed_form(P, bank_st, chan, t, end, step):
    """Right after an all-bank refresh (every bank closed, ready at `end`, the loop's t already
    max(t, end)): the further refreshes `refresh_if_due` would issue one by one, at once. While the
    last one ends after the next due (a backlog: the channel streamed past its dues), each starts
    when the one before ends, tRFC apart, and the backlog shrinks by step − tRFC per refresh; then
    each is issued at its due time (ending before the next due, t never moves). Returns the end
    of the last refresh issued (`end` if none)."""
    nxt = chan[C_NEXTREF]
    k = 0
    if end >= nxt:                           # behind: back to back (t >= end >= nxt)
        k = (end - nxt) // (step - P[P_RFC]) + 1
        end += k * P[P_RFC]
        nxt += k * step
        if end > t:
            t = end
    if t >= nxt:                             # on time: each at its due
        q = (t - nxt) // step + 1
        end = nxt + (q - 1) * step + P[P_RFC]
        nxt += q * step
        k += q
    if k > 0:
        for b in range(P[P_NBANKS]):
            bank_st[b, B_RDY] = end
        chan[C_REFS] += k
        chan[C_NEXTREF] = nxt
    return end


@njit(cache=True)
def _precharge_if_conflict(P, bank_st, chan, b, row, ready):
    """Close bank b if another row is open (all PREs of a burst precede its ACTs)."""
    if bank_st[b, B_ROW] >= 0 and bank_st[b, B_ROW] != row:
        # look-ahead precharge: issued as soon as the bank allows once the burst is ready
        bank_st[b, B_RDY] = _precharge_time(P, bank_st, b, ready) + P[P_RP]
        bank_st[b, B_ROW] = -1
        chan[C_PRES] += 1


@njit(cache=True)
def _open_row(P, bank_st, chan, b, row, ready):
    """Make `row` open in bank b; returns the time its columns may start (ACT + tRCD)."""
    if bank_st[b, B_ROW] == row:
        chan[C_HITS] += 1
        return bank_st[b, B_ACT] + P[P_RCD]
    chan[C_MISSES] += 1
    floor = max(ready, chan[C_LASTACT])
    rdy = bank_st[b, B_RDY]
    bg = b // P[P_BPG]
    last_bg = chan[C_LASTACT_BG]
    gap = P[P_RRDL] if (bg == last_bg or last_bg == ALL_BANKS_BG) else P[P_RRDS]
    oldest = chan[C_R0 + chan[C_RING]]
    act = max(floor, rdy)
    act = max(act, chan[C_LASTACT] + gap)
    act = max(act, oldest + P[P_FAW])
    chan[C_R0 + chan[C_RING]] = act
    chan[C_RING] = (chan[C_RING] + 1) % 4
    chan[C_RINGN] += 1
    chan[C_LASTACT] = act
    chan[C_LASTACT_BG] = bg
    chan[C_ACTS] += 1
    bank_st[b, B_ACT] = act
    bank_st[b, B_ROW] = row
    return act + P[P_RCD]


@njit(cache=True)
def _open_all(P, bank_st, chan, slot0, span, row, ready):
    """Open `row` in the banks of slots slot0..slot0+span-1 with one all-bank ACT (banks already
    holding the row keep it). Returns the time MAC columns may start in all of them."""
    t = NEG
    n_open = 0
    rdy = 0
    for i in range(span):
        b = slot_bank(P, slot0 + i)
        if bank_st[b, B_ROW] == row:
            chan[C_HITS] += 1
            if bank_st[b, B_ACT] + P[P_RCD] > t:
                t = bank_st[b, B_ACT] + P[P_RCD]
        else:
            n_open += 1
            if bank_st[b, B_RDY] > rdy:
                rdy = bank_st[b, B_RDY]
    if n_open == 0:
        return t
    chan[C_MISSES] += n_open
    act = max(max(ready, chan[C_LASTACT]), rdy)
    act = max(act, chan[C_LASTACT] + P[P_RRDL])
    chan[C_LASTACT] = act
    chan[C_LASTACT_BG] = ALL_BANKS_BG
    chan[C_ACTS] += n_open
    chan[C_ABACTS] += 1
    for i in range(span):
        b = slot_bank(P, slot0 + i)
        if bank_st[b, B_ROW] != row:
            bank_st[b, B_ACT] = act
            bank_st[b, B_ROW] = row
    return max(t, act + P[P_RCD])


@njit(cache=True)
def postponed_limit(P, chan, pim):
    """The time at which MAX_POSTPONED refreshes are owed: the MAX_POSTPONED-th all-bank one falls
    due (the first at C_NEXTREF, then every tREFI; with per-bank refresh an all-bank one stands for
    a round of them, tREFI / banks apart, as `refresh_if_due` issues them during PIM MACs), or,
    with per-bank refresh outside PIM, MAX_POSTPONED rounds of per-bank ones are owed (assumption:
    the bound on postponed REFab taken as the same span of time for REFpb/REFsb, not checked
    against the LPDDR5/HBM3 text). No column command issues at or after it while they are owed."""
    if P[P_REFI] <= 0:
        return 1 << 62
    if P[P_REFPB] != 0 and not pim:
        return chan[C_NEXTREF] + (MAX_POSTPONED * P[P_NBANKS] - 1) * P[P_REFI]
    step = P[P_REFI] * P[P_NBANKS] if P[P_REFPB] != 0 else P[P_REFI]
    return chan[C_NEXTREF] + (MAX_POSTPONED - 1) * step


@njit(cache=True)
def _open_pim_row(P, bank_st, chan, slot0, span, row, ready):
    """Open a PIM MAC burst's row in its banks (one all-bank ACT where it applies); returns the
    time its MAC columns may start."""
    nb = P[P_NBANKS]
    if all_bank_ok(P, slot0, span):
        return _open_all(P, bank_st, chan, slot0, span, row + slot0 // nb, ready)
    start = NEG
    for i in range(span):
        b = slot_bank(P, slot0 + i)
        rdy = _open_row(P, bank_st, chan, b, row + (slot0 + i) // nb, ready)
        start = max(start, rdy)
    return start


@njit(cache=True)
def _pim_columns(P, bank_st, bg_last, chan, slot0, span, last, n):
    """`n` all-bank MAC columns of a burst over slots slot0.. issued, the last at `last`."""
    bpg = P[P_BPG]
    for i in range(span):
        b = slot_bank(P, slot0 + i)
        bank_st[b, B_RD] = last
        bg_last[b // bpg] = last
    chan[C_LASTCOL] = last
    chan[C_LASTCOL_BG] = slot_bank(P, slot0 + span - 1) // bpg
    chan[C_MACCOLS] += n


@njit(cache=True)
def column_time(c, k, j, S, L):
    """Closed form: time of column j ≥ k given the first k column times c[0..k-1]."""
    extra = L - k * S
    if extra < 0:
        extra = 0
    best = NEG
    for i in range(k):
        d = j - i
        v = c[i] + d * S + (d // k) * extra
        if v > best:
            best = v
    return best


@njit(cache=True)
def _rw_part(P, bank_st, bg_last, chan, slot0, row, ncols, k0, rot, mode, ready, c, banks, limit):
    """The read/write columns of a row burst over slots slot0..slot0+k0-1, or what is left of it
    after a stop: `ncols` columns, the j-th to slot slot0 + (rot + j) % k0. Opens the rows, then
    issues the columns that come before `limit` (`postponed_limit`). Returns (columns issued, first
    column time, data end); (0, NEG, NEG) when the first column would come at or after `limit`."""
    nb = P[P_NBANKS]
    bpg = P[P_BPG]
    k = min(k0, ncols)
    for i in range(k):
        s = slot0 + i if rot == 0 else slot0 + (rot + i) % k0
        _precharge_if_conflict(P, bank_st, chan, slot_bank(P, s), row + s // nb, ready)
    for i in range(k):
        s = slot0 + i if rot == 0 else slot0 + (rot + i) % k0
        banks[i] = slot_bank(P, s)
        rdy = _open_row(P, bank_st, chan, banks[i], row + s // nb, ready)
        bg = banks[i] // bpg
        if i == 0:
            prev = chan[C_LASTCOL]
            prev_bg = chan[C_LASTCOL_BG]
        else:
            prev = c[i - 1]
            prev_bg = banks[i - 1] // bpg
        gap = P[P_CCDL] if bg == prev_bg else P[P_CCDS]
        t = max(max(ready, rdy), prev + gap)
        if mode == MODE_WRITE:               # read → write turnaround
            t = max(t, chan[C_LASTRD] + P[P_RTW])
        else:                                # write → read: data in, then tWTR
            wtr = P[P_WTRL] if bg == chan[C_LASTWR_BG] else P[P_WTRS]
            t = max(t, chan[C_LASTWR] + P[P_CWL] + P[P_BL] + wtr)
        c[i] = max(t, bg_last[bg] + P[P_CCDL])
    for i in range(k):  # in-order issue: the burst's columns follow its activations
        c[i] = max(c[i], chan[C_LASTACT]) if i == 0 else max(c[i], c[i - 1] + (
            P[P_CCDL] if banks[i] // bpg == banks[i - 1] // bpg else P[P_CCDS]))
    S = P[P_CCDS] if k > 1 else P[P_CCDL]
    L = P[P_CCDL]
    n = ncols
    tlast = c[n - 1] if n - 1 < k else column_time(c, k, n - 1, S, L)
    if tlast >= limit:
        lo = 0                               # the first column at or after `limit`
        hi = n - 1
        while lo < hi:
            mid = (lo + hi) // 2
            if (c[mid] if mid < k else column_time(c, k, mid, S, L)) >= limit:
                hi = mid
            else:
                lo = mid + 1
        n = lo
        if n == 0:
            return 0, NEG, NEG
        tlast = c[n - 1] if n - 1 < k else column_time(c, k, n - 1, S, L)
    for i in range(min(k, n)):
        jl = i + ((n - 1 - i) // k) * k
        tl = c[i] if jl < k else column_time(c, k, jl, S, L)
        b = banks[i]
        if mode == MODE_WRITE:
            bank_st[b, B_WR] = tl
        else:
            bank_st[b, B_RD] = tl
        bg_last[b // bpg] = tl
    jlast = n - 1
    chan[C_LASTCOL] = tlast
    chan[C_LASTCOL_BG] = banks[jlast % k] // bpg
    if mode == MODE_WRITE:
        chan[C_LASTWR] = tlast
        chan[C_LASTWR_BG] = banks[jlast % k] // bpg
        chan[C_WRCOLS] += n
        return n, c[0], tlast + P[P_CWL] + P[P_BL]
    chan[C_LASTRD] = tlast
    chan[C_RDCOLS] += n
    return n, c[0], tlast + P[P_CL] + P[P_BL]


@njit(cache=True)
def row_burst(P, bank_st, bg_last, chan, slot0, row, ncols, span, mode, ready, c, banks):
    """One row burst over slots slot0..slot0+span-1; returns (first command time, data end).
    `c` and `banks` are scratch arrays of at least `span` entries. Stops for refresh whenever its
    columns reach `postponed_limit` (see the module docstring)."""
    nb = P[P_NBANKS]
    t0 = max(ready, chan[C_LASTACT])
    pim = mode == MODE_PIM_MAC
    refresh_if_due(P, bank_st, chan, t0, pim)
    if pim:
        ccd = P[P_CCDAB]
        start = max(ready, chan[C_LASTCOL] + ccd)
        for i in range(span):
            _precharge_if_conflict(P, bank_st, chan, slot_bank(P, slot0 + i),
                                   row + (slot0 + i) // nb, ready)
        start = max(start, _open_pim_row(P, bank_st, chan, slot0, span, row, ready))
        first = NEG
        left = ncols
        while True:
            # MACs hold their banks: refresh waits for the burst, but at most MAX_POSTPONED
            # refreshes may be owed; when the column stream reaches the time the last allowed one
            # falls due, the burst stops, the owed refreshes are issued, the row reopens and the
            # columns go on
            limit = postponed_limit(P, chan, True)
            if start + (left - 1) * ccd < limit:
                break
            n = 0 if start >= limit else (limit - start + ccd - 1) // ccd   # columns before it
            if n > 0:
                _pim_columns(P, bank_st, bg_last, chan, slot0, span, start + (n - 1) * ccd, n)
                if first == NEG:
                    first = start
                left -= n
            refresh_if_due(P, bank_st, chan, limit, True)
            start = max(chan[C_LASTCOL] + ccd, _open_pim_row(P, bank_st, chan, slot0, span, row, ready))
        if first == NEG:
            first = start
        last = start + (left - 1) * ccd
        _pim_columns(P, bank_st, bg_last, chan, slot0, span, last, left)
        return first, last + P[P_BL]
    k0 = min(span, ncols)
    limit = postponed_limit(P, chan, False)
    n, first, end = _rw_part(P, bank_st, bg_last, chan, slot0, row, ncols, k0, 0, mode, ready, c,
                             banks, limit)
    done = n
    while done < ncols:                      # the stop: owed refreshes, then the columns go on
        refresh_if_due(P, bank_st, chan, limit, False)
        limit = postponed_limit(P, chan, False)
        n, f, e = _rw_part(P, bank_st, bg_last, chan, slot0, row, ncols - done, k0, done % k0,
                           mode, ready, c, banks, limit)
        if n > 0:
            if first == NEG:
                first = f
            end = e
        done += n
    return first, end
