"""DRAM timing helpers: the parameter vector the kernels use, closed-form rates the tests check the
cycle model against, and a plain-Python channel state used by the SimPy reference engine.

All parameters are converted to integer engine ticks (`tick_s`) by rounding up, so the engine never
runs a DRAM faster than its datasheet. With per-bank refresh the refresh interval parameter is the
per-bank one, tREFI / banks (rounded down). The bus turnaround is tWTR_S/L (write → read, after the
write data) and tRTW (read → write; default burst + 2 cycles). Write latency (CWL) is not in
`DramTiming`; we take CWL = CL (assumption: JEDEC CWL is a few cycles shorter, so writes are
modelled slightly pessimistically). The SimPy twin (`ChannelState`) models both refresh kinds.
All-bank PIM MAC commands (`tccd_ab`) issue once per burst period: each bank's MAC unit consumes one
column (e.g. 16 BF16 values) per burst, the rate behind GDDR6-AiM's 1 TFLOPS per chip (assumption;
AttAcc's HBM3-PIM uses 4-6 tCK, hardware-facts §1.4), and no faster than one clock of the slowest
attached PIM unit (`dram_layout.pim_issue_cycles`; HBM-PIM's 300 MHz units pace its MACs).
With `DramTiming.all_bank_activate`, a PIM MAC row burst opens its row in all its banks with one
all-bank ACT (GDDR6-AiM ACT16; see `archsim.kernels.dram`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from math import ceil

import numpy as np

from archsim.hardware import DramTiming

__all__ = ["PARAM_NAMES", "dram_params", "row_burst_span", "streaming_bandwidth_bytes_per_s",
           "random_row_rate_per_s", "refresh_fraction", "stream_refresh_fraction", "faw_act_rate_per_s",
           "turnaround_cycles", "ChannelState", "column_bytes"]

PARAM_NAMES = ("nbanks", "banks_per_group", "n_bank_groups", "cl", "cwl", "trcd", "trp", "tras",
               "tccd_s", "tccd_l", "trrd_s", "trrd_l", "tfaw", "twr", "trtp", "trefi", "trfc",
               "burst_cycles", "tccd_ab", "act_ab", "refpb", "trfc_pb", "twtr_s", "twtr_l", "trtw",
               "txp", "tcke", "powerdown_idle")
NEG = -(1 << 40)
ALL_BANKS = -2          # last_act_bg after an all-bank ACT


def _ticks(cycles: float, t: DramTiming, tick_s: float) -> int:
    return int(ceil(cycles * t.tck_s / tick_s - 1e-9)) if cycles > 0 else 0


def column_bytes(t: DramTiming) -> int:
    """Bytes moved by one column command (one burst) on one channel."""
    return t.burst_bytes


def dram_params(t: DramTiming, tick_s: float | None = None) -> np.ndarray:
    """The int64 parameter vector of `archsim.kernels.dram` for timing `t` in ticks of `tick_s`
    (default: the DRAM clock itself, so values are the datasheet cycle counts)."""
    tick_s = t.tck_s if tick_s is None else tick_s
    burst_cycles = max(1, t.burst_length // max(1, t.data_rate))
    tccd_s = max(t.tccd_s, burst_cycles)
    tccd_l = max(t.tccd_l, tccd_s)
    per_bank = t.refresh_per_bank and t.trfc_pb > 0 and t.trefi > 0
    raw = {
        "cl": t.cl, "cwl": t.cl, "trcd": t.trcd, "trp": t.trp, "tras": t.tras, "tccd_s": tccd_s,
        "tccd_l": tccd_l, "trrd_s": max(1, t.trrd_s), "trrd_l": max(1, t.trrd_l, t.trrd_s),
        "tfaw": t.tfaw, "twr": t.twr, "trtp": t.trtp,
        "trefi": t.trefi / t.banks_per_channel if per_bank else t.trefi, "trfc": t.trfc,
        "burst_cycles": burst_cycles, "tccd_ab": burst_cycles, "trfc_pb": t.trfc_pb if per_bank else 0,
        "twtr_s": t.twtr_s, "twtr_l": max(t.twtr_l, t.twtr_s),
        "trtw": t.trtw or burst_cycles + 2,        # CL + burst + 2 − CWL with CWL = CL (see above)
        # power-down (`kernels.dram.powerdown`): exit latency, minimum residency, idle timer (0: never)
        "txp": t.txp, "tcke": t.tcke, "powerdown_idle": t.powerdown_idle,
    }
    vals = {k: _ticks(v, t, tick_s) for k, v in raw.items()}
    if per_bank:              # refresh commands come every tREFI / banks: round down, never slower
        vals["trefi"] = max(1, int(t.trefi * t.tck_s / t.banks_per_channel / tick_s + 1e-9))
    for k in ("tccd_s", "tccd_l", "trrd_s", "trrd_l", "burst_cycles", "tccd_ab"):
        vals[k] = max(1, vals[k])
    vals["nbanks"] = t.banks_per_channel
    vals["banks_per_group"] = t.banks_per_group
    vals["n_bank_groups"] = t.ranks * t.bank_groups
    vals["act_ab"] = int(bool(t.all_bank_activate))
    vals["refpb"] = int(per_bank)
    return np.array([vals[k] for k in PARAM_NAMES], dtype=np.int64)


# ---------------------------------------------------------------- closed forms (per channel)
def row_burst_span(t: DramTiming) -> int:
    """Banks (in distinct bank groups) one stream's consecutive bursts alternate over before its
    column advances, under the timing's `address_mapping` (the channel field aside): 1 when the
    column is the lowest field (`RoRaBaBgCoCh`: a row is filled before the next bank group), 2
    under a split bank group with its low bit lowest (`RoRaBaBgCoBgCh`, the ZCU102 rev 1.1 PS DDR
    map: two groups alternate, then the column, then the other groups), else min(4, ranks x bank
    groups) (`RoRaBaCoBgCh`, the default: bank groups first). The engine lays each transfer out
    so (`dram_layout.burst_shape`; consecutive row bursts take the next bank groups)."""
    name = t.address_mapping
    fields = [name[i:i + 2] for i in range(0, len(name), 2) if name[i:i + 2] != "Ch"]
    if fields and fields[-1] == "Co":
        return 1
    if fields and fields[-1] == "Bg" and fields.count("Bg") == 2:
        return 2
    return min(4, t.ranks * t.bank_groups)


def streaming_bandwidth_bytes_per_s(t: DramTiming, span: int | None = None) -> float:
    """Timing-limited read bandwidth of one channel streaming whole rows, `span` banks (distinct bank
    groups) per row burst (default `row_burst_span`), activations hidden behind data, refresh excluded.

    Inside a burst, k columns take P = max(tCCD_L, k·tCCD_S) (P = tCCD_L when k = 1); the next burst
    starts tCCD_S after the last column when it moves to fresh bank groups, or P after the same
    group's previous column when k spans every group. Per burst of n = k·cols_per_row columns:
    period = (n/k − 1)·P + tail."""
    p = dict(zip(PARAM_NAMES, dram_params(t)))
    nbg = p["n_bank_groups"]
    k = span or row_burst_span(t)
    S, L = p["tccd_s"], p["tccd_l"]
    P = max(L, k * S) if k > 1 else L
    tail = P if k >= nbg else (k * S if k > 1 else S)
    n_per_bank = max(1, t.row_size_bytes // t.burst_bytes)
    period = (n_per_bank - 1) * P + tail
    return k * n_per_bank * column_bytes(t) / (period * t.tck_s)


def random_row_rate_per_s(t: DramTiming) -> float:
    """Row activations per second when every access opens a new row in the same bank:
    one per max(tRAS, tRCD + tRTP) + tRP, i.e. tRC when tRAS covers the read."""
    p = dict(zip(PARAM_NAMES, dram_params(t)))
    return 1.0 / ((max(p["tras"], p["trcd"] + p["trtp"]) + p["trp"]) * t.tck_s)


def faw_act_rate_per_s(t: DramTiming) -> float:
    """Activation ceiling of one channel from tFAW and tRRD_S: 4 per tFAW."""
    p = dict(zip(PARAM_NAMES, dram_params(t)))
    per_act = max(p["tfaw"] / 4.0, p["trrd_s"])
    return 1.0 / (per_act * t.tck_s)


def refresh_fraction(t: DramTiming) -> float:
    """Fraction of time an all-bank-refreshed channel is unavailable: tRFC / tREFI (also a per-bank
    refreshed channel running PIM all-bank MACs, which refreshes all banks at once)."""
    return t.trfc / t.trefi if t.trefi else 0.0


def stream_refresh_fraction(t: DramTiming, span: int | None = None) -> float:
    """Share of a long read stream lost to refresh. All-bank: tRFC / tREFI. Per-bank: the refreshed
    bank is the one the stream left last, back in use after the other banks' row bursts; the stream
    waits only for what is left of tRP + tRFCpb by then, once per tREFI / banks."""
    if not t.refresh_per_bank or not t.trfc_pb or not t.trefi:
        return refresh_fraction(t)
    p = dict(zip(PARAM_NAMES, dram_params(t)))
    k = span or row_burst_span(t)
    period = k * max(1, t.row_size_bytes // t.burst_bytes) * column_bytes(t) / \
        (streaming_bandwidth_bytes_per_s(t, k) * t.tck_s)          # cycles per row burst
    revisit = (p["nbanks"] / k - 1) * period
    return max(0.0, p["trp"] + p["trfc_pb"] - revisit) / p["trefi"]


def turnaround_cycles(t: DramTiming) -> tuple[int, int]:
    """(write → read, read → write) bus turnaround between the two column commands, in cycles:
    CWL + burst + tWTR_S (other bank group), and tRTW."""
    p = dict(zip(PARAM_NAMES, dram_params(t)))
    return p["cwl"] + p["burst_cycles"] + p["twtr_s"], p["trtw"]


# ---------------------------------------------------------------- plain-Python channel state
@dataclass
class ChannelState:
    """The same bank/channel state machine as the Numba kernel, written plainly; the SimPy
    reference engine issues its column commands one by one."""
    p: dict
    open_row: list = field(default_factory=list)
    act_t: list = field(default_factory=list)
    last_rd: list = field(default_factory=list)
    last_wr: list = field(default_factory=list)
    rdy_act: list = field(default_factory=list)
    bg_last: list = field(default_factory=list)
    last_col: int = NEG
    last_col_bg: int = -1
    last_rd_t: int = NEG          # the channel's last read / write column (turnaround)
    last_wr_t: int = NEG
    last_wr_bg: int = -1
    last_act: int = NEG
    last_act_bg: int = -1
    next_ref: int = 0
    ref_mask: int = 0             # per-bank refresh: banks refreshed this round
    floor: int = 0
    last_end: int = 0             # the channel's last data end and last power-down exit
    wake: int = 0
    ring: list = field(default_factory=lambda: [NEG] * 4)
    counts: dict = field(default_factory=lambda: dict(refs=0, acts=0, pres=0, hits=0, misses=0,
                                                      rd_cols=0, wr_cols=0, mac_cols=0, ab_acts=0,
                                                      pb_refs=0, pd_entries=0, pd_cycles=0))

    @classmethod
    def new(cls, params: np.ndarray) -> "ChannelState":
        p = {k: int(v) for k, v in zip(PARAM_NAMES, params)}
        nb = p["nbanks"]
        return cls(p=p, open_row=[-1] * nb, act_t=[NEG] * nb, last_rd=[NEG] * nb,
                   last_wr=[NEG] * nb, rdy_act=[0] * nb, bg_last=[NEG] * p["n_bank_groups"],
                   next_ref=p["trefi"] if p["trefi"] > 0 else 1 << 62)

    def powerdown_exit(self, arrival: int) -> int:
        """The earliest command after a transfer reaches the channel at `arrival`: the wake from a
        power-down entered `powerdown_idle` after the channel's last data (or wake), at
        max(arrival, entry + tCKE) + tXP (`kernels.dram.powerdown.powerdown_exit`)."""
        p = self.p
        entry = max(self.last_end, self.wake) + p["powerdown_idle"]
        if p["powerdown_idle"] > 0 and arrival > entry:
            self.wake = max(arrival, entry + p["tcke"]) + p["txp"]
            self.counts["pd_entries"] += 1
            self.counts["pd_cycles"] += self.wake - entry
            return self.wake
        return max(arrival, self.wake)

    def bank_of_slot(self, slot: int) -> int:
        p = self.p
        s = slot % p["nbanks"]
        return (s % p["n_bank_groups"]) * p["banks_per_group"] + (s // p["n_bank_groups"]) % p["banks_per_group"]

    def bank_group(self, b: int) -> int:
        return b // self.p["banks_per_group"]

    def precharge_time(self, b: int, floor: int) -> int:
        p = self.p
        return max(floor, self.act_t[b] + p["tras"], self.last_rd[b] + p["trtp"],
                   self.last_wr[b] + p["cwl"] + p["burst_cycles"] + p["twr"])

    def refresh_due(self, t: int) -> bool:
        return t >= self.next_ref

    def postponed_limit(self, pim: bool) -> int:
        """When MAX_POSTPONED refreshes are owed; no column command issues at or after it
        (`kernels.dram.commands.postponed_limit`)."""
        from archsim.kernels.dram.state import MAX_POSTPONED    # here: the package loads Numba
        p = self.p
        if p["trefi"] <= 0:
            return 1 << 62
        if p["refpb"] and not pim:
            return self.next_ref + (MAX_POSTPONED * p["nbanks"] - 1) * p["trefi"]
        step = p["trefi"] * p["nbanks"] if p["refpb"] else p["trefi"]
        return self.next_ref + (MAX_POSTPONED - 1) * step

    def turnaround(self, g: int, mode_write: bool) -> int:
        """Earliest column of this mode in bank group g after the other mode's last column."""
        p = self.p
        if mode_write:
            return self.last_rd_t + p["trtw"]
        wtr = p["twtr_l"] if g == self.last_wr_bg else p["twtr_s"]
        return self.last_wr_t + p["cwl"] + p["burst_cycles"] + wtr

    def refresh(self, t: int, pim: bool = False) -> int:
        """The refresh due now (triggered at time t); returns when the channel is usable again.
        All-bank: every bank closes for tRFC. Per-bank (not while running PIM all-bank MACs): the
        most recently activated bank not yet refreshed this round closes for tRFCpb and the
        channel keeps working (returns t). As `kernels.dram.commands.refresh_if_due`."""
        p = self.p
        # Issued when due (after the banks allow it), even if the channel idled past it.
        due = self.next_ref
        if p["refpb"] and not pim:
            b, due = self.pick_refresh_bank()
            self.refresh_bank(b, due)
            return t
        ref_t = due
        for b in range(p["nbanks"]):
            if self.open_row[b] >= 0:
                ref_t = max(ref_t, self.precharge_time(b, due) + p["trp"])
                self.counts["pres"] += 1
            ref_t = max(ref_t, self.rdy_act[b])
        end = ref_t + p["trfc"]
        for b in range(p["nbanks"]):
            self.open_row[b] = -1
            self.rdy_act[b] = end
        self.counts["refs"] += 1
        if p["refpb"]:                 # all banks at once stand for a round of per-bank ones
            self.next_ref += p["trefi"] * p["nbanks"]
            self.ref_mask = 0
        else:
            self.next_ref += p["trefi"]
        return end

    def pick_refresh_bank(self) -> tuple[int, int]:
        """A per-bank refresh falls due: the most recently activated bank not yet refreshed this
        round (lowest index on ties). Returns (bank, due time); `refresh_bank` applies it."""
        nb = self.p["nbanks"]
        if self.ref_mask == (1 << nb) - 1:
            self.ref_mask = 0
        b = max((b for b in range(nb) if not (self.ref_mask >> b) & 1), key=lambda b: (self.act_t[b], -b))
        self.ref_mask |= 1 << b
        due = self.next_ref
        self.next_ref += self.p["trefi"]
        self.counts["pb_refs"] += 1
        return b, due

    def refresh_bank(self, b: int, due: int) -> None:
        """Refresh bank b (due at `due`) once its last column is known: closed for tRFCpb."""
        p = self.p
        ref_t = max(due, self.rdy_act[b])
        if self.open_row[b] >= 0:
            ref_t = max(ref_t, self.precharge_time(b, due) + p["trp"])
            self.counts["pres"] += 1
        self.open_row[b] = -1
        self.rdy_act[b] = ref_t + p["trfc_pb"]

    def needs_precharge(self, b: int, row: int) -> bool:
        return self.open_row[b] >= 0 and self.open_row[b] != row

    def precharge(self, b: int, floor: int) -> None:
        """Close bank b (its conflicting row) ahead of the burst's activations, at the earliest
        time the bank allows after `floor` (the burst's ready time): look-ahead precharge."""
        p = self.p
        self.rdy_act[b] = self.precharge_time(b, floor) + p["trp"]
        self.open_row[b] = -1
        self.counts["pres"] += 1

    def open(self, b: int, row: int, ready: int) -> tuple[int, int | None]:
        """Open `row` in bank b. Returns (time columns may start, ACT time or None on a hit)."""
        p = self.p
        if self.open_row[b] == row:
            self.counts["hits"] += 1
            return self.act_t[b] + p["trcd"], None
        self.counts["misses"] += 1
        floor = max(ready, self.last_act)
        bg = self.bank_group(b)
        gap = p["trrd_l"] if bg == self.last_act_bg or self.last_act_bg == ALL_BANKS else p["trrd_s"]
        act = max(floor, self.rdy_act[b], self.last_act + gap, min(self.ring) + p["tfaw"])
        self.ring[self.ring.index(min(self.ring))] = act
        self.last_act, self.last_act_bg = act, bg
        self.counts["acts"] += 1
        self.act_t[b], self.open_row[b] = act, row
        return act + p["trcd"], act

    def all_bank(self, slot0: int, span: int) -> bool:
        """An all-bank ACT applies: enabled, several banks, all on one row."""
        p = self.p
        return bool(p["act_ab"]) and span > 1 and slot0 % p["nbanks"] + span <= p["nbanks"]

    def open_all(self, banks: list, row: int, ready: int) -> tuple[list, int | None]:
        """One all-bank ACT opening `row` in every bank of `banks` that does not hold it: one
        command, tRRD_L after the previous ACT (either kind), no tFAW window. Returns (per-bank
        time MACs may start, ACT time or None when every bank already holds the row)."""
        p = self.p
        closed = [b for b in banks if self.open_row[b] != row]
        self.counts["hits"] += len(banks) - len(closed)
        if closed:
            self.counts["misses"] += len(closed)
            act = max(ready, self.last_act, max(self.rdy_act[b] for b in closed),
                      self.last_act + p["trrd_l"])
            self.last_act, self.last_act_bg = act, ALL_BANKS
            self.counts["acts"] += len(closed)
            self.counts["ab_acts"] += 1
            for b in closed:
                self.act_t[b], self.open_row[b] = act, row
        else:
            act = None
        return [self.act_t[b] + p["trcd"] for b in banks], act
