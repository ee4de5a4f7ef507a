"""A streamed op lowered to tasks: every tile of its tile stream (`tiles.tile_stream`) issued.

An op that is neither a GPU kernel nor in-bank PIM (`lower`) is a tile stream. Every tile of the
mapping's loop nest is issued: a tile loads (DMA tasks on the DRAM channels or memory resource) the
operand tiles the loop order says it needs, then computes. An operand's load fills one of its two
buffer slots (one without double buffering) and waits until the last tile using that slot's
previous contents is done; an op's first loads wait for the tiles of earlier ops two loads back
(prefetch across ops never overfills the buffer). The op's resident activations are held in the
level the mapping placed them in (`OpPlan.residents`) from its first compute task to its last;
operands at home in another on-chip level are staged through the unit's buffer, each compute chunk
holding its share while it runs (an MCU core's working tiles).

Compactness (stated; see `lower` for the channel groups and on-chip ports):
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

The functions take the lowerer (`lower._Lowerer`: its trace builder, resources, buffer ring and
held residents), as its methods would.
"""
from __future__ import annotations

from bisect import bisect_right
from math import ceil

from archsim.ir import Role

from .analytic import in_place
from .noc import emit_phase, emit_shares, group_durations, share_links
from .plan import OpPlan, in_bank, offchip_traffic
from .ports import onchip_bytes, staged_bytes
from .tiles import coarse_loads, tile_stream
from .timing.units import unit_cycles, work_units

__all__ = ["MAX_CHUNKS", "TILE_BUDGET", "streamed", "tile_cap", "ring_reach", "stream_loads",
           "record_stream", "lower_stream"]

MAX_CHUNKS = 8
TILE_BUDGET = 1 << 18     # loading tiles issued per graph (trace memory: see the docstring)


def streamed(p: OpPlan) -> bool:
    """The op is lowered as a tile stream (not a GPU kernel, not in-bank PIM MACs)."""
    return p.unit.type != "sm" and not in_bank(p)


def tile_cap(plans) -> int:
    """Loading tiles per streamed op: `TILE_BUDGET` shared equally, at least `MAX_CHUNKS`."""
    streams = sum(1 for p in plans if streamed(p))
    return max(MAX_CHUNKS, TILE_BUDGET // max(1, streams))


def ring_reach(plans, hw) -> int:
    """How many `ring` entries back an op's first loads may wait for: the load at tile 0 waits
    for the entry (f + 1) back, f the shortest fetch period among the levels it loads (at most the
    largest of each level's shortest period), the load at tile f for the last entry, 2 with
    coarsened loads; entries appended after an op's only shorten its depth."""
    reach = 2
    for p in plans:
        if streamed(p):
            ts = tile_stream(p, hw, MAX_CHUNKS)
            reach = max(reach, 1 + max((min(f for f, _ in per) for _, per in ts.operands if per),
                                       default=1))
    return reach


def stream_loads(lw, p: OpPlan):
    """A streamed op's loads: (its off-chip traffic [(level, read, write)], the levels it
    reads by streaming [(level, bytes)], its staged bytes, its tile stream, tile → level →
    bytes loaded, `coarse` loading tiles a load)."""
    cap = p.buffer.capacity_bytes
    quarter = max(1, cap // 4)
    traffic = [(lw.hw.level(lv), r, w) for lv, r, w in offchip_traffic(p)]
    # an MCU core reads its internal flash in place (wait states in the core timing); every
    # other level's bytes stream, one transfer per level and loading tile
    reads = [(lv, r) for lv, r, _ in traffic if r and not in_place(p, lv)]
    stream = sum(r for _, r in reads)
    # operands at home in another on-chip level pass through the unit's buffer tile by tile
    staged = 0 if p.buffer.off_chip else staged_bytes(p, lw.hw)
    if stream:
        chunks = min(MAX_CHUNKS, max(1, ceil(stream / quarter)), max(1, p.tiles or MAX_CHUNKS))
    else:
        chunks = min(MAX_CHUNKS, max(1, p.tiles or MAX_CHUNKS)) if staged else 1
    ts = tile_stream(p, lw.hw, chunks)
    # tile → level → bytes; over the op's share of the budget, `coarse` loading tiles a load
    loads, coarse = coarse_loads(ts, [(lv.name, r) for lv, r in reads], lw.tile_cap)
    return traffic, reads, staged, ts, loads, coarse


def record_stream(lw, p: OpPlan) -> None:
    """The channel split of every DRAM transfer `lower_stream` issues for `p`, in its order (the
    same tensor addresses), into the lowerer's `history`, without the tasks (`record_groups`)."""
    traffic, reads, _, _, loads, _ = stream_loads(lw, p)
    levels = {lv.name: lv for lv, _ in reads}
    key = "in:" + p.op.name
    home = p.offchip.name if p.offchip is not None else None
    for j in sorted(loads):
        for name, nb in loads[j].items():
            lv = levels[name]
            if lv.dram is not None:
                tag = f"{key}:{j}" if name == home else f"{key}:{name}:{j}"
                lw.shapes(lv, tag, nb, lw.dram_res(lv))
    for lv, _, w in traffic:
        if w and lv.dram is not None:
            tag = "out:" + p.op.name + ("" if lv.name == p.offchip.name else ":" + lv.name)
            lw.shapes(lv, tag, w, lw.dram_res(lv))


def lower_stream(lw, p: OpPlan, deps) -> list[int]:
    """The op's tile stream as tasks on the lowerer `lw` (see the module docstring); returns the
    tasks its consumers wait for."""
    b = lw.b
    unit = lw.unit_res(p.unit.name)
    bi = lw.level_idx[p.buffer.name]
    cap = p.buffer.capacity_bytes
    quarter = max(1, cap // 4)
    traffic, reads, staged, ts, loads, coarse = stream_loads(lw, p)
    stream = sum(r for _, r in reads)
    n = ts.n
    load_at = sorted(loads)
    levels = {lv.name: lv for lv, _ in reads}
    weight_stream = sum(o.tensor.size_bytes for o in p.op.operands if o.tensor.role is Role.WEIGHT)
    unit_clk = p.unit.freq_hz
    cyc = unit_cycles(p.unit, p.op, p.dataflow, weight_bytes=p.flash_weight_bytes,
                      wait_states=p.flash_wait_states, streamed=p.streamed, mapping=p.mapping)
    total = lw.ticks(cyc / unit_clk)
    work = work_units(p.op)
    for lv, r, _ in traffic:      # read in place: no faster than the level allows
        if r and in_place(p, lv):
            total = max(total, lw.ticks(r / max(lv.bandwidth_bytes_per_s, 1.0)))
    serial = p.unit.type == "scalar_core"     # an in-order core waits for its own loads
    side = lw.side(p)
    moved = onchip_bytes(p, lw.hw)
    tile_acc = tuple(a for li, nb in moved.items() for a in lw.port(li, nb / n, side))
    # Tiles that load nothing run back to back on the unit right after the tile before them:
    # one task stands for such a run (`reps`), which both engines time tile by tile
    starts = sorted(set(loads) | {0}) if lw.group_tiles else list(range(n))
    if p.noc is not None and lw.group_tiles:
        # a NoC op's loading tiles that a later op's first loads may wait for (`ring`: that
        # tile's compute and NoC share, not its group's) are groups of their own
        starts = sorted(set(starts) | {j + 1 for j in load_at[-lw.ring_reach:] if j + 1 < n})
    base, extra = divmod(total, n)     # tile j: `base` ticks, one more for the first `extra`
    comp = -1
    noc_last: dict[int, int] = {}     # NoC link → the op's last distribute task on it
    if p.noc is not None:
        dist_links = share_links(p.noc.distribute, lw.hw.noc, lw.ticks, n)
        dist_durs = group_durations(dist_links, starts, n)
    key = "in:" + p.op.name
    residents = [(lw.level_idx[name], nb) for name, nb in p.residents if nb > 0]
    holds: list[tuple[int, int, int]] = []      # (hold task, level, bytes)
    # A placement may hold more than half a level for one op (the mapper's arena allows it):
    # the op then starts only once the tiles in flight are consumed, its own tiles get the
    # space left beside its residents, and the next op prefetches only after it finishes.
    big = any(nb > lw.capacity(li) // 2 for li, nb in residents)
    here = sum(nb for li, nb in residents if li == bi)
    slot_bytes = max(1, (cap - min(here, cap)) // 2) if here > cap // 2 else quarter
    # each streamed operand has its own two slots: they share the two slots' space
    slot_bytes = max(1, slot_bytes // max(1, sum(len(v) for _, v in ts.operands)))
    ring0 = len(lw.ring)
    host_in = [lw.host_link(p, p.host_read_bytes, deps)] if p.host_read_bytes else []
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
            prior = task_of(t) if t >= 0 else (lw.ring[ring0 + t] if ring0 + t >= 0 else -1)
            # the slot is free once that tile computed and its inputs crossed the NoC
            dma_deps = [prior] + lw.after.get(prior, []) if prior >= 0 else []
            if act_read:
                # activations read from off chip: wait for the producers that write them
                dma_deps += deps
            if serial and comp >= 0:
                dma_deps.append(comp)
            for name, nb in part.items():
                lv = levels[name]
                tag = f"{key}:{j}" if name == home else f"{key}:{name}:{j}"
                dmas.append(lw.transfer(lv, nb, dma_deps, p.index, tag,
                                          occ=(bi, min(nb, slot_bytes)),
                                          accesses=lw.port(bi, nb, 0)))
                # held until the last tile using it, up to the next load (a tile's group)
                used = j + max(fetched) - 1
                nxt = load_at[bisect_right(load_at, used)] if used < load_at[-1] else n
                pending.append((dmas[-1][0], min(n, nxt) - 1))
        cdeps = [task for tasks in dmas for task in tasks] + (list(deps) + host_in if j == 0 else [])
        if j == 0 and residents:
            # activations held while the op runs, in the level the mapping placed them (else
            # the unit's buffer): zero-time hold tasks on the unit, released by the last tile
            if big:
                cdeps += lw.ring[-2:]
            for li, nb in residents:
                w = lw.make_room(li, nb, lw.capacity(li))
                holds.append((b.task(unit, 0, cdeps + w, p.index, occ_level=li, occ_bytes=nb), li, nb))
            cdeps += [h for h, _, _ in holds]
        # a tile holds its share of the staged operands in the buffer while it computes
        occ = (bi, min(quarter, ceil(staged / n))) if staged else (-1, 0)
        if p.noc is not None:
            # the tiles' inputs cross the NoC to the arrays while they compute (as their port
            # accesses do); a buffer slot is reused once the group's last tile and its share
            # are done (`emit_shares`: a group's shares are one task per link, exactly)
            _, tail = emit_shares(b, lw.noc_res, dist_links, cdeps, p.index, j, end, n,
                                  noc_last, dist_durs and dist_durs[g])
        per = base * (end - j) + max(0, min(end, extra) - j)    # tiles add up to the closed form
        comp = b.task(unit, per, cdeps, p.index, occ_level=occ[0], occ_bytes=occ[1],
                      actions=((mac, work * (end - j) / n),),
                      accesses=tuple((lane, d * (end - j)) for lane, d in tile_acc),
                      reps=end - j)
        if p.noc is not None:
            lw.after[comp] = tail
        comps.append(comp)
        if dmas:
            lw.ring.append(comp)
    for task, tile in pending:    # a load's buffer space is held until its last user is done
        b.release(task, task_of(tile))
    if big:
        lw.ring += [comp] * (1 if stream else 2)
    for h, li, nb in holds:
        b.release(h, comp)
        lw.held.setdefault(li, []).append((comp, nb))
    last = [comp]
    if p.noc is not None:        # partial sums reduced, outputs back to the memory side
        last += list(noc_last.values())     # each link's last transfer finishes its last
        last = emit_phase(b, lw.noc_res, p.noc.collect, lw.hw.noc, last, p.index, lw.ticks) or last
    for lv, _, w in traffic:
        if w:
            tag = "out:" + p.op.name + ("" if lv.name == p.offchip.name else ":" + lv.name)
            last = lw.transfer(lv, w, last, p.index, tag, write=True,
                                 accesses=lw.port(bi, w, 0))
    if p.host_write_bytes:
        last = last + [lw.host_link(p, p.host_write_bytes, [comp])]
    return last
