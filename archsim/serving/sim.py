"""The discrete-event serving simulation on SimPy: arrivals, a scheduler and the steps an engine
(one chip or a tensor-parallel group; two for a disaggregated deployment) runs, each step timed by
the `StepTable`. SimPy owns the clock: an arrival process, one engine process per device group and,
when disaggregated, KV transfers queued on the link (a SimPy resource). One SimPy event per step,
not per token, so thousands of requests simulate in a second.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from .arrivals import Request
from .kvcache import PagedKVCache, blocks_for
from .scheduler import Scheduler
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


def _whole(seq: _Seq) -> int:
    """The KV tokens `seq` holds when it ends: a request the empty cache cannot hold is rejected."""
    return seq.prompt + seq.output


def _split(step_j: float, pieces: list[tuple[_Seq, int]]) -> None:
    total = sum(t for _, t in pieces)
    for seq, tokens in pieces:
        seq.energy += step_j * tokens / total


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


def _static(env, eng: _Engine):
    """Request-level batches: prefill together, decode until the longest ends."""
    kv, table, sched = eng.kv, eng.table, eng.sched
    while True:
        eng.reject_unservable(kv, eng.waiting, _whole)
        batch = []
        while eng.waiting and len(batch) < sched.max_batch and \
                kv.can_hold(eng.waiting[0].id, eng.waiting[0].prompt + eng.waiting[0].output):
            s = eng.waiting.popleft()
            kv.grow(s.id, s.prompt + s.output)           # reserved for the batch's lifetime
            batch.append(s)
        if not batch:
            if eng.arrivals_done and not eng.waiting:
                return
            yield eng.idle()
            continue
        tokens = sum(s.prompt for s in batch)
        seconds, joules = table.prefill(tokens, 0)
        yield env.timeout(seconds)
        eng.charge(seconds, joules, kv)
        _split(joules, [(s, s.prompt) for s in batch])
        live = [s for s in batch if not eng.emit(s, env.now, kv)]
        size = len(batch)
        while live:                    # decode runs until the next member ends (one event each)
            steps = min(s.output - s.generated for s in live)
            context = sum(s.prompt + min(s.generated, s.output) for s in batch) / size
            start, total_s, total_j, longest, first_s = env.now, 0.0, 0.0, 0.0, 0.0
            for k in range(steps):
                seconds, joules = table.decode(size, context + k * len(live) / size)
                total_s += seconds
                total_j += joules
                if k:
                    longest = max(longest, seconds)
                else:
                    first_s = seconds
            yield env.timeout(total_s)
            eng.steps += steps - 1
            eng.charge(total_s, total_j, kv)
            share, now, still = total_j / len(live), env.now, []
            for s in live:
                s.energy += share
                s.max_itl = max(s.max_itl, start + first_s - s.last_s, longest)
                s.generated += steps - 1
                s.last_s = now
                if not eng.emit(s, now, kv):
                    still.append(s)
            live = still


def _admit_swapped(eng: _Engine, seq: _Seq, kv: PagedKVCache) -> float:
    kv.grow(seq.id, seq.swapped)
    seconds = eng.transfer_s(seq.swapped, eng.table)
    seq.swapped = 0
    eng.running.append(seq)
    return seconds


def _continuous(env, eng: _Engine):
    """vLLM: prefill iterations for admitted prompts, otherwise one decode iteration."""
    kv, table, sched = eng.kv, eng.table, eng.sched
    while True:
        eng.reject_unservable(kv, eng.waiting, _whole)
        pieces, budget, extra_s = [], sched.token_budget, 0.0
        while eng.waiting and len(eng.running) + len(pieces) < sched.max_batch:
            s = eng.waiting[0]
            if s.swapped:
                if not kv.can_hold(s.id, s.swapped + 1):
                    break
                eng.waiting.popleft()
                extra_s += _admit_swapped(eng, s, kv)
                continue
            need = s.target - s.prefilled
            if (pieces and need > budget) or not kv.can_hold(s.id, s.target + 1):
                break
            eng.waiting.popleft()
            kv.grow(s.id, s.target)
            pieces.append((s, need))
            budget -= need
        if pieces:
            tokens = sum(t for _, t in pieces)
            seconds, joules = table.prefill(tokens, 0)
            seconds += extra_s
            yield env.timeout(seconds)
            eng.charge(seconds, joules, kv)
            _split(joules, pieces)
            for s, t in pieces:
                s.prefilled += t
                if not eng.emit(s, env.now, kv):
                    eng.running.append(s)
            continue
        if not eng.running:
            if extra_s:
                yield env.timeout(extra_s)
                continue
            if eng.arrivals_done and not eng.waiting:
                return
            yield eng.idle()
            continue
        decodes = list(eng.running)
        extra_s += eng.make_room(decodes, kv)
        if not decodes:
            continue
        blocked = bool(eng.waiting) and len(eng.running) < sched.max_batch
        yield from _decode_run(env, eng, decodes, table, kv, extra_s,
                               until_arrival=len(eng.running) < sched.max_batch,
                               max_steps=1 if blocked else 1 << 30)


def _decode_run(env, eng: _Engine, decodes: list[_Seq], table: StepTable, kv: PagedKVCache,
                extra_s: float = 0.0, until_arrival: bool = False, max_steps: int = 1 << 30):
    """Decode steps of the same sequences as one SimPy event: the run lasts until the first of
    them finishes, `max_steps`, or (`until_arrival`) the step during which the next request
    arrives, after which the scheduler could admit it. Each step is timed at its own context, and
    every sequence gets the token times and gaps a step-by-step loop would give it."""
    n, steps, tokens = len(decodes), max_steps, 0
    for s in decodes:
        tokens += s.prompt + s.generated
        if s.output - s.generated < steps:
            steps = s.output - s.generated
    bt, held = kv.block_tokens, kv.held
    while steps > 1 and n * (steps // bt + 2) > kv.free_blocks and \
            sum(max(0, blocks_for(s.prompt + s.generated + steps, bt) - held.get(s.id, 0))
                for s in decodes) > kv.free_blocks:
        steps //= 2                        # the run's blocks must be free when it starts
    context = tokens / n
    start, horizon = env.now, eng.next_arrival_s if until_arrival else float("inf")
    first_s, total_j = table.decode(n, context)
    first_s += extra_s
    total_s, longest = first_s, 0.0
    for k in range(1, steps):
        if start + total_s >= horizon:
            steps = k
            break
        seconds, joules = table.decode(n, context + k)
        total_s += seconds
        total_j += joules
        if seconds > longest:
            longest = seconds
    yield env.timeout(total_s)
    now = env.now
    share, first_end = total_j / n, start + first_s
    done, taken = [], 0
    for s in decodes:                  # the hot loop: one pass per sequence per run
        s.energy += share
        gap = first_end - s.last_s     # the run's first token, then one per step
        if longest > gap:
            gap = longest
        if gap > s.max_itl:
            s.max_itl = gap
        s.generated += steps
        s.last_s = now
        blocks = -(-(s.prompt + s.generated) // bt)
        have = held.get(s.id, 0)
        if blocks > have:
            held[s.id] = blocks
            taken += blocks - have
        if s.generated >= s.output:
            done.append(s)
    kv.free_blocks -= taken
    eng.steps += steps - 1
    eng.charge(total_s, total_j, kv)
    if done:
        for s in done:
            eng.finish(s, now, kv)
        gone = set(map(id, done))
        eng.running = [s for s in eng.running if id(s) not in gone]


def _chunked(env, eng: _Engine):
    """Sarathi-Serve: every running decode plus prompt chunks up to the token budget, one step."""
    kv, table, sched = eng.kv, eng.table, eng.sched
    prefilling: list[_Seq] = []
    while True:
        eng.reject_unservable(kv, eng.waiting, _whole)
        extra_s = 0.0
        decodes = [s for s in eng.running if s.prefilled >= s.target]
        extra_s += eng.make_room(decodes, kv)
        budget = sched.token_budget - len(decodes)
        pieces = []
        for s in prefilling:
            if budget <= 0:
                break
            chunk = min(budget, s.target - s.prefilled)
            if not kv.can_hold(s.id, s.prefilled + chunk + 1):
                break
            kv.grow(s.id, s.prefilled + chunk)
            pieces.append((s, chunk))
            budget -= chunk
        while eng.waiting and budget > 0 and len(eng.running) < sched.max_batch:
            s = eng.waiting[0]
            if s.swapped:
                if not kv.can_hold(s.id, s.swapped + 1):
                    break
                eng.waiting.popleft()
                extra_s += _admit_swapped(eng, s, kv)
                continue
            chunk = min(budget, s.target - s.prefilled)
            if not kv.can_hold(s.id, s.prefilled + chunk + 1):
                break
            eng.waiting.popleft()
            kv.grow(s.id, s.prefilled + chunk)
            eng.running.append(s)
            prefilling.append(s)
            pieces.append((s, chunk))
            budget -= chunk
        if not pieces and not decodes and prefilling:
            victim = prefilling.pop()                 # stuck: partial prompts hold every block
            eng.running.remove(victim)
            eng.preempt(victim, kv, swap=False)      # a partial prompt is cheaper to redo
            continue
        if not pieces and not decodes:
            if extra_s:
                yield env.timeout(extra_s)
                continue
            if eng.arrivals_done and not eng.waiting and not eng.running:
                return
            yield eng.idle()
            continue
        if not pieces:                 # decodes only: a run until something could change
            blocked = bool(eng.waiting) and len(eng.running) < sched.max_batch
            yield from _decode_run(env, eng, decodes, table, kv, extra_s,
                                   until_arrival=len(eng.running) < sched.max_batch,
                                   max_steps=1 if blocked else 1 << 30)
            continue
        for s in decodes:
            kv.grow(s.id, s.prompt + s.generated + 1)
        tokens = sum(t for _, t in pieces)
        past = sum(s.prefilled * t for s, t in pieces) // tokens if tokens else 0
        context = sum(s.prompt + s.generated for s in decodes) / len(decodes) if decodes else 0
        seconds, joules = table.hybrid(tokens, past, len(decodes), context)
        seconds += extra_s
        yield env.timeout(seconds)
        eng.charge(seconds, joules, kv)
        _split(joules, pieces + [(s, 1) for s in decodes])
        now, done = env.now, set()
        for s, t in pieces:
            s.prefilled += t
            if s.prefilled >= s.target and eng.emit(s, now, kv):
                done.add(id(s))
        for s in decodes:
            if eng.emit(s, now, kv):
                done.add(id(s))
        prefilling = [s for s in prefilling if s.prefilled < s.target and id(s) not in done]
        if done:
            eng.running = [s for s in eng.running if id(s) not in done]


def _disaggregated_prefill(env, eng: _Engine, link):
    kv, table, sched = eng.kv, eng.table, eng.sched
    while True:
        eng.reject_unservable(kv, eng.waiting, lambda s: s.prompt)
        eng.reject_unservable(eng.decode_kv, eng.waiting, _whole)
        pieces, budget = [], sched.token_budget
        while eng.waiting and len(pieces) < sched.max_batch:
            s = eng.waiting[0]
            if (pieces and s.prompt > budget) or not kv.can_hold(s.id, s.prompt):
                break
            eng.waiting.popleft()
            kv.grow(s.id, s.prompt)
            pieces.append((s, s.prompt))
            budget -= s.prompt
        if not pieces:
            if eng.arrivals_done and not eng.waiting:
                eng.prefill_done = True
                eng.signal("decode")
                return
            yield eng.idle()
            continue
        seconds, joules = table.prefill(sum(t for _, t in pieces), 0)
        yield env.timeout(seconds)
        eng.charge(seconds, joules, kv)
        _split(joules, pieces)
        for s, _ in pieces:
            s.prefilled = s.prompt
            if not eng.emit(s, env.now, kv):
                eng.in_transfer += 1
                env.process(_transfer(env, eng, s, link))


def _transfer(env, eng: _Engine, seq: _Seq, link):
    with link.request() as turn:
        yield turn
        yield env.timeout(eng.transfer_s(seq.prompt, eng.table))
    eng.kv.release(seq.id)
    eng.in_transfer -= 1
    eng.decode_waiting.append(seq)
    eng.signal("decode")
    eng.signal()


def _disaggregated_decode(env, eng: _Engine):
    kv, table, sched = eng.decode_kv, eng.decode_table, eng.sched
    while True:
        while eng.decode_waiting and len(eng.running) < sched.max_batch and \
                kv.can_hold(eng.decode_waiting[0].id, eng.decode_waiting[0].prompt + eng.decode_waiting[0].output):
            s = eng.decode_waiting.popleft()
            kv.grow(s.id, s.prompt + s.output)
            eng.running.append(s)
        if not eng.running:
            if eng.prefill_done and not eng.in_transfer and not eng.decode_waiting:
                return
            yield eng.idle("decode")
            continue
        more_coming = eng.decode_waiting or eng.in_transfer or not eng.prefill_done
        full = len(eng.running) >= sched.max_batch  # nothing can join before one finishes
        yield from _decode_run(env, eng, list(eng.running), table, kv,
                               max_steps=1 << 30 if full or not more_coming else 1)


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
        env.process(_disaggregated_prefill(env, eng, simpy.Resource(env, capacity=1)))
        env.process(_disaggregated_decode(env, eng))
    else:
        if scheduler.preemption == "swap" and table.link_bytes_per_s <= 0:
            from ..api import ArgumentError
            raise ArgumentError(f"{table.hw} has no interconnect: swap preemption moves KV blocks "
                                "over the chip's link; use preemption 'recompute'")
        env.process({"static": _static, "continuous": _continuous, "chunked": _chunked}[policy](env, eng))
    env.run()
    kv_cap = (eng.decode_table if policy == "disaggregated" else table).kv_capacity_tokens
    samples = eng.kv_samples
    return ServeRun(scheduler=scheduler, arrived=len(requests),
                    finished=tuple(sorted(eng.finished, key=lambda f: f.id)),
                    rejected=tuple(sorted(eng.rejected)), steps=eng.steps, busy_s=eng.busy,
                    energy_j=eng.energy, kv_samples=tuple(samples),
                    preemption_times_s=tuple(eng.preemptions), kv_capacity_tokens=kv_cap)
