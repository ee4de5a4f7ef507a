"""archsim: how a Transformer runs on a chip — latency, energy and on-chip buffer use.

Imports are lazy so `archsim --help` starts fast: `archsim.simulate`, `archsim.compare`,
`archsim.load_hardware`, `archsim.build_graph`, `archsim.serve` resolve on first use.
"""
from __future__ import annotations

__version__ = "0.1.0"

#: folders at the top of the repository that install as subpackages of archsim (pyproject's
#: `package-dir` maps them): `archsim.workloads`, `archsim.mapper`, `archsim.reports`, `archsim.hwconfigs`
SUBPACKAGES = ("workloads", "mapper", "reports", "hwconfigs")


def _source_checkout_subpackages(path: list[str]) -> None:
    """In a source checkout (the folder above this one holds pyproject.toml and the subpackages'
    folders) let `archsim.workloads` etc. resolve to those folders, as they do once installed."""
    import os
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if os.path.isfile(os.path.join(root, "pyproject.toml")) and all(
            os.path.isfile(os.path.join(root, name, "__init__.py")) for name in SUBPACKAGES):
        path.append(root)


_source_checkout_subpackages(__path__)

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
