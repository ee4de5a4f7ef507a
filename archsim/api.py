"""The Python API, equal to the CLI: `simulate`, `sweep`, `compare`, `build_graph`.

The composition root of the pipeline: workloads → (archsim.hardware) → mapper → archsim.engine. Every
stage is imported inside the function that needs it, so `import archsim` stays cheap.

    >>> import archsim
    >>> r = archsim.simulate("gpt2-xl", "pim-gpt", phase="decode", context=1024)
    >>> r.latency_s, r.energy_j, r.fits

A workload that cannot fit a chip is not an exception: the result has `fits=False` and
`does_not_fit` names the level, the tensor and the shortfall. Bad input (unknown model or chip,
contradictory arguments) raises an `archsim.errors.ArchsimError` with a one-line message.
"""
from __future__ import annotations

import gc
import time
from dataclasses import replace
from functools import wraps
from itertools import product

from .comparison import Comparison, Sweep, compare_results
from .errors import ArchsimError, DoesNotFit, MappingError, did_you_mean
from .result import LevelUse, SimResult

__all__ = ["simulate", "sweep", "compare", "build_graph", "kv_footprint", "ArgumentError", "PHASES",
           "FIDELITIES", "dtype_label", "resolve_phase"]

PHASES = ("prefill", "decode", "encode")
FIDELITIES = ("analytic", "cycle")


class ArgumentError(ValueError, ArchsimError):
    """Arguments that contradict each other or are out of range (e.g. a context for prefill)."""


def build_graph(model, phase="prefill", batch=1, seq=None, context=None, dtypes=None, overrides=None,
                past=0):
    """The model's `OpGraph` for one phase (re-export of `workloads.build_graph`); `past` > 0 builds
    one chunk of a chunked prefill (`seq` new tokens after `past` cached positions)."""
    from archsim import workloads
    return workloads.build_graph(model, phase=phase, batch=batch, seq=seq, context=context,
                                 dtypes=dtypes, overrides=overrides, past=past)


def _check_chunk(prefill_chunk, phase: str, seq) -> int:
    """`prefill_chunk` validated (a positive token count, for prefill with a given seq); 0 = none."""
    if prefill_chunk is None:
        return 0
    if isinstance(prefill_chunk, bool) or not isinstance(prefill_chunk, int) or prefill_chunk <= 0:
        raise ArgumentError(f"prefill chunk must be a positive number of tokens (got {prefill_chunk!r})")
    if phase != "prefill":
        raise ArgumentError(f"a prefill chunk applies to phase prefill only (got phase {phase!r})")
    if seq is None:
        raise ArgumentError("a prefill chunk needs seq, the prompt length to split into chunks")
    return prefill_chunk


def _check_devices(devices, hardware) -> int:
    """`devices` validated: a positive whole number; more than one needs the chip's link."""
    if isinstance(devices, bool) or not isinstance(devices, int) or devices < 1:
        raise ArgumentError(f"devices must be a positive number of chips (got {devices!r})")
    if devices > 1 and not hardware.interconnect:
        raise ArgumentError(f"{hardware.name} has no interconnect: tensor parallelism over "
                            f"{devices} devices needs a link between them (add one under "
                            "`interconnect:` in the description)")
    return devices


def _run_workload(model, hardware, phase, batch, seq, context, dtype, overrides, chunk: int,
                  fidelity, strategy, seed, progress, budget, devices: int = 1,
                  stack: str = "graph", past: int = 0, attribute_gap: bool = False) -> SimResult:
    """Build and simulate one workload point; a prompt longer than `chunk` (> 0) runs as a
    chunked prefill (see `archsim.chunked`); `devices` > 1 runs it tensor-parallel (see
    `archsim.parallel`); `past` > 0 runs one chunk of `seq` tokens after `past` cached ones."""
    shard, step = (_tensor_parallel(model, hardware, overrides, devices) if devices > 1
                   else (overrides, None))

    def one(graph):
        result = simulate_graph(graph, hardware, fidelity, strategy, seed, progress, budget, stack,
                                attribute_gap)
        return step(graph, result) if step else result

    if not chunk or seq <= chunk:
        return one(build_graph(model, phase=phase, batch=batch, seq=seq, context=context,
                               dtypes=dtype, overrides=shard, past=past))
    from .chunked import chunk_plan, combine_chunks
    results = []
    for past, tokens in chunk_plan(seq, chunk):
        results.append(one(build_graph(model, phase=phase, batch=batch, seq=tokens, dtypes=dtype,
                                       overrides=shard, past=past)))
        if not results[-1].fits:
            break
    return combine_chunks(results, seq, chunk)


def _tensor_parallel(model, hardware, overrides, devices: int):
    """(the per-device model overrides, the step that turns one device's result into the
    tensor-parallel one: all-reduces on the chip's first link, every device's energy)."""
    from archsim import workloads
    from archsim.workloads.config import apply_overrides
    from .ir import DTYPE_BITS
    from .parallel import add_allreduces, shard_overrides
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


def _choice(value: str, choices: tuple[str, ...], what: str) -> str:
    if value not in choices:
        hint = did_you_mean(value, choices) or "choose one of " + ", ".join(choices)
        raise ArgumentError(f"unknown {what} {value!r}; {hint}")
    return value


def _stack(stack) -> str:
    """`stack` validated: the name of a software-stack preset (`archsim.engine.stack`)."""
    from .engine.stack import STACK_NAMES
    if not isinstance(stack, str):
        raise ArgumentError(f"stack must be one of {', '.join(STACK_NAMES)} (got {stack!r})")
    return _choice(stack, STACK_NAMES, "software stack")


def _model_phases(model) -> tuple[str, ...]:
    """The phases a zoo model or config.json supports; () for an ONNX graph, a built graph or a
    name that does not resolve (build_graph then says what is wrong)."""
    if not isinstance(model, str):
        return ()
    from archsim import workloads
    try:
        return tuple(workloads.model_config(model).phases)
    except ArchsimError:
        return ()


def resolve_phase(model, phase: str | None, seq, context, preferred: str = "") -> str:
    """The phase to run: as given; else decode when a context is given; else the chip's
    `preferred` phase (its description's `defaults.phase`) when the model has it and no prompt
    length asks for another; else the model's first phase among prefill/encode. A context with
    prefill or encode contradicts itself."""
    if phase is None:
        if context is not None:
            return "decode"
        phases = _model_phases(model)
        if preferred and preferred in phases and (seq is None or preferred != "decode"):
            return preferred
        return "prefill" if not phases or "prefill" in phases else phases[0]
    _choice(phase, PHASES, "phase")
    if context is not None and phase != "decode":
        raise ArgumentError(f"context applies to --phase decode only (got phase {phase!r} with "
                            f"context {context}); use seq for the prompt or input length")
    return phase


def _hardware(hw, overrides=None):
    """A `Hardware` from a library name, a YAML path or a `Hardware` (returned as is), with
    `overrides` ({'memory.gbuf.size': '4 MiB', ...}: dotted keys, as `config.load_hardware`) applied."""
    import os
    from .hardware import Hardware
    if overrides is not None and not isinstance(overrides, dict):
        raise ArgumentError(f"hw_overrides must be a dict of dotted keys to values, e.g. "
                            f"{{'memory.gbuf.size': '4 MiB'}} (got {overrides!r})")
    if isinstance(hw, Hardware) and not overrides:
        _check_built(hw)
        return hw
    if isinstance(hw, (str, os.PathLike, Hardware)):
        from .hardware import load_hardware
        return load_hardware(hw, overrides=overrides or None)
    raise ArgumentError(f"hw must be a hardware library name, a YAML path or a Hardware (got {hw!r}); "
                        f"see `archsim hw list`")


def _check_built(hw) -> None:
    """A `Hardware` built in Python (e.g. `dataclasses.replace(hw, freq_hz=1e300)`) meets the same
    ranges and checks as a YAML file: its YAML form goes through the loader (~10 ms), once per
    description object (one the loader built needs none)."""
    from .hardware.load import dump_hardware, is_validated, mark_validated, parse_hardware
    if is_validated(hw):
        return
    try:
        text = dump_hardware(hw)
    except (TypeError, ValueError, AttributeError, KeyError) as exc:
        raise ArgumentError(f"hw {getattr(hw, 'name', '?')!r}: not a well-formed Hardware "
                            f"({type(exc).__name__}: {exc})") from None
    parse_hardware(text, file=f"<Hardware {hw.name}>")
    mark_validated(hw)


def _search_options(strategy, seed, budget, progress=None) -> None:
    """Reject mapping-search options the mapper would misread: an unknown strategy (which would
    otherwise surface as a 'does not fit' result), a negative or non-integer seed, a budget that
    is not a positive number (evaluations; a float is seconds, as in `mapper`), a progress that
    cannot be called."""
    from archsim.mapper.search import STRATEGIES
    if not isinstance(strategy, str) or strategy not in STRATEGIES:
        hint = did_you_mean(strategy, STRATEGIES) or "choose one of " + ", ".join(STRATEGIES)
        raise ArgumentError(f"unknown strategy {strategy!r}; {hint}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ArgumentError(f"seed must be a whole number ≥ 0 (got {seed!r})")
    if progress is not None and not callable(progress):
        raise ArgumentError(f"progress must be a callable progress(done, total, label) or None (got {progress!r})")
    if budget is None:
        return
    if isinstance(budget, bool) or not isinstance(budget, (int, float)) or not 0 < budget < float("inf"):
        raise ArgumentError(f"budget must be a positive number of evaluations per op (got {budget!r})")


def _distinct_names(hardware: list, given: list) -> list:
    """Chips as compared, each under its own name. The same description twice is an error; two
    different descriptions that share a `name:` (a variant of a library chip saved under another
    file name) are told apart by the file name each was given as (its full path if that clashes)."""
    import os
    from pathlib import Path
    out = list(hardware)
    for i, hw in enumerate(hardware):
        twins = [j for j, other in enumerate(hardware) if j != i and other.name == hw.name]
        if not twins:
            continue
        if any(replace(hardware[j], file="") == replace(hw, file="") for j in twins):
            raise ArgumentError(f"hardware listed more than once: {hw.name}")
        label = os.fspath(given[i]) if isinstance(given[i], (str, os.PathLike)) else hw.name
        stem = Path(label).stem                  # 'variants/edge-npu-1mib.yaml' → 'edge-npu-1mib'
        if label != hw.name:
            taken = {h.name for h in hardware}
            out[i] = replace(hw, name=stem if stem and stem not in taken else label)
    names = [h.name for h in out]
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})
        raise ArgumentError(f"hardware listed more than once: {', '.join(dup)}; give each description "
                            "its own `name:`")
    return out


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
                   attribute_gap: bool = False) -> SimResult:
    """Map and simulate an already built graph on a loaded `Hardware`. `budget` caps the mapping
    search (evaluations per op; None = the mapper's default); `stack` is the GPU software stack;
    `attribute_gap` names the DRAM effects of the cycle-vs-analytic gap (`engine.simulate`)."""
    from archsim import mapper
    from . import engine
    _choice(fidelity, FIDELITIES, "fidelity")
    _stack(stack)
    _search_options(strategy, seed, budget, progress)
    hw = _hardware(hw)
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
                                 attribute_gap=attribute_gap)
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
             past: int = 0, attribute_gap: bool = False) -> SimResult:
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
    continues a prompt runs). `attribute_gap` (cycle fidelity) names the DRAM effects in each op's
    `gap_effects` and the result's `gap_attribution` (three more event-loop runs; without it they
    are part of `other_s`)."""
    _choice(fidelity, FIDELITIES, "fidelity")
    _stack(stack)
    _search_options(strategy, seed, budget, progress)
    hardware = _hardware(hw, hw_overrides)
    devices = _check_devices(devices, hardware)
    if hasattr(model, "nodes") and hasattr(model, "graph"):    # an OpGraph built by the caller
        if prefill_chunk is not None or devices > 1:
            raise ArgumentError("prefill_chunk and devices need a model name or config, not a "
                                "built graph (its sizes are fixed)")
        return simulate_graph(model, hardware, fidelity=fidelity, strategy=strategy, seed=seed,
                              progress=progress, budget=budget, stack=stack,
                              attribute_gap=attribute_gap)
    phase = resolve_phase(model, phase, seq, context, hardware.default_phase)
    chunk = _check_chunk(prefill_chunk, phase, seq)
    dtype = hardware.default_dtype or None if dtype is None else dtype
    if isinstance(past, bool) or not isinstance(past, int) or past < 0:
        raise ArgumentError(f"past must be a whole number of cached tokens ≥ 0 (got {past!r})")
    if past and (phase != "prefill" or chunk or seq is None):
        raise ArgumentError("past applies to one prefill chunk: phase prefill, a seq, no "
                            "prefill_chunk")
    return _run_workload(model, hardware, phase, batch, seq, context, dtype, overrides, chunk,
                         fidelity, strategy, seed, progress, budget, devices, stack, past,
                         attribute_gap)


def kv_footprint(model, dtype=None, overrides=None, devices: int = 1) -> tuple[int, int, int]:
    """(weight bytes, KV-cache bytes per token of context, the model's positions or 0 for no
    limit) on each of `devices` chips running `model` tensor-parallel: what a serving layer needs
    to size a paged KV cache and its step shapes."""
    from archsim import workloads
    from archsim.workloads.config import apply_overrides
    from .ir import graph_totals
    from .parallel import shard_overrides
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


def _as_tuple(values) -> tuple:
    if values is None:
        return (None,)
    if isinstance(values, (list, tuple)):
        return tuple(values) or (None,)
    return (values,)


def sweep(model, hw, phase: str | None = None, batch=1, seq=None, context=None, dtype=None,
          fidelity: str = "analytic", strategy: str = "auto", seed: int = 0, progress=None,
          overrides=None, budget: int | None = None, hw_overrides: dict | None = None,
          prefill_chunk: int | None = None, devices: int = 1, stack: str = "graph") -> Sweep:
    """`simulate` over every combination of `batch`, `seq` and `context` (each an int or a list);
    a point that does not fit is a result with `fits=False`, not an error."""
    batches, seqs, contexts = _as_tuple(batch), _as_tuple(seq), _as_tuple(context)
    _choice(fidelity, FIDELITIES, "fidelity")
    _stack(stack)
    _search_options(strategy, seed, budget, progress)
    hardware = _hardware(hw, hw_overrides)
    phase = resolve_phase(model, phase, seqs[0], contexts[0], hardware.default_phase)
    chunk = _check_chunk(prefill_chunk, phase, seqs[0])
    devices = _check_devices(devices, hardware)
    dtype = hardware.default_dtype or None if dtype is None else dtype
    names = [n for n, v in (("batch", batches), ("seq", seqs), ("context", contexts)) if len(v) > 1]
    points = list(product(batches, seqs, contexts))
    results = []
    for i, (b, s, c) in enumerate(points):
        if progress is not None:
            progress(i, len(points), f"sweep {b=} {s=} {c=}".replace("=None", "=default"))
        results.append(_run_workload(model, hardware, phase, b, s, c, dtype, overrides, chunk,
                                     fidelity, strategy, seed, progress, budget, devices, stack))
    if progress is not None:
        progress(len(points), len(points), "sweep done")
    first = results[0]
    return Sweep(model=first.model, hw=hardware.name, parameters=tuple(names) or ("batch",),
                 results=tuple(results))


def compare(model, hws, baseline: str | None = None, phase: str | None = None, batch: int = 1,
            seq: int | None = None, context: int | None = None, dtype=None,
            fidelity: str = "analytic", strategy: str = "auto", seed: int = 0, progress=None,
            overrides=None, budget: int | None = None, hw_overrides: dict | None = None,
            prefill_chunk: int | None = None, devices: int = 1, stack: str = "graph") -> Comparison:
    """The same workload on each chip in `hws`, normalised to `baseline` (default: the first).
    Chips that cannot hold the workload are rows with `fits=False` and the shortfall.
    `hw_overrides` (dotted keys, as in `simulate`) apply to every chip; `prefill_chunk` and
    `devices` and `stack` as in `simulate` (the same device count and GPU stack on every chip)."""
    import os
    from .hardware import Hardware
    if isinstance(hws, (str, os.PathLike, Hardware)):
        hws = [hws]                    # one chip, not a string to iterate letter by letter
    if hws is None or not hasattr(hws, "__iter__"):
        raise ArgumentError(f"hws must be a list of hardware names, YAML paths or Hardware (got {hws!r})")
    hws = list(hws)
    if not hws:
        raise ArgumentError("compare needs at least one hardware name")
    if baseline is not None and not isinstance(baseline, (str, Hardware)):
        raise ArgumentError(f"baseline must be a hardware name or a Hardware (got {baseline!r})")
    _choice(fidelity, FIDELITIES, "fidelity")
    _stack(stack)
    _search_options(strategy, seed, budget, progress)
    phase = resolve_phase(model, phase, seq, context)
    chunk = _check_chunk(prefill_chunk, phase, seq)
    from .system import is_system, load_system
    systems = {i: load_system(h) for i, h in enumerate(hws) if is_system(h)}
    chips = [h for i, h in enumerate(hws) if i not in systems]
    hardware = _distinct_names([_hardware(h, hw_overrides) for h in chips], chips)
    if systems and (chunk or devices > 1):
        raise ArgumentError("prefill_chunk and devices apply to chips; a system sets its devices "
                            "and shards in its YAML")
    names = [h.name for h in hardware] + [s.name for s in systems.values()]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ArgumentError(f"hardware listed more than once: {', '.join(twice)}")
    if baseline is None:
        baseline = names[0]
    elif not isinstance(baseline, str):
        baseline = baseline.name                       # a Hardware object
    elif baseline in chips and baseline not in names:
        baseline = names[chips.index(baseline)]        # given as the same path as in hws
    elif baseline in hws and baseline not in names:
        baseline = systems[hws.index(baseline)].name
    if baseline not in names:
        hint = did_you_mean(baseline, names) or "it must be one of " + ", ".join(names)
        raise ArgumentError(f"baseline {baseline!r} is not among the compared hardware; {hint}")
    for h in hardware:
        _check_devices(devices, h)
    one_pass = (not chunk or seq <= chunk) and devices == 1
    graph = build_graph(model, phase=phase, batch=batch, seq=seq, context=context, dtypes=dtype,
                        overrides=overrides) if one_pass else None
    results = []
    for i, h in enumerate(hardware):
        if progress is not None:
            progress(i, len(hardware), f"simulating on {h.name}")
        results.append(simulate_graph(graph, h, fidelity, strategy, seed, progress, budget, stack)
                       if one_pass else
                       _run_workload(model, h, phase, batch, seq, context, dtype, overrides, chunk,
                                     fidelity, strategy, seed, progress, budget, devices, stack))
    by_name = {r.hw: r for r in results}
    for i, sysd in systems.items():
        from .system import as_sim_result, simulate_system
        if progress is not None:
            progress(len(hardware), len(hardware), f"simulating on {sysd.name}")
        by_name[sysd.name] = as_sim_result(simulate_system(
            model, sysd, phase=phase, batch=batch, seq=seq, context=context, dtype=dtype,
            fidelity=fidelity, strategy=strategy, seed=seed, budget=budget, overrides=overrides,
            stack=stack))
    order = iter(h.name for h in hardware)
    results = [by_name[systems[i].name if i in systems else next(order)] for i in range(len(hws))]
    if progress is not None:
        progress(len(hws), len(hws), "compare done")
    return compare_results(results, baseline,
                           areas_mm2={h.name: h.area_mm2 * devices for h in hardware if h.area_mm2 > 0},
                           tech_nodes_nm={h.name: h.tech_node_nm for h in hardware
                                          if h.tech_node_nm > 0})
