"""Request-level DRAM simulation over every channel of a device (`archsim.kernels.dram.controller`):
address mapping, per-channel queues, FR-FCFS with a cap, page policy, refresh, turnaround and
power-down; traffic generators for the validation (streaming, random, 2:1 read/write,
channel-imbalanced) and the measured bandwidth and latency.

Mappings are named by their fields from the most significant down, Ramulator-style: `Ro` row, `Ra`
rank, `Bg` bank group, `Ba` bank (in its group; without `Bg`, `Ba` spans every bank with the bank
group least significant), `Co` column (in bursts), `Ch` channel. The burst offset is below all of
them. `RoRaBaCoBgCh` (the default) puts consecutive bursts on consecutive channels, then bank
groups, so a stream spreads over every channel and alternates bank groups (tCCD_S apart);
`RoBaRaCoCh` keeps a channel's consecutive bursts in one row of one bank (tCCD_L apart).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from archsim.errors import ArchsimError
from archsim.hardware import DramTiming

from .dram import dram_params, row_burst_span

__all__ = ["FIELDS", "MAPPINGS", "parse_mapping", "ControllerRun", "run_requests", "streaming",
           "random_access", "read_write_mix", "channel_imbalanced", "COUNT_NAMES", "controller_params"]

FIELDS = ("Ch", "Co", "Bg", "Ba", "Ra", "Ro")           # ids of `kernels.dram.address.F_*`
#: the common schemes (any permutation of the fields is accepted)
MAPPINGS = ("RoRaBaCoBgCh", "RoBaRaCoCh", "RoRaBaChCo", "RoCoBaRaCh", "ChRaBaRoCo", "RoRaBaCoCh")
COUNT_NAMES = ("acts", "pres", "hits", "misses", "refs", "pb_refs", "rd_cols", "wr_cols",
               "turnarounds", "power_downs", "power_down_cycles", "forced_oldest", "data_cycles")


def parse_mapping(name: str, t: DramTiming) -> tuple[np.ndarray, np.ndarray]:
    """(field ids, sizes) from the least significant field up, for mapping `name` on timing `t`.
    Raises ArchsimError naming the problem."""
    tokens = [name[i:i + 2] for i in range(0, len(name), 2)]
    bad = [x for x in tokens if x not in FIELDS]
    if len(name) % 2 or bad:
        raise ArchsimError(f"address mapping {name!r}: fields are two letters each out of "
                           f"{', '.join(FIELDS)} (got {', '.join(bad) or name!r}); e.g. {MAPPINGS[0]}")
    if any(tokens.count(f) > (2 if f == "Bg" else 1) for f in tokens):
        raise ArchsimError(f"address mapping {name!r}: a field appears twice (only Bg may: split "
                           f"bank-group bits)")
    split = tokens.count("Bg") == 2
    if split and (t.bank_groups < 4 or t.bank_groups % 2):
        raise ArchsimError(f"address mapping {name!r}: a split bank group (Bg twice) needs an even "
                           f"number of bank groups, at least 4 (got {t.bank_groups})")
    if "Bg" not in tokens and "Ba" in tokens:          # Ba spans the groups, group bits lowest
        i = tokens.index("Ba")
        tokens[i + 1:i + 1] = ["Bg"]
    if "Ra" not in tokens:
        tokens.insert(tokens.index("Ba") if "Ba" in tokens else 0, "Ra")
    missing = [f for f in FIELDS if f not in tokens]
    if missing:
        raise ArchsimError(f"address mapping {name!r}: missing field(s) {', '.join(missing)}; "
                           f"e.g. {MAPPINGS[0]}")
    size = {"Ch": t.channels, "Co": max(1, t.row_size_bytes // t.burst_bytes), "Bg": t.bank_groups,
            "Ba": t.banks_per_group, "Ra": t.ranks, "Ro": t.rows}
    lsb_first = tokens[::-1]
    sizes = [size[f] for f in lsb_first]
    if split:                      # the lower Bg is bank-group bit 0, the upper the other bits
        low = lsb_first.index("Bg")
        high = lsb_first.index("Bg", low + 1)
        sizes[low], sizes[high] = 2, t.bank_groups // 2
    return (np.array([FIELDS.index(f) for f in lsb_first], dtype=np.int64),
            np.array(sizes, dtype=np.int64))


def controller_params(t: DramTiming, queue_depth: int | None = None, cap: int | None = None,
                      page_policy: str | None = None, powerdown_idle: int | None = None) -> np.ndarray:
    """The controller parameter vector (`kernels.dram.controller.X_*`), in DRAM cycles; arguments
    override the description's values."""
    from archsim.kernels.dram import controller as kc
    x = np.zeros(kc.N_X, dtype=np.int64)
    x[kc.X_QUEUE] = t.queue_depth if queue_depth is None else queue_depth
    x[kc.X_CAP] = t.row_hit_cap if cap is None else cap
    x[kc.X_CLOSED] = int((t.page_policy if page_policy is None else page_policy) == "closed")
    x[kc.X_TXP] = t.txp
    x[kc.X_TCKE] = t.tcke
    x[kc.X_PDIDLE] = t.powerdown_idle if powerdown_idle is None else powerdown_idle
    x[kc.X_PIMROW] = int(t.pim_host_interleave == "row")
    return x


@dataclass(frozen=True, slots=True)
class ControllerRun:
    """One request-level run: per request its column command and data end (DRAM cycles), per channel
    the counts of `COUNT_NAMES`."""
    timing: DramTiming
    mapping: str
    arrival: np.ndarray
    write: np.ndarray
    channel: np.ndarray
    issue: np.ndarray
    done: np.ndarray
    counts: np.ndarray                 # [channels, len(COUNT_NAMES)]

    @property
    def cycles(self) -> int:
        return int(self.done.max(initial=0))

    @property
    def bandwidth_bytes_per_s(self) -> float:
        """Bytes moved over the time from the first arrival to the last data."""
        span = self.cycles - int(self.arrival.min(initial=0))
        return self.done.size * self.timing.burst_bytes / (span * self.timing.tck_s) if span else 0.0

    @property
    def read_latency_s(self) -> float:
        """Mean time from a read's arrival to its last data."""
        rd = self.write == 0
        return float((self.done[rd] - self.arrival[rd]).mean() * self.timing.tck_s) if rd.any() else 0.0

    def channel_bytes(self) -> np.ndarray:
        """Bytes each channel moved."""
        return np.bincount(self.channel, minlength=self.timing.channels) * self.timing.burst_bytes

    def count(self, name: str) -> int:
        return int(self.counts[:, COUNT_NAMES.index(name)].sum())


def run_requests(t: DramTiming, addr, write, arrival, mapping: str | None = None, **controller) -> ControllerRun:
    """Simulate requests (byte address, write flag, arrival in DRAM cycles, in arrival order) on
    every channel of `t`. `controller` overrides queue_depth, cap, page_policy, powerdown_idle."""
    from archsim.kernels.dram import controller as kc
    from archsim.kernels.dram import new_state
    from archsim.kernels.dram.address import decode
    mapping = mapping or t.address_mapping
    fields, sizes = parse_mapping(mapping, t)
    addr = np.ascontiguousarray(addr, dtype=np.int64)
    write = np.ascontiguousarray(write, dtype=np.int64)
    arrival = np.ascontiguousarray(arrival, dtype=np.int64)
    if np.any(np.diff(arrival) < 0):
        raise ArchsimError("requests must be in arrival order")
    n = addr.size
    ch = np.empty(n, dtype=np.int64)
    bank = np.empty(n, dtype=np.int64)
    row = np.empty(n, dtype=np.int64)
    decode(addr, t.burst_bytes, fields, sizes, t.banks_per_group, t.bank_groups, ch, bank, row)
    P = dram_params(t)
    X = controller_params(t, **controller)
    issue = np.zeros(n, dtype=np.int64)
    done = np.zeros(n, dtype=np.int64)
    counts = np.zeros((t.channels, kc.N_K), dtype=np.int64)
    order = np.argsort(ch, kind="stable")
    bounds = np.searchsorted(ch[order], np.arange(t.channels + 1))
    for c in range(t.channels):
        idx = order[bounds[c]:bounds[c + 1]]
        if idx.size == 0:
            continue
        bank_st, bg_last, chan = new_state(P)
        iss = np.zeros(idx.size, dtype=np.int64)
        dn = np.zeros(idx.size, dtype=np.int64)
        kc.run_channel(P, X, bank_st, bg_last, chan, bank[idx], row[idx], write[idx], arrival[idx],
                       iss, dn, counts[c])
        issue[idx] = iss
        done[idx] = dn
    return ControllerRun(timing=t, mapping=mapping, arrival=arrival, write=write, channel=ch,
                         issue=issue, done=done, counts=counts)


# ---------------------------------------------------------------- traffic
def _arrivals(n: int, interval: float) -> np.ndarray:
    """Arrival cycles: all at once (interval 0: the queue always full) or one every `interval`."""
    return np.floor(np.arange(n) * interval).astype(np.int64)


def streaming(t: DramTiming, nbytes: int, interval: float = 0.0, base: int = 0):
    """A sequential read stream of `nbytes` in bursts: (addr, write, arrival)."""
    n = max(1, nbytes // t.burst_bytes)
    addr = base + np.arange(n, dtype=np.int64) * t.burst_bytes
    return addr, np.zeros(n, dtype=np.int64), _arrivals(n, interval)


def random_access(t: DramTiming, n: int, seed: int = 0, interval: float = 0.0):
    """`n` reads of one burst at uniformly random burst-aligned addresses over the whole device."""
    rng = np.random.default_rng(seed)
    addr = rng.integers(0, t.capacity_bytes // t.burst_bytes, size=n, dtype=np.int64) * t.burst_bytes
    return addr, np.zeros(n, dtype=np.int64), _arrivals(n, interval)


def read_write_mix(t: DramTiming, nbytes: int, reads_per_write: int = 2, interval: float = 0.0):
    """STREAM-triad-like traffic: a sequential stream whose every (reads_per_write + 1)-th burst is a
    write (reads_per_write reads : 1 write)."""
    addr, _, arr = streaming(t, nbytes, interval)
    write = (np.arange(addr.size) % (reads_per_write + 1) == reads_per_write).astype(np.int64)
    return addr, write, arr


def channel_imbalanced(t: DramTiming, nbytes: int, mapping: str | None = None):
    """A strided read stream whose stride is the channel-interleave period, so that under the
    mapping every burst lands in channel 0 (the pattern a badly chosen layout produces)."""
    fields, sizes = parse_mapping(mapping or t.address_mapping, t)
    stride = t.burst_bytes
    for f, s in zip(fields, sizes):
        stride *= int(s)
        if FIELDS[int(f)] == "Ch":
            break
    n = max(1, nbytes // t.burst_bytes)
    addr = np.arange(n, dtype=np.int64) * stride % (t.capacity_bytes // stride * stride)
    return addr, np.zeros(n, dtype=np.int64), _arrivals(n, 0.0)


# ---------------------------------------------------------------- closed forms (all channels)
def _p(t: DramTiming) -> dict:
    from .dram import PARAM_NAMES
    return {k: int(v) for k, v in zip(PARAM_NAMES, dram_params(t))}


def _refresh_loss(t: DramTiming) -> float:
    """Share of time a saturated channel loses to refresh: tRFC / tREFI all-bank; per-bank refresh
    of a bank no queued request needs costs the stream nothing (the controller picks such a bank)."""
    return 0.0 if t.refresh_per_bank and t.trfc_pb else (t.trfc / t.trefi if t.trefi else 0.0)


def column_period_cycles(t: DramTiming) -> float:
    """Cycles per column command of a saturated stream: alternating bank groups k columns in k
    groups take max(k·tCCD_S, tCCD_L); k = every group under the default mapping, 2 under a split
    bank group (`RoRaBaBgCoBgCh`), 1 with the column lowest (`dram.row_burst_span`)."""
    p = _p(t)
    k = _stream_groups(t)
    return max(k * p["tccd_s"], p["tccd_l"]) / k


def _stream_groups(t: DramTiming) -> int:
    """Bank groups a sequential stream's consecutive columns alternate over under the mapping:
    every group (default), 2 (split bank group), 1 (column lowest) — `dram.row_burst_span`."""
    span = row_burst_span(t)
    return _p(t)["n_bank_groups"] if span > 2 else span


def stream_bandwidth_bytes_per_s(t: DramTiming) -> float:
    """Saturated sequential reads, every channel: one burst per column period, refresh excluded."""
    return t.channels * t.burst_bytes / (column_period_cycles(t) * t.tck_s) * (1 - _refresh_loss(t))


def random_bandwidth_bytes_per_s(t: DramTiming) -> float:
    """Saturated random reads (every access a row miss), every channel, pure FR-FCFS with a queue
    deep enough to find a free bank: one ACT per max(tFAW / 4, tRRD_S, tRC / banks, column period)."""
    p = _p(t)
    trc = max(p["tras"], p["trcd"] + p["trtp"]) + p["trp"]
    per_act = max(p["tfaw"] / 4, p["trrd_s"], trc / p["nbanks"], column_period_cycles(t))
    return t.channels * t.burst_bytes / (per_act * t.tck_s) * (1 - _refresh_loss(t))


def mix_bandwidth_bytes_per_s(t: DramTiming, reads_per_write: int = 2) -> float:
    """Saturated sequential traffic with r = reads_per_write reads per write, writes drained from
    3/4 of the queue down to 1/4: while draining, each write served admits 1/(r+1) write, so a
    drain serves w = (3/4·Q − 1/4·Q)·(r+1)/r writes, and the read phase r·w reads until the writes
    are back at 3/4; the bus turns around twice per batch of (r+1)·w columns (read → write tRTW,
    write → read CWL + BL + tWTR_S)."""
    p = _p(t)
    q = t.queue_depth
    w = ((3 * q) // 4 - q // 4) * (reads_per_write + 1) / reads_per_write
    n = w * (reads_per_write + 1)
    c = column_period_cycles(t)
    period = n * c + max(0.0, p["trtw"] - c) + max(0.0, p["cwl"] + p["burst_cycles"] + p["twtr_s"] - c)
    return t.channels * n * t.burst_bytes / (period * t.tck_s) * (1 - _refresh_loss(t))


def idle_read_latency_s(t: DramTiming, pattern: str, interval_cycles: float) -> float:
    """Mean latency of reads that find their channel idle, arriving one every `interval_cycles` per
    channel: CL + burst, + tRCD when the bank is closed (a refresh closed it and no access has
    reopened it since), + tRP + tRCD on a row conflict (open page; closed page: tRCD always), +
    the wait behind an all-bank refresh in progress (tRFC / tREFI of arrivals, tRFC / 2 each).
    Sequential: the stream keeps one bank open per bank group it alternates over (`_stream_groups`:
    every group under the default mapping, 1 with the column lowest), and every bank is refreshed
    once per tREFI (all at once, or one by one with per-bank refresh), so one access per such group
    and refresh interval misses, and one access per row of a bank conflicts. Random: a bank untouched since
    its refresh is closed with probability E[(1 − 1/banks)^(u·m)] over the refresh phase u, m the
    accesses per channel per refresh interval; otherwise the access conflicts."""
    p = _p(t)
    cols = max(1, t.row_size_bytes // t.burst_bytes)
    lat = p["cl"] + p["burst_cycles"]
    m = t.trefi / interval_cycles if t.trefi else float("inf")      # accesses per refresh interval
    if pattern == "sequential":
        closed = min(1.0, _stream_groups(t) / m) if t.trefi else 0.0
        conflict = (1 - closed) / cols
    else:
        a = 1 - 1 / p["nbanks"]
        closed = (1 - a ** m) / (-m * np.log(a)) if np.isfinite(m) and m > 0 else 0.0
        conflict = 1 - closed
    if t.page_policy == "closed":
        closed, conflict = closed + conflict, 0.0
    lat += closed * p["trcd"] + conflict * (p["trp"] + p["trcd"])
    lat += _refresh_loss(t) * p["trfc"] / 2
    return lat * t.tck_s
