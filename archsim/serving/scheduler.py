"""Schedulers: which sequences run in the next step.

- `static`: request-level batching (FasterTransformer, NVIDIA 2021; the baseline of Orca, Yu et al.,
  OSDI 2022): when the chip is idle, up to `max_batch` waiting requests form a batch that is prefilled
  together and decoded until its longest member ends; finished members keep their slot (padding)
  and newcomers wait for the whole batch.
- `continuous`: iteration-level scheduling (Orca, OSDI 2022) as vLLM runs it (Kwon et al., SOSP 2023):
  before each step, waiting requests are admitted first-come first-served while the batch has room
  (`max_batch`), their prompts fit the `token_budget` and the paged KV cache has blocks; a step with
  admissions is a prefill of them, otherwise every running sequence decodes one token.
- `chunked`: Sarathi-Serve's stall-free batching (Agrawal et al., OSDI 2024): every step decodes all
  running sequences and fills the rest of the `token_budget` with chunks of waiting prompts, so a long
  prompt never stalls the decodes.
- `disaggregated`: prefill and decode on separate device groups (Splitwise, Patel et al., ISCA 2024;
  DistServe, Zhong et al., OSDI 2024): the prefill group runs prompt batches up to the token budget,
  the KV cache moves over the chip's link, and the decode group runs continuous decode batches.
  The decode group admits a request only when its whole KV (prompt + output) fits, so it never
  preempts. The groups are two `StepTable`s, so they may be two chips (`decode_hw`); a full
  heterogeneous system (devices + links, the systems issue) plugs in here when it lands.

Each policy is a SimPy process over the shared engine state (`archsim.serving.sim._Engine`): it
picks a step, asks the step table for its time and energy, waits that long and books the tokens.

When a running sequence needs a KV block and none is free, the latest admitted sequence is
preempted (vLLM's policy): `recompute` drops its cache and prefills its prompt and generated tokens
again; `swap` moves its cache to host memory over the chip's first link and back before it resumes.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import did_you_mean
from .kvcache import PagedKVCache, blocks_for
from .steptime import StepTable

__all__ = ["Scheduler", "POLICIES", "PREEMPTIONS", "POLICY_PROCESSES", "disaggregated_prefill",
           "disaggregated_decode"]

POLICIES = ("static", "continuous", "chunked", "disaggregated")
PREEMPTIONS = ("recompute", "swap")


@dataclass(frozen=True, slots=True)
class Scheduler:
    policy: str = "continuous"
    max_batch: int = 64                # sequences in a step
    token_budget: int = 2048           # prefill tokens per step (chunked: all tokens per step)
    block_tokens: int = 16             # KV-cache block size (vLLM's default)
    preemption: str = "recompute"

    def __post_init__(self):
        from ..api import ArgumentError
        for name, choices in (("policy", POLICIES), ("preemption", PREEMPTIONS)):
            value = getattr(self, name)
            if value not in choices:
                hint = did_you_mean(str(value), choices) or "choose one of " + ", ".join(choices)
                raise ArgumentError(f"unknown scheduler {name} {value!r}; {hint}")
        for name in ("max_batch", "token_budget", "block_tokens"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ArgumentError(f"scheduler {name} must be a whole number ≥ 1 (got {value!r})")


def _whole(seq) -> int:
    """The KV tokens `seq` holds when it ends: a request the empty cache cannot hold is rejected."""
    return seq.prompt + seq.output


def _split(step_j: float, pieces: list) -> None:
    total = sum(t for _, t in pieces)
    for seq, tokens in pieces:
        seq.energy += step_j * tokens / total


def _static(env, eng):
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


def _admit_swapped(eng, kv: PagedKVCache) -> float | None:
    """The waiting queue's head, a sequence swapped out earlier, back into the running batch when
    its KV blocks (and one more token's) fit: the seconds its swap-in takes; None when they do not
    fit (the queue waits, first come first served)."""
    seq = eng.waiting[0]
    if not kv.can_hold(seq.id, seq.swapped + 1):
        return None
    eng.waiting.popleft()
    kv.grow(seq.id, seq.swapped)
    seconds = eng.transfer_s(seq.swapped, eng.table)
    seq.swapped = 0
    eng.running.append(seq)
    return seconds


def _continuous(env, eng):
    """vLLM: prefill iterations for admitted prompts, otherwise one decode iteration."""
    kv, table, sched = eng.kv, eng.table, eng.sched
    while True:
        eng.reject_unservable(kv, eng.waiting, _whole)
        pieces, budget, extra_s = [], sched.token_budget, 0.0
        while eng.waiting and len(eng.running) + len(pieces) < sched.max_batch:
            s = eng.waiting[0]
            if s.swapped:
                seconds = _admit_swapped(eng, kv)
                if seconds is None:
                    break
                extra_s += seconds
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


def _decode_run(env, eng, decodes: list, table: StepTable, kv: PagedKVCache,
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


def _chunked(env, eng):
    """Sarathi-Serve: every running decode plus prompt chunks up to the token budget, one step."""
    kv, table, sched = eng.kv, eng.table, eng.sched
    prefilling: list = []
    while True:
        eng.reject_unservable(kv, eng.waiting, _whole)
        extra_s = 0.0
        decodes = [s for s in eng.running if s.prefilled >= s.target]
        extra_s += eng.make_room(decodes, kv)
        for s in decodes:              # take the decodes' blocks first: make_room cleared them for
            kv.grow(s.id, s.prompt + s.generated + 1)   # the decodes, not for this step's chunks
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
                seconds = _admit_swapped(eng, kv)
                if seconds is None:
                    break
                extra_s += seconds
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


def disaggregated_prefill(env, eng, link):
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


def _transfer(env, eng, seq, link):
    with link.request() as turn:
        yield turn
        yield env.timeout(eng.transfer_s(seq.prompt, eng.table))
    eng.kv.release(seq.id)
    eng.in_transfer -= 1
    eng.decode_waiting.append(seq)
    eng.signal("decode")
    eng.signal()


def disaggregated_decode(env, eng):
    kv, table, sched = eng.decode_kv, eng.decode_table, eng.sched
    while True:
        while eng.decode_waiting and len(eng.running) < sched.max_batch and \
                kv.can_hold(eng.decode_waiting[0].id, _whole(eng.decode_waiting[0])):
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


POLICY_PROCESSES = {"static": _static, "continuous": _continuous, "chunked": _chunked}
