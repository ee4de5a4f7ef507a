"""The discrete-event serving simulation on SimPy: arrivals, a scheduler and the steps an engine
(one chip or a tensor-parallel group; two for a disaggregated deployment) runs, each step timed by
the `StepTable`. SimPy owns the clock: an arrival process, one engine process per device group
(the scheduler's, `archsim.serving.scheduler`) and, when disaggregated, KV transfers queued on the
link (a SimPy resource). This module holds the state they share (`_Engine`: queues, the KV cache,
per-request accounting) and the results. One SimPy event per step, or per run of decode steps
whose batch does not change, so thousands of requests simulate in a second.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from .arrivals import Request
from .kvcache import PagedKVCache, blocks_for
from .scheduler import POLICY_PROCESSES, Scheduler, disaggregated_decode, disaggregated_prefill
from .steptime import StepTable

__all__ = ["Finished", "ServeRun", "run_serving"]


@dataclass(frozen=True, slots=True)
class Finished:
    """One served request, as measured."""
    id: int
    arrival_s: float
    first_token_s: float
    finish_s: float
    prompt_tokens: int
    output_tokens: int
    max_itl_s: float                   # longest gap between two of its tokens
    energy_j: float                    # its share of each step's energy, by tokens processed
    preemptions: int


@dataclass(frozen=True, slots=True)
class ServeRun:
    """What a serving simulation produced, before statistics."""
    scheduler: Scheduler
    arrived: int
    finished: tuple[Finished, ...]
    rejected: tuple[int, ...]          # requests whose KV can never fit the cache
    steps: int
    busy_s: float                      # time some group was running a step
    energy_j: float                    # every step's energy (idle time is not charged)
    kv_samples: tuple[tuple[float, float], ...]   # (time, used fraction of the KV blocks)
    preemption_times_s: tuple[float, ...]
    kv_capacity_tokens: int


class _Seq:
    __slots__ = ("req", "id", "prompt", "output", "prefilled", "target", "generated", "first_s",
                 "last_s", "max_itl", "energy", "preemptions", "swapped")

    def __init__(self, req: Request):
        self.req, self.id = req, req.id
        self.prompt, self.output = req.prompt_tokens, req.output_tokens
        self.prefilled, self.target, self.generated = 0, req.prompt_tokens, 0
        self.first_s = self.last_s = -1.0
        self.max_itl = self.energy = 0.0
        self.preemptions = self.swapped = 0


class _Engine:
    """State shared by the processes of one simulation."""

    def __init__(self, env, table: StepTable, sched: Scheduler, decode_table: StepTable | None):
        self.env, self.table, self.sched = env, table, sched
        self.kv = PagedKVCache(table.kv_capacity_tokens, sched.block_tokens)
        self.decode_table = decode_table or table
        self.decode_kv = (PagedKVCache(self.decode_table.kv_capacity_tokens, sched.block_tokens)
                          if sched.policy == "disaggregated" else self.kv)
        self.waiting: deque[_Seq] = deque()
        self.decode_waiting: deque[_Seq] = deque()
        self.running: list[_Seq] = []
        self.finished: list[Finished] = []
        self.rejected: list[int] = []
        self.kv_samples: list[tuple[float, float]] = []
        self.preemptions: list[float] = []
        self.steps = 0
        self.busy = self.energy = 0.0
        self.wake = {"main": env.event(), "decode": env.event()}
        self.arrivals_done = False
        self.next_arrival_s = float("inf")

    def signal(self, name: str = "main"):
        if not self.wake[name].triggered:
            self.wake[name].succeed()

    def idle(self, name: str = "main"):
        self.wake[name] = self.env.event()
        return self.wake[name]

    # -- tokens and accounting ------------------------------------------------------------------
    def emit(self, seq: _Seq, now: float, kv: PagedKVCache) -> bool:
        """`seq` produced a token at `now`; True when that was its last."""
        if seq.generated == 0:
            seq.first_s = now
        else:
            gap = now - seq.last_s
            if gap > seq.max_itl:
                seq.max_itl = gap
        seq.generated += 1
        seq.last_s = now
        if seq.generated < seq.output:
            return False
        self.finish(seq, now, kv)
        return True

    def finish(self, seq: _Seq, now: float, kv: PagedKVCache) -> None:
        kv.release(seq.id)
        r = seq.req
        self.finished.append(Finished(r.id, r.arrival_s, seq.first_s, now, r.prompt_tokens,
                                      r.output_tokens, seq.max_itl, seq.energy, seq.preemptions))

    def charge(self, seconds: float, joules: float, kv: PagedKVCache):
        self.steps += 1
        self.busy += seconds
        self.energy += joules
        if kv is self.decode_kv:                 # disaggregated: the decode group's cache
            self.kv_samples.append((self.env.now, kv.used_fraction))

    # -- admission and preemption ---------------------------------------------------------------
    def reject_unservable(self, kv: PagedKVCache, queue: deque, tokens_of) -> None:
        """Drop the head of `queue` when even an empty cache could not hold `tokens_of` it (a
        result: the request is counted as rejected, never silently lost). Every admitted
        sequence can then always finish: alone, it fits."""
        while queue and blocks_for(tokens_of(queue[0]), kv.block_tokens) > kv.total_blocks:
            self.rejected.append(queue.popleft().id)

    def make_room(self, decodes: list[_Seq], kv: PagedKVCache) -> float:
        """Preempt the latest admitted of `decodes` until every other one's KV can grow by a
        token (the caller takes the blocks); returns the seconds of swap traffic this costs."""
        extra_s = 0.0
        bt, held = kv.block_tokens, kv.held
        while decodes and 2 * len(decodes) > kv.free_blocks:    # else: ≤ 2 blocks short each
            need = sum(max(0, blocks_for(s.prompt + s.generated + 1, bt) - held.get(s.id, 0))
                       for s in decodes)
            if need <= kv.free_blocks:
                break
            victim = decodes.pop()
            self.running.remove(victim)
            extra_s += self.preempt(victim, kv)
        return extra_s

    def preempt(self, seq: _Seq, kv: PagedKVCache, swap: bool | None = None) -> float:
        """Evict `seq` to the head of the queue; returns the seconds its swap-out takes."""
        seq.preemptions += 1
        self.preemptions.append(self.env.now)
        tokens = seq.prompt + seq.generated
        kv.release(seq.id)
        self.waiting.appendleft(seq)
        if self.sched.preemption == "swap" if swap is None else swap:
            seq.swapped = tokens
            return self.transfer_s(tokens, self.table)
        seq.prefilled, seq.target = 0, tokens
        return 0.0

    def transfer_s(self, tokens: int, table: StepTable) -> float:
        return tokens * table.kv_bytes_per_token / table.link_bytes_per_s + table.link_latency_s


def _arrivals(env, eng: _Engine, requests):
    for req in requests:
        eng.next_arrival_s = req.arrival_s
        if req.arrival_s > env.now:
            yield env.timeout(req.arrival_s - env.now)
        eng.waiting.append(_Seq(req))
        eng.signal()
    eng.next_arrival_s = float("inf")
    eng.arrivals_done = True
    eng.signal()


def run_serving(requests, table: StepTable, scheduler: Scheduler = Scheduler(),
                decode_table: StepTable | None = None) -> ServeRun:
    """Serve `requests` (sorted by arrival) on the chip `table` times, under `scheduler`;
    `decode_table` is the decode group of a disaggregated deployment (default: same as `table`)."""
    import simpy
    env = simpy.Environment()
    eng = _Engine(env, table, scheduler, decode_table)
    requests = sorted(requests, key=lambda r: (r.arrival_s, r.id))
    env.process(_arrivals(env, eng, requests))
    policy = scheduler.policy
    if policy == "disaggregated":
        if table.link_bytes_per_s <= 0:
            from ..api import ArgumentError
            raise ArgumentError(f"{table.hw} has no interconnect: disaggregated serving moves each "
                                "prompt's KV cache to the decode group over the chip's link (add "
                                "one under `interconnect:`)")
        eng.prefill_done, eng.in_transfer = False, 0
        env.process(disaggregated_prefill(env, eng, simpy.Resource(env, capacity=1)))
        env.process(disaggregated_decode(env, eng))
    else:
        if scheduler.preemption == "swap" and table.link_bytes_per_s <= 0:
            from ..api import ArgumentError
            raise ArgumentError(f"{table.hw} has no interconnect: swap preemption moves KV blocks "
                                "over the chip's link; use preemption 'recompute'")
        env.process(POLICY_PROCESSES[policy](env, eng))
    env.run()
    kv_cap = (eng.decode_table if policy == "disaggregated" else table).kv_capacity_tokens
    samples = eng.kv_samples
    return ServeRun(scheduler=scheduler, arrived=len(requests),
                    finished=tuple(sorted(eng.finished, key=lambda f: f.id)),
                    rejected=tuple(sorted(eng.rejected)), steps=eng.steps, busy_s=eng.busy,
                    energy_j=eng.energy, kv_samples=tuple(samples),
                    preemption_times_s=tuple(eng.preemptions), kv_capacity_tokens=kv_cap)
