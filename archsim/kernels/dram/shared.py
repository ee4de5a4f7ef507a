"""A DRAM channel shared by transfers (Numba): what `archsim.kernels.timeloop` runs when the
request-level controller is the engine's DRAM path (`--dram-model controller`).

A channel holds the transfers (burst tasks) that have arrived and are not done (`pending`, sorted
by (arrival, task)). It is in one of three modes:

- idle: nothing pending;
- alone: one transfer (the head) is served with the burst closed form (`stream.burst`) on a
  snapshot of the channel state. Its finish is provisional until the channel's event: the commit
  at its finish, or the arrival of another read/write transfer before it (then the snapshot comes
  back, the head's row bursts that started before that arrival are replayed row by row with
  `commands.row_burst`, and the channel turns to request level), or a transfer that arrived before
  the head (then the channel starts over from that arrival);
- request level: the transfers' column requests go through the controller's queue with the rules
  of `controller.run_channel` (its functions): `queue_depth` entries, FR-FCFS with the row-hit cap,
  write drain, turnaround, refresh as the controller does it (per-bank refresh picks a bank no queued
  request needs). Requests enter the queue round robin over the transfers that have arrived, in
  pending order (the k-th request of every transfer before the (k+1)-th of any: concurrent DMA
  streams, as `engine.dram_equivalence.controller_finish` feeds the controller). With `solo` on,
  once one transfer is left with requests to admit (and only its requests are queued) it admits up
  to the end of its row burst, and when the queue is empty the channel serves its remaining whole
  row bursts alone again (burst closed form).

PIM all-bank MAC bursts are never split into requests: they are served alone, in arrival order.
How host read/write transfers share the channel with them is the description's
`pim_host_interleave` (`S_PIMROW`): `transfer` (default) — a read/write transfer that arrives
during a PIM burst, or after a waiting one, waits for the PIM burst's end; `row` — a read/write
transfer arriving while a PIM burst is served alone (or waiting when one becomes the head) takes
the channel after the PIM row bursts already started (the alone segment is replayed as for a
read/write head) and the PIM burst goes behind it (`pim_yields`: re-entering the pending list at
that time + 1); the host transfer is served (alone or at request level; its ACTs close the PIM
rows in its banks) and the PIM burst resumes at its next row burst, re-activating its rows. A PIM
burst not at the head still holds back read/write transfers that arrived after it until it is.
At most WINDOW transfers per channel take part in the round robin.
Power-down (`powerdown.py`): a transfer served alone pays it in `stream.burst` (and in `replay`
when its alone segment is taken back); at request level only a decision that finds the queue empty
can find the channel idle (with `solo` on the channel turns to request level only while two
transfers overlap, so there it never is; with `solo` off, as `run_channel`), and admission puts
no request before the last wake.

Scalar state per channel: `cs[d, S_*]`; per task: `ts[i, T_*]`; queue entries `qa[d, j, Q_*]`.
"""
from __future__ import annotations

from numba import njit

from .address import slot_bank
from .commands import row_burst
from .powerdown import powerdown_exit
from .controller import (K_ACTS, K_BUSY, K_FORCED, K_HITS, K_MISSES, K_PRES, K_RD, K_TURNS,
                         K_WR, X_CAP, X_CLOSED, X_QUEUE, _earliest, _refresh, _serve)
from .state import (ALL_BANKS_BG, B_ACT, B_RD, B_RDY, B_ROW, B_WR, C_ACTS, C_FLOOR, C_LASTEND, C_WAKE, C_HITS,
                    C_MISSES, C_RDCOLS, C_RINGN, C_WRCOLS, C_LASTACT,
                    C_LASTACT_BG, C_LASTCOL, C_LASTCOL_BG, C_LASTRD, C_LASTWR, C_LASTWR_BG,
                    C_NEXTREF, C_R0, C_RING, MODE_PIM_MAC, MODE_WRITE, NEG, P_BL, P_BPG, P_CCDL,
                    P_CCDS, P_CL, P_CWL, P_FAW, P_NBANKS, P_RAS, P_RCD, P_RP, P_RRDL, P_RRDS,
                    P_RTP, P_RTW, P_WR, P_WTRL, P_WTRS)
from .stream import burst

# channel scalars
S_MODE, S_HEAD, S_EVT, S_EVK, S_FIRST, S_END, S_ROW0, S_READY, S_NOW, S_QN, S_BYPASS, S_DRAIN, \
    S_PREVT, S_FULL, S_AMAX, S_RRA, S_RRI, S_LASTDIR, S_PBASE, S_PN, S_PIMROW = range(21)
N_S = 21
IDLE, ALONE, REQUEST = 0, 1, 2
#: event kinds, in the order events at one time are taken: a commit releases arrivals that a
#: switch or a decision at the same time must see
EV_COMMIT, EV_SWITCH, EV_DECIDE = 0, 1, 2
# task scalars
T_ARR, T_ADM, T_LEFT, T_START, T_END, T_INQ, T_STATE = range(7)
N_T = 7
# queue entry fields
Q_TASK, Q_BANK, Q_ROW, Q_WRITE, Q_ENT = range(5)
N_Q = 5
BIG = 1 << 62
#: at most this many transfers of a channel (the earliest pending) stream requests into its queue
#: at once; later ones wait their turn in arrival order (assumption: a bounded number of
#: outstanding DMA transfers per channel, as DMA engines have; it also bounds the cost of a
#: decision when hundreds of transfers wait)
WINDOW = 16


@njit(cache=True)
def _key_lt(ts, a, b):
    """Transfer a arrived before b (ties by task index)."""
    return ts[a, T_ARR] < ts[b, T_ARR] or (ts[a, T_ARR] == ts[b, T_ARR] and a < b)


@njit(cache=True)
def insert(cs, pend, ts, d, i):
    """Add arrived task i to channel d's pending list (sorted by arrival, then index)."""
    base = cs[d, S_PBASE]
    n = cs[d, S_PN]
    j = n
    while j > 0 and _key_lt(ts, i, pend[base + j - 1]):
        pend[base + j] = pend[base + j - 1]
        j -= 1
    pend[base + j] = i
    cs[d, S_PN] = n + 1


@njit(cache=True)
def pim_yields(cs, ts, pend, d, at, mode):
    """`pim_host_interleave: row`: the PIM burst at the head of channel d, stopped at `at` after
    its row bursts already started (`replay`), goes behind the read/write transfers that arrived
    after it and by then: it re-enters the pending list as arriving at `at` + 1 (those that
    arrived before it are ahead of it already)."""
    h = cs[d, S_HEAD]
    if cs[d, S_PIMROW] == 0 or mode[h] != MODE_PIM_MAC:
        return
    base = cs[d, S_PBASE]
    waiting = False
    for p in range(cs[d, S_PN]):
        o = pend[base + p]
        if o != h and mode[o] != MODE_PIM_MAC and ts[o, T_ARR] <= at and _key_lt(ts, h, o):
            waiting = True
            break
    if waiting:
        remove(cs, pend, d, h)
        ts[h, T_ARR] = at + 1
        insert(cs, pend, ts, d, h)


@njit(cache=True)
def remove(cs, pend, d, i):
    base = cs[d, S_PBASE]
    n = cs[d, S_PN]
    j = 0
    while pend[base + j] != i:
        j += 1
    for k in range(j, n - 1):
        pend[base + k] = pend[base + k + 1]
    cs[d, S_PN] = n - 1


@njit(cache=True)
def snapshot(bank_st, bg_last, chan, sb_bank, sb_bg, sb_chan, d):
    sb_bank[d] = bank_st[d]
    sb_bg[d] = bg_last[d]
    sb_chan[d] = chan[d]


@njit(cache=True)
def restore(bank_st, bg_last, chan, sb_bank, sb_bg, sb_chan, d):
    bank_st[d] = sb_bank[d]
    bg_last[d] = sb_bg[d]
    chan[d] = sb_chan[d]


@njit(cache=True)
def start_alone(cs, ts, pend, d, P, bank_st, bg_last, chan, work, sb_bank, sb_bg, sb_chan,
                slot, row, ncols, span, mode, nrows, periodic):
    """Serve the head of channel d (its first pending transfer) alone from its next row burst,
    provisionally (on a snapshot of the state); sets the channel's event."""
    h = pend[cs[d, S_PBASE]]
    snapshot(bank_st, bg_last, chan, sb_bank, sb_bg, sb_chan, d)
    r0 = ts[h, T_ADM] // ncols[h]           # whole row bursts served so far
    s, e = burst(P, bank_st[d], bg_last[d], chan[d], slot[h] + r0 * span[h], row[h], ncols[h],
                 span[h], mode[h], nrows[h] - r0, ts[h, T_ARR], periodic, work[d])
    cs[d, S_MODE] = ALONE
    cs[d, S_HEAD] = h
    cs[d, S_FIRST] = s
    cs[d, S_END] = e
    cs[d, S_ROW0] = r0
    cs[d, S_READY] = ts[h, T_ARR]
    alone_event(cs, ts, pend, d, mode)


@njit(cache=True)
def alone_event(cs, ts, pend, d, mode):
    """The event of channel d serving its head alone: the commit at its finish, or the first
    arrival that changes the plan (one ahead of the head in the pending list — it arrived before
    the head, or with `row` a read/write transfer arriving during a PIM head: start over; a
    read/write transfer before the head's finish, ahead of any waiting PIM burst: turn to request
    level)."""
    h = cs[d, S_HEAD]
    best = cs[d, S_END]
    kind = EV_COMMIT
    base = cs[d, S_PBASE]
    blocked = False
    before = True                    # o is ahead of the head in the pending list
    for p in range(cs[d, S_PN]):
        o = pend[base + p]
        if o == h:
            before = False
            continue
        a = ts[o, T_ARR]
        if before:
            if a < best or (a == best and kind == EV_COMMIT):
                best = a
                kind = EV_SWITCH
            continue
        if a >= best:                # sorted by arrival: no later one changes the plan
            break                    # (`row`: read/write transfers first, each sorted)
        pim_head_yields = mode[h] == MODE_PIM_MAC and cs[d, S_PIMROW] != 0
        if mode[o] == MODE_PIM_MAC:  # waits for the head; with `transfer` holds back what follows
            if not pim_head_yields:
                blocked = True
            continue
        if blocked or p >= WINDOW or (mode[h] == MODE_PIM_MAC and not pim_head_yields):
            continue
        best = a
        kind = EV_SWITCH
    cs[d, S_EVT] = best
    cs[d, S_EVK] = kind


@njit(cache=True)
def replay(cs, ts, d, at, P, bank_st, bg_last, chan, sb_bank, sb_bg, sb_chan, slot, row, ncols,
           span, mode, nrows, c, banks, tmp_bank, tmp_bg, tmp_chan):
    """Back to the snapshot of the alone segment, then the head's row bursts whose first command
    comes before `at`, row by row (what the burst closed form gives for them, exactly). Returns
    True when the head is done."""
    restore(bank_st, bg_last, chan, sb_bank, sb_bg, sb_chan, d)
    h = cs[d, S_HEAD]
    ready = cs[d, S_READY]
    ch = chan[d]
    floor = ch[C_FLOOR]
    if floor > ready:                # as `stream.burst` does at a burst's start
        ready = floor
    ch[C_FLOOR] = ready
    if ts[h, T_ARR] <= at:
        # as `stream.burst`; a head that had not reached the channel by `at` (the loop knew its
        # arrival ahead) wakes nothing: nothing of it is replayed and its wake must not stay
        ready = powerdown_exit(P, ch, ready)
    r = cs[d, S_ROW0]
    while r < nrows[h]:
        tmp_bank[:] = bank_st[d]
        tmp_bg[:] = bg_last[d]
        tmp_chan[:] = chan[d]
        s, e = row_burst(P, bank_st[d], bg_last[d], chan[d], slot[h] + r * span[h], row[h],
                         ncols[h], span[h], mode[h], ready, c, banks)
        if s >= at:
            bank_st[d] = tmp_bank
            bg_last[d] = tmp_bg
            chan[d] = tmp_chan
            break
        if s < ts[h, T_START]:
            ts[h, T_START] = s
        if e > ts[h, T_END]:
            ts[h, T_END] = e
        if e > ch[C_LASTEND]:
            ch[C_LASTEND] = e
        r += 1
    if r == cs[d, S_ROW0]:           # nothing replayed: the head never started
        chan[d, C_FLOOR] = floor
    ts[h, T_ADM] = r * ncols[h]
    ts[h, T_LEFT] = (nrows[h] - r) * ncols[h]
    return r == nrows[h]


@njit(cache=True)
def eligible_arrived(cs, ts, pend, d, now, mode):
    """How many read/write transfers ahead of any waiting PIM burst have arrived by `now` with
    requests left."""
    base = cs[d, S_PBASE]
    n = 0
    for p in range(min(cs[d, S_PN], WINDOW)):
        o = pend[base + p]
        if mode[o] == MODE_PIM_MAC:
            break
        if ts[o, T_ARR] <= now and ts[o, T_LEFT] > 0:
            n += 1
    return n


@njit(cache=True)
def start_request(cs, d, now):
    cs[d, S_MODE] = REQUEST
    cs[d, S_NOW] = now
    cs[d, S_QN] = 0
    cs[d, S_BYPASS] = 0
    cs[d, S_DRAIN] = 0
    cs[d, S_PREVT] = 0
    cs[d, S_FULL] = 0
    cs[d, S_AMAX] = 0
    cs[d, S_RRA] = NEG
    cs[d, S_RRI] = -1
    cs[d, S_EVT] = now
    cs[d, S_EVK] = EV_DECIDE


@njit(cache=True)
def wants_request(cs, ts, pend, d, now, mode, ncols, solo):
    """At time `now` (every arrival up to it known): request level when two read/write transfers
    have arrived, or the first pending one stopped mid row burst, or (`solo` off) whenever the
    first pending one is a read/write transfer."""
    h = pend[cs[d, S_PBASE]]
    if mode[h] != MODE_PIM_MAC and (not solo or ts[h, T_ADM] % ncols[h] != 0):
        return True
    return eligible_arrived(cs, ts, pend, d, now, mode) >= 2


@njit(cache=True)
def decide_run(cs, ts, pend, qa, params, X, bank_st, bg_last, chan, kc, slot, row, ncols, span,
               mode, nrows, solo, queued, done_out, log, seen, plain):
    """Request-level decisions (each the loop body of `controller.run_channel`) while the earliest
    event of all channels is one: each step takes the channel with the earliest (time, kind, slot)
    as `timeloop.run_timed` does, up to the time `done_out[3]` (a first-column event of the loop's:
    decisions at that time come first). Returns 0: the earliest event is not a decision (or there
    is none, or it comes after `done_out[3]`); 1: channel `done_out[1]` served the last request of
    transfer `done_out[0]`; 2: channel `done_out[1]` left request level (the caller restarts it);
    3: channel `done_out[1]` served the first request of transfer `done_out[0]`, whose start the
    loop waits for (`ts[i, T_STATE]` 1: a later task shares one of its port lanes).
    `log` (tests; length 1: off): log[0] requests admitted so far, then the task of each in
    admission order. `seen`: int64 [4, banks] scratch (zeros at first). `plain` (tests): the
    FR-FCFS scan calls `controller._earliest` for every queued request, nothing skipped or written
    out (the scan before its speed-ups), and `controller._serve` serves: the results must be the
    same.
    Decisions loop here over the channels' stacked arrays, indexed by slot, with no per-channel
    view and no call per decision: a call, inlined or not, and a view incref and decref their
    arrays (perf: NRT_incref and NRT_decref took 42 % of a LLaMA-2-7B prefill's time when each
    decision was a call, the 8 channels' decisions interleaving one by one)."""
    nd = params.shape[0]
    while True:
        d = -1
        bt = BIG
        bk = 3
        for e in range(nd):
            if cs[e, S_MODE] == IDLE:
                continue
            t = cs[e, S_EVT]
            k = cs[e, S_EVK]
            if t < bt or (t == bt and k < bk):
                d = e
                bt = t
                bk = k
        if d < 0 or cs[d, S_MODE] != REQUEST or bt > done_out[3]:
            return 0
        done_out[1] = d
        if bt > done_out[2]:            # `run_timed`'s clock: the latest channel event taken
            done_out[2] = bt
        now = cs[d, S_NOW]
        qmax = max(1, X[d, X_QUEUE])
        nb = params[d, P_NBANKS]
        base = cs[d, S_PBASE]
        pn = cs[d, S_PN]
        # which transfers may admit: ahead of any PIM burst, arrived, requests not yet admitted;
        # solo: one such transfer and only its requests queued -> up to the end of its row burst
        live = 0
        last_live = -1
        nxt_arr = BIG
        for p in range(min(pn, WINDOW)):
            o = pend[base + p]
            if mode[o] == MODE_PIM_MAC:
                break
            unadm = ts[o, T_LEFT] - ts[o, T_INQ]
            if unadm > 0:
                if ts[o, T_ARR] <= now:
                    live += 1
                    last_live = o
                elif ts[o, T_ARR] < nxt_arr:
                    nxt_arr = ts[o, T_ARR]
        cap_task = -1
        cap_at = 0
        if solo and live == 1 and ts[last_live, T_INQ] == cs[d, S_QN]:
            cap_task = last_live
            a = ts[last_live, T_ADM]
            cap_at = -(-a // ncols[last_live]) * ncols[last_live]
        qn = cs[d, S_QN]
        if qn == 0:
            if live == 0 or (cap_task >= 0 and ts[cap_task, T_ADM] >= cap_at):
                if solo or live > 0 or nxt_arr == BIG:
                    cs[d, S_MODE] = IDLE
                    return 2
                cs[d, S_NOW] = nxt_arr          # the controller's queue is empty: wait for a request
                cs[d, S_EVT] = nxt_arr
                continue
            # the queue was empty: the channel may have powered down (as `run_channel`)
            powerdown_exit(params[d], chan[d], now)
        # admission, round robin in pending order from the transfer after the last one admitted
        full_before = cs[d, S_FULL]
        wake = chan[d, C_WAKE]            # no command before the last power-down exit
        while qn < qmax:
            pick = -1
            first = -1
            for p in range(min(pn, WINDOW)):
                o = pend[base + p]
                if mode[o] == MODE_PIM_MAC:
                    break
                if ts[o, T_ARR] > now or ts[o, T_LEFT] - ts[o, T_INQ] <= 0:
                    continue
                if o == cap_task and ts[o, T_ADM] >= cap_at:
                    continue
                if first < 0:
                    first = o
                if ts[o, T_ARR] > cs[d, S_RRA] or (ts[o, T_ARR] == cs[d, S_RRA] and o > cs[d, S_RRI]):
                    pick = o
                    break
            if pick < 0:
                pick = first
            if pick < 0:
                break
            q = ts[pick, T_ADM]
            k = min(span[pick], ncols[pick])
            r = q // ncols[pick]
            j = q % ncols[pick]
            s = slot[pick] + r * span[pick] + j % k
            if ts[pick, T_ARR] > cs[d, S_AMAX]:
                cs[d, S_AMAX] = ts[pick, T_ARR]
            ent = max(cs[d, S_AMAX], cs[d, S_PREVT]) if full_before else cs[d, S_AMAX]
            if wake > ent:
                ent = wake
            qa[d, qn, Q_TASK] = pick
            qa[d, qn, Q_BANK] = slot_bank(params[d], s)
            qa[d, qn, Q_ROW] = row[pick] + s // nb
            qa[d, qn, Q_WRITE] = 1 if mode[pick] == MODE_WRITE else 0
            qa[d, qn, Q_ENT] = ent
            qn += 1
            ts[pick, T_ADM] = q + 1
            if log.shape[0] > 1:
                log[0] += 1
                log[log[0]] = pick
            ts[pick, T_INQ] += 1
            cs[d, S_RRA] = ts[pick, T_ARR]
            cs[d, S_RRI] = pick
        cs[d, S_FULL] = 1 if qn == qmax else 0
        cs[d, S_QN] = qn
        if qn == 0:                       # nothing to serve (cannot happen: checked above)
            cs[d, S_MODE] = IDLE
            return 2
        nw = 0
        for j in range(qn):
            nw += qa[d, j, Q_WRITE]
        if now >= chan[d, C_NEXTREF]:
            # a refresh is due: `_refresh` (per-bank refresh reads how many queued requests need each
            # bank); before that it does nothing (both its loops start with this test), so it is skipped
            queued[:] = 0
            for j in range(qn):
                queued[qa[d, j, Q_BANK]] += 1
            _refresh(params[d], bank_st[d], chan[d], now, queued, kc[d])
        hi = max(1, (3 * qmax) // 4)
        lo = qmax // 4
        if nw == qn or (cs[d, S_DRAIN] == 0 and nw >= hi):
            cs[d, S_DRAIN] = 1
        elif cs[d, S_DRAIN] == 1 and (nw <= lo or nw == 0):
            cs[d, S_DRAIN] = 0
        want = cs[d, S_DRAIN]
        best = -1
        oldest = -1
        best_t = BIG
        # `_earliest` is nondecreasing in the entry time and nothing changes during the scan, so a
        # request to the same (bank, row) as one already scanned that entered no earlier cannot come
        # first (ties go to the older): it is skipped. `seen[0, b]` marks bank b scanned in this
        # decision (stamp `seen[3, 0]`), with the row and entry time of the last request scanned on it.
        stamp = seen[3, 0] + 1
        seen[3, 0] = stamp
        bpg = params[d, P_BPG]
        for j in range(qn):
            if qa[d, j, Q_WRITE] != want:
                continue
            if oldest < 0:
                oldest = j
            b = qa[d, j, Q_BANK]
            rw = qa[d, j, Q_ROW]
            ent = qa[d, j, Q_ENT]
            if plain:                   # tests: every request through controller._earliest itself
                t = _earliest(params[d], bank_st[d], bg_last[d], chan[d], b, rw, want, ent)
                if t < best_t:
                    best_t = t
                    best = j
                continue
            if seen[0, b] == stamp and seen[1, b] == rw and seen[2, b] <= ent:
                continue
            seen[0, b] = stamp
            seen[1, b] = rw
            seen[2, b] = ent
            # controller._earliest(P, bs, bgl, ch, b, rw, want, ent), written out: a call, inlined or
            # not, increfs and decrefs its four array arguments (atomic operations) on every queued
            # request, which was most of a decision's time (perf); tests/engine/test_controller_path.py
            # checks this scan against controller.run_channel exactly
            bg = b // bpg
            if bank_st[d, b, B_ROW] == rw:
                ready = max(ent, bank_st[d, b, B_ACT] + params[d, P_RCD])
            else:
                if bank_st[d, b, B_ROW] >= 0:                        # commands._precharge_time, then tRP
                    pre = max(ent, bank_st[d, b, B_ACT] + params[d, P_RAS])
                    pre = max(pre, bank_st[d, b, B_RD] + params[d, P_RTP])
                    pre = max(pre, bank_st[d, b, B_WR] + params[d, P_CWL] + params[d, P_BL] + params[d, P_WR])
                    rdy = pre + params[d, P_RP]
                else:
                    rdy = bank_st[d, b, B_RDY]
                lbg = chan[d, C_LASTACT_BG]
                gap = params[d, P_RRDL] if (bg == lbg or lbg == ALL_BANKS_BG) else params[d, P_RRDS]
                act = max(ent, rdy)
                act = max(act, chan[d, C_LASTACT] + gap)
                act = max(act, chan[d, C_R0 + chan[d, C_RING]] + params[d, P_FAW])
                ready = act + params[d, P_RCD]
            gap = params[d, P_CCDL] if bg == chan[d, C_LASTCOL_BG] else params[d, P_CCDS]
            t = max(ready, chan[d, C_LASTCOL] + gap)
            t = max(t, bg_last[d, bg] + params[d, P_CCDL])
            if want:
                t = max(t, chan[d, C_LASTRD] + params[d, P_RTW])
            else:
                wtr = params[d, P_WTRL] if bg == chan[d, C_LASTWR_BG] else params[d, P_WTRS]
                t = max(t, chan[d, C_LASTWR] + params[d, P_CWL] + params[d, P_BL] + wtr)
            if t < best_t:
                best_t = t
                best = j
        if best != oldest:
            cs[d, S_BYPASS] += 1
            if cs[d, S_BYPASS] > X[d, X_CAP]:
                best = oldest
                kc[d, K_FORCED] += 1
        if best == oldest:
            cs[d, S_BYPASS] = 0
        i = qa[d, best, Q_TASK]
        bank = qa[d, best, Q_BANK]
        rw = qa[d, best, Q_ROW]
        wr = qa[d, best, Q_WRITE]
        ent = qa[d, best, Q_ENT]
        for j in range(best, qn - 1):            # field by field: a row slice copy costs more
            for f in range(N_Q):
                qa[d, j, f] = qa[d, j + 1, f]
        cs[d, S_QN] = qn - 1
        if plain:                   # tests: the controller's own function
            t = _serve(params[d], X[d], bank_st[d], bg_last[d], chan[d], bank, rw, wr, ent,
                           kc[d])
        else:
            # controller._serve, written out as the
            # scan's `_earliest` is (a call per decision: its array arguments' reference counts,
            # ~30 % of a LLaMA-2-7B prefill's time); `plain` runs `_serve` itself (tests)
            bg = bank // bpg
            if bank_st[d, bank, B_ROW] == rw:
                chan[d, C_HITS] += 1
                kc[d, K_HITS] += 1
                ready = max(ent, bank_st[d, bank, B_ACT] + params[d, P_RCD])
            else:
                chan[d, C_MISSES] += 1
                kc[d, K_MISSES] += 1
                if bank_st[d, bank, B_ROW] >= 0:
                    kc[d, K_PRES] += 1
                    pre = max(ent, bank_st[d, bank, B_ACT] + params[d, P_RAS])
                    pre = max(pre, bank_st[d, bank, B_RD] + params[d, P_RTP])
                    pre = max(pre, bank_st[d, bank, B_WR] + params[d, P_CWL] + params[d, P_BL] + params[d, P_WR])
                    rdy = pre + params[d, P_RP]
                else:
                    rdy = bank_st[d, bank, B_RDY]
                lbg = chan[d, C_LASTACT_BG]
                gap = params[d, P_RRDL] if (bg == lbg or lbg == ALL_BANKS_BG) else params[d, P_RRDS]
                act = max(ent, rdy)
                act = max(act, chan[d, C_LASTACT] + gap)
                act = max(act, chan[d, C_R0 + chan[d, C_RING]] + params[d, P_FAW])
                chan[d, C_R0 + chan[d, C_RING]] = act
                chan[d, C_RING] = (chan[d, C_RING] + 1) % 4
                chan[d, C_RINGN] += 1
                chan[d, C_LASTACT] = act
                chan[d, C_LASTACT_BG] = bg
                chan[d, C_ACTS] += 1
                kc[d, K_ACTS] += 1
                bank_st[d, bank, B_ACT] = act
                bank_st[d, bank, B_ROW] = rw
                ready = act + params[d, P_RCD]
            gap = params[d, P_CCDL] if bg == chan[d, C_LASTCOL_BG] else params[d, P_CCDS]
            t = max(ready, chan[d, C_LASTCOL] + gap)
            t = max(t, bg_last[d, bg] + params[d, P_CCDL])
            if wr:
                t = max(t, chan[d, C_LASTRD] + params[d, P_RTW])
            else:
                wtr = params[d, P_WTRL] if bg == chan[d, C_LASTWR_BG] else params[d, P_WTRS]
                t = max(t, chan[d, C_LASTWR] + params[d, P_CWL] + params[d, P_BL] + wtr)
            chan[d, C_LASTCOL] = t
            chan[d, C_LASTCOL_BG] = bg
            bg_last[d, bg] = t
            if wr:
                bank_st[d, bank, B_WR] = t
                chan[d, C_LASTWR] = t
                chan[d, C_LASTWR_BG] = bg
                chan[d, C_WRCOLS] += 1
                kc[d, K_WR] += 1
            else:
                bank_st[d, bank, B_RD] = t
                chan[d, C_LASTRD] = t
                chan[d, C_RDCOLS] += 1
                kc[d, K_RD] += 1
            if X[d, X_CLOSED] != 0:                 # auto-precharge (RDA / WRA)
                pre = max(t, bank_st[d, bank, B_ACT] + params[d, P_RAS])
                pre = max(pre, bank_st[d, bank, B_RD] + params[d, P_RTP])
                pre = max(pre, bank_st[d, bank, B_WR] + params[d, P_CWL] + params[d, P_BL] + params[d, P_WR])
                bank_st[d, bank, B_RDY] = pre + params[d, P_RP]
                bank_st[d, bank, B_ROW] = -1
                kc[d, K_PRES] += 1
        if cs[d, S_LASTDIR] >= 0 and cs[d, S_LASTDIR] != wr:
            kc[d, K_TURNS] += 1
        cs[d, S_LASTDIR] = wr
        cs[d, S_PREVT] = t
        end = t + (params[d, P_CWL] if wr else params[d, P_CL]) + params[d, P_BL]
        kc[d, K_BUSY] += params[d, P_BL]
        if end > chan[d, C_LASTEND]:
            chan[d, C_LASTEND] = end
        if t < ts[i, T_START]:
            ts[i, T_START] = t
        if end > ts[i, T_END]:
            ts[i, T_END] = end
        ts[i, T_LEFT] -= 1
        ts[i, T_INQ] -= 1
        if t > now:
            cs[d, S_NOW] = t
        cs[d, S_EVT] = cs[d, S_NOW]
        if ts[i, T_LEFT] == 0:
            done_out[0] = i
            return 1
        if ts[i, T_STATE] == 1:
            done_out[0] = i
            return 3
