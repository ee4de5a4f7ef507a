"""Heterogeneous systems: a host (GPU, NPU, ASIC) plus PIM memory, ops split between devices.

| module | what lives there |
|---|---|
| `types` | the frozen `System`, `Device`, `Link`, `SharedMemory` |
| `load` | `load_system`, `parse_system`, `list_systems`: `hwconfigs/systems/*.yaml` with file:line errors |
| `placement` | op groups and the placement policy text (`attention on pim`, `all on host`, `search`) |
| `schedule` | the list scheduler: tasks on devices and link directions, dependencies, overlap, a shared memory's time |
| `run` | `simulate_system`: graphs per sub-batch, each device's ops through the single-chip engine, transfers, schedule |
| `result` | `SystemResult`, `DeviceUse`, `LinkUse`, `MemoryUse`, `TaskSpan` |
"""
from __future__ import annotations

from archsim.system.types import ROLES, Device, Link, SharedMemory, System
from archsim.system.load import is_system, list_systems, load_system, parse_system, system_path
from archsim.system.placement import GROUPS, PolicyError, parse_policy
from archsim.system.result import DeviceUse, LinkUse, MemoryUse, SystemResult, TaskSpan, as_sim_result
from archsim.system.schedule import Span, Task, schedule

__all__ = ["System", "Device", "Link", "SharedMemory", "ROLES", "load_system", "parse_system", "list_systems",
           "system_path", "is_system", "GROUPS", "PolicyError", "parse_policy", "SystemResult",
           "DeviceUse", "LinkUse", "MemoryUse", "TaskSpan", "as_sim_result", "Task", "Span", "schedule", "simulate_system"]


def simulate_system(*args, **kwargs):
    """See `archsim.system.run.simulate_system` (imported on first use: it pulls in the engine)."""
    from archsim.system.run import simulate_system as run
    return run(*args, **kwargs)
