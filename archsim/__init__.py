"""archsim: how a Transformer runs on a chip — latency, energy and on-chip buffer use.

Imports are lazy so `archsim --help` starts fast: `archsim.simulate`, `archsim.compare`,
`archsim.load_hardware`, `archsim.build_graph`, `archsim.serve` resolve on first use.
"""
from __future__ import annotations

__version__ = "0.1.0"

_LAZY = {
    "load_hardware": ("archsim.hardware", "load_hardware"),
    "Hardware": ("archsim.hardware", "Hardware"),
    "Op": ("archsim.ir", "Op"),
    "OpGraph": ("archsim.ir", "OpGraph"),
    "Mapping": ("archsim.mapping", "Mapping"),
    "SimResult": ("archsim.result", "SimResult"),
    "ArchsimError": ("archsim.errors", "ArchsimError"),
    "ConfigError": ("archsim.errors", "ConfigError"),
    "simulate": ("archsim.api", "simulate"),
    "compare": ("archsim.api", "compare"),
    "build_graph": ("archsim.api", "build_graph"),
    "serve": ("archsim.serving", "serve"),
}

__all__ = sorted(_LAZY) + ["__version__"]


def __getattr__(name: str):
    if name in _LAZY:
        import importlib
        module, attr = _LAZY[name]
        value = getattr(importlib.import_module(module), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'archsim' has no attribute {name!r}")
