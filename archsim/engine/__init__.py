"""The engine: lowering a mapped graph to tile tasks, the Numba event loop, the SimPy reference
engine, DRAM/PIM timing and per-kind compute timing. Entry point: `simulate`."""
from .simulate import FIDELITIES, simulate

__all__ = ["simulate", "FIDELITIES"]
