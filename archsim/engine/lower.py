"""Mapped graph → task trace.

Per op (see `plan.OpPlan`):
- GPU (`sm`): one kernel task, timed by the calibrated kernel model (memory time is inside it).
- PIM (`pim_bank` on a DRAM level): input broadcast over the host link, then all-bank MAC row bursts
  (one task per ≤ `PIM_ROWS_PER_TASK` rows), then the partial-sum readout.
- Everything else: a tile stream (`tiles.tile_stream`). Every tile of the mapping's loop nest is
  issued: a tile loads (DMA tasks on the DRAM channels or memory resource) the operand tiles the
  loop order says it needs, then computes. An operand's load fills one of its two buffer slots (one
  without double buffering) and waits until the last tile using that slot's previous contents is
  done; an op's first loads wait for the tiles of earlier ops two loads back (prefetch across ops
  never overfills the buffer). The op's resident
  activations are held in the level the mapping placed them in (`OpPlan.residents`) from its first
  compute task to its last; operands at home in another on-chip level are staged through the
  unit's buffer, each compute chunk holding its share while it runs (an MCU core's working tiles).

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
- Tiles are issued one by one, so an op's pipeline fill is one tile's load and a tile waiting for
  its load stalls where it happens. A run of tiles that load nothing (reusing operand tiles already
  in the buffer) is one compute task standing for them (`reps`): both engines time it tile by tile
  (tests/engine/test_tile_issue.py: grouped == one task per tile, makespan, every op's span, DRAM
  counts, port stalls, occupancy). Tiles that load are not grouped (their loads pipeline against
  compute one by one). Ops without a tiling the reuse model reads (no mapping; the tiling's outer
  level not the first off-chip level; gathers and KV appends) are `MAX_CHUNKS` equal chunks at most:
  there the fill is one chunk's load, an over-estimate bounded by 1/`MAX_CHUNKS` of the op's load.
- Trace memory: a graph issues at most `TILE_BUDGET` loading tiles, shared equally by its streaming
  ops (at least `MAX_CHUNKS` each). An op with more loading tiles than its share loads `coarse`
  consecutive loading tiles' bytes at once (slots of whole loads; its tiles still compute one by
  one): its fill is `coarse` tiles' load, an over-estimate bounded by 1/share of the op's load.
  (BERT-base on edge-npu, 175 streaming ops of at most 512 loading tiles, is issued tile by tile;
  LLaMA-2-70B prefill 2048 on pim-gpt is coarsened.)
- On-chip levels are enforced: every byte an op moves through an SRAM level (the same bytes the
  energy model counts, `op_action_counts`) occupies that level's ports (`port_lanes`: min(ports,
  banks) lanes at bandwidth / ports each). A DMA fill writes its chunk into the unit's buffer on
  the fill-side lane, a store reads the output out of it, a compute task moves its share of the
  op's other on-chip bytes on its unit's lane; a task whose bytes take longer than its work stalls.
- Trace times are in ticks of 1/`ticks_per_cycle` hw cycle (no longer than the DRAM clock), so DRAM
  timings keep their datasheet rates; `simulate` converts spans back to hw cycles.
"""
from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from math import ceil

from archsim.hardware import Hardware, MemoryLevel
from archsim.ir import OpGraph, Role
from archsim.mapping import Mapping

from .actions import count_action, op_action_counts
from .dram import PARAM_NAMES, dram_params
from .analytic import in_place
from .plan import OpPlan, offchip_traffic, plan_ops
from .noc import emit_phase, emit_shares, group_durations, links as noc_links, share_links
from .ports import onchip_bytes, port_lanes, staged_bytes
from .tiles import coarse_loads, tile_stream
from .timing.sm import sm_plan_seconds
from .timing.units import unit_cycles, work_units
from .trace import MODE_PIM_MAC, MODE_READ, MODE_WRITE, Trace, TraceBuilder

__all__ = ["Lowered", "lower", "burst_shape", "interleave_bytes", "channel_groups", "ticks_per_cycle",
           "pim_issue_cycles", "MAX_CHUNKS", "TILE_BUDGET", "PIM_ROWS_PER_TASK", "pim_span"]

MAX_CHUNKS = 8
TILE_BUDGET = 1 << 18     # loading tiles issued per graph (trace memory: see the docstring)
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
        self.tile_cap = TILE_BUDGET        # loading tiles per op (`lower` shares the budget out)
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
        elif _in_bank(p):
            out = self.lower_pim(p, deps)
        else:
            out = self.lower_stream(p, deps)
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
        nb = pim_span(p.unit, t)
        lanes = max(1.0, p.unit.macs_per_cycle_for(p.dtype))
        macs = p.op.macs or p.op.flops // 2 or 1
        cols = ceil(macs / t.channels / (nb * lanes))
        rows = max(1, ceil(p.pim_bytes / (t.channels * nb * t.row_size_bytes)))
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

    def stream_loads(self, p: OpPlan):
        """A streamed op's loads: (its off-chip traffic [(level, read, write)], the levels it
        reads by streaming [(level, bytes)], its staged bytes, its tile stream, tile → level →
        bytes loaded, `coarse` loading tiles a load)."""
        cap = p.buffer.capacity_bytes
        quarter = max(1, cap // 4)
        traffic = [(self.hw.level(lv), r, w) for lv, r, w in offchip_traffic(p)]
        # an MCU core reads its internal flash in place (wait states in the core timing); every
        # other level's bytes stream, one transfer per level and loading tile
        reads = [(lv, r) for lv, r, _ in traffic if r and not in_place(p, lv)]
        stream = sum(r for _, r in reads)
        # operands at home in another on-chip level pass through the unit's buffer tile by tile
        staged = 0 if p.buffer.off_chip else staged_bytes(p, self.hw)
        if stream:
            chunks = min(MAX_CHUNKS, max(1, ceil(stream / quarter)), max(1, p.tiles or MAX_CHUNKS))
        else:
            chunks = min(MAX_CHUNKS, max(1, p.tiles or MAX_CHUNKS)) if staged else 1
        ts = tile_stream(p, self.hw, chunks)
        # tile → level → bytes; over the op's share of the budget, `coarse` loading tiles a load
        loads, coarse = coarse_loads(ts, [(lv.name, r) for lv, r in reads], self.tile_cap)
        return traffic, reads, staged, ts, loads, coarse

    def record_op(self, p: OpPlan) -> None:
        """The channel split of every DRAM transfer `lower_op` issues for `p`, in its order (the
        same tensor addresses), into `history`, without the tasks (`record_groups`)."""
        if p.unit.type == "sm":
            return
        if _in_bank(p):
            self.dram_res(p.buffer)
            return
        traffic, reads, _, _, loads, _ = self.stream_loads(p)
        levels = {lv.name: lv for lv, _ in reads}
        key = "in:" + p.op.name
        home = p.offchip.name if p.offchip is not None else None
        for j in sorted(loads):
            for name, nb in loads[j].items():
                lv = levels[name]
                if lv.dram is not None:
                    tag = f"{key}:{j}" if name == home else f"{key}:{name}:{j}"
                    self.shapes(lv, tag, nb, self.dram_res(lv))
        for lv, _, w in traffic:
            if w and lv.dram is not None:
                tag = "out:" + p.op.name + ("" if lv.name == p.offchip.name else ":" + lv.name)
                self.shapes(lv, tag, w, self.dram_res(lv))

    def lower_stream(self, p: OpPlan, deps) -> list[int]:
        b = self.b
        unit = self.unit_res(p.unit.name)
        bi = self.level_idx[p.buffer.name]
        cap = p.buffer.capacity_bytes
        quarter = max(1, cap // 4)
        traffic, reads, staged, ts, loads, coarse = self.stream_loads(p)
        stream = sum(r for _, r in reads)
        n = ts.n
        load_at = sorted(loads)
        levels = {lv.name: lv for lv, _ in reads}
        weight_stream = sum(o.tensor.size_bytes for o in p.op.operands if o.tensor.role is Role.WEIGHT)
        unit_clk = p.unit.freq_hz
        cyc = unit_cycles(p.unit, p.op, p.dataflow, weight_bytes=p.flash_weight_bytes,
                          wait_states=p.flash_wait_states, streamed=p.streamed, mapping=p.mapping)
        total = self.ticks(cyc / unit_clk)
        work = work_units(p.op)
        for lv, r, _ in traffic:      # read in place: no faster than the level allows
            if r and in_place(p, lv):
                total = max(total, self.ticks(r / max(lv.bandwidth_bytes_per_s, 1.0)))
        serial = p.unit.type == "scalar_core"     # an in-order core waits for its own loads
        side = self.side(p)
        moved = onchip_bytes(p, self.hw)
        tile_acc = tuple(a for li, nb in moved.items() for a in self.port(li, nb / n, side))
        # Tiles that load nothing run back to back on the unit right after the tile before them:
        # one task stands for such a run (`reps`), which both engines time tile by tile
        starts = sorted(set(loads) | {0}) if self.group_tiles else list(range(n))
        if p.noc is not None and self.group_tiles:
            # a NoC op's loading tiles that a later op's first loads may wait for (`ring`: that
            # tile's compute and NoC share, not its group's) are groups of their own
            starts = sorted(set(starts) | {j + 1 for j in load_at[-self.ring_reach:] if j + 1 < n})
        base, extra = divmod(total, n)     # tile j: `base` ticks, one more for the first `extra`
        comp = -1
        noc_last: dict[int, int] = {}     # NoC link → the op's last distribute task on it
        if p.noc is not None:
            dist_links = share_links(p.noc.distribute, self.hw.noc, self.ticks, n)
            dist_durs = group_durations(dist_links, starts, n)
        key = "in:" + p.op.name
        residents = [(self.level_idx[name], nb) for name, nb in p.residents if nb > 0]
        holds: list[tuple[int, int, int]] = []      # (hold task, level, bytes)
        # A placement may hold more than half a level for one op (the mapper's arena allows it):
        # the op then starts only once the tiles in flight are consumed, its own tiles get the
        # space left beside its residents, and the next op prefetches only after it finishes.
        big = any(nb > self.capacity(li) // 2 for li, nb in residents)
        here = sum(nb for li, nb in residents if li == bi)
        slot_bytes = max(1, (cap - min(here, cap)) // 2) if here > cap // 2 else quarter
        # each streamed operand has its own two slots: they share the two slots' space
        slot_bytes = max(1, slot_bytes // max(1, sum(len(v) for _, v in ts.operands)))
        ring0 = len(self.ring)
        host_in = [self.host_link(p, p.host_read_bytes, deps)] if p.host_read_bytes else []
        comps: list[int] = []                      # compute task per group of tiles
        pending: list[tuple[int, int]] = []        # (load task, last tile using its bytes)

        def task_of(tile: int) -> int:
            return comps[bisect_right(starts, tile) - 1]

        periods = {name: ts.periods(name) for name in levels}
        act_read = p.offchip_act_read_bytes or p.offchip_read_bytes > weight_stream
        home = p.offchip.name if p.offchip is not None else None
        mac = f"{p.unit.name}.mac.{p.dtype}"
        for g, j in enumerate(starts):
            end = starts[g + 1] if g + 1 < len(starts) else n
            part = loads.get(j, {})
            dmas = []                 # per level loaded: its tasks, one per channel group
            if part:
                fetched = [f for lv in part for f in periods[lv] if j % f == 0] or [1]
                # the slot this tile's load fills held the operand's tile before last (double
                # buffering) or its previous tile: the load waits for the last tile using it
                t = max(j - f - 1 for f in fetched) if ts.double_buffer else j - 1
                if coarse > 1:        # slots of whole loads: the one before last / the last
                    k = bisect_right(load_at, j) - 1
                    t = (load_at[k - 1] - 1 if k >= 1 else -2) if ts.double_buffer else j - 1
                prior = task_of(t) if t >= 0 else (self.ring[ring0 + t] if ring0 + t >= 0 else -1)
                # the slot is free once that tile computed and its inputs crossed the NoC
                dma_deps = [prior] + self.after.get(prior, []) if prior >= 0 else []
                if act_read:
                    # activations read from off chip: wait for the producers that write them
                    dma_deps += deps
                if serial and comp >= 0:
                    dma_deps.append(comp)
                for name, nb in part.items():
                    lv = levels[name]
                    tag = f"{key}:{j}" if name == home else f"{key}:{name}:{j}"
                    dmas.append(self.transfer(lv, nb, dma_deps, p.index, tag,
                                              occ=(bi, min(nb, slot_bytes)),
                                              accesses=self.port(bi, nb, 0)))
                    # held until the last tile using it, up to the next load (a tile's group)
                    used = j + max(fetched) - 1
                    nxt = load_at[bisect_right(load_at, used)] if used < load_at[-1] else n
                    pending.append((dmas[-1][0], min(n, nxt) - 1))
            cdeps = [task for tasks in dmas for task in tasks] + (list(deps) + host_in if j == 0 else [])
            if j == 0 and residents:
                # activations held while the op runs, in the level the mapping placed them (else
                # the unit's buffer): zero-time hold tasks on the unit, released by the last tile
                if big:
                    cdeps += self.ring[-2:]
                for li, nb in residents:
                    w = self.make_room(li, nb, self.capacity(li))
                    holds.append((b.task(unit, 0, cdeps + w, p.index, occ_level=li, occ_bytes=nb), li, nb))
                cdeps += [h for h, _, _ in holds]
            # a tile holds its share of the staged operands in the buffer while it computes
            occ = (bi, min(quarter, ceil(staged / n))) if staged else (-1, 0)
            if p.noc is not None:
                # the tiles' inputs cross the NoC to the arrays while they compute (as their port
                # accesses do); a buffer slot is reused once the group's last tile and its share
                # are done (`emit_shares`: a group's shares are one task per link, exactly)
                _, tail = emit_shares(b, self.noc_res, dist_links, cdeps, p.index, j, end, n,
                                      noc_last, dist_durs and dist_durs[g])
            per = base * (end - j) + max(0, min(end, extra) - j)    # tiles add up to the closed form
            comp = b.task(unit, per, cdeps, p.index, occ_level=occ[0], occ_bytes=occ[1],
                          actions=((mac, work * (end - j) / n),),
                          accesses=tuple((lane, d * (end - j)) for lane, d in tile_acc),
                          reps=end - j)
            if p.noc is not None:
                self.after[comp] = tail
            comps.append(comp)
            if dmas:
                self.ring.append(comp)
        for task, tile in pending:    # a load's buffer space is held until its last user is done
            b.release(task, task_of(tile))
        if big:
            self.ring += [comp] * (1 if stream else 2)
        for h, li, nb in holds:
            b.release(h, comp)
            self.held.setdefault(li, []).append((comp, nb))
        last = [comp]
        if p.noc is not None:        # partial sums reduced, outputs back to the memory side
            last += list(noc_last.values())     # each link's last transfer finishes its last
            last = emit_phase(b, self.noc_res, p.noc.collect, self.hw.noc, last, p.index, self.ticks) or last
        for lv, _, w in traffic:
            if w:
                tag = "out:" + p.op.name + ("" if lv.name == p.offchip.name else ":" + lv.name)
                last = self.transfer(lv, w, last, p.index, tag, write=True,
                                     accesses=self.port(bi, w, 0))
        if p.host_write_bytes:
            last = last + [self.host_link(p, p.host_write_bytes, [comp])]
        return last

    def host_link(self, p: OpPlan, nbytes: int, deps) -> int:
        """A PIM op's "@pipeline" bytes crossing the host link to or from the host buffer
        (`pim_host.pipeline_at_host`; the buffer's port bytes are the compute tiles' accesses)."""
        link, bw = self.link_res()
        acts = ((f"{p.host_link}.transfer", nbytes),) if p.host_link is not None else ()
        return self.b.task(link, self.ticks(nbytes / bw), deps, p.index, actions=acts)


def _in_bank(p: OpPlan) -> bool:
    """The op runs as in-bank PIM MACs (`lower_pim`) rather than a tile stream."""
    return p.unit.type == "pim_bank" and p.buffer.dram is not None and p.pim_bytes > 0


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


def pim_issue_cycles(hw: Hardware, lv: MemoryLevel) -> int:
    """Least DRAM clock cycles between all-bank PIM MAC commands on `lv`: each PIM unit takes one
    column per unit clock, so commands issue no faster than the slowest attached PIM unit's clock
    (HBM-PIM's 300 MHz PCU against a 1.2 GHz HBM2 command clock: 4 tCK, more than a 2-tCK burst).
    0 without PIM units; 1 % slack for datasheet rounding of tCK, as `ticks_per_cycle`."""
    t = lv.dram
    if t is None or t.tck_s <= 0:
        return 0
    clocks = [u.freq_hz for u in hw.compute
              if u.type == "pim_bank" and u.attached_to == lv.name and u.freq_hz > 0]
    return int(ceil(1.0 / (min(clocks) * t.tck_s) - 0.01)) if clocks else 0


def pim_span(unit, t) -> int:
    """Banks one PIM command works on per channel: the PIM units per channel (one per bank for
    bank-level PIM, fewer for bank-group or buffer-die placement)."""
    return max(1, min(t.banks_per_channel, unit.count // max(1, t.channels)))


def burst_shape(t, nbytes: int) -> tuple[int, int, int]:
    """(nrows, ncols, span) of the burst task moving `nbytes` on one channel: row bursts over
    `span` = min(4, bank groups) banks (distinct groups), each at most a row per bank, the columns
    split evenly over the row bursts (rounded up: at most nrows − 1 bursts more than the bytes)."""
    k = min(4, t.ranks * t.bank_groups)
    per_row = max(1, t.row_size_bytes // t.burst_bytes) * k
    cols = max(1, ceil(nbytes / t.burst_bytes))
    nrows = ceil(cols / per_row)
    ncols = ceil(cols / nrows)
    return nrows, ncols, min(k, ncols)


def interleave_bytes(t) -> int:
    """Bytes of one channel-interleave unit under the timing's address mapping: a burst times the
    sizes of the fields below the channel field (`archsim.engine.dram_controller`)."""
    from .dram_controller import FIELDS, parse_mapping
    fields, sizes = parse_mapping(t.address_mapping, t)
    unit = t.burst_bytes
    for f, n in zip(fields, sizes):
        if FIELDS[int(f)] == "Ch":
            break
        unit *= int(n)
    return unit


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


def tile_cap(plans) -> int:
    """Loading tiles per streamed op: `TILE_BUDGET` shared equally, at least `MAX_CHUNKS`."""
    streams = sum(1 for p in plans if p.unit.type != "sm" and not _in_bank(p))
    return max(MAX_CHUNKS, TILE_BUDGET // max(1, streams))


def record_groups(hw, plans) -> dict[str, list[list[int]]]:
    """The channel groups (`channel_groups`) of the trace `lower` would build, from the transfers'
    channel splits alone (`_Lowerer.record_op`): a tenth of a lowering pass, instead of a whole
    pass recording every channel's tasks."""
    lw = _Lowerer(hw, None)
    lw.tile_cap = tile_cap(plans)
    for p in plans:
        lw.record_op(p)
    return channel_groups(lw)


def ring_reach(plans, hw) -> int:
    """How many `ring` entries back an op's first loads may wait for: the load at tile 0 waits
    for the entry (f + 1) back, f the shortest fetch period among the levels it loads (at most the
    largest of each level's shortest period), the load at tile f for the last entry, 2 with
    coarsened loads; entries appended after an op's only shorten its depth."""
    reach = 2
    for p in plans:
        if p.unit.type != "sm" and not _in_bank(p):
            ts = tile_stream(p, hw, MAX_CHUNKS)
            reach = max(reach, 1 + max((min(f for f, _ in per) for _, per in ts.operands if per),
                                       default=1))
    return reach


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
