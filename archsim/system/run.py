"""`simulate_system`: one workload on a heterogeneous system.

1. The model's graph is built once per sub-batch size (the batch split into `sub_batches` near-equal
   parts) through `archsim.api.build_graph`; with `shards` > 1 each graph is one tensor-parallel shard.
2. Ops are placed by group (`placement.py`); `search` tries every assignment of groups to devices.
3. Each device's ops — the subgraph placed on it — are mapped and simulated by the single-chip
   engine (`archsim.api.simulate_graph`, analytic or cycle fidelity). An op's duration on the system
   is its marginal contribution to its device's finish time, so a device's durations add up to its
   own simulated latency exactly.
4. Tasks: every op of every sub-batch on its device; a tensor crossing devices (an activation edge,
   or a weight / KV tensor read on a device whose memory does not hold that role) as a transfer on
   the link direction (bytes / bandwidth on the link, then its latency in flight); with shards, the
   all-reduce after each attention block and MLP on the shards' network. With `stream_chunks` = n
   every op runs as n equal slices and an op of a `STREAMABLE` kind (elementwise, per head) starts
   slice j once slice j of its inputs is there (PIM-GPT-style streaming between the PIM and the
   ASIC; an ideal split). `schedule.py` runs them (devices and link directions concurrent;
   `overlap=False`: all back to back; without `layer_pipelining` no sub-batch starts a layer before
   every sub-batch finished the previous one). Devices on a `shared_memory` time-share it: a PIM
   op holds it for its whole run, another op for its off-chip bytes at the streaming rate, a
   transfer between two of its devices for the transfer; host/PIM mode changes cost their time.
   With sub-batches and `weight_reuse`, an FC whose weight fits its device's on-chip buffer is
   simulated once at the full batch and each sub-batch's task takes its rows' share.
5. Energy: each device's dynamic and active energy from its results, its static power (idle,
   DRAM background) over the whole system latency (once per package: `part_of`; DRAM background
   once per shared memory), link energy per bit moved; × shards.
"""
from __future__ import annotations

import time
from dataclasses import replace
from itertools import product

from archsim.errors import ArchsimError
from archsim.result import STATIC_COMPONENTS, SimResult
from archsim.system.load import load_system
from archsim.system.placement import GROUPS, SEARCH, group_of, parse_policy, policy_text
from archsim.system.result import DeviceUse, LinkUse, MemoryUse, SystemResult, TaskSpan
from archsim.system.schedule import Task, schedule
from archsim.system.types import ROLES, System

__all__ = ["simulate_system", "SystemSetupError", "MAX_SUB_BATCHES", "MAX_STREAM_CHUNKS", "STREAMABLE"]

#: most sub-batches one step is split into (NeuPIMs interleaves two; a task list grows with it)
MAX_SUB_BATCHES = 64
#: most slices an op streams in (PIM-GPT-style: a consumer starts on a producer's first slice)
MAX_STREAM_CHUNKS = 64
#: op kinds whose slice j needs only slice j of each input (per output column, per head, per
#: element), so with `stream_chunks` they start on a producer's first slice; the rest (GEMV/GEMM
#: contracting over the input, norms reducing over it, lookups) wait for the whole input
STREAMABLE = frozenset({"gelu", "silu", "relu", "swiglu", "add", "mul", "rope", "kv_append", "softmax",
                        "attn_qk", "attn_av", "quantize", "dequantize"})


class SystemSetupError(ArchsimError, ValueError):
    """A system run that cannot be set up (no link between devices that exchange tensors, ...)."""


def _split(batch: int, parts: int) -> list[int]:
    return [batch // parts + (1 if i < batch % parts else 0) for i in range(parts)]


def simulate_system(model, system, phase: str | None = None, batch: int = 1, seq: int | None = None,
                    context: int | None = None, dtype=None, fidelity: str = "analytic",
                    placement: str | None = None, sub_batches: int = 1,
                    layer_pipelining: bool = True, overlap: bool = True, stream_chunks: int = 1,
                    weight_reuse: bool = True, strategy: str = "auto",
                    seed: int = 0, budget: int | None = None, overrides=None, stack: str = "graph",
                    device_overrides: dict | None = None, progress=None,
                    dram_model: str | None = None) -> SystemResult:
    """Simulate `model` on `system` (a name in hwconfigs/systems/, a YAML path or a `System`).
    `placement` overrides the system's policy ('attention on pim', 'all on host', 'search', ...);
    `sub_batches` > 1 splits the batch for NeuPIMs-style interleaving; `stream_chunks` > 1 streams
    each op in that many slices to the next elementwise / per-head op; `device_overrides` maps a
    device name to dotted hardware overrides (e.g. {'pim': {'dram.channels': 16}}).
    `weight_reuse` (with sub-batches): an FC whose weight fits its device's on-chip weight buffer
    reads the weight once for every sub-batch (NeuPIMs' batching): its sub-batches together cost
    the full-batch op, each its share of the rows; False: every sub-batch streams it again.
    `dram_model` (cycle fidelity): every device's DRAM path, as in `archsim.api.simulate` (None:
    the engine's default)."""
    from archsim import api
    start = time.perf_counter()
    sysd = load_system(system)
    api.arguments.check_run_options(fidelity, dram_model, stack, strategy, seed, budget, progress)
    if isinstance(sub_batches, bool) or not isinstance(sub_batches, int) or \
            not 1 <= sub_batches <= MAX_SUB_BATCHES:
        raise api.ArgumentError(f"sub_batches must be a whole number from 1 to {MAX_SUB_BATCHES} "
                                f"(got {sub_batches!r})")
    if isinstance(stream_chunks, bool) or not isinstance(stream_chunks, int) or \
            not 1 <= stream_chunks <= MAX_STREAM_CHUNKS:
        raise api.ArgumentError(f"stream_chunks must be a whole number from 1 to {MAX_STREAM_CHUNKS} "
                                f"(got {stream_chunks!r})")
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < sub_batches:
        raise api.ArgumentError(f"batch {batch!r} cannot be split into {sub_batches} sub-batches")
    hardware = _hardware(sysd, device_overrides)
    names = tuple(d.name for d in sysd.devices)
    first = hardware[names[0]]
    phase = api.resolve_phase(model, phase, seq, context, first.default_phase)
    dtype = first.default_dtype or None if dtype is None else dtype
    shard = overrides
    if sysd.shards > 1:
        if not first.interconnect:
            raise SystemSetupError(f"{sysd.name}: {sysd.shards} shards need an interconnect on the first "
                               f"device's chip ({first.name}) for the all-reduces")
        shard, _ = api.run.tensor_parallel(model, first, overrides, sysd.shards)
    sizes = _split(batch, sub_batches)
    reuse = weight_reuse and sub_batches > 1
    graphs = {b: api.build_graph(model, phase=phase, batch=b, seq=seq, context=context, dtypes=dtype,
                                 overrides=shard) for b in sorted(set(sizes) | ({batch} if reuse else set()))}
    policy = sysd.placement if placement is None else placement
    sims: dict = {}

    def run(assignment):
        return _evaluate(sysd, hardware, graphs, sizes, assignment, fidelity, strategy, seed, budget,
                         stack, progress, sims, overlap, layer_pipelining, stream_chunks, reuse,
                         dram_model)

    searched: tuple = ()
    if (policy or "").strip() == SEARCH:
        present = {group_of(data["op"].kind.value) for g in graphs.values()
                   for _, data in g.nodes(data=True)}
        groups = [g for g in GROUPS if g in present]
        tried = []
        for choice in product(names, repeat=len(groups)):
            assignment = {g: names[0] for g in GROUPS} | dict(zip(groups, choice))
            try:
                out = run(assignment)
            except SystemSetupError:
                continue                       # devices without a link between them: not a candidate
            tried.append((out, assignment))
        if not tried:
            raise SystemSetupError(f"{sysd.name}: no placement of {', '.join(groups)} over "
                               f"{', '.join(names)} has the links it needs")
        fitting = [t for t in tried if t[0]["fits"]] or tried
        best, assignment = min(fitting, key=lambda t: t[0]["latency_s"])
        searched = tuple((policy_text(a), o["latency_s"]) for o, a in tried)
    else:
        try:
            assignment = parse_policy(policy, names)
        except ArchsimError as exc:
            raise api.ArgumentError(f"{sysd.name}: {exc}") from None
        best = run(assignment)
    g0 = graphs[sizes[0]]
    meta = g0.graph
    seq_n = int(meta.get("seq", 0) or 0)
    tokens = batch * seq_n if phase == "prefill" and seq_n else batch
    notes = list(best["notes"])
    if reuse and best["reused"]:
        notes.append(f"{best['reused']} FC ops read their weight once for all {sub_batches} sub-batches "
                     f"(it fits the device's on-chip weight buffer); the others stream it per sub-batch")
    if sysd.shards > 1:
        notes.append(f"tensor parallel over {sysd.shards} shards, each a copy of every device; "
                     f"all-reduces on {first.interconnect[0].name}; energy of every shard")
    return SystemResult(
        system=sysd.name, model=str(meta.get("model", "")), phase=phase, batch=batch, seq=seq_n,
        context=int(meta.get("context", 0) or 0), fidelity=fidelity, placement=policy_text(assignment),
        sub_batches=sub_batches, layer_pipelining=layer_pipelining, overlap=overlap,
        stream_chunks=stream_chunks,
        shards=sysd.shards, latency_s=best["latency_s"], tokens=tokens, devices=best["devices"],
        links=best["links"], memories=best["memories"], spans=best["spans"], bound_by=best["bound_by"],
        fits=best["fits"],
        does_not_fit=best["does_not_fit"], notes=tuple(notes), searched=searched,
        sim_wall_s=time.perf_counter() - start)


def _hardware(sysd: System, device_overrides: dict | None) -> dict:
    from archsim import api
    from archsim.hardware import load_hardware
    extra = device_overrides or {}
    if not isinstance(extra, dict) or any(k not in [d.name for d in sysd.devices] for k in extra):
        names = ", ".join(d.name for d in sysd.devices)
        raise api.ArgumentError(f"device_overrides must map device names ({names}) to dotted "
                                f"hardware overrides (got {extra!r})")
    return {d.name: load_hardware(d.chip, overrides={**dict(d.overrides), **extra.get(d.name, {})} or None)
            for d in sysd.devices}


def _device_result(sims, name, hw, graph, ops, fidelity, strategy, seed, budget, stack, progress,
                   dram_model=None) -> SimResult:
    """The single-chip result of `ops` (names) of `graph` on `hw`, memoised by op set (`sims` is
    one system run's: one fidelity and DRAM path)."""
    from archsim import api
    key = (name, graph.graph.get("batch"), frozenset(ops))
    if key not in sims:
        sub = _subgraph(graph, ops)
        sims[key] = api.simulate_graph(sub, hw, fidelity, strategy, seed, progress, budget, stack,
                                       dram_model=dram_model)
    return sims[key]


def _subgraph(graph, ops):
    """The ops `ops` of `graph` and the edges among them, in the graph's own order. (networkx's
    `subgraph` iterates a small node set in the set's order, which varies with the process's hash
    seed, and op order decides ties in the schedule: results varied from run to run.)"""
    keep = set(ops)
    order = [n for n in graph.nodes if n in keep]
    sub = graph.__class__()
    sub.graph = dict(graph.graph)
    sub.add_nodes_from((n, graph.nodes[n]) for n in order)
    sub.add_edges_from((u, v, d) for u, v, d in graph.edges(order, data=True) if v in keep)
    return sub


def _durations(result: SimResult) -> dict[str, float]:
    """Each op's marginal contribution to the device's finish time, scaled so they add up to the
    device's latency exactly (the single-chip result is the reference)."""
    out, reach = {}, 0.0
    for op in result.ops:
        end = op.start_s + op.latency_s
        out[op.name] = max(0.0, end - reach)
        reach = max(reach, end)
    total = sum(out.values())
    if total > 0 and result.latency_s > 0:
        scale = result.latency_s / total
        out = {k: v * scale for k, v in out.items()}
    return out


def _holder(sysd: System, role: str, here: str) -> str | None:
    """The device whose memory holds tensors of `role`, when `here` does not; None: read locally."""
    if role not in ("weight", "kv_cache") or role in sysd.device(here).holds:
        return None
    return next((d.name for d in sysd.devices if role in d.holds), None)


def _evaluate(sysd, hardware, graphs, sizes, assignment, fidelity, strategy, seed, budget, stack,
              progress, sims, overlap, layer_pipelining, chunks, reuse=False, dram_model=None) -> dict:
    from archsim.ir import DTYPE_BITS, ops_in_order
    from archsim.parallel import _block_ends, allreduce_seconds
    names = [d.name for d in sysd.devices]
    total = sum(sizes)
    shared: dict[str, SimResult] = {}        # device → its weight-reusing FC ops at the full batch
    if reuse:
        full = graphs[total]
        for dev in names:
            ops = [op.name for op in ops_in_order(full) if assignment[group_of(op.kind.value)] == dev
                   and group_of(op.kind.value) == "fc" and _holder(sysd, "weight", dev) is None
                   and _weight_resident(hardware[dev], op)]
            if ops:
                shared[dev] = _device_result(sims, dev, hardware[dev], full, ops, fidelity, strategy,
                                             seed, budget, stack, progress, dram_model)
    per_size: dict[int, dict] = {}
    for b in sorted(set(sizes)):
        graph = graphs[b]
        order = list(ops_in_order(graph))
        where = {op.name: assignment[group_of(op.kind.value)] for op in order}
        results, durations, op_rows = {}, {}, {}
        for dev in names:
            reused = {o.name for o in shared[dev].ops} if dev in shared else set()
            ops = [o for o, d in where.items() if d == dev and o not in reused]
            durations[dev], op_rows[dev] = {}, {}
            if ops:
                results[dev] = _device_result(sims, dev, hardware[dev], graph, ops, fidelity, strategy,
                                              seed, budget, stack, progress, dram_model)
                durations[dev] = _durations(results[dev])
                op_rows[dev] = {o.name: o for o in results[dev].ops}
            if dev in shared:               # this sub-batch's rows of the one full-batch op
                durations[dev] |= {k: v * b / total for k, v in _durations(shared[dev]).items()}
                op_rows[dev] |= {o.name: o for o in shared[dev].ops}
        per_size[b] = {"order": order, "where": where, "results": results, "durations": durations,
                       "ops": op_rows, "reused": {dev: {o.name for o in r.ops} for dev, r in shared.items()}}
    bad = [(dev, r) for p in per_size.values() for dev, r in p["results"].items() if not r.fits]
    bad += [(dev, r) for dev, r in shared.items() if not r.fits]
    tasks: list[Task] = []
    meta: list[tuple[str, str, int, int, str]] = []          # (kind, device/link, sub-batch, bytes, link)
    link_of: dict[tuple[str, str], object] = {}

    def link_between(a: str, b: str):
        if (a, b) not in link_of:
            lk = sysd.link(a, b)
            if lk is None:
                raise SystemSetupError(f"{sysd.name}: devices {a} and {b} exchange tensors under placement "
                                   f"'{policy_text(assignment)}' but no link joins them")
            link_of[(a, b)] = lk
        return link_of[(a, b)]

    def transfer(name, src, dst, nbytes, deps, prio, s):
        lk = link_between(src, dst)
        seconds = nbytes / lk.bandwidth_bytes_per_s
        mem = sysd.memory_of(src)
        pins = mem.name if mem is not None and dst in mem.devices else ""    # the memory's own pins
        tasks.append(Task(name, f"link:{lk.name}:{src}->{dst}", seconds, tuple(deps), prio,
                          delay_s=lk.latency_s, memory=pins, memory_s=seconds if pins else 0.0))
        meta.append(("transfer", f"{lk.name}:{src}->{dst}", s, nbytes, lk.name))
        return len(tasks) - 1

    shard_link = hardware[names[0]].interconnect[0] if sysd.shards > 1 else None
    layer_tasks: dict[int, list[int]] = {}       # layer → its op tasks, every sub-batch
    later_layer: dict[int, list[int]] = {}       # layer → op tasks that wait for the layer before
    k, c = len(sizes), chunks
    for s, b in enumerate(sizes):
        p = per_size[b]
        graph, where = graphs[b], p["where"]
        ends = _block_ends(p["order"]) if shard_link is not None else set()
        index: dict[str, list[int]] = {}     # op → the task(s) its successors wait for, per chunk
        moved: dict[tuple[str, str], list[int]] = {}
        rows = b * (int(graph.graph.get("seq", 1) or 1) if graph.graph.get("phase") == "prefill" else 1)
        for pos, op in enumerate(p["order"]):
            dev = where[op.name]
            prio = (pos * k + s) * c
            streams = c > 1 and op.kind.value in STREAMABLE
            deps: list[list[int]] = [[] for _ in range(c)]

            def wait(ids: list[int]) -> None:
                for j in range(c):    # chunk j waits for the matching slice, else for all of it
                    deps[j].extend([ids[j if len(ids) == c else 0]] if streams else ids)

            for pred in graph.predecessors(op.name):
                src = where[pred]
                if src == dev:
                    wait(index[pred])
                    continue
                edge = graph.edges[pred, op.name]
                key = (pred + "/" + edge["tensor"].name, dev)
                if key not in moved:
                    srcs = index[pred]
                    moved[key] = [transfer(f"{pred}→{op.name}" + (f"[{j}]" if c > 1 else ""), src, dev,
                                           int(edge["bytes"]) / c, [srcs[j if len(srcs) == c else 0]],
                                           prio + j, s) for j in range(c)]
                wait(moved[key])
            for o in op.operands:
                holder = _holder(sysd, o.tensor.role.value, dev)
                if holder is None or o.is_output:
                    continue
                key = (o.tensor.name, dev)
                if key not in moved:
                    moved[key] = [transfer(f"{o.tensor.name}→{dev}", holder, dev, o.tensor.size_bytes,
                                           [], prio, s)]
                for j in range(c):
                    deps[j].extend(moved[key])
            duration = p["durations"][dev].get(op.name, 0.0) / c
            mem = sysd.memory_of(dev)
            share = b / total if op.name in p["reused"].get(dev, ()) else 1.0   # rows of a full-batch op
            mode, hold = (_memory_hold(hardware[dev], p["ops"][dev][op.name], duration * c, share)
                          if mem is not None else ("host", 0.0))
            ids = []
            for j in range(c):
                if not layer_pipelining and k > 1 and op.layer > 0:
                    later_layer.setdefault(op.layer, []).append(len(tasks))
                tasks.append(Task(op.name + (f"[{j}]" if c > 1 else ""), dev, duration,
                                  tuple(dict.fromkeys(deps[j])), prio + j, memory=mem.name if mem else "",
                                  memory_s=hold / c, mode=mode))
                meta.append((op.kind.value, dev, s, 0, ""))
                ids.append(len(tasks) - 1)
                layer_tasks.setdefault(op.layer, []).append(len(tasks) - 1)
            index[op.name] = ids
            for o in op.operands:
                holder = _holder(sysd, o.tensor.role.value, dev)
                if holder is not None and o.is_output:          # a KV append written back to its holder:
                    new = sum(i.tensor.size_bytes for i in op.inputs    # the new entries, not the cache
                              if i.tensor.role.value == "activation") or o.tensor.size_bytes
                    transfer(f"{o.tensor.name}→{holder}", dev, holder, new, ids, prio, s)
            if op.name in ends:
                act = dict(graph.graph.get("dtypes") or {}).get("activations", "bf16")
                width = int(graph.graph.get("hidden", 0) or _hidden(op))
                nbytes = rows * width * max(1, DTYPE_BITS.get(act, 16) // 8)
                seconds, sent = allreduce_seconds(nbytes, sysd.shards, shard_link)
                tasks.append(Task(f"{op.name}.allreduce", f"allreduce:{shard_link.name}", seconds,
                                  tuple(ids), prio))
                meta.append(("allreduce", shard_link.name, s, int(sent), shard_link.name))
                index[op.name] = [len(tasks) - 1]
    for layer, waiting in later_layer.items():   # no layer pipelining: all of layer L-1 first
        before = tuple(layer_tasks.get(layer - 1, ()))
        for i in waiting:
            tasks[i] = replace(tasks[i], deps=tuple(sorted(set(tasks[i].deps) | set(before))))
    spans = schedule(tasks, overlap=overlap,
                     switch_s={m.name: (m.to_pim_s, m.to_host_s) for m in sysd.shared_memories})
    latency = max((sp.finish_s for sp in spans), default=0.0)
    out = _assemble(sysd, hardware, per_size, sizes, tasks, meta, spans, latency, bad, shard_link, shared)
    out["reused"] = sum(len(r.ops) for r in shared.values())
    return out


def _weight_resident(hw, op) -> bool:
    """The op's weights fit the largest on-chip level of `hw` that may hold weights, so they can
    stay there from one sub-batch's run of the op to the next's."""
    nbytes = sum(o.tensor.size_bytes for o in op.inputs if o.tensor.role.value == "weight")
    room = max((lv.capacity_bytes for lv in hw.levels
                if not lv.off_chip and (not lv.holds or "weight" in lv.holds)), default=0)
    return 0 < nbytes <= room


def _memory_hold(hw, op, duration_s: float, share: float = 1.0) -> tuple[str, float]:
    """(mode, seconds) an op holds its device's shared memory: a PIM unit's all-bank work holds
    every channel for the whole op (ordinary reads and writes cannot run in PIM mode); any other
    op holds it for its off-chip bytes (× `share`, a sub-batch's part of a full-batch op) at the
    memory's sustained streaming rate, at most its duration."""
    from archsim.engine.dram import stream_refresh_fraction, streaming_bandwidth_bytes_per_s
    if op is None or duration_s <= 0:
        return "host", 0.0
    unit = next((u for u in hw.compute if u.name == op.unit), None)
    offchip = hw.levels[0]
    nbytes = dict(op.bytes_by_level).get(offchip.name, 0) * share
    if unit is not None and unit.type == "pim_bank" and nbytes:
        return "pim", duration_s
    t = offchip.dram
    rate = (streaming_bandwidth_bytes_per_s(t) * t.channels * (1.0 - stream_refresh_fraction(t))
            if t is not None else max(offchip.bandwidth_bytes_per_s, 1.0))
    return "host", float(min(duration_s, nbytes / rate))


def _memory_uses(sysd, tasks, spans, latency) -> tuple[MemoryUse, ...]:
    out = []
    for m in sysd.shared_memories:
        holds = sorted((sp.start_s, t.mode, min(t.memory_s, t.duration_s), sp.switch_s)
                       for t, sp in zip(tasks, spans) if t.memory == m.name and t.memory_s > 0)
        host = sum(h for _, mode, h, _ in holds if mode == "host")
        pim = sum(h for _, mode, h, _ in holds if mode == "pim")
        switch = sum(sw for *_, sw in holds)
        switches = sum(1 for a, b in zip(holds, holds[1:]) if a[1] != b[1])
        busy = host + pim + switch
        out.append(MemoryUse(name=m.name, devices=m.devices, busy_s=busy,
                             utilization=busy / latency if latency > 0 else 0.0, host_s=host, pim_s=pim,
                             switches=switches, switch_s=switch))
    return tuple(out)


def _hidden(op) -> int:
    """The model width an all-reduce sums: the last dimension of the block's output."""
    out = op.outputs[0].tensor if op.outputs else None
    return int(out.shape[-1]) if out is not None and out.shape else 1


def _assemble(sysd, hardware, per_size, sizes, tasks, meta, spans, latency, bad, shard_link,
              shared=None) -> dict:
    shards = sysd.shards
    devices = []
    for d in sysd.devices:
        results = [per_size[b]["results"][d.name] for b in sizes if d.name in per_size[b]["results"]]
        results += [shared[d.name]] if shared and d.name in shared else []
        busy = sum(sp.finish_s - sp.start_s for t, m, sp in zip(tasks, meta, spans)
                   if m[0] not in ("transfer", "allreduce") and t.resource == d.name)
        energy: dict[str, float] = {}
        static_w: dict[str, float] = {}
        for r in results:
            for comp, joules in r.energy_breakdown_j:
                if comp in STATIC_COMPONENTS and r.latency_s > 0:
                    static_w[comp] = joules / r.latency_s          # the chip's static power
                else:
                    energy[comp] = energy.get(comp, 0.0) + joules
        mem = sysd.memory_of(d.name)
        for comp, watts in static_w.items():                     # static power over the whole run,
            if d.part_of:                                        # once per package
                continue
            if comp == "dram_background" and mem is not None and mem.devices[0] != d.name:
                continue                                         # and once per shared memory
            energy[comp] = energy.get(comp, 0.0) + watts * latency
        offchip = hardware[d.name].levels[0].name
        nbytes = sum(lv.reads_bytes + lv.writes_bytes for r in results for lv in r.levels
                     if lv.level == offchip)
        distinct = {id(r): r for r in results}
        devices.append(DeviceUse(
            name=d.name, chip=hardware[d.name].name, ops=sum(len(r.ops) for r in results),
            busy_s=busy, utilization=busy / latency if latency > 0 else 0.0,
            energy_j=sum(energy.values()) * shards,
            energy_breakdown_j=tuple((k, v * shards) for k, v in energy.items()),
            offchip_bytes=nbytes * shards, results=tuple(distinct.values())))
    links: dict[str, list] = {}
    for t, m, sp in zip(tasks, meta, spans):
        if m[0] in ("transfer", "allreduce"):
            entry = links.setdefault(m[1], [0, 0.0, 0, m[4], m[0]])
            entry[0] += m[3]
            entry[1] += sp.finish_s - sp.start_s
            entry[2] += 1
    link_uses = []
    for name, (nbytes, busy, count, lname, kind) in links.items():
        pj = (shard_link.energy_pj_per_bit if kind == "allreduce"
              else next(lk for lk in sysd.links if lk.name == lname).energy_pj_per_bit)
        link_uses.append(LinkUse(name=name if kind == "transfer" else f"allreduce:{name}",
                                 bytes=int(round(nbytes * shards)), busy_s=busy,
                                 utilization=busy / latency if latency > 0 else 0.0,
                                 energy_j=nbytes * 8 * pj * 1e-12 * shards, transfers=count))
    spans_out = tuple(TaskSpan(resource=t.resource, name=t.name, kind=m[0], sub_batch=m[2],
                               start_s=sp.start_s, finish_s=sp.finish_s)
                      for t, m, sp in zip(tasks, meta, spans))
    spans_out += tuple(TaskSpan(resource=f"memory:{t.memory}", name=t.name, kind=f"memory {t.mode}",
                                sub_batch=m[2], start_s=sp.start_s,       # a shared memory's lane
                                finish_s=sp.start_s + sp.switch_s + min(t.memory_s, t.duration_s))
                       for t, m, sp in zip(tasks, meta, spans) if t.memory and t.memory_s > 0)
    memories = _memory_uses(sysd, tasks, spans, latency)
    busiest = [(d.busy_s, d.name) for d in devices] + [(lk.busy_s, lk.name) for lk in link_uses] + \
        [(m.busy_s, f"memory:{m.name}") for m in memories]
    bound_by = max(busiest)[1] if busiest else ""
    notes = []
    if sysd.links:
        notes.append("links are full duplex: each direction is its own resource")
    if sysd.shared_memories:
        notes.append("devices on a shared memory time-share its channels (host traffic, transfers over "
                     "its pins, PIM all-bank work); its capacity is checked per device, not summed")
    if any(set(d.holds) != set(ROLES) for d in sysd.devices):
        notes.append("a weight or KV tensor read on a device whose memory does not hold its role "
                     "crosses a link every step (its device simulation still reads it locally)")
    fits = not bad
    reason = "; ".join(f"{dev}: {r.does_not_fit}" for dev, r in bad)
    return {"latency_s": latency, "devices": tuple(devices), "links": tuple(link_uses), "memories": memories,
            "spans": spans_out, "bound_by": bound_by, "fits": fits, "does_not_fit": reason,
            "notes": tuple(notes)}
