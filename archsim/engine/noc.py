"""The on-chip network between a unit's PE arrays (`Hardware.noc`): links, routes, and the bytes an
op spread over several arrays puts on each link.

Topologies (`archsim.hardware.NOC_TOPOLOGIES`), nodes numbered 0..n-1 (a mesh row-major, x first):
- mesh [x, y]: a link each way between neighbours, XY routing (x first, then y);
- ring [n]: a link each way between neighbours, the shorter way round (clockwise on a tie);
- bus [n]: one shared link; every transfer (the memory side is an agent on it) is one hop;
- crossbar [n]: an input and an output port per node and for the memory side; a transfer takes
  its source's input port and its destination's output port.
The memory side (the unit's `attached_to` level) injects into and ejects from the routers of
`memory_nodes`, each over its own pair of links (mesh, ring); a transfer to or from an array uses
the memory node nearest to it (the first listed on a tie), and a multicast injects one copy per
memory node that serves some of its destinations. A hop is one link traversal: it costs
`hop_latency_s` and, per bit, `energy_pj_per_bit_hop`.

An op on the NoC's unit is split over the arrays (`op_traffic`): a contraction's parallel output
tiles (the columns of the stationary operand × the batch, the SCALE-Sim fold grid of
`timing.units.systolic_cycles`) first, then its reduction tiles (K) when arrays are left. The
operand the arrays share (a weight-stationary array's activations) is multicast to the arrays of
one batch slice and K part; the stationary operand is scattered (each array its own slice); partial
sums (`actions.PSUM_BYTES` per output element) are reduced along each K group as a chain towards its first
array, which sends the outputs to the memory side. Other ops scatter their inputs and gather their
outputs. Each operand crosses the network once per array group that needs it: the re-reads between
folds stay in the arrays' local buffers (as `ports.priced_not_timed`'s fold traffic).

Time (`phase_seconds`): a phase moves all its flows at once, so it takes its busiest link's bytes at
the link bandwidth plus its longest path's hops × the hop latency. The analytic fidelity uses this
closed form; the cycle engine puts one task per link and tile's share of a phase on a resource per
link (`lower.py`), where transfers of other chunks and ops contend. A run of tiles that load
nothing is one task per link (`emit_shares`, `reps`), which times exactly as one per tile
(tests/engine/test_noc_grouping.py): gpt2-small decode (context 128) on simba lowers to 2.0 M
tasks instead of 11.9 M.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from math import ceil

from archsim.hardware import ComputeUnit, Noc
from archsim.ir import Op

from .timing.shapes import gemm_shape, op_elems

__all__ = ["MEMORY", "NocPhase", "NocTraffic", "links", "route", "nearest_memory_node", "multicast", "reduce_chain",
           "phase_seconds", "op_traffic", "describe", "emit_phase", "emit_shares",
           "share_links", "group_durations"]

MEMORY = -1          # the memory side (the unit's attached level) as a route end


@dataclass(frozen=True, slots=True)
class NocPhase:
    """Bytes per link (link index → bytes, links with traffic only) and the longest path in hops."""
    loads: tuple[tuple[int, int], ...] = ()
    hops: int = 0

    @property
    def byte_hops(self) -> int:
        """Bytes × links traversed: what the energy model prices per hop."""
        return sum(b for _, b in self.loads)

    @property
    def busiest_bytes(self) -> int:
        return max((b for _, b in self.loads), default=0)


@dataclass(frozen=True, slots=True)
class NocTraffic:
    """An op's NoC work: `distribute` (inputs from the memory side to the arrays) overlaps the
    compute; `collect` (partial-sum reduction and the outputs back) follows it."""
    distribute: NocPhase
    collect: NocPhase
    arrays: int           # arrays the op runs on
    reduce_ways: int      # arrays sharing one output tile (K split); 1 = no reduction

    @property
    def byte_hops(self) -> int:
        return self.distribute.byte_hops + self.collect.byte_hops


def _coords(noc: Noc, i: int) -> tuple[int, int]:
    x = noc.dimensions[0]
    return i % x, i // x


@lru_cache(maxsize=64)
def links(noc: Noc) -> tuple[str, ...]:
    """Every link's name; a link's index in this tuple is its id in routes and phases."""
    n = noc.nodes
    if noc.topology == "bus":
        return ("bus",)
    if noc.topology == "crossbar":
        return ("in.mem", "out.mem") + tuple(f"{d}.{i}" for i in range(n) for d in ("in", "out"))
    out = [f"{d}{_port(noc, m)}" for m in noc.memory_nodes for d in ("inject", "eject")]
    if noc.topology == "mesh":
        for i in range(n):
            x, y = _coords(noc, i)
            for dx, dy in ((1, 0), (-1, 0), (0, 1), (0, -1)):
                if 0 <= x + dx < noc.dimensions[0] and 0 <= y + dy < noc.dimensions[1]:
                    out.append(f"{x},{y}>{x + dx},{y + dy}")
    else:                                           # ring
        for i in range(n):
            for step in ((1, -1) if n > 2 else (1,)):
                if n > 1:
                    out.append(f"{i}>{(i + step) % n}")
    return tuple(out)


@lru_cache(maxsize=64)
def _index(noc: Noc) -> dict[str, int]:
    return {name: k for k, name in enumerate(links(noc))}


def _port(noc: Noc, m: int) -> str:
    """Suffix of memory node `m`'s links: none with one memory node ("inject", "eject")."""
    return "" if len(noc.memory_nodes) == 1 else f"@{m}"


def _distance(noc: Noc, a: int, b: int) -> int:
    if noc.topology == "mesh":
        (x, y), (bx, by) = _coords(noc, a), _coords(noc, b)
        return abs(x - bx) + abs(y - by)
    cw = (b - a) % noc.nodes
    return min(cw, noc.nodes - cw)


def nearest_memory_node(noc: Noc, node: int) -> int:
    """The memory node a transfer to or from `node` uses: the nearest, the first listed on a tie."""
    return min(noc.memory_nodes, key=lambda m: _distance(noc, m, node))


def _router_path(noc: Noc, a: int, b: int) -> list[str]:
    if a == b:
        return []
    if noc.topology == "mesh":
        (x, y), (bx, by) = _coords(noc, a), _coords(noc, b)
        out = []
        while x != bx:                               # XY routing: x first
            nx = x + (1 if bx > x else -1)
            out.append(f"{x},{y}>{nx},{y}")
            x = nx
        while y != by:
            ny = y + (1 if by > y else -1)
            out.append(f"{x},{y}>{x},{ny}")
            y = ny
        return out
    n = noc.nodes                                    # ring: the shorter way, clockwise on a tie
    cw = (b - a) % n
    step = 1 if cw <= n - cw or n <= 2 else -1
    out, i = [], a
    while i != b:
        j = (i + step) % n
        out.append(f"{i}>{j}")
        i = j
    return out


def route(noc: Noc, src: int, dst: int) -> tuple[int, ...]:
    """Link ids a transfer from `src` to `dst` (node indices, or MEMORY) traverses, in order."""
    if src == dst:
        return ()
    ix = _index(noc)
    if noc.topology == "bus":
        return (ix["bus"],)
    if noc.topology == "crossbar":
        s = "mem" if src == MEMORY else str(src)
        d = "mem" if dst == MEMORY else str(dst)
        return (ix[f"in.{s}"], ix[f"out.{d}"])
    a = nearest_memory_node(noc, dst) if src == MEMORY else src
    b = nearest_memory_node(noc, src) if dst == MEMORY else dst
    names = ([f"inject{_port(noc, a)}"] if src == MEMORY else []) + _router_path(noc, a, b) \
        + ([f"eject{_port(noc, b)}"] if dst == MEMORY else [])
    return tuple(ix[name] for name in names)


def _add(loads: dict[int, float], path, nbytes: float) -> None:
    for k in path:
        loads[k] = loads.get(k, 0.0) + nbytes


def multicast(noc: Noc, src: int, dsts, nbytes: float, loads: dict[int, float]) -> int:
    """Send `nbytes` from `src` to every node of `dsts` (adding to `loads`); returns the longest
    path in hops. With multicast a link common to several paths carries the bytes once (the routes'
    tree); without, every destination is a unicast of its own."""
    paths = [route(noc, src, d) for d in dsts]
    if noc.multicast:
        _add(loads, sorted({k for p in paths for k in p}), nbytes)
    else:
        for p in paths:
            _add(loads, p, nbytes)
    return max((len(p) for p in paths), default=0)


def reduce_chain(noc: Noc, members, nbytes: float, loads: dict[int, float]) -> int:
    """Reduce `nbytes` of partial sums held by each of `members` into its first: each member passes
    its running sum to the previous one (a pipelined chain; on a ring whose members are all the
    nodes in order, the ring reduction). Returns the hops the last partial sum travels."""
    hops = 0
    for a, b in zip(members[1:], members[:-1]):
        p = route(noc, a, b)
        _add(loads, p, nbytes)
        hops += len(p)
    return hops


def _phase(loads: dict[int, float], hops: int) -> NocPhase:
    return NocPhase(tuple(sorted((k, int(ceil(v - 1e-9))) for k, v in loads.items() if v > 0)), hops)


def phase_seconds(phase: NocPhase, noc: Noc) -> float:
    """The closed form: the busiest link's bytes at the link bandwidth + the longest path's hops ×
    the hop latency (0 for a phase without traffic)."""
    if not phase.loads:
        return 0.0
    return phase.busiest_bytes / noc.link_bandwidth_bytes_per_s + phase.hops * noc.hop_latency_s


def _split(op: Op, unit: ComputeUnit, dataflow: str, arrays: int):
    """(parallel ways, reduction ways, arrays sharing one slice of the multicast operand, the
    multicast operand, the scattered operands) of a contraction on `arrays` arrays."""
    ins = [o for o in op.operands if not o.is_output]
    act = next((o for o in ins if o.tensor.role.value == "activation"), ins[0])
    other = next(o for o in ins if o is not act)
    B, M, N, K = gemm_shape(op)
    R, C = (tuple(unit.shape) + (1, 1))[:2]
    if dataflow == "is":              # inputs stationary (K x M): the weights are shared
        share, par, red, mc = ceil(M / C), ceil(M / C) * B, ceil(K / R), other
    elif dataflow == "os":            # outputs stationary (M x N): no K split
        share, par, red, mc = ceil(N / C), ceil(M / R) * ceil(N / C) * B, 1, act
    else:                             # ws, rs: weights stationary (K x N): the activations are shared
        share, par, red, mc = ceil(N / C), ceil(N / C) * B, ceil(K / R), act
    a_par = max(1, min(arrays, par))
    a_red = max(1, min(arrays // a_par, red))
    return a_par, a_red, max(1, min(a_par, share)), mc, [o for o in ins if o is not mc]


def op_traffic(op: Op, unit: ComputeUnit, dataflow: str, noc: Noc | None) -> NocTraffic | None:
    """The op's bytes on each NoC link, or None when it does not run on the NoC's arrays."""
    if noc is None or unit.name != noc.unit or noc.nodes < 2:
        return None
    from .actions import PSUM_BYTES      # (actions imports the plan, which imports this module)
    arrays = noc.nodes
    ins = [o for o in op.operands if not o.is_output]
    out_bytes = sum(o.tensor.size_bytes for o in op.operands if o.is_output)
    dist: dict[int, float] = {}
    coll: dict[int, float] = {}
    contraction = (op.kind.is_contraction and op.macs and len(ins) >= 2
                   and unit.type in ("systolic", "dsp_array"))
    if contraction:
        a_par, a_red, share, mc, scattered = _split(op, unit, dataflow, arrays)
    else:
        a_par, a_red, share, mc, scattered = max(1, min(arrays, op_elems(op))), 1, 1, None, ins
    used = a_par * a_red
    hops_in = 0
    if mc is not None:                # per (batch slice, K part): one slice to its `share` arrays
        groups = [[u for u in range(used) if (u % a_par) // share == g and u // a_par == k]
                  for k in range(a_red) for g in range(ceil(a_par / share))]
        for dsts in groups:
            hops_in = max(hops_in, multicast(noc, MEMORY, dsts, mc.tensor.size_bytes / len(groups), dist))
    scatter_bytes = sum(o.tensor.size_bytes for o in scattered)
    for u in range(used):
        hops_in = max(hops_in, multicast(noc, MEMORY, [u], scatter_bytes / used, dist))
    hops_out = 0
    psum = op_elems(op) / a_par * PSUM_BYTES
    for g in range(a_par):            # each output tile: its K group reduces, its root sends it out
        members = [g + k * a_par for k in range(a_red)]
        h = reduce_chain(noc, members, psum, coll) if a_red > 1 else 0
        h += multicast(noc, members[0], [MEMORY], out_bytes / a_par, coll)
        hops_out = max(hops_out, h)
    return NocTraffic(_phase(dist, hops_in), _phase(coll, hops_out), used, a_red)


def describe(noc: Noc) -> dict[str, float]:
    """Derived figures of a NoC: links, diameter (the longest node-to-node route in hops, closed
    forms of `route`), bisection bandwidth (links crossing the middle cut, both ways) and injection
    bandwidth (the memory side's links)."""
    n = noc.nodes
    bw = noc.link_bandwidth_bytes_per_s
    if noc.topology == "mesh":
        x, y = noc.dimensions
        diameter, cut = (x - 1) + (y - 1), (2 * min(x, y) if max(x, y) > 1 else 0)
    elif noc.topology == "ring":
        diameter, cut = n // 2, (4 if n > 2 else (2 if n == 2 else 0))
    elif noc.topology == "bus":
        diameter, cut = (1 if n > 1 else 0), 1
    else:
        diameter, cut = (2 if n > 1 else 0), n
    return {"links": len(links(noc)), "diameter_hops": diameter, "bisection_bytes_per_s": cut * bw,
            "injection_bytes_per_s": bw * (len(noc.memory_nodes) if noc.topology in ("mesh", "ring") else 1)}


def emit_phase(builder, resource, phase: NocPhase, noc: Noc, deps, op: int, ticks,
               part: int = 0, parts: int = 1) -> list[int]:
    """The cycle trace's tasks of share `part` of `parts` of a phase: one per link with traffic, on
    that link's resource (`resource(link id)`), busy for its bytes at the link bandwidth plus the
    phase's hops × the hop latency (a link is held until the share's last flit arrives). With no
    contention the phase ends when the closed form (`phase_seconds`) says; transfers of other
    chunks and ops queue behind each other on shared links."""
    links_ = share_links(phase, noc, ticks, parts)
    return emit_shares(builder, resource, links_, deps, op, part, part + 1, parts)[0]


def share_links(phase: NocPhase, noc: Noc, ticks, parts: int) -> list[list]:
    """Per link with traffic in a phase split in `parts` shares: [its id, its resource (None until
    `emit_shares` first puts a task on it), its bytes, q = bytes // parts, the ticks of a q-byte
    share, of a (q + 1)-byte share]. A share of b bytes takes b at the link bandwidth + the
    phase's hops × the hop latency."""
    bw, lat = noc.link_bandwidth_bytes_per_s, phase.hops * noc.hop_latency_s
    out = []
    for k, nbytes in phase.loads:
        q = nbytes // parts
        out.append([k, None, nbytes, q, ticks(q / bw + lat) if q else 0, ticks((q + 1) / bw + lat)])
    return out


def group_durations(links_, starts, parts: int) -> list[list[int]] | None:
    """Per group of shares (`starts[g]` up to the next start, the last up to `parts`), each link's
    task ticks in `emit_shares`, all groups at once, when every link has bytes in every share
    (q > 0: a group has a task on every link, `reps` = its shares, behind its deps, finishing with
    its last share); None otherwise."""
    if not links_ or any(rec[3] == 0 for rec in links_):
        return None
    import numpy as np
    s = np.asarray(starts, dtype=np.int64)
    e = np.append(s[1:], parts)
    nb, q, d_q, d_q1 = (np.array([rec[i] for rec in links_], dtype=np.int64) for i in (2, 3, 4, 5))
    big = nb * e[:, None] // parts - nb * s[:, None] // parts - q * (e - s)[:, None]
    return ((e - s)[:, None] * d_q + big * (d_q1 - d_q)).tolist()


def emit_shares(builder, resource, links_, deps, op: int, first: int, end: int, parts: int,
                latest: dict | None = None,
                durs: list[int] | None = None) -> tuple[list[int], list[int]]:
    """The tasks of shares `first`..`end`-1 of `parts` of a phase (`emit_phase`'s, share by share;
    `links_` from `share_links`; a link's resource is `resource(link id)`), one per link: only
    share `first` waits for `deps`, so on each link the later shares queue right behind it and
    run back to back; one task (`reps` = the shares with bytes on the link, busy for the sum of
    their times) times exactly as one task per share. A link without bytes in share `first` gets
    a task without dependencies. Share j of a link's `nbytes` is nbytes·(j+1)//parts −
    nbytes·j//parts: q = nbytes//parts or q + 1 bytes, so the sum takes two durations. Returns
    (the tasks, those on links where share `end`-1 has bytes: they finish when that share is
    through); `latest` (resource → task) keeps each link's last task, the one of its tasks that
    finishes last (a link serves its tasks in order). `durs`: this group's `group_durations`."""
    if durs is not None and all(rec[1] is not None for rec in links_):
        res_ = [rec[1] for rec in links_]
        n = len(res_)
        i = builder.plain_tasks(res_, durs, [end - first] * n, [True] * n, [int(d) for d in deps], op)
        out = list(range(i, i + n))
        if latest is not None:
            latest.update(zip(res_, out))
        return out, out
    res_, dur, reps_, waits, tails, new = [], [], [], [], [], []
    n = end - first
    for rec in links_:
        _, res, nbytes, q, d_q, d_q1 = rec
        done = nbytes * first // parts
        big = nbytes * end // parts - done - q * n
        reps = big + (n - big if q else 0)
        if reps:
            if res is None:       # made below, when its first share with bytes would make it
                new.append((first if q else -(-(done + 1) * parts // nbytes) - 1, len(res_), rec))
            res_.append(res)
            dur.append(big * d_q1 + (n - big) * d_q)
            reps_.append(reps)
            waits.append(q > 0 or nbytes * (first + 1) // parts > done)
            tails.append(q > 0 or nbytes * end // parts > nbytes * (end - 1) // parts)
    if not res_:
        return [], []
    for _, at, rec in sorted(new, key=lambda x: x[:2]):
        res_[at] = rec[1] = resource(rec[0])
    i = builder.plain_tasks(res_, dur, reps_, waits, [int(d) for d in deps], op)
    out = list(range(i, i + len(res_)))
    if latest is not None:
        for r, t in zip(res_, out):
            latest[r] = t
    return out, [t for t, last in zip(out, tails) if last]
