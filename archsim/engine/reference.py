"""The SimPy reference engine: executes the same `Trace` as the Numba loop with plain SimPy processes.

Plain resources: one process per resource takes its tasks in trace order, waits for their
dependencies' completion events, then holds the resource for `dur` cycles. Join tasks (the join
resource, `trace.JOIN`) each get a process of their own: they never wait for each other.
DRAM channels: a row process issues PRE/ACT commands burst by burst (waiting for the column stream
of an earlier burst on a bank before precharging it), and a column process issues every column
command one at a time at the earliest cycle its constraints allow. The row process also plans each
burst's column times (`_Columns`), so it splits a burst where its columns reach the time
MAX_POSTPONED refreshes are owed, issues them and reopens the rows before it plans the next burst
(the rule of `archsim.kernels.dram.commands`). A transfer reaching a channel that idled
`powerdown_idle` ticks after its last planned data waits for its power-down exit
(`ChannelState.powerdown_exit`, the kernels' rule). No closed forms: this is the
command-by-command path the Numba kernel's burst formula must reproduce exactly. Slow by design.
On-chip port lanes: one process per lane takes the accesses on it in trace order; each waits for
its task's start, then holds the lane from max(start, lane free) for its duration. A task finishes
once its own work and all its accesses are done. A task standing for several tiles (`reps`) runs
as that many tasks (`trace.expand_reps`).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import simpy

from archsim.errors import ArchsimError

from .dram import ChannelState
from .execute import DRAM_COUNT_NAMES, TraceRun, powerdown_tail
from .trace import JOIN, MODE_PIM_MAC, MODE_WRITE, Trace, expand_reps

__all__ = ["run_simpy"]


def _at(env: simpy.Environment, t: int):
    if t < env.now:
        raise AssertionError(f"command at {t} is before now={env.now}")
    return env.timeout(t - env.now)


@dataclass
class _Columns:
    """The column state the column process will reach once every burst planned so far has
    issued: the row process plans each burst's columns ahead with it, so a burst that would issue
    a column at or after `ChannelState.postponed_limit` is split there before any later burst is
    planned (no look-ahead ACT of a later burst has to be undone). The column process recomputes
    every time itself, command by command."""
    last_col: int
    last_col_bg: int
    bg_last: list
    last_rd_t: int
    last_wr_t: int
    last_wr_bg: int

    @classmethod
    def new(cls, ch: ChannelState) -> "_Columns":
        return cls(ch.last_col, ch.last_col_bg, list(ch.bg_last), ch.last_rd_t, ch.last_wr_t,
                   ch.last_wr_bg)

    def plan(self, p: dict, mode: int, ready: int, ncols: int, banks: list, rdy: list,
             act_floor: int, limit: int) -> int:
        """How many of a burst's `ncols` columns issue before `limit`; the state moves past them."""
        bpg = p["banks_per_group"]
        if mode == MODE_PIM_MAC:
            ccd = p["tccd_ab"]
            t = max([ready, self.last_col + ccd] + rdy)
            n = ncols if t + (ncols - 1) * ccd < limit else max(0, -(-(limit - t) // ccd))
            if n:
                self.last_col = t + (n - 1) * ccd
                self.last_col_bg = banks[-1] // bpg
                for b in banks:
                    self.bg_last[b // bpg] = self.last_col
            return n
        k = len(banks)
        write = mode == MODE_WRITE
        n = 0
        for j in range(ncols):
            g = banks[j % k] // bpg
            gap = p["tccd_l"] if g == self.last_col_bg else p["tccd_s"]
            t = max(ready, rdy[j % k], self.last_col + gap, self.bg_last[g] + p["tccd_l"],
                    act_floor if j == 0 else 0)
            if j < k:
                if write:
                    t = max(t, self.last_rd_t + p["trtw"])
                else:
                    wtr = p["twtr_l"] if g == self.last_wr_bg else p["twtr_s"]
                    t = max(t, self.last_wr_t + p["cwl"] + p["burst_cycles"] + wtr)
            if t >= limit:
                break
            self.last_col, self.last_col_bg, self.bg_last[g] = t, g, t
            n += 1
        if n and write:
            self.last_wr_t, self.last_wr_bg = self.last_col, self.last_col_bg
        elif n:
            self.last_rd_t = self.last_col
        return n


def run_simpy(trace: Trace, dram_model: str = "burst",
              controller: np.ndarray | None = None) -> TraceRun:
    """Run `trace`; `dram_model` "controller": the DRAM channels are the request-level controller
    path's twin (`reference_controller`), with `controller` parameters per DRAM slot
    (`kernels.dram.controller.X_*`; default `execute.default_controller`)."""
    if dram_model not in ("burst", "controller"):
        raise ArchsimError(f"dram_model must be 'burst' or 'controller' (got {dram_model!r})")
    if dram_model == "controller":
        from .execute import default_controller
        nd = len(trace.dram_params)
        controller = default_controller(nd) if controller is None else np.asarray(controller)
        if controller.shape[0] < nd:
            raise ArchsimError(f"controller parameters for {controller.shape[0]} DRAM slots, "
                               f"the trace has {nd}")
    else:
        controller = None
    if (trace.reps > 1).any():
        full, owner = expand_reps(trace)
        run = _run(full, controller)
        n = trace.n_tasks
        start = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
        np.minimum.at(start, owner, run.start)
        finish = np.zeros(n, dtype=np.int64)
        np.maximum.at(finish, owner, run.finish)
        stall = np.zeros(n, dtype=np.int64)
        np.add.at(stall, owner, run.port_stall)
        return TraceRun(start=start, finish=finish, makespan=run.makespan,
                        dram_counts=run.dram_counts, port_stall=stall)
    return _run(trace, controller)


def _run(trace: Trace, controller: np.ndarray | None = None) -> TraceRun:
    env = simpy.Environment()
    n = trace.n_tasks
    done = [env.event() for _ in range(n)]
    started = [env.event() for _ in range(n)]
    ported = [env.event() for _ in range(n)]       # all the task's port accesses are placed
    port_end = np.zeros(n, dtype=np.int64)         # end of the task's last port access
    own_end = np.zeros(n, dtype=np.int64)          # end of the task's own work
    lane_tasks: dict[int, list[tuple[int, int]]] = {}
    waiting = np.diff(trace.acc_ptr)
    for i in range(n):
        for k in range(int(trace.acc_ptr[i]), int(trace.acc_ptr[i + 1])):
            lane_tasks.setdefault(int(trace.acc_res[k]), []).append((i, int(trace.acc_dur[k])))
    start = np.zeros(n, dtype=np.int64)
    finish = np.zeros(n, dtype=np.int64)
    queues: list[list[int]] = [[] for _ in trace.resources]
    for i in range(n):
        queues[int(trace.res[i])].append(i)
    channels = [ChannelState.new(p) for p in trace.dram_params]

    def wait_deps(i):
        deps = [done[int(d)] for d in trace.deps(i)]
        if deps:
            yield env.all_of(deps)
        return max((int(finish[int(d)]) for d in trace.deps(i)), default=0)

    def lane(accesses):
        free = 0
        for i, ticks in accesses:
            yield started[i]
            free = max(free, int(start[i])) + ticks
            port_end[i] = max(port_end[i], free)
            waiting[i] -= 1
            if waiting[i] == 0:
                ported[i].succeed()

    def begin(i, t):
        start[i] = t
        started[i].succeed()

    def settle(i):
        """The task's own work is done now: finish once its port accesses are done too."""
        own_end[i] = env.now
        if trace.acc_ptr[i + 1] > trace.acc_ptr[i]:
            yield ported[i]
            yield _at(env, max(env.now, int(port_end[i])))
        finish[i] = env.now
        done[i].succeed()

    def plain(tasks):
        for i in tasks:
            yield from wait_deps(i)
            begin(i, env.now)
            yield env.timeout(int(trace.dur[i]))
            yield from settle(i)

    def finish_at(i, t):
        yield _at(env, t)
        yield from settle(i)

    def dram(tasks, ch: ChannelState):
        p = ch.p
        nb = p["nbanks"]
        bursts = simpy.Store(env)               # row process → column process
        pending: dict[int, simpy.Event] = {}    # bank → column-done event of its latest burst

        refreshing: dict[int, simpy.Process] = {}   # bank → its latest per-bank refresh

        def refresh_bank(b, due, waits):
            for ev in waits:
                if ev is not None:
                    yield ev
            ch.refresh_bank(b, due)

        def precharge(b, floor, column_stream):
            if column_stream is not None:   # the bank's last columns must be issued first
                yield column_stream
            ch.precharge(b, floor)

        col = _Columns.new(ch)      # the column state once every burst planned so far has issued

        def refresh(t, pim):
            """Every refresh due by t, as `kernels.dram.commands.refresh_if_due`."""
            if p["refpb"] and not pim:
                # per-bank: each refresh waits only for its bank's last columns
                while ch.refresh_due(t):
                    b, due = ch.pick_refresh_bank()
                    refreshing[b] = env.process(
                        refresh_bank(b, due, [refreshing.get(b), pending.get(b)]))
            elif ch.refresh_due(t):
                waits = list(pending.values()) + list(refreshing.values())
                if waits:
                    yield env.all_of(waits)
                while ch.refresh_due(t):
                    t = max(t, ch.refresh(t, pim))

        def rows():
            for i in tasks:
                ready = yield from wait_deps(i)
                ready = ch.floor = max(ready, ch.floor)
                ready = ch.powerdown_exit(ready)
                span, mode = int(trace.span[i]), int(trace.mode[i])
                pim = mode == MODE_PIM_MAC
                ncols, nrows = int(trace.ncols[i]), int(trace.nrows[i])
                started = False
                for r in range(nrows):
                    slot0 = int(trace.slot[i]) + r * span
                    row = int(trace.row[i])
                    yield from refresh(max(ready, ch.last_act), pim)
                    k0 = span if pim else min(span, ncols)
                    done = 0
                    while True:
                        # the columns left, from slot (done mod k0) on; they stop at the limit
                        slots = [slot0 + (done + j) % k0 for j in range(k0 if pim else min(k0, ncols - done))]
                        rdy = []
                        banks = []
                        floor0 = ready              # look-ahead precharge (as the kernel)
                        closing = {}
                        for s in slots:
                            b = ch.bank_of_slot(s)
                            if b in refreshing and not refreshing[b].triggered:
                                continue                 # its pending refresh closes it
                            if ch.needs_precharge(b, row + s // nb):
                                closing[b] = env.process(precharge(b, floor0, pending.get(b)))
                        if pim and ch.all_bank(slot0, k0):   # one all-bank ACT
                            banks = [ch.bank_of_slot(s) for s in slots]
                            for ev in [refreshing[b] for b in banks if b in refreshing] + list(closing.values()):
                                yield ev
                            rdy, act = ch.open_all(banks, row + slot0 // nb, ready)
                            if act is not None:
                                yield _at(env, act)
                        else:
                            for s in slots:
                                b = ch.bank_of_slot(s)
                                if b in refreshing:      # refreshed before it reopens
                                    yield refreshing[b]
                                if b in closing:
                                    yield closing[b]
                                t_ready, act = ch.open(b, row + s // nb, ready)
                                if act is not None:
                                    yield _at(env, act)
                                rdy.append(t_ready)
                                banks.append(b)
                        limit = ch.postponed_limit(pim)
                        n = col.plan(p, mode, ready, ncols - done, banks, rdy, ch.last_act, limit)
                        if n:
                            if not pim:          # banks opened past the stop get no column
                                banks, rdy = banks[:n], rdy[:n]
                            lat = 0 if pim else p["cwl"] if mode == MODE_WRITE else p["cl"]
                            ch.last_end = max(ch.last_end, col.last_col + lat + p["burst_cycles"])
                            col_done = {b: env.event() for b in banks}
                            pending.update(col_done)
                            done += n
                            last = r == nrows - 1 and done == ncols
                            yield bursts.put((i, ready, mode, n, banks, rdy, col_done, not started,
                                              last, ch.last_act))
                            started = True
                        if done == ncols:
                            break
                        # MAX_POSTPONED refreshes owed: the burst stops, they are issued, its
                        # rows reopen and its columns go on
                        yield from refresh(limit, pim)

        def columns():
            end_of_task = 0
            while True:
                i, ready, mode, ncols, banks, rdy, col_done, first, last, act_floor = \
                    yield bursts.get()
                if first:
                    end_of_task = ready
                k = len(banks)
                bg = [ch.bank_group(b) for b in banks]
                if mode == MODE_PIM_MAC:
                    t = max([ready, ch.last_col + p["tccd_ab"]] + rdy)
                    for j in range(ncols):
                        if j:
                            t = ch.last_col + p["tccd_ab"]
                        yield _at(env, t)
                        if first and j == 0:
                            begin(i, t)
                        ch.last_col = t
                    for b in banks:
                        ch.last_rd[b] = ch.last_col
                        ch.bg_last[ch.bank_group(b)] = ch.last_col
                    ch.last_col_bg = bg[-1]
                    ch.counts["mac_cols"] += ncols
                    for ev in col_done.values():
                        ev.succeed()
                    end = ch.last_col + p["burst_cycles"]
                else:
                    for j in range(ncols):
                        b, g = banks[j % k], bg[j % k]
                        gap = p["tccd_l"] if g == ch.last_col_bg else p["tccd_s"]
                        t = max(ready, rdy[j % k], ch.last_col + gap, ch.bg_last[g] + p["tccd_l"],
                                act_floor if j == 0 else 0,
                                ch.turnaround(g, mode == MODE_WRITE) if j < k else 0)
                        yield _at(env, t)
                        if first and j == 0:
                            begin(i, t)
                        ch.last_col, ch.last_col_bg, ch.bg_last[g] = t, g, t
                        if mode == MODE_WRITE:
                            ch.last_wr[b] = t
                        else:
                            ch.last_rd[b] = t
                        if j + k >= ncols:          # this bank's last column in the burst
                            col_done[b].succeed()
                    if mode == MODE_WRITE:
                        ch.last_wr_t, ch.last_wr_bg = ch.last_col, ch.last_col_bg
                        ch.counts["wr_cols"] += ncols
                        end = ch.last_col + p["cwl"] + p["burst_cycles"]
                    else:
                        ch.last_rd_t = ch.last_col
                        ch.counts["rd_cols"] += ncols
                        end = ch.last_col + p["cl"] + p["burst_cycles"]
                end_of_task = max(end_of_task, end)
                if last:
                    env.process(finish_at(i, end_of_task + int(trace.dur[i])))

        env.process(rows())
        env.process(columns())

    twins = {}
    if controller is not None:
        from .reference_controller import Channel

        def dram_done(i, e):
            # decided now: its DRAM part ends no earlier (`kernels.timeloop.run_timed`)
            env.process(finish_at(i, max(e, env.now) + int(trace.dur[i])))

        def arrive(i, twin):
            yield from wait_deps(i)
            twin.arrive(i)

        nd = len(channels)
        twins = {d: Channel(env, d, nd, trace.dram_params[d], controller[d], trace, begin,
                             dram_done)
                 for d in range(nd)}
    for accesses in lane_tasks.values():
        env.process(lane(accesses))
    for r, tasks in enumerate(queues):
        d = int(trace.res_dram[r])
        if d == JOIN:                  # join tasks never wait for each other: one process each
            for i in tasks:
                env.process(plain([i]))
        elif d < 0:
            env.process(plain(tasks))
        elif twins:
            for i in tasks:
                env.process(arrive(i, twins[d]))
        else:
            dram(tasks, channels[d])
    env.run()
    if not all(e.triggered for e in done):
        raise AssertionError("reference engine deadlocked")
    for d, twin in twins.items():
        channels[d] = twin.ch
        channels[d].counts["pres"] += twin.k["pres"]
    makespan = int(finish.max(initial=0))
    for ch in channels:           # a channel still powered down when the run ends
        n, ticks = powerdown_tail(ch.p["powerdown_idle"], max(ch.last_end, ch.wake), makespan)
        ch.counts["pd_entries"] += n
        ch.counts["pd_cycles"] += ticks
    counts = np.array([[ch.counts[k] for k in DRAM_COUNT_NAMES] for ch in channels],
                      dtype=np.int64).reshape(len(channels), len(DRAM_COUNT_NAMES))
    return TraceRun(start=start, finish=finish, makespan=makespan,
                    dram_counts=counts, port_stall=finish - own_end)
