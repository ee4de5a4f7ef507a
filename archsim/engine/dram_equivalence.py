"""The engine's DRAM burst path beside the request-level controller on one channel.

The engine times a transfer's share of a channel as one burst task (`dram_layout.burst_shape`: `nrows`
row bursts over `span` banks, `kernels.dram.burst`) and serves a channel's tasks in issue order.
The request-level controller (`dram_controller.run_requests`) times the same column commands as
requests through a queue with FR-FCFS. Here both are fed the same transfers on channel 0:

- `engine_layout`: where the engine puts each column command of a burst task (bank, row, column),
  in its issue order; `encode_addresses` turns them into byte addresses under an address mapping
  (the inverse of `kernels.dram.address.decode`), so the controller reads or writes exactly the
  engine's bytes. For a transfer of whole row bursts starting at a row-burst boundary these are
  consecutive addresses of the default mapping (`RoRaBaCoBgCh`, the engine's interleave).
- `engine_finish` / `controller_finish`: each transfer's finish (DRAM cycles, all ready at 0);
  the engine serves them in order, the controller gets their requests interleaved one by one
  (concurrent DMA streams) and reorders them (FR-FCFS + cap, write drain).
- `alone_sample` / `sequence_sample` / `concurrency_sample`: controller over engine finish ratios
  of random transfers alone, of random sequences served one after the other, and of random pairs
  and triples sharing a channel at once (tests/engine/test_dram_equivalence.py,
  `benchmarks/engine.py --dram-concurrency`).

Differences for a transfer alone (measured, tests/engine/test_dram_equivalence.py): without
refresh the controller is at most a few cycles faster, where FR-FCFS serves a ready bank's column
ahead of the in-order one (the ACT ramp at the stream start, tCCD_L − tCCD_S at a row-burst
boundary when the columns do not split evenly over the banks). With refresh the engine's row burst
triggers a refresh only once its first command passes the due time, and look-ahead activation puts
the first command of a row burst in fresh banks at the stream start, so refreshes due inside a
transfer are deferred to the channel's next burst task; the controller issues each when due.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from archsim.hardware import DramTiming

from .dram import dram_params
from .dram_controller import FIELDS, parse_mapping, run_requests
from .dram_layout import burst_shape

__all__ = ["Transfer", "engine_layout", "encode_addresses", "engine_finish", "controller_finish",
           "alone_sample", "sequence_sample", "concurrency_sample", "channel_overlap", "distinct_channels"]


@dataclass(frozen=True, slots=True)
class Transfer:
    """A transfer's share of one channel: bytes, read or write, its first bank slot."""
    nbytes: int
    write: bool = False
    slot0: int = 0


def engine_layout(t: DramTiming, slot0: int, nrows: int, ncols: int, span: int):
    """(bank, row, column) of each column command of a burst task, in the engine's issue order:
    row burst r covers slots slot0 + r·span …, column j goes to the (j mod k)-th of them at column
    ⌊j / k⌋ of its row (k = min(span, ncols)); slot s is bank `slot_bank(s)`, row s // banks."""
    return layout_of(dram_params(t), slot0, nrows, ncols, span)


def layout_of(P: np.ndarray, slot0: int, nrows: int, ncols: int, span: int):
    """`engine_layout` for a channel given by its parameter vector (`dram.dram_params`)."""
    from archsim.kernels.dram import slot_bank
    from archsim.kernels.dram.state import P_NBANKS
    nb = int(P[P_NBANKS])
    k = min(span, ncols)
    r = np.repeat(np.arange(nrows, dtype=np.int64), ncols)
    j = np.tile(np.arange(ncols, dtype=np.int64), nrows)
    slots = slot0 + r * span + j % k
    lo = int(slots.min())
    bank = np.array([slot_bank(P, s) for s in range(lo, int(slots.max()) + 1)],
                    dtype=np.int64)[slots - lo]
    return bank, slots // nb, j // k


def encode_addresses(t: DramTiming, channel: int, bank, row, col, mapping: str | None = None):
    """Byte addresses of (channel, bank in channel, row, column in bursts) under `mapping` (default
    the description's): the inverse of `kernels.dram.address.decode`."""
    fields, sizes = parse_mapping(mapping or t.address_mapping, t)
    bank = np.asarray(bank, dtype=np.int64)
    group = bank // t.banks_per_group
    vals = {"Ch": np.full(bank.shape, channel, dtype=np.int64), "Co": np.asarray(col, np.int64),
            "Bg": group % t.bank_groups, "Ba": bank % t.banks_per_group,
            "Ra": group // t.bank_groups, "Ro": np.asarray(row, np.int64)}
    digits = []                                           # least significant first
    for f, s in zip(fields, sizes):                       # a split field: low digit first
        name = FIELDS[int(f)]
        digits.append(vals[name] % int(s))
        vals[name] = vals[name] // int(s)
    x = np.zeros(bank.shape, dtype=np.int64)
    for d, s in zip(digits[::-1], sizes[::-1]):           # most significant first
        x = x * int(s) + d
    return x * t.burst_bytes


def _shapes(t: DramTiming, transfers):
    return [burst_shape(t, x.nbytes) for x in transfers]


def engine_finish(t: DramTiming, transfers) -> tuple[np.ndarray, int]:
    """Each transfer's finish (DRAM cycles) on one channel, served in order by the engine's burst
    path, all ready at 0; and the refreshes (all-bank + per-bank) issued by the last finish."""
    from archsim.kernels.dram import burst, new_state, work_size
    from archsim.kernels.dram.state import C_PBREFS, C_REFS, MODE_READ, MODE_WRITE
    P = dram_params(t)
    bank_st, bg_last, chan = new_state(P)
    work = np.zeros(work_size(P), dtype=np.int64)
    out = np.zeros(len(transfers), dtype=np.int64)
    for i, (x, (nrows, ncols, span)) in enumerate(zip(transfers, _shapes(t, transfers))):
        _, out[i] = burst(P, bank_st, bg_last, chan, x.slot0, 0, ncols, span,
                          MODE_WRITE if x.write else MODE_READ, nrows, 0, True, work)
    return out, int(chan[C_REFS] + chan[C_PBREFS])


def controller_finish(t: DramTiming, transfers, interleave: bool = True,
                      **controller) -> tuple[np.ndarray, int]:
    """Each transfer's finish (DRAM cycles) in the request-level controller, its requests at the
    engine's addresses, all arriving at 0, interleaved one by one across the transfers (concurrent
    streams) or, `interleave=False`, transfer after transfer (the engine's issue order); and the
    refreshes issued. `controller` overrides its parameters (queue_depth, cap, ...)."""
    addr, write, owner = [], [], []
    for i, (x, (nrows, ncols, span)) in enumerate(zip(transfers, _shapes(t, transfers))):
        a = encode_addresses(t, 0, *engine_layout(t, x.slot0, nrows, ncols, span))
        addr.append(a)
        write.append(np.full(a.size, int(x.write), dtype=np.int64))
        owner.append(np.full(a.size, i, dtype=np.int64))
    # round robin: the k-th request of every transfer before the (k+1)-th of any
    rank = np.concatenate([np.arange(a.size) if interleave else np.zeros(a.size, np.int64)
                           for a in addr])
    order = np.lexsort((np.concatenate(owner), rank))
    addr, write, owner = (np.concatenate(v)[order] for v in (addr, write, owner))
    run = run_requests(t, addr, write, np.zeros(addr.size, dtype=np.int64), **controller)
    out = np.zeros(len(transfers), dtype=np.int64)
    np.maximum.at(out, owner, run.done)
    return out, run.count("refs") + run.count("pb_refs")


def distinct_channels(types: dict[str, DramTiming]) -> list[str]:
    """One name (the first in order) per distinct one-channel timing among `types`: descriptions
    repeat DRAM parts with other channel counts or capacities."""
    seen: dict[tuple, str] = {}
    for name, t in sorted(types.items()):
        seen.setdefault((tuple(dram_params(t)), t.row_size_bytes, t.burst_bytes, t.queue_depth,
                         t.row_hit_cap, t.page_policy, t.address_mapping), name)
    return sorted(seen.values())


def _stats(v) -> dict:
    return {"min": round(float(np.min(v)), 3), "median": round(float(np.median(v)), 3),
            "max": round(float(np.max(v)), 3)}


def alone_sample(t: DramTiming, n: int = 24, seed: int = 0, max_bytes: int = 1 << 18) -> dict:
    """`n` random transfers alone on one channel (sizes 1 B … `max_bytes`, read or write, first
    slot 0 … 63): the controller's finish over the engine's, with refresh off and with the
    description's refresh. Returns their min / median / max."""
    import dataclasses
    rng = np.random.default_rng(seed)
    off = dataclasses.replace(t, trefi=0)
    ratios: dict[str, list] = {"refresh_off": [], "refresh_on": []}
    for _ in range(n):
        x = [Transfer(int(rng.integers(1, max_bytes)), bool(rng.integers(2)), int(rng.integers(64)))]
        for key, tt in (("refresh_off", off), ("refresh_on", t)):
            ratios[key].append(controller_finish(tt, x)[0][0] / engine_finish(tt, x)[0][0])
    return {k: _stats(v) for k, v in ratios.items()}


def sequence_sample(t: DramTiming, n: int = 12, seed: int = 0, max_bytes: int = 1 << 17) -> dict:
    """`n` random sequences of 4 … 11 transfers (sizes 1 B … `max_bytes`, read or write) packed in
    bank slots, served one after the other (the controller gets them in that order, not
    interleaved): the controller's makespan over the engine's with refresh off and with the
    description's refresh — where the refreshes a transfer alone defers are paid. Returns their
    min / median / max."""
    import dataclasses
    rng = np.random.default_rng(seed)
    off = dataclasses.replace(t, trefi=0)
    ratios: dict[str, list] = {"refresh_off": [], "refresh_on": []}
    for _ in range(n):
        xs = _packed(t, rng, (4, 12), max_bytes)
        for key, tt in (("refresh_off", off), ("refresh_on", t)):
            ratios[key].append(controller_finish(tt, xs, interleave=False)[0].max()
                               / engine_finish(tt, xs)[0].max())
    return {k: _stats(v) for k, v in ratios.items()}


def _packed(t: DramTiming, rng, count: tuple[int, int], max_bytes: int) -> list:
    """Random transfers (their number drawn from [`count`), each 1 B … `max_bytes`, read or write)
    on one channel, each packed after the previous in bank slots as the engine packs tensors, from
    a random first slot."""
    slot = int(rng.integers(0, t.banks_per_channel))
    xs = []
    for _ in range(int(rng.integers(*count))):
        x = Transfer(int(rng.integers(1, max_bytes)), bool(rng.integers(2)), slot)
        nrows, _, span = burst_shape(t, x.nbytes)
        slot += nrows * span
        xs.append(x)
    return xs


def channel_overlap(trace, run) -> dict:
    """How much an engine run serves concurrent transfers in issue order: over the DRAM channel
    resources of `trace` (a group of channels that time alike counts once), the share of burst
    tasks that became ready while their channel still served an earlier one, and the mean number
    of transfers waiting while a channel serves one (cycles waited / cycles served: Little's law).
    These are the transfers a request-level controller would interleave (FR-FCFS), which measured
    1.06-1.33x the in-order makespan (`concurrency_sample`)."""
    dram = np.nonzero(trace.res_dram >= 0)[0]
    tasks = np.nonzero(np.isin(trace.res, dram))[0]
    n = concurrent = wait = busy = 0
    prev: dict[int, int] = {}                       # resource → finish of its last task
    for i in tasks:                                 # index order = each resource's issue order
        r = int(trace.res[i])
        deps = trace.deps(int(i))
        ready = int(run.finish[deps].max()) if deps.size else 0
        begin = ready
        if r in prev and ready < prev[r]:
            concurrent += 1
            wait += prev[r] - ready
            begin = prev[r]
        n += 1
        busy += max(0, int(run.finish[i]) - begin)
        prev[r] = int(run.finish[i])
    return {"dram_tasks": n, "concurrent_share": round(concurrent / max(1, n), 3),
            "mean_transfers_waiting": round(wait / max(1, busy), 3)}


def concurrency_sample(t: DramTiming, n: int = 24, seed: int = 0, max_bytes: int = 1 << 17) -> dict:
    """`n` random pairs and triples of transfers (sizes 1 B … `max_bytes`, read or write) sharing
    one channel, each packed after the previous in bank slots as the engine packs tensors, all
    ready at once: the engine serves them in issue order, the controller interleaves their
    requests. Per sample: the controller's makespan over the engine's (with the description's
    row-hit cap, and uncapped: pure FR-FCFS), and the first transfer's finish (the engine serves
    it alone) in the controller over the engine's. Returns their min / median / max."""
    rng = np.random.default_rng(seed)
    makespan, uncapped, first = [], [], []
    for _ in range(n):
        xs = _packed(t, rng, (2, 4), max_bytes)
        e, _ = engine_finish(t, xs)
        c, _ = controller_finish(t, xs)
        makespan.append(c.max() / e.max())
        uncapped.append(controller_finish(t, xs, cap=1 << 30)[0].max() / e.max())
        first.append(c[0] / e[0])
    return {"makespan_ratio": _stats(makespan), "makespan_ratio_uncapped": _stats(uncapped),
            "first_finish_ratio": _stats(first), "samples": n}
