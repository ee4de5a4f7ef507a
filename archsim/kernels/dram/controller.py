"""A request-level DRAM controller, one per channel (Numba): every channel of a device is simulated
with its own request queue and bank state; channels share no timing state.

Requests (byte address, read/write, arrival cycle) are decoded to (channel, bank, row) by the address
mapping (`address.decode`), then each channel runs:

- a request queue of `queue_depth` entries; a request that finds it full waits outside (the front end
  stalls) and enters when a column command frees a slot;
- posted writes drained in batches: reads are served while fewer than 3/4 of the queue are writes;
  then writes until 1/4 are (or whenever no read waits), so the bus turns around once per batch;
- FR-FCFS with a cap: at each decision (the previous column command), the queued request of the
  current direction whose column command can issue first is served (a row hit is ready first; ties go to the older request); every
  time a younger request is served ahead of the oldest one, the oldest's bypass count grows, and once
  it exceeds `cap` the oldest is served next (FR-FCFS+Cap, Mutlu & Moscibroda, MICRO 2007);
- open page (a row stays open until a conflicting request or a refresh closes it) or closed page
  (every column command auto-precharges);
- activations of queued requests are issued as early as their bank and the channel allow (look-ahead:
  a request's ACT may precede an earlier-served request's column), in serving order, under tRRD_S/L
  and tFAW; PRE after tRAS/tRTP/tWR;
- read/write turnaround (a read waits CWL + BL + tWTR_S/L after the last write, a write tRTW after the
  last read), tCCD_S/L per bank group;
- all-bank refresh as the burst kernel (`commands.refresh_if_due`); per-bank refresh one bank every
  tREFI / banks, chosen among those not yet refreshed this round as one no queued request needs
  (postponed, at most 8 owed, while every such bank has queued requests);
- power-down: a channel idle for `pd_idle` cycles after its last data powers down (if `pd_idle` > 0);
  the next request's commands wait for max(arrival, entry + tCKE) + tXP.

The same command constraints as the burst kernel (`commands.py`); the closed forms they are checked
against are in `archsim.engine.dram` and tests/engine/test_dram_controller.py.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from .commands import _precharge_time, refresh_if_due
from .state import (MAX_POSTPONED, ALL_BANKS_BG, B_ACT, B_RD, B_RDY, B_ROW, B_WR, C_ACTS,
                    C_HITS, C_LASTACT,
                    C_LASTACT_BG, C_LASTCOL, C_LASTCOL_BG, C_LASTRD, C_LASTWR, C_LASTWR_BG,
                    C_MISSES, C_NEXTREF, C_PBREFS, C_R0, C_RDCOLS, C_REFMASK, C_REFS, C_RING,
                    C_RINGN, C_WRCOLS, P_BL, P_BPG, P_CCDL, P_CCDS, P_CL, P_CWL, P_FAW, P_NBANKS,
                    P_RCD, P_REFI, P_REFPB, P_RFCPB, P_RP, P_RRDL, P_RRDS, P_RTW, P_WTRL, P_WTRS)

#: _INLINE_NOTE: the small timing functions below are inlined into their callers (Numba IR
#: inlining): called as functions, each call increfs and decrefs its array arguments (atomic
#: operations), which took ~40 % of the engine's controller path (perf, gpt2-small prefill on
#: edge-npu); inlined, the reference counts of the caller's arrays are pruned.

#: controller parameters X[...]
X_QUEUE, X_CAP, X_CLOSED, X_TXP, X_TCKE, X_PDIDLE, X_PIMROW = range(7)
N_X = 7      # X_PIMROW: PIM bursts yield to host transfers between row bursts (engine path only)
#: per-channel counts, in this order (`archsim.engine.dram_controller.COUNT_NAMES`)
K_ACTS, K_PRES, K_HITS, K_MISSES, K_REFS, K_PBREFS, K_RD, K_WR, K_TURNS, K_PD, K_PDCYC, K_FORCED, \
    K_BUSY = range(13)
N_K = 13


@njit(cache=True, inline="always")   # see _INLINE_NOTE
def _act_earliest(P, bank_st, chan, b, base):
    """Earliest ACT of bank b for a request ready at `base` (closing a conflicting row first)."""
    if bank_st[b, B_ROW] >= 0:
        rdy = _precharge_time(P, bank_st, b, base) + P[P_RP]
    else:
        rdy = bank_st[b, B_RDY]
    bg = b // P[P_BPG]
    last_bg = chan[C_LASTACT_BG]
    gap = P[P_RRDL] if (bg == last_bg or last_bg == ALL_BANKS_BG) else P[P_RRDS]
    act = max(base, rdy)
    act = max(act, chan[C_LASTACT] + gap)
    return max(act, chan[C_R0 + chan[C_RING]] + P[P_FAW])


@njit(cache=True, inline="always")   # see _INLINE_NOTE
def _column_earliest(P, bg_last, chan, bg, ready, write):
    """Earliest column command in bank group bg once its row is open at `ready`."""
    gap = P[P_CCDL] if bg == chan[C_LASTCOL_BG] else P[P_CCDS]
    t = max(ready, chan[C_LASTCOL] + gap)
    t = max(t, bg_last[bg] + P[P_CCDL])
    if write:
        return max(t, chan[C_LASTRD] + P[P_RTW])
    wtr = P[P_WTRL] if bg == chan[C_LASTWR_BG] else P[P_WTRS]
    return max(t, chan[C_LASTWR] + P[P_CWL] + P[P_BL] + wtr)


@njit(cache=True, inline="always")   # see _INLINE_NOTE
def _earliest(P, bank_st, bg_last, chan, b, row, write, base):
    """Earliest column command of a request to (b, row), without changing any state."""
    if bank_st[b, B_ROW] == row:
        ready = max(base, bank_st[b, B_ACT] + P[P_RCD])
    else:
        ready = _act_earliest(P, bank_st, chan, b, base) + P[P_RCD]
    return _column_earliest(P, bg_last, chan, b // P[P_BPG], ready, write)


@njit(cache=True)
def _serve(P, X, bank_st, bg_last, chan, b, row, write, base, k):
    """Issue a request's commands (PRE, ACT as needed, then its column); returns the column time."""
    bpg = P[P_BPG]
    if bank_st[b, B_ROW] == row:
        chan[C_HITS] += 1
        k[K_HITS] += 1
        ready = max(base, bank_st[b, B_ACT] + P[P_RCD])
    else:
        chan[C_MISSES] += 1
        k[K_MISSES] += 1
        if bank_st[b, B_ROW] >= 0:
            k[K_PRES] += 1
        act = _act_earliest(P, bank_st, chan, b, base)
        chan[C_R0 + chan[C_RING]] = act
        chan[C_RING] = (chan[C_RING] + 1) % 4
        chan[C_RINGN] += 1
        chan[C_LASTACT] = act
        chan[C_LASTACT_BG] = b // bpg
        chan[C_ACTS] += 1
        k[K_ACTS] += 1
        bank_st[b, B_ACT] = act
        bank_st[b, B_ROW] = row
        ready = act + P[P_RCD]
    bg = b // bpg
    t = _column_earliest(P, bg_last, chan, bg, ready, write)
    chan[C_LASTCOL] = t
    chan[C_LASTCOL_BG] = bg
    bg_last[bg] = t
    if write:
        bank_st[b, B_WR] = t
        chan[C_LASTWR] = t
        chan[C_LASTWR_BG] = bg
        chan[C_WRCOLS] += 1
        k[K_WR] += 1
    else:
        bank_st[b, B_RD] = t
        chan[C_LASTRD] = t
        chan[C_RDCOLS] += 1
        k[K_RD] += 1
    if X[X_CLOSED] != 0:                           # auto-precharge (RDA / WRA)
        bank_st[b, B_RDY] = _precharge_time(P, bank_st, b, t) + P[P_RP]
        bank_st[b, B_ROW] = -1
        k[K_PRES] += 1
    return t


@njit(cache=True)
def _refresh(P, bank_st, chan, now, queued, k):
    """Refreshes due by `now`. All-bank: `commands.refresh_if_due`. Per-bank: the controller sees its
    queue and refreshes, among the banks not yet refreshed this round, one no queued request needs
    (the most recently activated such bank: a stream has left it). When every such bank has queued
    requests (late in a round the one left is often the bank a stream is in), the refresh is
    postponed until one has none, at most MAX_POSTPONED owed, then the least needed one is
    refreshed (JEDEC lets a controller postpone up to 8 refresh commands; HBM3 / LPDDR5
    per-bank refresh: any order within a round). Without postponing, HBM3 sequences of read and
    write transfers lost up to 22 % to refreshes a stream waits for (tests/engine/
    test_dram_equivalence.py)."""
    if P[P_REFPB] == 0:
        refs0 = chan[C_REFS]
        refresh_if_due(P, bank_st, chan, now, False)
        k[K_REFS] += chan[C_REFS] - refs0
        return
    nb = P[P_NBANKS]
    while now >= chan[C_NEXTREF]:
        due = chan[C_NEXTREF]
        if chan[C_REFMASK] == (1 << nb) - 1:
            chan[C_REFMASK] = 0
        best = -1
        for b in range(nb):
            if (chan[C_REFMASK] >> b) & 1:
                continue
            if best < 0 or queued[b] < queued[best] or (
                    queued[b] == queued[best] and bank_st[b, B_ACT] > bank_st[best, B_ACT]):
                best = b
        owed = (now - due) // P[P_REFI] + 1
        if queued[best] > 0 and owed < MAX_POSTPONED:
            return                                   # wait until a bank of the round is free
        chan[C_REFMASK] |= 1 << best
        ref_t = max(due, bank_st[best, B_RDY])
        if bank_st[best, B_ROW] >= 0:
            ref_t = max(ref_t, _precharge_time(P, bank_st, best, due) + P[P_RP])
            k[K_PRES] += 1
        bank_st[best, B_ROW] = -1
        bank_st[best, B_RDY] = ref_t + P[P_RFCPB]
        chan[C_PBREFS] += 1
        k[K_PBREFS] += 1
        chan[C_NEXTREF] += P[P_REFI]


@njit(cache=True)
def run_channel(P, X, bank_st, bg_last, chan, bank, row, write, arrival, issue, done, k):
    """Serve one channel's requests (in arrival order) with FR-FCFS+Cap; fills issue/done (cycles of
    each request's column command and data end) and the counts k[N_K]."""
    n = bank.shape[0]
    qmax = max(1, X[X_QUEUE])
    queue = np.empty(qmax, dtype=np.int64)       # request indices, oldest first
    entered = np.empty(n, dtype=np.int64)        # when each request entered the queue
    qn = 0
    nxt = 0
    now = 0
    floor = 0                                    # power-down exit: no command before it
    last_end = 0
    bypass = 0
    last_dir = -1                                # direction of the last column (turnaround count)
    was_full = False
    prev_t = 0
    queued = np.zeros(bank_st.shape[0], dtype=np.int64)
    draining = False
    hi = max(1, (3 * qmax) // 4)                 # write-drain watermarks (assumption: 3/4, 1/4)
    lo = qmax // 4
    for _ in range(n):
        if qn == 0 and nxt < n and arrival[nxt] > now:
            idle_from = max(now, last_end)
            a = arrival[nxt]
            if X[X_PDIDLE] > 0 and a > idle_from + X[X_PDIDLE]:
                entry = idle_from + X[X_PDIDLE]
                wake = max(a, entry + X[X_TCKE]) + X[X_TXP]
                k[K_PD] += 1
                k[K_PDCYC] += wake - entry
                floor = wake
            now = a
        while nxt < n and qn < qmax and arrival[nxt] <= now:
            queue[qn] = nxt
            # a request that found the queue full entered when the last column freed a slot
            entered[nxt] = max(arrival[nxt], prev_t) if was_full else arrival[nxt]
            qn += 1
            nxt += 1
        was_full = qn == qmax
        nw = 0
        for b in range(queued.shape[0]):
            queued[b] = 0
        for j in range(qn):
            queued[bank[queue[j]]] += 1
            nw += write[queue[j]]
        _refresh(P, bank_st, chan, now, queued, k)
        # write drain: writes are posted and served in batches (from `hi` queued writes down to
        # `lo`, or whenever no read waits), so the bus turns around once per batch
        if nw == qn or (not draining and nw >= hi):
            draining = True
        elif draining and (nw <= lo or nw == 0):
            draining = False
        want = 1 if draining else 0
        best = -1
        oldest = -1
        best_t = 1 << 62
        for j in range(qn):
            i = queue[j]
            if write[i] != want:
                continue
            if oldest < 0:
                oldest = j
            t = _earliest(P, bank_st, bg_last, chan, bank[i], row[i], write[i], max(entered[i], floor))
            if t < best_t:
                best_t = t
                best = j
        if best != oldest:
            bypass += 1
            if bypass > X[X_CAP]:
                best = oldest
                k[K_FORCED] += 1
        if best == oldest:
            bypass = 0
        i = queue[best]
        for j in range(best, qn - 1):
            queue[j] = queue[j + 1]
        qn -= 1
        t = _serve(P, X, bank_st, bg_last, chan, bank[i], row[i], write[i], max(entered[i], floor), k)
        issue[i] = t
        if last_dir >= 0 and last_dir != write[i]:
            k[K_TURNS] += 1
        last_dir = write[i]
        prev_t = t
        done[i] = t + (P[P_CWL] if write[i] else P[P_CL]) + P[P_BL]
        k[K_BUSY] += P[P_BL]
        if done[i] > last_end:
            last_end = done[i]
        now = max(now, t)
    return last_end
