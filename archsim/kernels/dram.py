"""DRAM channel timing kernel (Numba): one call issues one burst task, i.e. `nrows` row bursts, each
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
issued when a burst finds the refresh due; postponed while a burst streams, as JEDEC permits), and
the read/write turnaround: a read column waits CWL + BL + tWTR_S/L (same bank group: _L) after the
last write column, a write column tRTW after the last read column.

Per-bank refresh (P[P_REFPB] = 1; HBM3 REFsb, LPDDR5/DDR5 REFpb): one bank is refreshed every
tREFI / banks for tRFCpb while the others keep working; the controller picks, among the banks not yet
refreshed this round, the one activated most recently (a stream is in it or has just left it and
returns to it last;
assumption: a controller that sees its queue does at least this well). PIM all-bank MACs need every
bank, so a channel running them refreshes all banks at once (tRFC, one tREFI's worth of rounds).

The first `span` column commands of a row burst are resolved command by command; the rest use the
closed form t_j = max_i c_i + (j-i)·tCCD_S + ⌊(j-i)/k⌋·max(0, tCCD_L - k·tCCD_S) (a max-plus
recurrence solved exactly; tests/engine/test_dram_burst.py proves it equal to the command loop).

State layout (int64): params P[25] (see `archsim.engine.dram.PARAM_NAMES`), bank_st[nbanks, 5]
(open_row, act_t, last_rd_t, last_wr_t, rdy_act_t), bg_last[n_bg] (last column per bank group),
chan[26] (see C_* below). Nothing compiles at import time; `cache=True`.
"""
from __future__ import annotations

import numpy as np
from numba import njit, types
from numba.typed import Dict

NEG = -(1 << 40)

# params
P_NBANKS, P_BPG, P_NBG, P_CL, P_CWL, P_RCD, P_RP, P_RAS, P_CCDS, P_CCDL, P_RRDS, P_RRDL, P_FAW, \
    P_WR, P_RTP, P_REFI, P_RFC, P_BL, P_CCDAB, P_ACTAB, P_REFPB, P_RFCPB, P_WTRS, P_WTRL, P_RTW = range(25)
N_PARAMS = 25
# bank state columns
B_ROW, B_ACT, B_RD, B_WR, B_RDY = range(5)
# channel state
C_LASTCOL, C_LASTCOL_BG, C_LASTACT, C_LASTACT_BG, C_NEXTREF, C_RING, C_R0, C_R1, C_R2, C_R3, \
    C_REFS, C_ACTS, C_PRES, C_HITS, C_MISSES, C_RDCOLS, C_WRCOLS, C_MACCOLS, C_FLOOR, C_ABACTS, \
    C_RINGN, C_REFMASK, C_LASTRD, C_LASTWR, C_LASTWR_BG, C_PBREFS = range(26)
N_CHAN = 26
ALL_BANKS_BG = -2          # C_LASTACT_BG after an all-bank ACT
MODE_READ, MODE_WRITE, MODE_PIM_MAC = 0, 1, 2
#: the refresh-period skip keeps a state per refresh, which costs more than it saves on a stream
#: shorter than this many row bursts (its period is often tens of thousands of row bursts: the
#: refresh drifts through every offset of the stream's row-burst grid before a state repeats; a
#: pim-gpt read stream: period 28,204 row bursts, break-even near 60 K, 1.75x slower at 18-30 K)
REFRESH_SKIP_MIN_ROWS = 65536
ALWAYS = 2     # `periodic` = ALWAYS: both skips whatever the stream's length (tests)


def work_size(params: np.ndarray) -> int:
    """Length of the int64 scratch array `burst` needs for a channel with `params`."""
    nb = int(params[P_NBANKS])
    return 2 * (4 * nb + int(params[P_NBG]) + 9) + 3 * nb + N_CHAN + 4


def new_state(params: np.ndarray):
    """Fresh (bank_st, bg_last, chan) for one channel with `params`."""
    nb = int(params[P_NBANKS])
    bank_st = np.empty((nb, 5), dtype=np.int64)
    bank_st[:, B_ROW] = -1
    bank_st[:, B_ACT] = NEG
    bank_st[:, B_RD] = NEG
    bank_st[:, B_WR] = NEG
    bank_st[:, B_RDY] = 0
    bg_last = np.full(int(params[P_NBG]), NEG, dtype=np.int64)
    chan = np.zeros(N_CHAN, dtype=np.int64)
    chan[C_LASTCOL] = NEG
    chan[C_LASTCOL_BG] = -1
    chan[C_LASTACT] = NEG
    chan[C_LASTACT_BG] = -1
    chan[C_NEXTREF] = params[P_REFI] if params[P_REFI] > 0 else (1 << 62)
    chan[C_R0:C_R3 + 1] = NEG
    chan[C_LASTRD] = NEG
    chan[C_LASTWR] = NEG
    chan[C_LASTWR_BG] = -1
    return bank_st, bg_last, chan


@njit(cache=True)
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
    returns nothing, updates state."""
    nb = P[P_NBANKS]
    while t >= chan[C_NEXTREF]:
        # A controller issues a refresh when it falls due (after the banks allow it), also while
        # the channel idles: refreshes that came due before `t` are not deferred to `t`.
        due = chan[C_NEXTREF]
        if P[P_REFPB] != 0 and not pim:      # one bank; the channel keeps working
            b = _refresh_bank(P, bank_st, chan)
            ref_t = max(due, bank_st[b, B_RDY])
            if bank_st[b, B_ROW] >= 0:
                ref_t = max(ref_t, _precharge_time(P, bank_st, b, due) + P[P_RP])
                chan[C_PRES] += 1
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
        if P[P_REFPB] != 0:                  # all banks at once stand for a round of per-bank ones
            chan[C_NEXTREF] += P[P_REFI] * nb
            chan[C_REFMASK] = 0
        else:
            chan[C_NEXTREF] += P[P_REFI]
        t = max(t, end)


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
def all_bank_ok(P, slot0, span):
    """An all-bank ACT applies: enabled, several banks, and all of them on one row."""
    return P[P_ACTAB] != 0 and span > 1 and (slot0 % P[P_NBANKS]) + span <= P[P_NBANKS]


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
def slot_bank(P, slot):
    """Address interleaving: consecutive slots go to different bank groups first."""
    nb = P[P_NBANKS]
    s = slot % nb
    return (s % P[P_NBG]) * P[P_BPG] + (s // P[P_NBG]) % P[P_BPG]


@njit(cache=True)
def row_burst(P, bank_st, bg_last, chan, slot0, row, ncols, span, mode, ready, c, banks):
    """One row burst over slots slot0..slot0+span-1; returns (first command time, data end).
    `c` and `banks` are scratch arrays of at least `span` entries."""
    nb = P[P_NBANKS]
    t0 = max(ready, chan[C_LASTACT])
    refresh_if_due(P, bank_st, chan, t0, mode == MODE_PIM_MAC)
    bpg = P[P_BPG]
    if mode == MODE_PIM_MAC:
        start = max(ready, chan[C_LASTCOL] + P[P_CCDAB])
        for i in range(span):
            _precharge_if_conflict(P, bank_st, chan, slot_bank(P, slot0 + i),
                                   row + (slot0 + i) // nb, ready)
        if all_bank_ok(P, slot0, span):
            start = max(start, _open_all(P, bank_st, chan, slot0, span, row + slot0 // nb, ready))
        else:
            for i in range(span):
                b = slot_bank(P, slot0 + i)
                rdy = _open_row(P, bank_st, chan, b, row + (slot0 + i) // nb, ready)
                start = max(start, rdy)
        last = start + (ncols - 1) * P[P_CCDAB]
        for i in range(span):
            b = slot_bank(P, slot0 + i)
            bank_st[b, B_RD] = last
            bg_last[b // bpg] = last
        chan[C_LASTCOL] = last
        chan[C_LASTCOL_BG] = slot_bank(P, slot0 + span - 1) // bpg
        chan[C_MACCOLS] += ncols
        return start, last + P[P_BL]
    k = min(span, ncols)
    for i in range(k):
        _precharge_if_conflict(P, bank_st, chan, slot_bank(P, slot0 + i), row + (slot0 + i) // nb,
                               ready)
    for i in range(k):
        banks[i] = slot_bank(P, slot0 + i)
        rdy = _open_row(P, bank_st, chan, banks[i], row + (slot0 + i) // nb, ready)
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
    for i in range(k):
        jl = i + ((ncols - 1 - i) // k) * k
        tl = c[i] if jl < k else column_time(c, k, jl, S, L)
        b = banks[i]
        if mode == MODE_WRITE:
            bank_st[b, B_WR] = tl
        else:
            bank_st[b, B_RD] = tl
        bg_last[b // bpg] = tl
    jlast = ncols - 1
    tlast = c[jlast] if jlast < k else column_time(c, k, jlast, S, L)
    chan[C_LASTCOL] = tlast
    chan[C_LASTCOL_BG] = banks[jlast % k] // bpg
    if mode == MODE_WRITE:
        chan[C_LASTWR] = tlast
        chan[C_LASTWR_BG] = banks[jlast % k] // bpg
        chan[C_WRCOLS] += ncols
        return c[0], tlast + P[P_CWL] + P[P_BL]
    chan[C_LASTRD] = tlast
    chan[C_RDCOLS] += ncols
    return c[0], tlast + P[P_CL] + P[P_BL]


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
def _shifted(a, b, delta):
    """True when every entry of b is a's entry + delta (NEG sentinels stay NEG)."""
    for i in range(a.shape[0]):
        if a[i] <= NEG // 2 or b[i] <= NEG // 2:
            if a[i] != b[i]:
                return False
        elif b[i] - a[i] != delta:
            return False
    return True


@njit(cache=True)
def burst(P, bank_st, bg_last, chan, slot0, row, ncols, span, mode, nrows, ready, periodic, work):
    """`nrows` consecutive row bursts over consecutive slots. Returns (first command, last data end).
    `periodic`: False = row by row; True = the exact skips below (the refresh-period one on
    streams of at least REFRESH_SKIP_MIN_ROWS row bursts); ALWAYS = both on any stream.

    Steady-state skip (exact): a stream visits every bank once per cycle of nb/span row bursts.
    When a whole cycle leaves the channel state equal to the previous cycle's state shifted by Δ
    cycles (rows one higher, same counts), the timing recurrences, being max-plus and
    time-invariant, repeat it; whole cycles are then advanced by Δ each, up to the next refresh.

    Streams longer than the refresh interval (tREFI) refresh inside every cycle, so the skip above
    never applies to them. The same argument holds for a period that contains refreshes: right
    after each row burst that issued a refresh, the state — as far as it can still matter
    (`_canon`: a closed bank's old command times, columns and ACTs the refresh outlasted do not)
    and relative to the next refresh due — is looked up among the ones kept earlier in this
    stream at the same phase (row burst index mod nb/span). A match Δ cycles earlier means the
    row bursts in between repeat exactly, refreshes and all; whole periods are then advanced to
    the end of the stream. The cost of a stream grows with the number of distinct states it
    passes through, not its length. tests/engine/test_steady_state.py checks both skips equal the
    row-by-row path."""
    if chan[C_FLOOR] > ready:   # in-order issue: no burst starts before an earlier one was ready
        ready = chan[C_FLOOR]
    chan[C_FLOOR] = ready
    nb = P[P_NBANKS]
    m = nb // span if nb % span == 0 else 0
    use = periodic and m > 0 and nrows >= 4 * m
    nt = nb * 4 + bg_last.shape[0] + 9
    lc = nt - 9                                 # index of the last column time in `_times`
    prev = work[0:nt]
    cur = work[nt:2 * nt]
    prev_rows = work[2 * nt:2 * nt + nb]
    prev_counts = work[2 * nt + nb:2 * nt + nb + N_CHAN]
    c = work[2 * nt + nb + N_CHAN:2 * nt + 2 * nb + N_CHAN]
    banks = work[2 * nt + 2 * nb + N_CHAN:2 * nt + 3 * nb + N_CHAN]
    ring = work[2 * nt + 3 * nb + N_CHAN:2 * nt + 3 * nb + N_CHAN + 4]
    have_prev = False
    first = NEG
    end = ready
    r = 0
    ps = nt + nb + N_CHAN + 2          # a kept snapshot: times, rows, channel, row index, horizon
    refreshing = use and P[P_REFI] > 0 and nrows > 2 * m and (
        periodic == ALWAYS or nrows >= REFRESH_SKIP_MIN_ROWS)
    store = np.empty((16 if refreshing else 1, ps), dtype=np.int64)
    nstore = 0
    index = Dict.empty(key_type=types.int64, value_type=types.int64)
    closed = np.zeros(nb, dtype=np.bool_)
    closed_prev = np.zeros(nb, dtype=np.bool_)
    while r < nrows:
        refs_before = chan[C_REFS]
        s, e = row_burst(P, bank_st, bg_last, chan, slot0 + r * span, row, ncols, span, mode, ready,
                         c, banks)
        if r == 0:
            first = s
        if e > end:
            end = e
        r += 1
        if refreshing and chan[C_REFS] != refs_before and r < nrows:
            skipped, end, store, nstore = _refresh_period(
                P, bank_st, bg_last, chan, end, r, nrows, m, nt, nb, store, nstore, index, cur,
                ring, ready, closed, closed_prev)
            if skipped > 0:
                r += skipped
                have_prev = False
                continue
        if use and r % m == 0:
            _times(P, bank_st, bg_last, chan, end, cur)
            if have_prev:
                delta = cur[lc] - prev[lc]                  # last column moved by Δ
                ok = delta > 0 and chan[C_REFS] == prev_counts[C_REFS] and \
                    chan[C_PBREFS] == prev_counts[C_PBREFS] and _shifted(prev, cur, delta)
                if ok:
                    for b in range(nb):
                        if bank_st[b, B_ROW] != prev_rows[b] + 1:
                            ok = False
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
                                if bank_st[b, f] > NEG // 2:
                                    bank_st[b, f] += shift
                            bank_st[b, B_ROW] += q
                        for g in range(bg_last.shape[0]):
                            if bg_last[g] > NEG // 2:
                                bg_last[g] += shift
                        if _turnaround_live(P, chan, MODE_READ):
                            chan[C_LASTRD] += shift
                        if _turnaround_live(P, chan, MODE_WRITE):
                            chan[C_LASTWR] += shift
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
            have_prev = True
    return first, end



@njit(cache=True)
def _canon(P, i, v, nb, nbg, closed, horizon):
    """Field i of a `_times` snapshot as far as it can still matter, or NEG when it cannot: taken
    right after a refresh, no bank activates before `horizon` (every bank's ready time) and no
    column issues before horizon + tRCD. A closed bank's ACT/read/write times never bind again
    (re-opening it overwrites them, and its precharge already waited for them); a column, ACT or
    tFAW-window time binds only while it + its spacing exceeds those bounds."""
    if v <= NEG // 2:
        return NEG
    if i < 4 * nb:
        if i % 4 != B_RDY - B_ACT and closed[i // 4]:
            return NEG
        return v
    col_gap = max(max(P[P_CCDL], P[P_CCDS]), P[P_CCDAB])
    if i < 4 * nb + nbg + 1:                       # bank-group last columns, the last column
        return NEG if v + col_gap <= horizon + P[P_RCD] else v
    if i == 4 * nb + nbg + 1:                      # the last ACT
        return NEG if v + max(P[P_RRDL], P[P_RRDS]) <= horizon else v
    if i < 4 * nb + nbg + 6:                       # the tFAW window
        return NEG if v + P[P_FAW] <= horizon else v
    return v                                       # data end


@njit(cache=True)
def _state_key(P, cur, nt, nb, nbg, closed, horizon, phase, nextref, col_bg, act_bg):
    """A hash of the state as far as it can still matter, relative to the refresh schedule."""
    h = np.int64(1469598103934665603)
    mult = np.int64(1099511628211)
    h = (h ^ phase) * mult
    h = (h ^ col_bg) * mult
    h = (h ^ act_bg) * mult
    for b in range(nb):
        h = (h ^ (1 if closed[b] else 0)) * mult
    for i in range(nt):
        v = _canon(P, i, cur[i], nb, nbg, closed, horizon)
        h = (h ^ (v if v <= NEG // 2 else v - nextref)) * mult
    return h


@njit(cache=True)
def _refresh_period(P, bank_st, bg_last, chan, end, r, nrows, m, nt, nb, store, nstore, index, cur,
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
                     chan[C_LASTCOL_BG], chan[C_LASTACT_BG])
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
        if ok:
            for b in range(nb):
                now = bank_st[b, B_ROW]
                was = prev_rows[b]
                if (now < 0 or was < 0) and now != was:
                    ok = False
                elif now >= 0 and now != was + cycles:
                    ok = False
        if ok:
            for i in range(nt):
                a = _canon(P, i, prev[i], nb, nbg, closed_prev, h_prev)
                c = _canon(P, i, cur[i], nb, nbg, closed, horizon)
                if a <= NEG // 2 or c <= NEG // 2:
                    if a != c:
                        ok = False
                        break
                elif c - a != delta:
                    ok = False
                    break
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
            if chan[C_LASTRD] != prev_chan[C_LASTRD]:      # the last read / write (turnarounds)
                chan[C_LASTRD] += shift
            if chan[C_LASTWR] != prev_chan[C_LASTWR]:
                chan[C_LASTWR] += shift
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
