"""The SimPy twin of the engine's request-level DRAM path (`dram_model="controller"`): plain Python,
written apart from the Numba kernels (`kernels.timeloop` with `kernels.dram.shared`), which it
must reproduce exactly (tests/engine/test_reference_controller.py).

The Numba loop settles tasks ahead of time and plans a channel provisionally (a transfer alone is
served with the burst closed form and rolled back when another one turns up). This twin is
causal instead: a DRAM task arrives at its channel when its dependencies have finished (a SimPy
process per task), and each channel reacts to what has arrived by then, on SimPy's event queue:

- a channel is idle, alone or at request level. Alone: its head (first arrived transfer, by
  (arrival, task)) is planned row burst by row burst, command by command (`row_burst` below: no
  closed form, no skip), from max(its arrival, the channel's floor). The plan is kept until its
  data end (commit) unless a second read/write transfer arrives first (ahead of any waiting PIM
  burst, within the first WINDOW transfers): then the head keeps the row bursts whose first
  command came before that arrival and the channel decides again (switch);
- request level: one decision per column command, as `kernels.dram.controller.run_channel`
  decides (queue of `queue_depth` entries, admission round robin over the arrived transfers,
  entry times when the queue was full, FR-FCFS with the row-hit cap, write drain 3/4 - 1/4,
  turnaround, all-bank refresh or per-bank refresh with postponement); a transfer left alone with
  only its own requests queued admits up to the end of its row burst, then the channel is alone
  again (the solo rule of `kernels.dram.shared`);
- PIM MAC bursts are served alone, in arrival order;
- events at one time: every task settles first (SimPy's normal events), then channels commit,
  then switch, then decide, each kind in channel order (a commit releases arrivals a switch or a
  decision at that time must see), as the Numba loop takes them.

Power-down (`ChannelState.powerdown_exit`, the rule of `kernels.dram.powerdown`): a transfer
planned alone waits for the channel's exit, as does a decision that finds the queue empty (no
request enters before the last wake); every data end is noted.

Only `solo=True` (the engine's granularity) is twinned: `solo=False` (every read/write transfer at
request level) is a test mode of the Numba loop whose empty queue waits for a transfer it knows
will arrive, which a causal engine cannot do.
"""
from __future__ import annotations

import copy

import numpy as np
import simpy

from .dram import ChannelState
from .trace import MODE_PIM_MAC, MODE_WRITE

__all__ = ["Channel", "row_burst", "WINDOW"]

NEG = -(1 << 40)
BIG = 1 << 62
#: the Numba path's cap on transfers streaming requests at once per channel (`shared.WINDOW`)
WINDOW = 16
#: refreshes a controller may postpone (JEDEC: 8; `kernels.dram.state.MAX_POSTPONED`)
MAX_POSTPONED = 8
IDLE, ALONE, REQUEST = 0, 1, 2
COMMIT, SWITCH, DECIDE = 0, 1, 2
# controller parameters (`kernels.dram.controller.X_*`): a plain packing shared with Numba
X_QUEUE, X_CAP, X_CLOSED = 0, 1, 2


# ------------------------------------------------------------------ commands, one at a time
def refresh_if_due(ch: ChannelState, t: int, pim: bool) -> None:
    """Every refresh due by t, one by one (all-bank ones push t to their end)."""
    while t >= ch.next_ref:
        if ch.p["refpb"] and not pim:
            b, due = ch.pick_refresh_bank()
            ch.refresh_bank(b, due)
        else:
            t = max(t, ch.refresh(t, pim))


def _pim_columns(ch: ChannelState, banks: list, last: int, n: int) -> None:
    for b in banks:
        ch.last_rd[b] = last
        ch.bg_last[ch.bank_group(b)] = last
    ch.last_col = last
    ch.last_col_bg = ch.bank_group(banks[-1])
    ch.counts["mac_cols"] += n


def _open_pim(ch: ChannelState, slot0: int, span: int, row: int, ready: int) -> int:
    nb = ch.p["nbanks"]
    if ch.all_bank(slot0, span):
        rdy, _ = ch.open_all([ch.bank_of_slot(slot0 + i) for i in range(span)], row + slot0 // nb,
                             ready)
        return max(rdy)
    return max(ch.open(ch.bank_of_slot(slot0 + i), row + (slot0 + i) // nb, ready)[0]
               for i in range(span))


def _pim_row_burst(ch, slot0, row, ncols, span, ready):
    p = ch.p
    nb = p["nbanks"]
    ccd = p["tccd_ab"]
    banks = [ch.bank_of_slot(slot0 + i) for i in range(span)]
    start = max(ready, ch.last_col + ccd)
    for i, b in enumerate(banks):
        if ch.needs_precharge(b, row + (slot0 + i) // nb):
            ch.precharge(b, ready)
    start = max(start, _open_pim(ch, slot0, span, row, ready))
    first = None
    left = ncols
    while True:
        limit = ch.postponed_limit(True)
        if start + (left - 1) * ccd < limit:
            break
        n = 0 if start >= limit else -(-(limit - start) // ccd)
        if n:
            _pim_columns(ch, banks, start + (n - 1) * ccd, n)
            first = start if first is None else first
            left -= n
        refresh_if_due(ch, limit, True)
        start = max(ch.last_col + ccd, _open_pim(ch, slot0, span, row, ready))
    first = start if first is None else first
    last = start + (left - 1) * ccd
    _pim_columns(ch, banks, last, left)
    return first, last + p["burst_cycles"]


def _rw_part(ch, slot0, row, ncols, k0, rot, write, ready, limit):
    """Open the rows of the columns left (from slot rot on), then issue them one by one while
    they come before `limit`. Returns (columns issued, first column, data end)."""
    p = ch.p
    nb = p["nbanks"]
    k = min(k0, ncols)
    slots = [slot0 + (rot + i) % k0 for i in range(k)]
    for s in slots:
        b = ch.bank_of_slot(s)
        if ch.needs_precharge(b, row + s // nb):
            ch.precharge(b, ready)
    banks, rdy = [], []
    for s in slots:
        b = ch.bank_of_slot(s)
        rdy.append(ch.open(b, row + s // nb, ready)[0])
        banks.append(b)
    act_floor = ch.last_act
    first = NEG
    n = 0
    for j in range(ncols):
        b = banks[j % k]
        g = ch.bank_group(b)
        gap = p["tccd_l"] if g == ch.last_col_bg else p["tccd_s"]
        t = max(ready, rdy[j % k], ch.last_col + gap, ch.bg_last[g] + p["tccd_l"])
        if j == 0:
            t = max(t, act_floor)
        if j < k:
            t = max(t, ch.turnaround(g, write))
        if t >= limit:
            break
        ch.last_col, ch.last_col_bg, ch.bg_last[g] = t, g, t
        if write:
            ch.last_wr[b] = t
        else:
            ch.last_rd[b] = t
        first = t if j == 0 else first
        n += 1
    if n == 0:
        return 0, NEG, NEG
    if write:
        ch.last_wr_t, ch.last_wr_bg = ch.last_col, ch.last_col_bg
        ch.counts["wr_cols"] += n
        return n, first, ch.last_col + p["cwl"] + p["burst_cycles"]
    ch.last_rd_t = ch.last_col
    ch.counts["rd_cols"] += n
    return n, first, ch.last_col + p["cl"] + p["burst_cycles"]


def row_burst(ch: ChannelState, slot0: int, row: int, ncols: int, span: int, mode: int,
              ready: int) -> tuple[int, int]:
    """One row burst, command by command (refresh first if due; a stop where its columns reach the
    time MAX_POSTPONED refreshes are owed); returns (first column, data end)."""
    pim = mode == MODE_PIM_MAC
    refresh_if_due(ch, max(ready, ch.last_act), pim)
    if pim:
        return _pim_row_burst(ch, slot0, row, ncols, span, ready)
    write = mode == MODE_WRITE
    k0 = min(span, ncols)
    limit = ch.postponed_limit(False)
    done, first, end = _rw_part(ch, slot0, row, ncols, k0, 0, write, ready, limit)
    while done < ncols:
        refresh_if_due(ch, limit, False)
        limit = ch.postponed_limit(False)
        n, f, e = _rw_part(ch, slot0, row, ncols - done, k0, done % k0, write, ready, limit)
        if n:
            first = f if first == NEG else first
            end = e
        done += n
    return first, end


# ------------------------------------------------------------------ the controller's commands
def _precharge_t(ch, b, floor):
    return ch.precharge_time(b, floor)


def _act_time(ch, b, base):
    p = ch.p
    rdy = _precharge_t(ch, b, base) + p["trp"] if ch.open_row[b] >= 0 else ch.rdy_act[b]
    bg = ch.bank_group(b)
    gap = p["trrd_l"] if bg == ch.last_act_bg or ch.last_act_bg == -2 else p["trrd_s"]
    return max(base, rdy, ch.last_act + gap, min(ch.ring) + p["tfaw"])


def _column_time(ch, g, ready, write):
    p = ch.p
    gap = p["tccd_l"] if g == ch.last_col_bg else p["tccd_s"]
    return max(ready, ch.last_col + gap, ch.bg_last[g] + p["tccd_l"], ch.turnaround(g, write))


def earliest(ch: ChannelState, b: int, row: int, write: bool, base: int) -> int:
    """When a request to (b, row) entered at `base` could issue its column; changes nothing."""
    if ch.open_row[b] == row:
        ready = max(base, ch.act_t[b] + ch.p["trcd"])
    else:
        ready = _act_time(ch, b, base) + ch.p["trcd"]
    return _column_time(ch, ch.bank_group(b), ready, write)


def serve(ch: ChannelState, closed_page: bool, b: int, row: int, write: bool, base: int,
          k: dict) -> int:
    """Issue a request's PRE/ACT (if its row is not open) and column; returns the column time."""
    p = ch.p
    if ch.open_row[b] == row:
        ch.counts["hits"] += 1
        ready = max(base, ch.act_t[b] + p["trcd"])
    else:
        ch.counts["misses"] += 1
        if ch.open_row[b] >= 0:
            k["pres"] += 1
        act = _act_time(ch, b, base)
        ch.ring[ch.ring.index(min(ch.ring))] = act
        ch.last_act, ch.last_act_bg = act, ch.bank_group(b)
        ch.counts["acts"] += 1
        ch.act_t[b], ch.open_row[b] = act, row
        ready = act + p["trcd"]
    g = ch.bank_group(b)
    t = _column_time(ch, g, ready, write)
    ch.last_col, ch.last_col_bg, ch.bg_last[g] = t, g, t
    if write:
        ch.last_wr[b] = t
        ch.last_wr_t, ch.last_wr_bg = t, g
        ch.counts["wr_cols"] += 1
    else:
        ch.last_rd[b] = t
        ch.last_rd_t = t
        ch.counts["rd_cols"] += 1
    if closed_page:                                   # auto-precharge
        ch.rdy_act[b] = _precharge_t(ch, b, t) + p["trp"]
        ch.open_row[b] = -1
        k["pres"] += 1
    return t


def controller_refresh(ch: ChannelState, now: int, queued: list, k: dict) -> None:
    """Refreshes due by `now` at request level: all-bank as the row bursts do; per-bank to the bank
    no queued request needs (fewest queued, then most recently activated, then lowest index),
    postponed while every bank left in the round has queued requests, up to MAX_POSTPONED owed."""
    p = ch.p
    if not p["refpb"]:
        refresh_if_due(ch, now, False)
        return
    nb = p["nbanks"]
    while now >= ch.next_ref:
        due = ch.next_ref
        if ch.ref_mask == (1 << nb) - 1:
            ch.ref_mask = 0
        left = [b for b in range(nb) if not (ch.ref_mask >> b) & 1]
        best = min(left, key=lambda b: (queued[b], -ch.act_t[b], b))
        if queued[best] > 0 and (now - due) // p["trefi"] + 1 < MAX_POSTPONED:
            return
        ch.ref_mask |= 1 << best
        ref_t = max(due, ch.rdy_act[best])
        if ch.open_row[best] >= 0:
            ref_t = max(ref_t, _precharge_t(ch, best, due) + p["trp"])
            k["pres"] += 1
        ch.open_row[best] = -1
        ch.rdy_act[best] = ref_t + p["trfc_pb"]
        ch.counts["pb_refs"] += 1
        ch.next_ref += p["trefi"]


# ------------------------------------------------------------------ one channel
class _Transfer:
    __slots__ = ("i", "arr", "adm", "left", "inq", "start", "end", "slot", "row", "ncols", "span",
                 "mode", "nrows")

    def __init__(self, i, arr, trace):
        self.i, self.arr = i, arr
        self.slot, self.row = int(trace.slot[i]), int(trace.row[i])
        self.ncols, self.span = int(trace.ncols[i]), int(trace.span[i])
        self.mode, self.nrows = int(trace.mode[i]), int(trace.nrows[i])
        self.adm, self.left, self.inq = 0, self.nrows * self.ncols, 0
        self.start, self.end = BIG, arr

    @property
    def key(self):
        return (self.arr, self.i)

    @property
    def pim(self):
        return self.mode == MODE_PIM_MAC


class Channel:
    """One DRAM channel of the controller path, driven by SimPy events. `began(i, start)` is called
    once transfer i's first column is certain (at or before it: its port accesses start then),
    `done(i, end)` once its DRAM part is decided (its data end)."""

    def __init__(self, env: simpy.Environment, index: int, n_channels: int, params: np.ndarray,
                 x: np.ndarray, trace, began, done):
        self.env, self.d, self.nd, self.trace = env, index, n_channels, trace
        self.began, self.done = began, done
        self.begun: set[int] = set()
        self.ch = ChannelState.new(params)
        self.qmax = max(1, int(x[X_QUEUE]))
        self.cap = int(x[X_CAP])
        self.closed = int(x[X_CLOSED]) != 0
        self.k = dict(pres=0)                        # counts the controller adds (precharges)
        self.pending: list[_Transfer] = []           # arrived, not done, by (arrival, task)
        self.mode = IDLE
        self.token = 0
        self.plan_id = 0
        self.evt = BIG
        self.evk = COMMIT

    # ---- events
    def _arm(self, t: int, kind: int) -> None:
        """The channel's next event (any earlier one is void)."""
        self.token += 1
        tok = self.token
        self.evt, self.evk = t, kind
        ev = simpy.Event(self.env)
        ev._ok = True
        ev._value = None
        ev.callbacks.append(lambda _e: self._fire(tok, kind, t))
        if t < self.env.now:
            # an event before now (a transfer planned after the head can end before the head's
            # data end, e.g. a short PIM burst after a read): taken next, once what settles now
            # has settled, at its own time (`t`: the channel's clock), as the Numba loop does
            self.env.schedule(ev, priority=1.5, delay=0)
            return
        # after every normal event at that time; then commits, switches, decisions, channel order
        self.env.schedule(ev, priority=2 + kind * self.nd + self.d, delay=t - self.env.now)

    def _disarm(self) -> None:
        self.token += 1
        self.evt = BIG

    def arrive(self, i: int) -> None:
        """Transfer i arrives now (its dependencies have finished)."""
        tr = _Transfer(i, self.env.now, self.trace)
        j = len(self.pending)
        while j > 0 and tr.key < self.pending[j - 1].key:
            j -= 1
        self.pending.insert(j, tr)
        if self.mode == IDLE:
            if self.evt != self.env.now:
                self._arm(self.env.now, SWITCH)          # decide once every arrival now is in
        elif self.mode == ALONE:
            self._alone_event()

    def _fire(self, tok: int, kind: int, now: int) -> None:
        if tok != self.token:
            return
        self.evt = BIG
        if self.mode == IDLE:
            self._next(now)
        elif self.mode == ALONE:
            h = self.head
            if kind == COMMIT:
                self.ch = self.plan_state
                h.start = min(h.start, self.first)
                h.end = max(h.end, self.end)
                h.adm, h.left = h.nrows * h.ncols, 0
                self._finish(h)
            elif self._replay(now):
                self._finish(h)
            self.mode = IDLE
            self._next(now)
        else:
            self._decide()

    def _begin(self, h: _Transfer, t: int) -> None:
        if h.i not in self.begun:
            self.begun.add(h.i)
            self.began(h.i, t)

    def _finish(self, h: _Transfer) -> None:
        self.pending.remove(h)
        self._begin(h, h.arr if h.start == BIG else h.start)
        self.done(h.i, h.end)

    def _next(self, now: int) -> None:
        """Choose what to do at `now` with what has arrived."""
        if not self.pending:
            self.mode = IDLE
            self._disarm()
            return
        if self._wants_request(now):
            self._start_request(now)
        else:
            self._start_alone()

    def _eligible(self, now: int) -> int:
        n = 0
        for o in self.pending[:WINDOW]:
            if o.pim:
                break
            if o.arr <= now and o.left > 0:
                n += 1
        return n

    def _wants_request(self, now: int) -> bool:
        h = self.pending[0]
        if not h.pim and h.adm % h.ncols != 0:
            return True
        return self._eligible(now) >= 2

    # ---- alone
    def _start_alone(self) -> None:
        h = self.pending[0]
        self.plan_id += 1
        self.mode, self.head = ALONE, h
        self.snapshot = copy.deepcopy(self.ch)
        self.r0 = h.adm // h.ncols
        ch = copy.deepcopy(self.ch)
        ready = max(h.arr, ch.floor)
        ch.floor = ready
        ready = ch.powerdown_exit(ready)             # a channel idle long enough powered down
        self.plan_s = []
        first, end = NEG, ready
        for r in range(self.r0, h.nrows):
            s, e = row_burst(ch, h.slot + r * h.span, h.row, h.ncols, h.span, h.mode, ready)
            self.plan_s.append(s)
            first = s if r == self.r0 else first
            end = max(end, e)
        ch.last_end = max(ch.last_end, end)
        self.plan_state, self.first, self.end = ch, first, end
        self._alone_event()
        if h.i not in self.begun:
            # the head's first column is certain at its time, once no arrival then has switched
            # the channel (switches come first): its port accesses may start
            self.plan_id += 1
            tok = self.plan_id
            ev = simpy.Event(self.env)
            ev._ok = True
            ev._value = None
            ev.callbacks.append(lambda _e: self._first_column(h, tok))
            self.env.schedule(ev, priority=2 + 3 * self.nd, delay=max(0, first - self.env.now))

    def _first_column(self, h: _Transfer, tok: int) -> None:
        if self.mode == ALONE and self.head is h and self.plan_id == tok:
            self._begin(h, min(h.start, self.first))

    def _alone_event(self) -> None:
        """Commit at the head's data end, unless an arrival changes the plan first."""
        h = self.head
        best, kind = self.end, COMMIT
        blocked = False
        for p, o in enumerate(self.pending):
            if o is h:
                continue
            if o.key < h.key:
                if o.arr < best or (o.arr == best and kind == COMMIT):
                    best, kind = o.arr, SWITCH
                continue
            if o.arr >= best:
                break
            if o.pim:
                blocked = True
            if blocked or h.pim or p >= WINDOW:
                continue
            best, kind = o.arr, SWITCH
        if (best, kind) != (self.evt, self.evk) or self.evt == BIG:
            self._arm(best, kind)

    def _replay(self, at: int) -> bool:
        """Back to the state before the head's plan; keep its row bursts whose first column came
        before `at`. True when that is all of them."""
        h = self.head
        self.ch = ch = self.snapshot
        floor = ch.floor
        ready = max(h.arr, floor)
        ch.floor = ready
        ready = ch.powerdown_exit(ready)             # as the plan (its wake stays if none kept)
        r = self.r0
        while r < h.nrows and self.plan_s[r - self.r0] < at:
            s, e = row_burst(ch, h.slot + r * h.span, h.row, h.ncols, h.span, h.mode, ready)
            assert s == self.plan_s[r - self.r0]
            h.start = min(h.start, s)
            h.end = max(h.end, e)
            ch.last_end = max(ch.last_end, e)
            r += 1
        if r == self.r0:
            ch.floor = floor
        h.adm, h.left = r * h.ncols, (h.nrows - r) * h.ncols
        return r == h.nrows

    # ---- request level
    def _start_request(self, now: int) -> None:
        self.mode = REQUEST
        self.now = now
        self.queue: list[tuple] = []                  # (transfer, bank, row, write, entered)
        self.bypass = 0
        self.drain = False
        self.prev_t = 0
        self.full = False
        self.amax = 0
        self.rr = (NEG, -1)
        if not hasattr(self, "last_dir"):
            self.last_dir = -1
        self._arm(now, DECIDE)

    def _decide(self) -> None:
        now = self.now
        ch, p = self.ch, self.ch.p
        window = []
        for o in self.pending[:WINDOW]:
            if o.pim:
                break
            window.append(o)
        live = [o for o in window if o.left - o.inq > 0 and o.arr <= now]
        cap_task, cap_at = None, 0
        if len(live) == 1 and live[0].inq == len(self.queue):
            cap_task = live[0]
            cap_at = -(-cap_task.adm // cap_task.ncols) * cap_task.ncols
        if not self.queue and (not live or (cap_task is not None and cap_task.adm >= cap_at)):
            self._next(now)                           # request level ends here
            return
        if not self.queue:                            # the channel may have powered down
            ch.powerdown_exit(now)
        wake = ch.wake                                # no request enters before the last wake
        full_before = self.full
        while len(self.queue) < self.qmax:
            cands = [o for o in window if o.arr <= now and o.left - o.inq > 0
                     and not (o is cap_task and o.adm >= cap_at)]
            if not cands:
                break
            pick = next((o for o in cands if o.key > self.rr), cands[0])
            q = pick.adm
            kk = min(pick.span, pick.ncols)
            s = pick.slot + (q // pick.ncols) * pick.span + (q % pick.ncols) % kk
            self.amax = max(self.amax, pick.arr)
            ent = max(self.amax, self.prev_t) if full_before else self.amax
            ent = max(ent, wake)
            self.queue.append((pick, ch.bank_of_slot(s), pick.row + s // p["nbanks"],
                               pick.mode == MODE_WRITE, ent))
            pick.adm += 1
            pick.inq += 1
            self.rr = pick.key
        self.full = len(self.queue) == self.qmax
        nw = sum(1 for e in self.queue if e[3])
        if now >= ch.next_ref:
            queued = [0] * p["nbanks"]
            for e in self.queue:
                queued[e[1]] += 1
            controller_refresh(ch, now, queued, self.k)
        qn = len(self.queue)
        if nw == qn or (not self.drain and nw >= max(1, (3 * self.qmax) // 4)):
            self.drain = True
        elif self.drain and (nw <= self.qmax // 4 or nw == 0):
            self.drain = False
        best = oldest = None
        best_t = BIG
        for j, (o, b, rw, wr, ent) in enumerate(self.queue):
            if wr != self.drain:
                continue
            oldest = j if oldest is None else oldest
            t = earliest(ch, b, rw, wr, ent)
            if t < best_t:
                best, best_t = j, t
        if best != oldest:
            self.bypass += 1
            if self.bypass > self.cap:
                best = oldest
        if best == oldest:
            self.bypass = 0
        o, b, rw, wr, ent = self.queue.pop(best)
        t = serve(ch, self.closed, b, rw, wr, ent, self.k)
        self.last_dir = int(wr)
        self.prev_t = t
        end = t + (p["cwl"] if wr else p["cl"]) + p["burst_cycles"]
        ch.last_end = max(ch.last_end, end)
        o.start = min(o.start, t)
        self._begin(o, o.start)
        o.end = max(o.end, end)
        o.left -= 1
        o.inq -= 1
        self.now = max(now, t)
        if o.left == 0:
            self._finish(o)
        self._arm(self.now, DECIDE)      # even with nothing pending: the next decision decides

