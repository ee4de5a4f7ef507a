"""The frozen description of a heterogeneous system: devices (each a chip description), the links
between them, and which tensors each device's memory holds."""
from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Device", "Link", "SharedMemory", "System", "ROLES"]

#: tensor roles a device's memory can hold (`archsim.ir.Role` values a system routes by)
ROLES = ("weight", "kv_cache")


@dataclass(frozen=True, slots=True)
class Device:
    """One device of a system: a chip description (library name or path) with optional dotted
    `overrides` (as `load_hardware` takes them), and the tensor roles its memory holds. A role
    held by another device and read here crosses a link every step."""
    name: str
    chip: str
    overrides: tuple[tuple[str, object], ...] = ()
    holds: tuple[str, ...] = ROLES
    part_of: str = ""          # another device whose chip this one is a part of: its static power is counted there


@dataclass(frozen=True, slots=True)
class Link:
    """A link between two devices, full duplex (each direction its own bandwidth)."""
    name: str
    between: tuple[str, str]
    bandwidth_bytes_per_s: float
    latency_s: float = 0.0
    energy_pj_per_bit: float = 0.0


@dataclass(frozen=True, slots=True)
class SharedMemory:
    """One DRAM that several devices' chips sit on (a host and the PIM dies that are its memory):
    their off-chip traffic, a link's transfers between them and the PIM units' all-bank work
    time-share its channels. Entering PIM (all-bank) mode from ordinary reads and writes costs
    `to_pim_s`, leaving it `to_host_s`."""
    name: str
    devices: tuple[str, ...]
    to_pim_s: float = 0.0
    to_host_s: float = 0.0


@dataclass(frozen=True, slots=True)
class System:
    """Devices, links and the default placement policy. `shards` > 1: the model runs
    tensor-parallel over that many copies of the devices (each copy one shard), joined by the first
    device's chip interconnect for the all-reduces."""
    name: str
    devices: tuple[Device, ...]
    links: tuple[Link, ...] = ()
    placement: str = ""                 # '' = every op on the first device
    shards: int = 1
    shared_memories: tuple[SharedMemory, ...] = ()
    description: str = ""
    file: str = ""
    sources: tuple[tuple[str, str, bool], ...] = ()     # (id, text, assumption)

    def device(self, name: str) -> Device:
        for d in self.devices:
            if d.name == name:
                return d
        raise KeyError(name)

    def memory_of(self, device: str) -> SharedMemory | None:
        """The shared memory `device` sits on, or None (a memory of its own)."""
        return next((m for m in self.shared_memories if device in m.devices), None)

    def link(self, a: str, b: str) -> Link | None:
        """The link joining devices `a` and `b` (either order), or None."""
        for link in self.links:
            if set(link.between) == {a, b}:
                return link
        return None
