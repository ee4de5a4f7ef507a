"""The studies' access to the real pipeline (workloads → mapper → engine), and nothing else.

Every stage is imported lazily through `need`, which raises `NotReady` naming what is missing, so a
study whose stage has not landed is reported as "not run: waiting for X" instead of crashing. A zoo
model or hardware config that does not exist yet is treated the same way.
"""
from __future__ import annotations

from functools import lru_cache
import importlib

from .study import NotReady

__all__ = ["need", "hardware", "graph", "simulate_model", "model_names", "hardware_names",
           "memory_bound_share"]


def need(module: str, attr: str):
    """`module.attr`, or NotReady("module.attr") when the module or the attribute is missing."""
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name and (module == exc.name or module.startswith(exc.name + ".")):
            raise NotReady(f"{module}.{attr}") from None
        raise
    value = getattr(mod, attr, None)
    if value is None:
        raise NotReady(f"{module}.{attr}")
    return value


def _names(rows) -> set[str]:
    out = set()
    for row in rows:
        if isinstance(row, str):
            out.add(row)
        elif isinstance(row, dict):
            out.add(str(row.get("name")))
        else:
            out.add(str(getattr(row, "name", row[0] if isinstance(row, (tuple, list)) else row)))
    return out


@lru_cache(maxsize=None)
def hardware_names() -> frozenset[str]:
    return frozenset(_names(need("archsim.hardware", "list_hardware")()))


@lru_cache(maxsize=None)
def model_names() -> frozenset[str]:
    return frozenset(_names(need("archsim.workloads", "list_models")()))


def hardware(name: str):
    """A `Hardware` from the shipped configs; NotReady if that config is not shipped yet."""
    load = need("archsim.hardware", "load_hardware")
    if name not in hardware_names():
        raise NotReady(f"hardware config {name!r} (hwconfigs/)")
    return _load_hardware(load, name)


@lru_cache(maxsize=64)
def _load_hardware(load, name):
    return load(name)


def graph(model: str, phase: str = "prefill", batch: int = 1, seq: int | None = None,
          context: int | None = None, dtypes: tuple[tuple[str, str], ...] | None = None,
          overrides: tuple[tuple[str, object], ...] | None = None):
    """An OpGraph from the zoo (its config changed by `overrides`, (key, value) pairs); NotReady
    if the zoo lacks `model`."""
    build = need("archsim.workloads", "build_graph")
    _need_model(model)
    return _build(build, model, phase, batch, seq, context, dtypes, overrides)


def _need_model(model: str) -> None:
    """NotReady if the zoo lacks `model` ("mcuformer:embed=…" specs count as mcuformer)."""
    if model.partition(":")[0] not in model_names():
        raise NotReady(f"zoo model {model!r} (workloads)")


@lru_cache(maxsize=64)
def _build(build, model, phase, batch, seq, context, dtypes, overrides=None):
    return build(model, phase=phase, batch=batch, seq=seq, context=context,
                 dtypes=dict(dtypes) if dtypes else None,
                 overrides=dict(overrides) if overrides else None)


def simulate_model(model: str, hw, phase: str = "prefill", batch: int = 1,
                   seq: int | None = None, context: int | None = None,
                   fidelity: str = "analytic",
                   dtypes: tuple[tuple[str, str], ...] | None = None,
                   prefill_chunk: int | None = None, stack: str = "graph",
                   overrides: tuple[tuple[str, object], ...] | None = None):
    """build_graph → map_graph → engine.simulate, each stage the real one (through
    `archsim.api.simulate_graph`, which turns a workload that cannot fit into `fits=False`).
    `hw` is a shipped config name or a `Hardware` (e.g. one changed with dataclasses.replace).
    `prefill_chunk` runs a longer prompt as a chunked prefill (through `archsim.api.simulate`);
    `stack` is the GPU software stack (`archsim.engine.stack`); `overrides` change the model's
    config ((key, value) pairs, e.g. (("layers", 1),))."""
    hw = hardware(hw) if isinstance(hw, str) else hw
    need("archsim.mapper", "map_graph")
    need("archsim.engine", "simulate")
    if prefill_chunk is not None:
        _need_model(model)
        return need("archsim.api", "simulate")(model, hw, phase=phase, batch=batch, seq=seq,
                                               dtype=dict(dtypes) if dtypes else None,
                                               prefill_chunk=prefill_chunk, stack=stack,
                                               overrides=dict(overrides) if overrides else None)
    g = graph(model, phase=phase, batch=batch, seq=seq, context=context, dtypes=dtypes,
              overrides=overrides)
    simulate_graph = need("archsim.api", "simulate_graph")
    return simulate_graph(g, hw, fidelity=fidelity, stack=stack)


def memory_bound_share(result) -> float:
    """Fraction of a run's op time bound by its off-chip memory, as the engine classified each op
    (`OpResult.bound` = memory:<the outermost level>)."""
    off = f"memory:{result.levels[0].level}"
    total = sum(o.latency_s for o in result.ops) or 1.0
    return sum(o.latency_s for o in result.ops if o.bound == off) / total
