"""The whole pipeline, for the end-to-end tests. Every stage has landed, so a missing stage or chip
fails the test (it used to skip with "waiting for <module>" while the stages were being built)."""
from __future__ import annotations

import importlib

import pytest

STAGES = (("archsim.workloads", "build_graph"), ("archsim.workloads", "list_models"),
          ("archsim.hardware", "load_hardware"), ("archsim.hardware", "list_hardware"),
          ("archsim.mapper", "map_graph"), ("archsim.engine", "simulate"))


def missing_stage() -> str | None:
    for module, attr in STAGES:
        try:
            mod = importlib.import_module(module)
        except ImportError:
            return module
        if not hasattr(mod, attr):
            return f"{module}.{attr}"
    return None


def require_pipeline(*hardware: str) -> None:
    missing = missing_stage()
    assert missing is None, f"pipeline stage missing: {missing}"
    from archsim.hardware import list_hardware
    known = set(list_hardware())
    absent = [name for name in hardware if name not in known]
    assert not absent, f"hwconfigs missing: {absent}"


def field(row, key):
    return row[key] if isinstance(row, dict) else getattr(row, key)


def zoo_models() -> list:
    from archsim import workloads
    return list(workloads.list_models())


#: the chip that stands for its kind when it is in the library (the issue's and seed papers' chips)
PREFERRED = ("h200-sxm", "pim-gpt", "zcu102", "tpu-v1", "stm32f746", "xeon-gold-6154")


def one_hardware_per_kind() -> dict[str, str]:
    """kind → one library chip of that kind: a PREFERRED one if present, else the first by name."""
    from archsim.hardware import list_hardware, load_hardware
    names = list_hardware()
    chosen: dict[str, str] = {}
    for name in [n for n in PREFERRED if n in names] + names:
        kind = load_hardware(name).kind
        chosen.setdefault(kind, name)
    return chosen
