"""Many points at once: `sweep` (one chip, every combination of batch, seq and context) and
`compare` (one workload on several chips or systems, normalised to a baseline)."""
from __future__ import annotations

from itertools import product

from ..comparison import Comparison, Sweep, compare_results
from ..errors import did_you_mean
from .arguments import (ArgumentError, check_chunk, check_devices, check_run_options, distinct_names,
                        resolve_hardware, resolve_phase)
from .run import build_graph, run_workload, simulate_graph

__all__ = ["sweep", "compare"]


def _as_tuple(values) -> tuple:
    if values is None:
        return (None,)
    if isinstance(values, (list, tuple)):
        return tuple(values) or (None,)
    return (values,)


def sweep(model, hw, phase: str | None = None, batch=1, seq=None, context=None, dtype=None,
          fidelity: str = "analytic", strategy: str = "auto", seed: int = 0, progress=None,
          overrides=None, budget: int | None = None, hw_overrides: dict | None = None,
          prefill_chunk: int | None = None, devices: int = 1, stack: str = "graph",
          dram_model: str | None = None) -> Sweep:
    """`simulate` over every combination of `batch`, `seq` and `context` (each an int or a list);
    a point that does not fit is a result with `fits=False`, not an error. `dram_model` as in
    `simulate` (None: the engine's default DRAM path at cycle fidelity)."""
    batches, seqs, contexts = _as_tuple(batch), _as_tuple(seq), _as_tuple(context)
    check_run_options(fidelity, dram_model, stack, strategy, seed, budget, progress)
    hardware = resolve_hardware(hw, hw_overrides)
    phase = resolve_phase(model, phase, seqs[0], contexts[0], hardware.default_phase)
    chunk = check_chunk(prefill_chunk, phase, seqs[0])
    devices = check_devices(devices, hardware)
    dtype = hardware.default_dtype or None if dtype is None else dtype
    names = [n for n, v in (("batch", batches), ("seq", seqs), ("context", contexts)) if len(v) > 1]
    points = list(product(batches, seqs, contexts))
    results = []
    for i, (b, s, c) in enumerate(points):
        if progress is not None:
            progress(i, len(points), f"sweep {b=} {s=} {c=}".replace("=None", "=default"))
        results.append(run_workload(model, hardware, phase, b, s, c, dtype, overrides, chunk,
                                    fidelity, strategy, seed, progress, budget, devices, stack,
                                    dram_model=dram_model))
    if progress is not None:
        progress(len(points), len(points), "sweep done")
    first = results[0]
    return Sweep(model=first.model, hw=hardware.name, parameters=tuple(names) or ("batch",),
                 results=tuple(results))


def compare(model, hws, baseline: str | None = None, phase: str | None = None, batch: int = 1,
            seq: int | None = None, context: int | None = None, dtype=None,
            fidelity: str = "analytic", strategy: str = "auto", seed: int = 0, progress=None,
            overrides=None, budget: int | None = None, hw_overrides: dict | None = None,
            prefill_chunk: int | None = None, devices: int = 1, stack: str = "graph",
            attribute_gap: bool = False, dram_model: str | None = None) -> Comparison:
    """The same workload on each chip in `hws`, normalised to `baseline` (default: the first).
    Chips that cannot hold the workload are rows with `fits=False` and the shortfall.
    `hw_overrides` (dotted keys, as in `simulate`) apply to every chip; `prefill_chunk` and
    `devices` and `stack` as in `simulate` (the same device count and GPU stack on every chip);
    `attribute_gap` (cycle fidelity, chips only) names the DRAM effects' shares of each chip's
    analytic-vs-cycle gap, as in `simulate`; `dram_model` (cycle fidelity; None: the engine's
    default) is every chip's and every system device's DRAM path, as in `simulate`."""
    import os
    from ..hardware import Hardware
    if isinstance(hws, (str, os.PathLike, Hardware)):
        hws = [hws]                    # one chip, not a string to iterate letter by letter
    if hws is None or not hasattr(hws, "__iter__"):
        raise ArgumentError(f"hws must be a list of hardware names, YAML paths or Hardware (got {hws!r})")
    hws = list(hws)
    if not hws:
        raise ArgumentError("compare needs at least one hardware name")
    if baseline is not None and not isinstance(baseline, (str, Hardware)):
        raise ArgumentError(f"baseline must be a hardware name or a Hardware (got {baseline!r})")
    check_run_options(fidelity, dram_model, stack, strategy, seed, budget, progress)
    phase = resolve_phase(model, phase, seq, context)
    chunk = check_chunk(prefill_chunk, phase, seq)
    from ..system import is_system, load_system
    systems = {i: load_system(h) for i, h in enumerate(hws) if is_system(h)}
    chips = [h for i, h in enumerate(hws) if i not in systems]
    hardware = distinct_names([resolve_hardware(h, hw_overrides) for h in chips], chips)
    if not isinstance(attribute_gap, bool):
        raise ArgumentError(f"attribute_gap must be True or False (got {attribute_gap!r})")
    if attribute_gap and (fidelity != "cycle" or systems):
        raise ArgumentError("attribute_gap applies to chips at fidelity 'cycle'"
                            + (" (a system's result has no gap attribution)" if systems else
                               f" (got fidelity {fidelity!r})"))
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
        check_devices(devices, h)
    one_pass = (not chunk or seq <= chunk) and devices == 1
    graph = build_graph(model, phase=phase, batch=batch, seq=seq, context=context, dtypes=dtype,
                        overrides=overrides) if one_pass else None
    results = []
    for i, h in enumerate(hardware):
        if progress is not None:
            progress(i, len(hardware), f"simulating on {h.name}")
        results.append(simulate_graph(graph, h, fidelity, strategy, seed, progress, budget, stack,
                                      attribute_gap, dram_model)
                       if one_pass else
                       run_workload(model, h, phase, batch, seq, context, dtype, overrides, chunk,
                                    fidelity, strategy, seed, progress, budget, devices, stack,
                                    attribute_gap=attribute_gap, dram_model=dram_model))
    by_name = {r.hw: r for r in results}
    for i, sysd in systems.items():
        from ..system import as_sim_result, simulate_system
        if progress is not None:
            progress(len(hardware), len(hardware), f"simulating on {sysd.name}")
        by_name[sysd.name] = as_sim_result(simulate_system(
            model, sysd, phase=phase, batch=batch, seq=seq, context=context, dtype=dtype,
            fidelity=fidelity, strategy=strategy, seed=seed, budget=budget, overrides=overrides,
            stack=stack, dram_model=dram_model))
    order = iter(h.name for h in hardware)
    results = [by_name[systems[i].name if i in systems else next(order)] for i in range(len(hws))]
    if progress is not None:
        progress(len(hws), len(hws), "compare done")
    return compare_results(results, baseline,
                           areas_mm2={h.name: h.area_mm2 * devices for h in hardware if h.area_mm2 > 0},
                           tech_nodes_nm={h.name: h.tech_node_nm for h in hardware
                                          if h.tech_node_nm > 0})
