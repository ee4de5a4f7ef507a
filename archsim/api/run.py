"""One workload point: the model's graph built, mapped and simulated (`simulate`,
`simulate_graph`), as a chunked prefill or tensor-parallel when asked; a workload that cannot fit
is a result with `fits=False`, not an exception."""
from __future__ import annotations

import gc
import time
from dataclasses import replace
from functools import cached_property, wraps

from ..errors import DoesNotFit, MappingError
from ..result import LevelUse, SimResult
from .arguments import (ArgumentError, check_chunk, check_devices, check_run_options, resolve_hardware,
                        resolve_phase)

__all__ = ["build_graph", "simulate", "simulate_graph", "run_workload", "tensor_parallel",
           "kv_footprint", "dtype_label", "release_graph"]


def build_graph(model, phase="prefill", batch=1, seq=None, context=None, dtypes=None, overrides=None,
                past=0):
    """The model's `OpGraph` for one phase (re-export of `workloads.build_graph`); `past` > 0 builds
    one chunk of a chunked prefill (`seq` new tokens after `past` cached positions)."""
    from archsim import workloads
    return workloads.build_graph(model, phase=phase, batch=batch, seq=seq, context=context,
                                 dtypes=dtypes, overrides=overrides, past=past)


def run_workload(model, hardware, phase, batch, seq, context, dtype, overrides, chunk: int,
                 fidelity, strategy, seed, progress, budget, devices: int = 1,
                 stack: str = "graph", past: int = 0, attribute_gap: bool = False,
                 dram_model: str | None = None) -> SimResult:
    """Build and simulate one workload point; a prompt longer than `chunk` (> 0) runs as a
    chunked prefill (see `archsim.chunked`); `devices` > 1 runs it tensor-parallel (see
    `archsim.parallel`); `past` > 0 runs one chunk of `seq` tokens after `past` cached ones."""
    shard, step = (tensor_parallel(model, hardware, overrides, devices) if devices > 1
                   else (overrides, None))

    def one(graph):
        result = simulate_graph(graph, hardware, fidelity, strategy, seed, progress, budget, stack,
                                attribute_gap, dram_model)
        result = step(graph, result) if step else result
        release_graph(graph)
        return result

    if not chunk or seq <= chunk:
        return one(build_graph(model, phase=phase, batch=batch, seq=seq, context=context,
                               dtypes=dtype, overrides=shard, past=past))
    from ..chunked import chunk_plan, combine_chunks
    results = []
    for past, tokens in chunk_plan(seq, chunk):
        results.append(one(build_graph(model, phase=phase, batch=batch, seq=tokens, dtypes=dtype,
                                       overrides=shard, past=past)))
        if not results[-1].fits:
            break
    return combine_chunks(results, seq, chunk)


def release_graph(graph) -> None:
    """Drop the views networkx keeps on `graph` (`cached_property`: `graph.edges` and the other
    edge and degree views hold the graph itself), so that a graph this module built and no caller
    holds is freed by reference counting when its estimate returns. Kept, the view made the graph
    and its ~10^4 ops, operands, tensors and dicts one reference cycle per estimate: garbage only
    the cyclic collector frees, a gen-0 pass over all of it after every estimate (the views are
    rebuilt on the next access, so nothing else changes)."""
    for name in [k for k in vars(graph) if isinstance(getattr(type(graph), k, None), cached_property)]:
        del graph.__dict__[name]


def tensor_parallel(model, hardware, overrides, devices: int):
    """(the per-device model overrides, the step that turns one device's result into the
    tensor-parallel one: all-reduces on the chip's first link, every device's energy)."""
    from archsim import workloads
    from archsim.workloads.config import apply_overrides
    from ..ir import DTYPE_BITS
    from ..parallel import add_allreduces, shard_overrides
    if not isinstance(model, str) or model.endswith(".onnx"):
        raise ArgumentError("tensor parallelism needs a zoo model or a config.json (an ONNX "
                            "graph's sizes are fixed)")
    cfg = apply_overrides(workloads.model_config(model), overrides, f"{model}: overrides")
    shard = {**(overrides or {}), **shard_overrides(cfg, devices)}
    link = hardware.interconnect[0]

    def step(graph, result: SimResult) -> SimResult:
        meta = graph.graph
        rows = int(meta.get("batch", 1)) * (int(meta.get("seq", 1) or 1)
                                            if meta.get("phase") == "prefill" else 1)
        act = dict(meta.get("dtypes") or {}).get("activations", "bf16")
        out = add_allreduces(result, devices, link, rows, cfg.hidden,
                             max(1, DTYPE_BITS.get(act, 16) // 8))
        return replace(out, devices=devices)
    return shard, step


def _does_not_fit(graph, hw, mapping, fidelity: str, reason: DoesNotFit | str) -> SimResult:
    planned = dict(mapping.peak_buffer_bytes) if mapping is not None else {}
    if isinstance(reason, DoesNotFit):
        planned[reason.level] = max(planned.get(reason.level, 0), reason.needed_bytes)
    meta = graph.graph
    phase, batch = str(meta.get("phase", "")), int(meta.get("batch", 1))
    seq = int(meta.get("seq", 0) or 0)
    return SimResult(
        model=str(meta.get("model", "")), hw=hw.name, hw_kind=hw.kind,
        phase=phase, batch=batch, seq=seq, context=int(meta.get("context", 0) or 0),
        fidelity=fidelity, cycles=0, freq_hz=hw.freq_hz, latency_s=0.0, energy_breakdown_j=(),
        levels=tuple(LevelUse(lv.name, lv.size_bytes, int(planned.get(lv.name, 0)), 0, 0)
                     for lv in hw.levels),
        ops=(), fits=False, does_not_fit=str(reason), dtype=dtype_label(meta),
        tokens=batch * seq if phase == "prefill" and seq else batch,
        notes=_chunk_hint(meta, reason))


def _chunk_hint(meta, reason) -> tuple[str, ...]:
    """A prefill short of room for its activations may fit as a chunked prefill: say so."""
    if meta.get("phase") != "prefill" or meta.get("family") != "decoder" or \
            "activation" not in str(getattr(reason, "tensor", reason)):
        return ()
    seq = int(meta.get("seq", 0) or 0)
    chunk = max(1, seq // 8)
    return (f"a prefill holds every token's activations at once; a chunked prefill keeps one "
            f"chunk's (e.g. --prefill-chunk {chunk} / prefill_chunk={chunk})",)


def dtype_label(meta) -> str:
    """One label for a graph's dtypes: 'bf16', or 'activations=bf16,kv=bf16,weights=int4' when they differ."""
    d = meta.get("dtypes")
    if isinstance(d, dict):
        values = list(dict.fromkeys(str(v) for v in d.values()))
        return values[0] if len(values) == 1 else ",".join(f"{k}={v}" for k, v in sorted(d.items()))
    return str(d or "")


def _gc_paused(fn):
    """`fn` runs with Python's cyclic garbage collector paused (restored after, as it was): an
    estimate allocates some 10^5 small objects that reference counting frees anyway, and the
    collector's passes over them took 15-25 % of a warm estimate's CPU time (benchmarks/simulate.py);
    the few reference cycles made meanwhile are collected once it runs again."""
    @wraps(fn)
    def paused(*args, **kwargs):
        if not gc.isenabled():
            return fn(*args, **kwargs)
        gc.disable()
        try:
            return fn(*args, **kwargs)
        finally:
            gc.enable()
    return paused


@_gc_paused
def simulate_graph(graph, hw, fidelity: str = "analytic", strategy: str = "auto", seed: int = 0,
                   progress=None, budget: int | None = None, stack: str = "graph",
                   attribute_gap: bool = False, dram_model: str | None = None) -> SimResult:
    """Map and simulate an already built graph on a loaded `Hardware`. `budget` caps the mapping
    search (evaluations per op; None = the mapper's default); `stack` is the GPU software stack;
    `attribute_gap` names the DRAM effects of the cycle-vs-analytic gap; `dram_model` the
    engine's DRAM path at cycle fidelity, `controller` or `burst` (None = the engine's default,
    `engine.execute.DEFAULT_DRAM_MODEL`; see `engine.simulate`)."""
    from archsim import mapper
    from .. import engine
    check_run_options(fidelity, dram_model, stack, strategy, seed, budget, progress)
    hw = resolve_hardware(hw)
    start = time.perf_counter()
    try:
        mapping = mapper.map_graph(graph, hw, strategy=strategy, budget=budget, seed=seed,
                                   progress=progress)
    except MappingError as exc:
        return replace(_does_not_fit(graph, hw, None, fidelity, str(exc)),
                       sim_wall_s=time.perf_counter() - start)
    reason = mapping.attrs and dict(mapping.attrs).get("does_not_fit")
    if reason:
        result = _does_not_fit(graph, hw, mapping, fidelity, reason)
    else:
        result = engine.simulate(graph, hw, mapping, fidelity=fidelity, progress=progress, stack=stack,
                                 attribute_gap=attribute_gap, dram_model=dram_model)
    changes = {"sim_wall_s": time.perf_counter() - start}
    # the workload's dtypes as asked for, not the compute dtype of its first op (an embedding on a
    # PIM chip's fp32 host unit made a bf16 run read 'fp32' in every summary and roofline)
    changes["dtype"] = dtype_label(graph.graph) or result.dtype
    if not result.model:
        changes["model"] = str(graph.graph.get("model", ""))
    return replace(result, **changes)


@_gc_paused
def simulate(model, hw, phase: str | None = None, batch: int = 1, seq: int | None = None,
             context: int | None = None, dtype=None, fidelity: str = "analytic",
             strategy: str = "auto", seed: int = 0, progress=None, overrides=None,
             budget: int | None = None, hw_overrides: dict | None = None,
             prefill_chunk: int | None = None, devices: int = 1, stack: str = "graph",
             past: int = 0, attribute_gap: bool = False, dram_model: str | None = None) -> SimResult:
    """Simulate `model` (zoo name, config.json or .onnx path, or an `OpGraph` already built, whose
    own phase and sizes then apply) on `hw` (library name, YAML path or a `Hardware`).
    `phase=None` picks decode when `context` is given, else the chip's `defaults.phase` when the
    model has it, else prefill (encode for encoder-only models); `dtype=None` takes the chip's
    `defaults.dtype` (else bf16). `dtype` is a dtype name or 'weights=int4,activations=int8'. `overrides` change the
    model's config; `hw_overrides` the chip's description (dotted keys as in `config.load_hardware`:
    {'memory.gbuf.size': '4 MiB', 'compute.pe_array.shape': [64, 64], 'dram.channels': 16}).
    `prefill_chunk` runs a prompt of more than that many tokens as a chunked prefill; `devices` > 1
    runs the model tensor-parallel over that many chips joined by the description's link.
    `stack` is the software stack a GPU runs the model with: `eager`, `graph` (default) or
    `serving` (see `archsim.engine.stack`); other chips ignore it. `past` > 0 simulates one chunk
    of a chunked prefill: `seq` new tokens after `past` cached positions (what a serving step that
    continues a prompt runs). `attribute_gap` (cycle fidelity) names each op's overlap with its
    neighbours, the DRAM effects, the SRAM ports' and the NoC's shares in each op's `gap_effects`
    and the result's `gap_attribution` (`engine.simulate`; six or seven more event-loop runs;
    without it they are part of `other_s`). `dram_model` (cycle fidelity; None = the engine's
    default, `engine.execute.DEFAULT_DRAM_MODEL`: `controller`): `controller` serves transfers that
    overlap on a DRAM channel with the request-level controller's rules (queue, FR-FCFS with the
    row-hit cap, write drain, turnaround, refresh) and a transfer alone with the burst closed form;
    `burst` serves each channel's transfers in issue order with the burst closed form."""
    check_run_options(fidelity, dram_model, stack, strategy, seed, budget, progress)
    hardware = resolve_hardware(hw, hw_overrides)
    devices = check_devices(devices, hardware)
    if hasattr(model, "nodes") and hasattr(model, "graph"):    # an OpGraph built by the caller
        if prefill_chunk is not None or devices > 1:
            raise ArgumentError("prefill_chunk and devices need a model name or config, not a "
                                "built graph (its sizes are fixed)")
        return simulate_graph(model, hardware, fidelity=fidelity, strategy=strategy, seed=seed,
                              progress=progress, budget=budget, stack=stack,
                              attribute_gap=attribute_gap, dram_model=dram_model)
    phase = resolve_phase(model, phase, seq, context, hardware.default_phase)
    chunk = check_chunk(prefill_chunk, phase, seq)
    dtype = hardware.default_dtype or None if dtype is None else dtype
    if isinstance(past, bool) or not isinstance(past, int) or past < 0:
        raise ArgumentError(f"past must be a whole number of cached tokens ≥ 0 (got {past!r})")
    if past and (phase != "prefill" or chunk or seq is None):
        raise ArgumentError("past applies to one prefill chunk: phase prefill, a seq, no "
                            "prefill_chunk")
    return run_workload(model, hardware, phase, batch, seq, context, dtype, overrides, chunk,
                        fidelity, strategy, seed, progress, budget, devices, stack, past,
                        attribute_gap, dram_model)


def kv_footprint(model, dtype=None, overrides=None, devices: int = 1) -> tuple[int, int, int]:
    """(weight bytes, KV-cache bytes per token of context, the model's positions or 0 for no
    limit) on each of `devices` chips running `model` tensor-parallel: what a serving layer needs
    to size a paged KV cache and its step shapes."""
    from archsim import workloads
    from archsim.workloads.config import apply_overrides
    from ..ir import graph_totals
    from ..parallel import shard_overrides
    if not isinstance(model, str) or model.endswith(".onnx"):
        raise ArgumentError("serving needs a zoo model or a config.json (an ONNX graph's sizes are "
                            "fixed)")
    cfg = apply_overrides(workloads.model_config(model), overrides, f"{model}: overrides")
    if cfg.family != "decoder" and "decode" not in cfg.phases:
        raise ArgumentError(f"{model} is a {cfg.family} model without a decode phase; serving "
                            "simulates token generation")
    shard = {**(overrides or {}), **shard_overrides(cfg, devices)} if devices > 1 else overrides
    small, large = (graph_totals(build_graph(model, phase="decode", context=c, dtypes=dtype,
                                             overrides=shard)) for c in (64, 128))
    return (small.weight_bytes, (large.kv_cache_bytes - small.kv_cache_bytes) // 64,
            int(cfg.max_positions or 0))
