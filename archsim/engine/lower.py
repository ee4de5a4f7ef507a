"""Mapped graph → task trace.

Per op (see `plan.OpPlan`):
- GPU (`sm`): one kernel task, timed by the calibrated kernel model (memory time is inside it).
- PIM (`pim_bank` on a DRAM level): input broadcast over the host link, then all-bank MAC row bursts
  (one task per ≤ `PIM_ROWS_PER_TASK` rows), then the partial-sum readout.
- Everything else: a tile stream (`tile_issue.lower_stream`): every tile of the mapping's loop
  nest issued, loading the operand tiles the loop order says it needs, then computing.

Compactness (stated, and what makes an LLM token simulable in seconds):
- Every DRAM channel is simulated. Tensors are packed back to back in the DRAM's address space
  (burst-aligned) and the description's address mapping (`address_mapping`, the granularity of its
  channel field) splits each transfer over the channels, so a transfer that is not a whole number of
  interleave units gives some channels one unit more. Channels whose task sequences are identical
  (same bursts, same slots, in the same order, behind the same dependencies) have identical timing
  (a channel's state depends only on its own tasks and their ready times): they are simulated once
  and their bytes and DRAM command counts scaled by the group's size (`channel_groups`;
  tests/engine/test_all_channels.py checks grouped == one resource per channel). The groups come
  from a recording walk over the transfers' channel splits (`record_groups`), then lowering emits
  one task per group. An op that ends in several tasks (its output written per group) ends in one
  zero-time join task (`TraceBuilder.join`) its consumers wait for: a consumer transfer's G group
  tasks then hold O(G) dependencies in all, not G² (hbm3-pim: up to 160 groups).
- Tiles are issued one by one (runs of load-free tiles one task, `reps`), within a graph-wide
  budget of loading tiles (`tile_issue`: `MAX_CHUNKS`, `TILE_BUDGET`).
- On-chip levels are enforced: every byte an op moves through an SRAM level (the same bytes the
  energy model counts, `op_action_counts`) occupies that level's ports (`port_lanes`: min(ports,
  banks) lanes at bandwidth / ports each). A DMA fill writes its chunk into the unit's buffer on
  the fill-side lane, a store reads the output out of it, a compute task moves its share of the
  op's other on-chip bytes on its unit's lane; a task whose bytes take longer than its work stalls.
- Trace times are in ticks of 1/`ticks_per_cycle` hw cycle (no longer than the DRAM clock), so DRAM
  timings keep their datasheet rates; `simulate` converts spans back to hw cycles.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from math import ceil

from archsim.hardware import Hardware, MemoryLevel
from archsim.ir import OpGraph, Role
from archsim.mapping import Mapping

from .actions import count_action, op_action_counts
from .dram import PARAM_NAMES, dram_params
from .dram_layout import burst_shape, interleave_bytes, pim_issue_cycles, pim_layout
from .plan import OpPlan, in_bank, plan_ops
from .noc import links as noc_links
from .ports import onchip_bytes, port_lanes
from .tile_issue import TILE_BUDGET, lower_stream, record_stream, ring_reach, tile_cap
from .timing.sm import sm_plan_seconds
from .timing.units import work_units
from .trace import MODE_PIM_MAC, MODE_READ, MODE_WRITE, Trace, TraceBuilder

__all__ = ["Lowered", "lower", "channel_groups", "record_groups", "ticks_per_cycle", "PIM_ROWS_PER_TASK"]

PIM_ROWS_PER_TASK = 64


@dataclass
class Lowered:
    trace: Trace
    plans: list[OpPlan]
    tick_s: float
    level_names: tuple[str, ...]
    ticks_per_cycle: int = 1           # trace ticks per hw clock cycle (see `ticks_per_cycle`)
    counts: dict[str, float] = field(default_factory=dict)          # timing-independent actions
    op_counts: list[dict[str, float]] = field(default_factory=list)  # per op
    dram_scale: dict[int, int] = field(default_factory=dict)         # dram slot → channel copies
    dram_level: dict[int, str] = field(default_factory=dict)         # dram slot → level name
    compute_res: set = field(default_factory=set)
    noc_res: set = field(default_factory=set)                        # NoC link resources
    channel_groups: dict[str, list[list[int]]] = field(default_factory=dict)   # level → groups


class _Lowerer:
    def __init__(self, hw: Hardware, groups: dict[str, list[list[int]]] | None = None,
                 group_tiles: bool = True, join_outputs: bool = True):
        self.hw = hw
        self.join_outputs = join_outputs   # an op ending in several tasks ends in a join (`lower_op`)
        self.group_tiles = group_tiles    # one task per run of load-free tiles (`reps`)
        self.tile_cap = TILE_BUDGET        # loading tiles per op (`tile_issue.tile_cap`)
        # DRAM level → channel groups (each simulated once); None: record every channel's sequence
        self.groups = groups
        # level → the distinct per-channel burst shapes of its transfers (`channel_groups`)
        self.history: dict[str, set[tuple]] = {}
        self.port_memo: dict[tuple[int, float, int], tuple] = {}  # `port` per (level, bytes, side)
        self.next_addr: dict[str, int] = {}           # level → next free byte address
        self.addrs: dict[tuple[str, str], int] = {}
        self.units: dict[str, int] = {}               # level → `interleave_bytes` of its timing
        self.shape_memo: dict[tuple[str, int, int], tuple] = {}   # `shapes` per (level, offset, size)
        self.sub = ticks_per_cycle(hw)
        self.tick_s = 1.0 / hw.freq_hz / self.sub
        self.b = TraceBuilder()
        self.res: dict[str, int] = {}
        self.level_idx = {lv.name: i for i, lv in enumerate(hw.levels)}
        self.slots: dict[str, int] = {}
        self.next_slot = 0
        self.ring: list[int] = []          # compute tasks in buffer-slot order (double buffering)
        self.held: dict[int, list[tuple[int, int]]] = {}   # level → (release task, bytes) resident
        self.lanes: dict[int, list[int]] = {}               # on-chip level → its port lanes
        self.after: dict[int, list[int]] = {}  # compute task → NoC tasks its buffer slot also waits for
        # `ring` entries a later op's first loads may look back (`ring_reach`; all until set)
        self.ring_reach = TILE_BUDGET
        self.out = Lowered(trace=None, plans=[], tick_s=self.tick_s,
                           level_names=tuple(lv.name for lv in hw.levels), ticks_per_cycle=self.sub)

    # ---------------------------------------------------------------- resources
    def mem_res(self, lv: MemoryLevel) -> int:
        """The resource of a level without DRAM timing."""
        key = "mem:" + lv.name
        if key not in self.res:
            self.res[key] = self.b.resource(key)
        return self.res[key]

    def channel_groups(self, lv: MemoryLevel) -> list[list[int]]:
        """The channel groups of a DRAM level (all channels in one group while recording)."""
        if self.groups is None or lv.name not in self.groups:
            return [list(range(lv.dram.channels))]
        return self.groups[lv.name]

    def dram_res(self, lv: MemoryLevel) -> list[int]:
        """One resource per channel group of a DRAM level, in group order."""
        key = "mem:" + lv.name
        if key not in self.res:
            params = dram_params(lv.dram, self.tick_s)
            ab = PARAM_NAMES.index("tccd_ab")
            floor = self.ticks(pim_issue_cycles(self.hw, lv) * lv.dram.tck_s)
            params[ab] = max(params[ab], floor)
            rs = []
            groups = self.channel_groups(lv)
            for members in groups:
                name = key if len(groups) == 1 else f"{key}.ch{members[0]}"
                rs.append(self.b.resource(name, params))
                slot = len(self.out.dram_scale)
                self.out.dram_scale[slot] = len(members)
                self.out.dram_level[slot] = lv.name
            self.res[key] = rs
            self.history.setdefault(lv.name, set())
        return self.res[key]

    def interleave_unit(self, lv: MemoryLevel) -> int:
        unit = self.units.get(lv.name)
        if unit is None:
            unit = self.units[lv.name] = interleave_bytes(lv.dram)
        return unit

    def place(self, lv: MemoryLevel, key: str, nbytes: int) -> int:
        """Byte address of tensor `key` in DRAM level `lv`: packed after the previous ones
        (burst-aligned); the same tensor keeps its address."""
        k = (lv.name, key)
        base = self.addrs.get(k)
        if base is None:
            burst = lv.dram.burst_bytes
            base = self.addrs[k] = self.next_addr.get(lv.name, 0)
            self.next_addr[lv.name] = base + -(-nbytes // burst) * burst
        return base

    def channel_bytes(self, lv: MemoryLevel, key: str, nbytes: int) -> list[int]:
        """Bytes of a transfer each channel moves under the level's address mapping: the tensor
        `key` is packed after the previous ones (burst-aligned); interleave units of the channel
        field's granularity go round-robin over the channels from the tensor's first unit."""
        t = lv.dram
        unit = self.interleave_unit(lv)
        base = self.place(lv, key, nbytes)
        first = base // unit
        last = (base + max(nbytes, 1) - 1) // unit
        n_units = last - first + 1
        out = []
        for c in range(t.channels):
            cnt = n_units // t.channels + (1 if (c - first) % t.channels < n_units % t.channels else 0)
            out.append(cnt * unit)
        # the first and last units are partial: take the excess off the channels that hold them
        head = base - first * unit
        tail = (last + 1) * unit - (base + max(nbytes, 1))
        out[first % t.channels] -= head
        out[last % t.channels] -= tail
        return [max(0, b) for b in out]

    def shapes(self, lv: MemoryLevel, key: str, nbytes: int, rs: list[int]):
        """A transfer's row-burst shape per channel ((nrows, ncols, span), None: no bytes there),
        the bank slots it takes, and (resource, shape) per channel group with bytes (members
        time alike; while recording, all channels one group: any channel with bytes). The split
        depends only on the tensor's offset within a round of interleave units and its size, so
        the answer is kept per (level, offset, size): a tile stream's loads repeat a few."""
        t = lv.dram
        memo_key = (lv.name, self.place(lv, key, nbytes) % (self.interleave_unit(lv) * t.channels),
                    nbytes)
        hit = self.shape_memo.get(memo_key)
        if hit is not None:
            return hit
        shapes = [burst_shape(t, b) if b > 0 else None for b in self.channel_bytes(lv, key, nbytes)]
        self.history[lv.name].add(tuple(shapes))
        per_group = []
        for r, members in zip(rs, self.channel_groups(lv)):
            s = next((shapes[c] for c in members if shapes[c] is not None), None)
            if s is not None:
                per_group.append((r, s))
        hit = self.shape_memo[memo_key] = (shapes, max(s[0] * s[2] for s in shapes if s), per_group)
        return hit

    def unit_res(self, name: str) -> int:
        key = "unit:" + name
        if key not in self.res:
            self.res[key] = self.b.resource(key)
            self.out.compute_res.add(self.res[key])
        return self.res[key]

    def noc_res(self, link: int) -> int:
        """The resource of NoC link `link` (an index into `noc.links`)."""
        key = "noc:" + noc_links(self.hw.noc)[link]
        if key not in self.res:
            self.res[key] = self.b.resource(key)
            self.out.noc_res.add(self.res[key])
        return self.res[key]

    def link_res(self) -> tuple[int, float]:
        link = self.hw.interconnect[0] if self.hw.interconnect else None
        bw = link.bandwidth_bytes_per_s if link else self.hw.levels[0].bandwidth_bytes_per_s
        key = "link:" + (link.name if link else "host")
        if key not in self.res:
            self.res[key] = self.b.resource(key)
        return self.res[key], bw

    def port(self, level: int, nbytes: float, side: int) -> tuple[tuple[int, int], ...]:
        """The access of `nbytes` through on-chip level `level`'s ports, on the lane of requester
        `side` (0: the fill/DMA side; 1 + k: compute unit k), as a task's `accesses` entry."""
        hit = self.port_memo.get((level, nbytes, side))
        if hit is not None:
            return hit
        lv = self.hw.levels[level]
        if lv.off_chip or nbytes <= 0:
            return ()
        if level not in self.lanes:
            self.lanes[level] = self.b.ports("sram:" + lv.name, port_lanes(lv))
        lanes = self.lanes[level]
        per_lane = max(lv.bandwidth_bytes_per_s, 1.0) / max(1, lv.ports)
        hit = self.port_memo[(level, nbytes, side)] = ((lanes[side % len(lanes)],
                                                         self.ticks(nbytes / per_lane)),)
        return hit

    def side(self, p: OpPlan) -> int:
        """The port lane side of the op's compute unit: 1 + its index (0 is the fill side)."""
        return 1 + [u.name for u in self.hw.compute].index(p.unit.name)

    def ticks(self, seconds: float) -> int:
        return int(ceil(seconds / self.tick_s - 1e-9))

    def slot_for(self, key: str, nslots: int, align: int = 1) -> int:
        """Address (in bank slots) of a tensor's stream; the same tensor keeps its address."""
        if key not in self.slots:
            base = -(-self.next_slot // align) * align
            self.slots[key] = base
            self.next_slot = base + nslots
        return self.slots[key]

    def make_room(self, level: int, nbytes: int, cap: int) -> list[int]:
        """Resident activations share half a buffer (the other half holds two streamed chunks):
        an op whose residents would not fit waits for the release of the oldest ones (ops on
        other units may still hold theirs). Returns the release tasks to wait for."""
        held = self.held.setdefault(level, [])
        total = sum(n for _, n in held)
        waits = []
        while held and total + nbytes > cap // 2:
            task, n = held.pop(0)
            waits.append(task)
            total -= n
        return waits

    def capacity(self, level: int) -> int:
        lv = self.hw.levels[level]
        return lv.capacity_bytes

    # ---------------------------------------------------------------- transfers
    def transfer(self, lv: MemoryLevel, nbytes: int, deps, op: int, key: str, write: bool = False,
                 occ: tuple[int, int] = (-1, 0), accesses=()) -> list[int]:
        """The tasks moving `nbytes` between level `lv` and the chip: one per channel group that
        has bytes of it (the first carries the bytes, actions, buffer occupancy and on-chip port
        `accesses`)."""
        li = self.level_idx[lv.name]
        act = f"{lv.name}.{'write' if write else 'read'}"
        if lv.dram is None:
            dur = self.ticks(nbytes / max(lv.bandwidth_bytes_per_s, 1.0) + lv.latency_s)
            return [self.b.task(self.mem_res(lv), dur, deps, op, level=li, nbytes=nbytes,
                                occ_level=occ[0], occ_bytes=occ[1], actions=((act, nbytes),),
                                accesses=accesses)]
        rs = self.dram_res(lv)
        shapes, nslots, per_group = self.shapes(lv, key, nbytes, rs)
        slot = self.slot_for(key, nslots)
        mode = MODE_WRITE if write else MODE_READ
        return self.b.dram_tasks(per_group, deps, op, slot=slot, mode=mode, level=li, nbytes=nbytes,
                                 occ_level=occ[0], occ_bytes=occ[1], actions=((act, nbytes),),
                                 accesses=accesses)

    # ---------------------------------------------------------------- per op
    def lower_op(self, p: OpPlan, last: list[list[int]]) -> list[int]:
        """The op's tasks; returns the tasks its consumers wait for: one join task (`join_outputs`)
        for an op that ends in several (an output written per channel group), so that each of a
        consumer's transfers, one task per channel group, waits for one task, not all G."""
        deps = [d for q in p.producers for d in last[q]]
        if p.unit.type == "sm":
            out = self.lower_gpu(p, deps)
        elif in_bank(p):
            out = self.lower_pim(p, deps)
        else:
            out = lower_stream(self, p, deps)
        return [self.b.join(out, p.index)] if self.join_outputs and len(out) > 1 else out

    def lower_gpu(self, p: OpPlan, deps) -> list[int]:
        from .analytic import roofline_ticks   # no kernel beats compulsory traffic at pin bandwidth
        dur = max(self.ticks(sm_plan_seconds(p, self.hw)), roofline_ticks(p, self.hw) * self.sub)
        if p.kernel_s == 0.0:     # runs inside another op's kernel (an epilogue, a fused softmax)
            dur = 0
        return [self.b.task(self.unit_res(p.unit.name), dur, deps, p.index,
                            actions=((f"{p.unit.name}.mac.{p.dtype}", work_units(p.op)),))]

    def lower_pim(self, p: OpPlan, deps) -> list[int]:
        t = p.buffer.dram
        link, bw = self.link_res()
        li = self.level_idx[p.buffer.name]
        # the host side reads the op's inputs out of on-chip levels and writes its result back
        side = self.side(p)
        reads, writes = (tuple(a for lv, nb in onchip_bytes(p, self.hw, (v,)).items()
                               for a in self.port(lv, nb, side)) for v in ("read", "write"))
        first = self.b.task(link, self.ticks(p.offchip_read_bytes / bw), deps, p.index,
                            level=li, nbytes=p.offchip_read_bytes,
                            actions=((f"{p.buffer.name}.read", p.offchip_read_bytes),), accesses=reads)
        nb, rows, cols = pim_layout(p)
        ncols = max(1, ceil(cols / rows))
        rs = self.dram_res(p.buffer)
        key = "pim:" + ",".join(sorted(o.tensor.name for o in p.op.operands
                                       if o.tensor.role in (Role.WEIGHT, Role.KV_CACHE)))
        base = self.slot_for(key, rows * nb, align=t.banks_per_channel)
        # every channel holds its share of the operand and runs the same all-bank MACs (the same
        # tasks on every channel: no say in `channel_groups`)
        lasts = []
        for g, r in enumerate(rs):
            prev = first
            for start in range(0, rows, PIM_ROWS_PER_TASK):
                n = min(PIM_ROWS_PER_TASK, rows - start)
                acts = ((f"{p.buffer.name}.pim_read", p.pim_bytes * n / rows),
                        (f"{p.unit.name}.mac.{p.dtype}", work_units(p.op) * n / rows)) if g == 0 else ()
                prev = self.b.task(r, 0, [first], p.index, slot=base + start * nb, ncols=ncols,
                                   span=nb, mode=MODE_PIM_MAC, nrows=n, level=li, nbytes=0, actions=acts)
            lasts.append(prev)
        out = p.offchip_write_bytes
        return [self.b.task(link, self.ticks(out / bw), lasts, p.index, level=li, nbytes=out,
                            actions=((f"{p.buffer.name}.write", out),), accesses=writes)]

    def record_op(self, p: OpPlan) -> None:
        """The channel split of every DRAM transfer `lower_op` issues for `p`, in its order (the
        same tensor addresses), into `history`, without the tasks (`record_groups`)."""
        if p.unit.type == "sm":
            return
        if in_bank(p):
            self.dram_res(p.buffer)
            return
        record_stream(self, p)

    def host_link(self, p: OpPlan, nbytes: int, deps) -> int:
        """A PIM op's "@pipeline" bytes crossing the host link to or from the host buffer
        (`pim_host.pipeline_at_host`; the buffer's port bytes are the compute tiles' accesses)."""
        link, bw = self.link_res()
        acts = ((f"{p.host_link}.transfer", nbytes),) if p.host_link is not None else ()
        return self.b.task(link, self.ticks(nbytes / bw), deps, p.index, actions=acts)


def ticks_per_cycle(hw: Hardware) -> int:
    """Trace ticks per hw clock cycle: fine enough that one tick is no longer than the fastest DRAM
    command clock, so DRAM timings (converted to ticks by rounding up) keep their datasheet rates.
    At one tick per hw cycle a 300 MHz FPGA kernel clock rounded every 2-tCK HBM2 burst (2.2 ns)
    up to 3.3 ns, running HBM at 2/3 of its pin rate. The 1 % slack absorbs datasheet rounding of
    tCK (1.1111 ns for 1/0.9 GHz), which would otherwise add a tick."""
    period_s = 1.0 / hw.freq_hz
    tcks = [lv.dram.tck_s for lv in hw.levels if lv.dram is not None and lv.dram.tck_s > 0]
    if not tcks:
        return 1
    sub = int(min(64, max(1, ceil(period_s / min(tcks) - 0.01))))
    if sub == 1 and min(tcks) > period_s:
        # a DRAM clock slower than the chip's (an MCU board's 100 MHz SDRAM beside a 216 MHz core):
        # the fewest ticks per cycle in which every tCK is a whole number of ticks within 1 %
        for k in range(1, 65):
            if all(abs(t / period_s * k - round(t / period_s * k)) <= 0.01 * t / period_s * k for t in tcks):
                return k
    return sub


def _lower_once(graph, hw, plans, groups, group_tiles=True, join_outputs=True):
    lw = _Lowerer(hw, groups, group_tiles, join_outputs)
    lw.tile_cap = tile_cap(plans)
    lw.ring_reach = ring_reach(plans, hw)
    last: list[list[int]] = [[] for _ in plans]
    for p in plans:
        last[p.index] = lw.lower_op(p, last)
        oc = op_action_counts(p)
        lw.out.op_counts.append(oc)
        for k, v in oc.items():
            count_action(lw.out.counts, k, v)
    return lw


def record_groups(hw, plans) -> dict[str, list[list[int]]]:
    """The channel groups (`channel_groups`) of the trace `lower` would build, from the transfers'
    channel splits alone (`_Lowerer.record_op`): a tenth of a lowering pass, instead of a whole
    pass recording every channel's tasks."""
    lw = _Lowerer(hw, None)
    lw.tile_cap = tile_cap(plans)
    for p in plans:
        lw.record_op(p)
    return channel_groups(lw)


def channel_groups(lw: "_Lowerer") -> dict[str, list[list[int]]]:
    """Channels with identical task sequences, per DRAM level (from a recording pass). A transfer
    gives every channel the same slot, mode and dependencies, so two channels' sequences are
    identical exactly when each transfer gives them the same burst shape (or none): when every
    distinct per-channel shape list the level's transfers had (`history`) does; PIM MAC tasks are
    the same on every channel."""
    out = {}
    for level, patterns in lw.history.items():
        by: dict[tuple, list[int]] = {}
        for c in range(lw.hw.level(level).dram.channels):
            by.setdefault(tuple(pat[c] for pat in patterns), []).append(c)
        out[level] = sorted(by.values())
    return out


def lower(graph: OpGraph, hw: Hardware, mapping: Mapping | None = None,
          plans: list[OpPlan] | None = None, group_channels: bool = True,
          group_tiles: bool = True, join_outputs: bool = True) -> Lowered:
    """Lower to a trace simulating every DRAM channel and issuing every tile; `group_channels=False`
    gives each channel its own resource, `group_tiles=False` each tile its own compute task,
    `join_outputs=False` makes consumers wait for each of an op's last tasks instead of one join
    task (for tests: all three must time exactly as the default trace)."""
    plans = plans if plans is not None else plan_ops(graph, hw, mapping)
    groups = record_groups(hw, plans)
    if not group_channels:
        groups = {lv: [[c] for g in gs for c in g] for lv, gs in groups.items()}
    # the channels differ: emit per group (else all of a level's channels are its one group)
    lw = _lower_once(graph, hw, plans, groups if any(len(gs) > 1 for gs in groups.values()) else None,
                     group_tiles, join_outputs)
    out = lw.out
    out.trace = lw.b.build()
    out.plans = plans
    out.channel_groups = groups
    return out
