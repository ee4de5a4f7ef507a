"""The time-ordered task loop (Numba): tasks are settled as soon as their inputs are known, and the
DRAM channels decide in time order. Arrays in, arrays out; nothing compiles at import time.

`run_trace` (eventloop.py) visits tasks in trace order. This loop settles each task once what it
depends on is settled (Kahn's order over the trace's dependencies plus, per resource and per SRAM
port lane, the previous task on it in trace order: plain resources and port lanes serve in trace
order, as in `run_trace`). A plain task is timed exactly as `run_trace` times it (`reps`, port
accesses). DRAM burst tasks, by `policy`:

- IN_ORDER: a channel also serves its tasks in trace order, each with the burst closed form when it
  is settled: start/finish equal `run_trace`'s on every trace (tests/engine/test_timeloop.py);
- CONTROLLER: a task arrives at its channel when its dependencies are settled, and the channel
  serves what has arrived as `archsim.kernels.dram.shared` describes (alone: burst closed form;
  two read/write transfers overlapping: the request-level controller's rules). When nothing more
  can be settled, the channel with the earliest event (a commit, a switch to request level, a
  request decision) takes it: any task not yet known depends on a transfer not yet finished, and
  every unfinished transfer finishes at or after its channel's next event, so nothing unknown can
  arrive before the earliest event (conservative discrete-event simulation; events at one time:
  commits first). A channel's own next event can still come before the latest event taken (a
  transfer planned after the head ends before the head's data end, e.g. a short PIM burst after a
  read: the commit at that data end plans it, and it ends earlier); it is taken next, at its own
  time, but the DRAM part of a transfer it finishes ends no earlier than the latest event taken
  (`clock`), so its dependants do not arrive at channels that decided past them (the SimPy twin,
  `engine.reference_controller`, cannot go back in time either). A later task on a port lane needs
  only a transfer's start (the lane's ledger), known once its first column is certain: a transfer
  with such a lane successor begins at a first-column event while alone (at its first column, or
  at the plan if that is in the past; after every other event at its time, so an arrival then
  still switches the channel first) or at the decision that serves its first request; its
  accesses are placed then and its lane successors released. A task's accesses end no earlier than
  a transfer before it on its lanes began (`known`), as in the twin, so nothing released by a
  start arrives before it (the loop used to release lane successors only once the transfer was
  done; a transfer depending on one could arrive at a channel that had decided past it).
  Where no two transfers overlap on a channel (each arrives at or after the finish of the one
  before it in trace order), this equals `run_trace` too.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from .dram import burst
from .dram.controller import K_PRES, X_PIMROW
from .dram.shared import (ALONE, BIG, EV_COMMIT, IDLE, N_Q, N_S, N_T,
                          S_END, S_EVK, S_EVT, S_FIRST, S_HEAD, S_LASTDIR, S_MODE, S_NOW,
                          S_PBASE, S_PIMROW, S_PN, S_QN, T_ADM, T_ARR, T_END, T_INQ, T_LEFT,
                          T_START, T_STATE,
                          alone_event, decide_run, insert, pim_yields, remove, replay, start_alone,
                          start_request, wants_request)
from .dram.state import C_PRES, MODE_PIM_MAC
from .plain import plain_finish
from .sram import port_finish

IN_ORDER, CONTROLLER = 0, 1
#: a transfer's port accesses (`ts[i, T_STATE]`, controller path): placed when it settles (no later
#: task shares a lane with it); placed when it begins (a later task does): not begun yet, begun
#: but an earlier task on one of its lanes is not placed yet, placed
NO_BEGIN, UNBEGUN, BEGUN, PLACED = 0, 1, 2, 3


@njit(cache=True)
def _graph(res, dep_ptr, dep_idx, res_dram, acc_ptr, acc_res, policy, nres):
    """Predecessor counts (`cnt_in`: dependencies and the previous task on the task's resource —
    not on a DRAM channel under CONTROLLER; `cnt_lane`: the previous task on each port lane it
    uses, counted in cnt_in for plain tasks) and the successors (CSR, kind 0 a dependency or the
    resource, 1 a lane to a DRAM task, 2 a lane to a plain task)."""
    n = res.shape[0]
    last = np.full(nres, -1, dtype=np.int64)
    cnt_in = np.zeros(n, dtype=np.int64)
    cnt_lane = np.zeros(n, dtype=np.int64)
    nsucc = np.zeros(n + 1, dtype=np.int64)
    for i in range(n):
        for k in range(dep_ptr[i], dep_ptr[i + 1]):
            cnt_in[i] += 1
            nsucc[dep_idx[k]] += 1
        r = res[i]
        dram = res_dram[r] >= 0
        if not (dram and policy == CONTROLLER) and res_dram[r] != -2:   # joins never wait
            p = last[r]
            if p >= 0:
                cnt_in[i] += 1
                nsucc[p] += 1
            last[r] = i
        for k in range(acc_ptr[i], acc_ptr[i + 1]):
            lane = acc_res[k]
            p = last[lane]
            if p >= 0 and p != i:
                if dram:
                    cnt_lane[i] += 1
                else:
                    cnt_in[i] += 1
                nsucc[p] += 1
            last[lane] = i
    ptr = np.zeros(n + 1, dtype=np.int64)
    for i in range(n):
        ptr[i + 1] = ptr[i] + nsucc[i]
    succ = np.empty(ptr[n], dtype=np.int64)
    kind = np.empty(ptr[n], dtype=np.int8)
    fill = ptr[:n].copy()
    last[:] = -1
    for i in range(n):
        for k in range(dep_ptr[i], dep_ptr[i + 1]):
            p = dep_idx[k]
            succ[fill[p]] = i
            kind[fill[p]] = 0
            fill[p] += 1
        r = res[i]
        dram = res_dram[r] >= 0
        if not (dram and policy == CONTROLLER) and res_dram[r] != -2:   # joins never wait
            p = last[r]
            if p >= 0:
                succ[fill[p]] = i
                kind[fill[p]] = 0
                fill[p] += 1
            last[r] = i
        for k in range(acc_ptr[i], acc_ptr[i + 1]):
            lane = acc_res[k]
            p = last[lane]
            if p >= 0 and p != i:
                succ[fill[p]] = i
                kind[fill[p]] = 1 if dram else 2
                fill[p] += 1
            last[lane] = i
    return cnt_in, cnt_lane, ptr, succ, kind


@njit(cache=True)
def _finalize(i, s, e, placed_end, dur, acc_ptr, acc_res, acc_dur, free, known, start, finish,
              stall, settled, ptr, succ, kind, cnt_in, cnt_lane, dram_state, stack, sp):
    """Task i's DRAM part ran from s to e: add its own cycles and its port accesses (`placed_end`
    >= 0: placed when it began, done then; else placed now, done no earlier than any transfer
    before it on its lanes began), settle it and release its successors (its lane successors
    unless placing released them). Returns the new stack size."""
    e += dur[i]
    if placed_end >= 0:
        done = placed_end if placed_end > e else e
        stall[i] = done - e
        e = done
    elif acc_ptr[i + 1] > acc_ptr[i]:
        done = port_finish(i, s, e, acc_ptr, acc_res, acc_dur, free)
        for k in range(acc_ptr[i], acc_ptr[i + 1]):
            if known[acc_res[k]] > done:
                done = known[acc_res[k]]
        stall[i] = done - e
        e = done
    start[i] = s
    finish[i] = e
    settled[i] = True
    return _release(i, ALL_EDGES if placed_end < 0 else DEP_EDGES, ptr, succ, kind, cnt_in,
                    cnt_lane, dram_state, stack, sp)


DEP_EDGES, LANE_EDGES, ALL_EDGES = 0, 1, 2


@njit(cache=True)
def _release(i, which, ptr, succ, kind, cnt_in, cnt_lane, dram_state, stack, sp):
    """Release task i's successors over its dependency and resource edges (`which` DEP_EDGES),
    its port-lane edges (LANE_EDGES) or both (ALL_EDGES): a task whose count reaches zero goes on
    the stack (a DRAM task: to arrive; to place its accesses or finish once its lanes are free).
    Returns the new stack size."""
    for k in range(ptr[i], ptr[i + 1]):
        kd = kind[k]
        if kd == 0:
            if which == LANE_EDGES:
                continue
        elif which == DEP_EDGES:
            continue
        j = succ[k]
        if kd == 1:
            cnt_lane[j] -= 1
            if cnt_lane[j] == 0 and dram_state[j] != 0:
                stack[sp] = j
                sp += 1
        else:
            cnt_in[j] -= 1
            if cnt_in[j] == 0:          # (a plain task counts its lanes in cnt_in)
                stack[sp] = j
                sp += 1
    return sp


@njit(cache=True)
def _place(i, ts, acc_ptr, acc_res, acc_dur, free, known, acc_end):
    """Transfer i began at `acc_end[i]` (the loop's time then) from `ts[i, T_START]`, and every
    earlier task on its lanes is placed: its port accesses take their lanes from its start
    (`sram.port_finish`'s ledger) and end no earlier than it or any transfer before it on those
    lanes began (a causal engine learns a start no earlier). Sets `acc_end[i]` to that end."""
    s = ts[i, T_START]
    tb = acc_end[i]
    end = tb if tb > s else s
    for k in range(acc_ptr[i], acc_ptr[i + 1]):
        r = acc_res[k]
        t = free[r]
        if s > t:
            t = s
        t += acc_dur[k]
        free[r] = t
        if t > end:
            end = t
        if known[r] > end:
            end = known[r]
    for k in range(acc_ptr[i], acc_ptr[i + 1]):
        r = acc_res[k]
        if tb > known[r]:
            known[r] = tb
    acc_end[i] = end
    ts[i, T_STATE] = PLACED


@njit(cache=True)
def _begin(i, tb, ts, acc_ptr, acc_res, acc_dur, free, known, acc_end, ptr, succ, kind, cnt_in,
           cnt_lane, dram_state, stack, sp):
    """Transfer i (a later task shares one of its lanes) begins at the loop's time `tb`: its first
    column (`ts[i, T_START]`) is certain. Its accesses are placed now if every earlier task on its
    lanes is, else once they are; placing releases its lane successors. Returns the stack size."""
    acc_end[i] = tb
    if cnt_lane[i] > 0:
        ts[i, T_STATE] = BEGUN
        return sp
    _place(i, ts, acc_ptr, acc_res, acc_dur, free, known, acc_end)
    return _release(i, LANE_EDGES, ptr, succ, kind, cnt_in, cnt_lane, dram_state, stack, sp)


@njit(cache=True)
def _arm_begin(cs, ts, d, cbeg, clock):
    """After `start_alone` on channel d: the first-column event of its head if the loop waits for
    the head's start (at its first column, or now if that is before the latest event taken)."""
    h = cs[d, S_HEAD]
    if ts[h, T_STATE] == UNBEGUN:
        t = cs[d, S_FIRST]
        cbeg[d] = t if t > clock else clock
    else:
        cbeg[d] = BIG


@njit(cache=True)
def _restart(cs, ts, pend, d, at, P, bank_st, bg_last, chan, work, sb_bank, sb_bg, sb_chan, slot,
             row, ncols, span, mode, nrows, periodic, solo, cbeg, clock):
    """Channel d left its mode at `at`: with transfers pending it goes to request level or serves
    its next head alone (arming the head's first-column event if the loop waits for its start)."""
    if cs[d, S_PN] == 0:
        return
    if wants_request(cs, ts, pend, d, at, mode, ncols, solo):
        start_request(cs, d, at)
    else:
        start_alone(cs, ts, pend, d, P, bank_st, bg_last, chan, work, sb_bank, sb_bg, sb_chan, slot,
                    row, ncols, span, mode, nrows, periodic)
        _arm_begin(cs, ts, d, cbeg, clock)


@njit(cache=True)
def run_timed(res, dur, dep_ptr, dep_idx, slot, row, ncols, span, mode, nrows, res_dram, params,
              bank_st, bg_last, chan, work, start, finish, acc_ptr, acc_res, acc_dur, stall, reps,
              periodic, policy, X, solo, pend_base, kc, log, plain=False):
    """Fill start/finish (int64 ticks) for every task; DRAM state arrays are updated in place (the
    same layouts as `eventloop.run_trace`). `X[d]`: controller parameters of DRAM slot d
    (`controller.X_*`); `solo`: a transfer alone on its channel is served with the burst closed
    form (off: every read/write transfer at request level, the controller itself, for tests);
    `pend_base[d]`: where slot d's pending list starts (room for all its tasks); `kc[d]`: the
    controller's counts (`controller.K_*`); `log`, `plain` (tests): see `shared.decide_run`. Returns
    the makespan, or -1 if some task was never settled (a dependency cycle: cannot happen on a trace whose
    dependencies point backwards)."""
    n = res.shape[0]
    nres = res_dram.shape[0]
    nd = params.shape[0]
    free = np.zeros(nres, dtype=np.int64)
    cnt_in, cnt_lane, ptr, succ, kind = _graph(res, dep_ptr, dep_idx, res_dram, acc_ptr, acc_res,
                                               policy, nres)
    is_dram = np.zeros(n, dtype=np.bool_)
    for i in range(n):
        is_dram[i] = res_dram[res[i]] >= 0
    known = np.zeros(nres, dtype=np.int64)     # per lane: the latest time a transfer on it began
    dram_state = np.zeros(n, dtype=np.int8)        # 0 waiting, 1 at its channel, 2 DRAM part done
    dram_s = np.zeros(n if policy == IN_ORDER else 1, dtype=np.int64)
    settled = np.zeros(n, dtype=np.bool_)
    stack = np.empty(2 * n + 1, dtype=np.int64)
    sp = 0
    for i in range(n):
        if cnt_in[i] == 0 and (is_dram[i] or cnt_lane[i] == 0):
            stack[sp] = i
            sp += 1
    # controller state
    nt = n if policy == CONTROLLER else 1
    ts = np.zeros((nt, N_T), dtype=np.int64)
    nbegin = 0
    for i in range(n if policy == CONTROLLER else 0):
        if is_dram[i] and acc_ptr[i + 1] > acc_ptr[i]:
            for k in range(ptr[i], ptr[i + 1]):
                if kind[k] != 0:        # a later task shares a lane: placed when it begins
                    ts[i, T_STATE] = UNBEGUN
                    nbegin += 1
                    break
    # per transfer that begins: its begin time while BEGUN, then its accesses' end (PLACED)
    acc_end = np.zeros(n if nbegin > 0 else 1, dtype=np.int64)
    cbeg = np.full(max(nd, 1), BIG, dtype=np.int64)   # per channel: its head's begin event
    cs = np.zeros((max(nd, 1), N_S), dtype=np.int64)
    qmax = 1
    for d in range(nd):
        cs[d, S_PBASE] = pend_base[d]
        cs[d, S_EVT] = BIG
        cs[d, S_LASTDIR] = -1
        cs[d, S_PIMROW] = X[d, X_PIMROW]
        if X[d, 0] > qmax:
            qmax = X[d, 0]
    pend = np.empty(max(1, pend_base[nd] if nd else 1), dtype=np.int64)
    qa = np.zeros((max(nd, 1), qmax, N_Q), dtype=np.int64)
    nbmax = bank_st.shape[1]
    sb_bank = bank_st.copy()
    sb_bg = bg_last.copy()
    sb_chan = chan.copy()
    tmp_bank = np.empty((nbmax, bank_st.shape[2]), dtype=np.int64)
    tmp_bg = np.empty(bg_last.shape[1], dtype=np.int64)
    tmp_chan = np.empty(chan.shape[1], dtype=np.int64)
    c = np.empty(nbmax, dtype=np.int64)
    banks = np.empty(nbmax, dtype=np.int64)
    queued = np.zeros(nbmax, dtype=np.int64)
    seen = np.zeros((4, nbmax), dtype=np.int64)
    # task done, its channel, the clock, the earliest begin event (`decide_run`)
    done_out = np.zeros(4, dtype=np.int64)
    done_list = np.empty(8, dtype=np.int64)
    clock = 0                       # the latest channel event taken
    while True:
        while sp > 0:
            sp -= 1
            i = stack[sp]
            r = res[i]
            d = res_dram[r]
            if d < 0:
                ready = 0
                for k in range(dep_ptr[i], dep_ptr[i + 1]):
                    f = finish[dep_idx[k]]
                    if f > ready:
                        ready = f
                s = free[r]
                if ready > s:
                    s = ready
                floor = 0
                for k in range(acc_ptr[i], acc_ptr[i + 1]):
                    if known[acc_res[k]] > floor:
                        floor = known[acc_res[k]]
                e = plain_finish(i, s, dur, reps, acc_ptr, acc_res, acc_dur, free, stall, floor)
                if d == -1:        # the join resource (-2) stays free, as in run_trace
                    free[r] = e
                start[i] = s
                finish[i] = e
                settled[i] = True
                sp = _release(i, ALL_EDGES, ptr, succ, kind, cnt_in, cnt_lane, dram_state, stack,
                              sp)
                continue
            if dram_state[i] != 0:          # its lanes are free now
                placed_end = -1
                if policy == IN_ORDER:
                    s0 = dram_s[i]
                else:
                    s0 = ts[i, T_START]
                    if ts[i, T_STATE] == BEGUN:
                        _place(i, ts, acc_ptr, acc_res, acc_dur, free, known, acc_end)
                        sp = _release(i, LANE_EDGES, ptr, succ, kind, cnt_in, cnt_lane,
                                      dram_state, stack, sp)
                    if ts[i, T_STATE] == PLACED:
                        placed_end = acc_end[i]
                if dram_state[i] == 2:
                    sp = _finalize(i, s0, finish[i], placed_end, dur, acc_ptr, acc_res, acc_dur,
                                   free, known, start, finish, stall, settled, ptr, succ, kind,
                                   cnt_in, cnt_lane, dram_state, stack, sp)
                continue
            ready = 0
            for k in range(dep_ptr[i], dep_ptr[i + 1]):
                f = finish[dep_idx[k]]
                if f > ready:
                    ready = f
            if policy == IN_ORDER:
                s, e = burst(params[d], bank_st[d], bg_last[d], chan[d], slot[i], row[i], ncols[i],
                             span[i], mode[i], nrows[i], ready, periodic, work[d])
                dram_state[i] = 2
                if cnt_lane[i] == 0:
                    sp = _finalize(i, s, e, -1, dur, acc_ptr, acc_res, acc_dur, free, known,
                                   start, finish, stall, settled, ptr, succ, kind, cnt_in,
                                   cnt_lane, dram_state, stack, sp)
                else:
                    dram_s[i] = s
                    finish[i] = e
                continue
            # CONTROLLER: the transfer arrives at its channel
            dram_state[i] = 1
            ts[i, T_ARR] = ready
            ts[i, T_ADM] = 0
            ts[i, T_LEFT] = nrows[i] * ncols[i]
            ts[i, T_START] = BIG
            ts[i, T_END] = ready
            ts[i, T_INQ] = 0
            insert(cs, pend, ts, d, i)
            m = cs[d, S_MODE]
            if m == IDLE and not solo and mode[i] != MODE_PIM_MAC:
                start_request(cs, d, ready)
            elif m == IDLE:
                start_alone(cs, ts, pend, d, params[d], bank_st, bg_last, chan, work, sb_bank,
                            sb_bg, sb_chan, slot, row, ncols, span, mode, nrows, periodic)
                _arm_begin(cs, ts, d, cbeg, clock)
            elif m == ALONE:
                alone_event(cs, ts, pend, d, mode)
            elif not solo and cs[d, S_QN] == 0 and ready < cs[d, S_NOW]:
                # solo off (`controller.run_channel`): an empty queue waits for the first arrival.
                # Not with solo: whether the arrival is known yet would decide it (the loop knows
                # arrivals ahead), so the next decision stays at the last column, which sees it
                cs[d, S_NOW] = ready
                cs[d, S_EVT] = ready
        if policy == IN_ORDER:
            break
        # nothing more settles: the channel with the earliest event takes it; request-level
        # decisions run in `decide_run` while they are the earliest events (it keeps `clock`)
        nfin = 0
        tb = BIG                    # the earliest begin event: after every other event at its time
        db = -1
        for d in range(nd):
            if cbeg[d] < tb:
                tb = cbeg[d]
                db = d
        done_out[2] = clock
        done_out[3] = tb
        rc = decide_run(cs, ts, pend, qa, params, X, bank_st, bg_last, chan, kc, slot, row, ncols,
                        span, mode, nrows, solo, queued, done_out, log, seen, plain)
        clock = done_out[2]
        best = done_out[1] if rc != 0 else -1
        bt = BIG
        bk = 3
        for d in range(nd if rc == 0 else 0):
            if cs[d, S_MODE] == IDLE:
                continue
            t = cs[d, S_EVT]
            k = cs[d, S_EVK]
            if t < bt or (t == bt and k < bk):
                best = d
                bt = t
                bk = k
        if rc == 0 and tb < bt:     # a head's first column is certain: the loop takes its start
            if tb > clock:
                clock = tb
            cbeg[db] = BIG
            h = cs[db, S_HEAD]
            if cs[db, S_FIRST] < ts[h, T_START]:
                ts[h, T_START] = cs[db, S_FIRST]
            sp = _begin(h, clock, ts, acc_ptr, acc_res, acc_dur, free, known, acc_end, ptr, succ,
                        kind, cnt_in, cnt_lane, dram_state, stack, sp)
            continue
        if best < 0:
            break
        if rc == 0 and bt > clock:
            clock = bt
        d = best
        P = params[d]
        if rc == 0:             # the earliest event is an alone channel's
            h = cs[d, S_HEAD]
            cbeg[d] = BIG
            if cs[d, S_EVK] == EV_COMMIT:
                if cs[d, S_FIRST] < ts[h, T_START]:
                    ts[h, T_START] = cs[d, S_FIRST]
                if cs[d, S_END] > ts[h, T_END]:
                    ts[h, T_END] = cs[d, S_END]
                ts[h, T_ADM] = nrows[h] * ncols[h]
                ts[h, T_LEFT] = 0
                done_list[0] = h
                nfin = 1
                at = bt
            else:
                at = bt
                if replay(cs, ts, d, at, P, bank_st, bg_last, chan, sb_bank, sb_bg, sb_chan, slot,
                          row, ncols, span, mode, nrows, c, banks, tmp_bank, tmp_bg, tmp_chan):
                    done_list[0] = h
                    nfin = 1
                else:
                    pim_yields(cs, ts, pend, d, at, mode)
            for k in range(nfin):
                remove(cs, pend, d, done_list[k])
            cs[d, S_MODE] = IDLE
            cs[d, S_EVT] = BIG
            _restart(cs, ts, pend, d, at, P, bank_st, bg_last, chan, work, sb_bank, sb_bg, sb_chan, slot,
                     row, ncols, span, mode, nrows, periodic, solo, cbeg, clock)
        elif rc == 1:
            # the channel stays at request level until its next decision (at the last column),
            # even with nothing pending: whether a transfer arriving before it is known yet must
            # not decide what happens (the loop knows arrivals ahead)
            remove(cs, pend, d, done_out[0])
            done_list[0] = done_out[0]
            nfin = 1
        elif rc == 3:           # a transfer's first request served: the loop takes its start
            sp = _begin(done_out[0], clock, ts, acc_ptr, acc_res, acc_dur, free, known, acc_end,
                        ptr, succ, kind, cnt_in, cnt_lane, dram_state, stack, sp)
        elif rc == 2:
            at = cs[d, S_NOW]
            cs[d, S_EVT] = BIG
            _restart(cs, ts, pend, d, at, P, bank_st, bg_last, chan, work, sb_bank, sb_bg, sb_chan, slot,
                     row, ncols, span, mode, nrows, periodic, solo, cbeg, clock)
        for k in range(nfin):
            h = done_list[k]
            dram_state[h] = 2
            if ts[h, T_END] < clock:    # never before an event already taken (see the docstring)
                ts[h, T_END] = clock
            finish[h] = ts[h, T_END]
            if ts[h, T_START] == BIG:
                ts[h, T_START] = ts[h, T_ARR]
            if ts[h, T_STATE] == UNBEGUN:       # it begins as it finishes
                sp = _begin(h, clock, ts, acc_ptr, acc_res, acc_dur, free, known, acc_end, ptr,
                            succ, kind, cnt_in, cnt_lane, dram_state, stack, sp)
            if cnt_lane[h] == 0:
                sp = _finalize(h, ts[h, T_START], ts[h, T_END],
                               acc_end[h] if ts[h, T_STATE] == PLACED else -1, dur, acc_ptr,
                               acc_res, acc_dur, free, known, start, finish, stall, settled, ptr,
                               succ, kind, cnt_in, cnt_lane, dram_state, stack, sp)
    for d in range(nd):
        chan[d, C_PRES] += kc[d, K_PRES]
    makespan = 0
    for i in range(n):
        if not settled[i]:
            return -1
        if finish[i] > makespan:
            makespan = finish[i]
    return makespan
