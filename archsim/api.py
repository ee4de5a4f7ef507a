"""The Python API, equal to the CLI: `simulate`, `sweep`, `compare`, `build_graph`.

The composition root of the pipeline: workloads → (archsim.config) → mapper → archsim.engine. Every
stage is imported inside the function that needs it, so `import archsim` stays cheap.

    >>> import archsim
    >>> r = archsim.simulate("gpt2-xl", "pim-gpt", phase="decode", context=1024)
    >>> r.latency_s, r.energy_j, r.fits

A workload that cannot fit a chip is not an exception: the result has `fits=False` and
`does_not_fit` names the level, the tensor and the shortfall. Bad input (unknown model or chip,
contradictory arguments) raises an `archsim.errors.ArchsimError` with a one-line message.
"""
from __future__ import annotations

import time
from dataclasses import replace
from itertools import product

from .comparison import Comparison, Sweep, compare_results
from .errors import ArchsimError, DoesNotFit, MappingError, did_you_mean
from .result import LevelUse, SimResult

__all__ = ["simulate", "sweep", "compare", "build_graph", "ArgumentError", "PHASES", "FIDELITIES"]

PHASES = ("prefill", "decode", "encode")
FIDELITIES = ("analytic", "cycle")


class ArgumentError(ValueError, ArchsimError):
    """Arguments that contradict each other or are out of range (e.g. a context for prefill)."""


def build_graph(model, phase="prefill", batch=1, seq=None, context=None, dtypes=None, overrides=None):
    """The model's `OpGraph` for one phase (re-export of `workloads.build_graph`)."""
    import workloads
    return workloads.build_graph(model, phase=phase, batch=batch, seq=seq, context=context,
                                 dtypes=dtypes, overrides=overrides)


def _choice(value: str, choices: tuple[str, ...], what: str) -> str:
    if value not in choices:
        hint = did_you_mean(value, choices) or "choose one of " + ", ".join(choices)
        raise ArgumentError(f"unknown {what} {value!r}; {hint}")
    return value


def _model_phases(model) -> tuple[str, ...]:
    if not isinstance(model, str):
        return ()
    try:
        import workloads
        for row in workloads.list_models():
            name = row["name"] if isinstance(row, dict) else getattr(row, "name", None)
            if name == model:
                phases = row["phases"] if isinstance(row, dict) else getattr(row, "phases", ())
                return tuple(phases)
    except (ImportError, AttributeError, KeyError, TypeError):
        pass
    return ()


def resolve_phase(model, phase: str | None, seq, context) -> str:
    """The phase to run: as given; else decode when a context is given; else the model's first
    phase among prefill/encode. A context with prefill or encode contradicts itself."""
    if phase is None:
        if context is not None:
            return "decode"
        phases = _model_phases(model)
        return "prefill" if not phases or "prefill" in phases else phases[0]
    _choice(phase, PHASES, "phase")
    if context is not None and phase != "decode":
        raise ArgumentError(f"context applies to --phase decode only (got phase {phase!r} with "
                            f"context {context}); use seq for the prompt or input length")
    return phase


def _hardware(hw):
    if isinstance(hw, str):
        from .config import load_hardware
        return load_hardware(hw)
    return hw


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
        ops=(), fits=False, does_not_fit=str(reason), dtype=_dtype_label(meta),
        tokens=batch * seq if phase == "prefill" and seq else batch)


def _dtype_label(meta) -> str:
    d = meta.get("dtypes")
    if isinstance(d, dict):
        values = list(dict.fromkeys(str(v) for v in d.values()))
        return values[0] if len(values) == 1 else ",".join(f"{k}={v}" for k, v in sorted(d.items()))
    return str(d or "")


def simulate_graph(graph, hw, fidelity: str = "analytic", strategy: str = "auto", seed: int = 0,
                   progress=None, budget: int | None = None) -> SimResult:
    """Map and simulate an already built graph on a loaded `Hardware`. `budget` caps the mapping
    search (evaluations per op; None = the mapper's default)."""
    import mapper
    from . import engine
    _choice(fidelity, FIDELITIES, "fidelity")
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
        result = engine.simulate(graph, hw, mapping, fidelity=fidelity, progress=progress)
    changes = {"sim_wall_s": time.perf_counter() - start}
    if not result.dtype:
        changes["dtype"] = _dtype_label(graph.graph)
    if not result.model:
        changes["model"] = str(graph.graph.get("model", ""))
    return replace(result, **changes)


def simulate(model, hw, phase: str | None = None, batch: int = 1, seq: int | None = None,
             context: int | None = None, dtype=None, fidelity: str = "analytic",
             strategy: str = "auto", seed: int = 0, progress=None, overrides=None,
             budget: int | None = None) -> SimResult:
    """Simulate `model` (zoo name, config.json or .onnx path, or an `OpGraph` already built, whose
    own phase and sizes then apply) on `hw` (library name, YAML path or a `Hardware`).
    `phase=None` picks decode when `context` is given, else prefill (encode for encoder-only
    models). `dtype` is a dtype name or 'weights=int4,activations=int8'."""
    _choice(fidelity, FIDELITIES, "fidelity")
    built = hasattr(model, "nodes") and hasattr(model, "graph")    # an OpGraph built by the caller
    if not built:
        phase = resolve_phase(model, phase, seq, context)
    hardware = _hardware(hw)
    graph = model if built else build_graph(model, phase=phase, batch=batch, seq=seq,
                                            context=context, dtypes=dtype, overrides=overrides)
    return simulate_graph(graph, hardware, fidelity=fidelity, strategy=strategy, seed=seed,
                          progress=progress, budget=budget)


def _as_tuple(values) -> tuple:
    if values is None:
        return (None,)
    if isinstance(values, (list, tuple)):
        return tuple(values) or (None,)
    return (values,)


def sweep(model, hw, phase: str | None = None, batch=1, seq=None, context=None, dtype=None,
          fidelity: str = "analytic", strategy: str = "auto", seed: int = 0, progress=None,
          overrides=None, budget: int | None = None) -> Sweep:
    """`simulate` over every combination of `batch`, `seq` and `context` (each an int or a list);
    a point that does not fit is a result with `fits=False`, not an error."""
    batches, seqs, contexts = _as_tuple(batch), _as_tuple(seq), _as_tuple(context)
    _choice(fidelity, FIDELITIES, "fidelity")
    phase = resolve_phase(model, phase, seqs[0], contexts[0])
    hardware = _hardware(hw)
    names = [n for n, v in (("batch", batches), ("seq", seqs), ("context", contexts)) if len(v) > 1]
    points = list(product(batches, seqs, contexts))
    results = []
    for i, (b, s, c) in enumerate(points):
        if progress is not None:
            progress(i, len(points), f"sweep {b=} {s=} {c=}".replace("=None", "=default"))
        graph = build_graph(model, phase=phase, batch=b, seq=s, context=c, dtypes=dtype,
                            overrides=overrides)
        results.append(simulate_graph(graph, hardware, fidelity, strategy, seed, progress, budget))
    if progress is not None:
        progress(len(points), len(points), "sweep done")
    first = results[0]
    return Sweep(model=first.model, hw=hardware.name, parameters=tuple(names) or ("batch",),
                 results=tuple(results))


def compare(model, hws, baseline: str | None = None, phase: str | None = None, batch: int = 1,
            seq: int | None = None, context: int | None = None, dtype=None,
            fidelity: str = "analytic", strategy: str = "auto", seed: int = 0, progress=None,
            overrides=None, budget: int | None = None) -> Comparison:
    """The same workload on each chip in `hws`, normalised to `baseline` (default: the first).
    Chips that cannot hold the workload are rows with `fits=False` and the shortfall."""
    hws = list(hws)
    if not hws:
        raise ArgumentError("compare needs at least one hardware name")
    _choice(fidelity, FIDELITIES, "fidelity")
    phase = resolve_phase(model, phase, seq, context)
    hardware = [_hardware(h) for h in hws]
    names = [h.name for h in hardware]
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})
        raise ArgumentError(f"hardware listed more than once: {', '.join(dup)}")
    if baseline is None:
        baseline = names[0]
    elif not isinstance(baseline, str):
        baseline = baseline.name                       # a Hardware object
    elif baseline in hws and baseline not in names:
        baseline = names[hws.index(baseline)]          # given as the same path as in hws
    if baseline not in names:
        hint = did_you_mean(baseline, names) or "it must be one of " + ", ".join(names)
        raise ArgumentError(f"baseline {baseline!r} is not among the compared hardware; {hint}")
    graph = build_graph(model, phase=phase, batch=batch, seq=seq, context=context, dtypes=dtype,
                        overrides=overrides)
    results = []
    for i, h in enumerate(hardware):
        if progress is not None:
            progress(i, len(hardware), f"simulating on {h.name}")
        results.append(simulate_graph(graph, h, fidelity, strategy, seed, progress, budget))
    if progress is not None:
        progress(len(hardware), len(hardware), "compare done")
    return compare_results(results, baseline,
                           areas_mm2={h.name: h.area_mm2 for h in hardware if h.area_mm2 > 0},
                           tech_nodes_nm={h.name: h.tech_node_nm for h in hardware
                                          if h.tech_node_nm > 0})
