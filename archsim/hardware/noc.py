"""The `noc:` section of a hardware description (private helper of `archsim.hardware.build`): the
on-chip network between one compute unit's PE arrays. Schema in docs/hardware-schema.md ("NoC")."""
from __future__ import annotations

from archsim.errors import did_you_mean
from archsim.hardware.fields import BAD, Bad, Checker, boolean, choice, int_list, integer, number, quantity, text, text_list
from archsim.hardware.types import NOC_TOPOLOGIES, Noc
from archsim.hardware.yaml_lines import LocMap
from archsim.limits import MAX_NOC_NODES, out_of_range

__all__ = ["NOC_KEYS", "read_noc"]

NOC_KEYS = ("topology", "dimensions", "unit", "link_bandwidth", "link_bytes_per_cycle", "hop_latency",
            "hop_cycles", "energy", "multicast", "memory_nodes", "source", "notes")


def _dimensions(value):
    dims = int_list(value)
    if len(dims) > 2:
        raise Bad("must be [x, y] (mesh) or [nodes] (ring, bus, crossbar)", got=list(dims))
    return dims


def _node_list(value):
    """Node indices (a whole number or a list of them), each once, in the order given."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = [value]
    if not isinstance(value, list) or not value or any(isinstance(v, bool) or not isinstance(v, int) or v < 0
                                                       for v in value):
        raise Bad("must be a node index or a list of them, e.g. [0, 3]")
    if len(set(value)) != len(value):
        raise Bad("lists a node twice", got=list(value))
    return tuple(value)


def read_noc(ck: Checker, data: LocMap, clock_hz, units: list) -> Noc | None:
    """The description's `noc:` block as a `Noc`, or None (absent, or a problem recorded in `ck`)."""
    block = ck.mapping(data, "noc", "noc", data.get("noc"))
    if block is None:
        return None
    ck.keys(block, NOC_KEYS, "noc")
    take = lambda key, reader, required=False, default=None: ck.take(block, key, "noc", reader, required, default)
    topology = take("topology", choice(NOC_TOPOLOGIES), required=True)
    dims = take("dimensions", _dimensions, required=True)
    unit = take("unit", text, required=True)
    bandwidth = take("link_bandwidth", quantity("bandwidth"))
    per_cycle = take("link_bytes_per_cycle", number())
    latency = take("hop_latency", quantity("time", positive=False))
    hop_cycles = take("hop_cycles", integer(0, 1 << 20))
    energy = take("energy", quantity("energy_per_byte", positive=False), default=0.0)
    multicast = take("multicast", boolean, default=True)
    memory_nodes = take("memory_nodes", _node_list, default=(0,))
    take("source", text_list)
    take("notes", text)
    if (bandwidth is None) == (per_cycle is None):
        ck.add(block, "link_bandwidth" if bandwidth is not None else None, "noc.link_bandwidth",
               "give either 'link_bandwidth' or 'link_bytes_per_cycle'" if bandwidth is not None
               else "missing required field",
               hint="per link and direction, e.g. 'link_bandwidth: 64 GB/s' or 'link_bytes_per_cycle: 32'")
        bandwidth = BAD
    elif per_cycle is BAD:
        bandwidth = BAD
    elif bandwidth is None:
        bandwidth = per_cycle * clock_hz if clock_hz not in (None, BAD) else BAD
        problem = out_of_range(bandwidth, "bandwidth") if bandwidth is not BAD else None
        if problem:
            ck.add(block, "link_bytes_per_cycle", "noc.link_bytes_per_cycle",
                   f"link_bytes_per_cycle × clock {problem}", got=f"{per_cycle:g} B × {clock_hz:g} Hz")
            bandwidth = BAD
    if latency is not None and hop_cycles is not None:
        ck.add(block, "hop_cycles", "noc.hop_cycles", "give either 'hop_latency' or 'hop_cycles'")
        latency = BAD
    elif hop_cycles not in (None, BAD):
        latency = hop_cycles / clock_hz if clock_hz not in (None, BAD) else BAD
    latency = 0.0 if latency is None else latency
    values = (topology, dims, unit, bandwidth, latency, energy, multicast, memory_nodes, hop_cycles)
    if BAD in values:
        return None
    problems = len(ck.problems)
    if topology == "mesh" and len(dims) != 2:
        ck.add(block, "dimensions", "noc.dimensions", "a mesh needs [x, y]", got=list(dims))
    if topology != "mesh" and len(dims) != 1:
        ck.add(block, "dimensions", "noc.dimensions", f"a {topology} needs [nodes]", got=list(dims),
               hint="only a mesh has two dimensions")
    nodes = 1
    for d in dims:
        nodes *= d
    if nodes > MAX_NOC_NODES:
        ck.add(block, "dimensions", "noc.dimensions", f"at most {MAX_NOC_NODES:,} nodes", got=list(dims),
               hint="archsim.limits.MAX_NOC_NODES")
    named = {u.name: u for u in units if u is not None}
    if unit not in named:
        ck.add(block, "unit", "noc.unit", "no compute unit with this name", got=repr(unit),
               hint=did_you_mean(unit, list(named)) or f"units: {', '.join(named)}")
    elif named[unit].type in ("pim_bank", "sm"):
        ck.add(block, "unit", "noc.unit", f"a {named[unit].type} unit is not a PE array on a NoC",
               got=repr(unit), hint="name a systolic, dsp_array, vector or scalar_core unit")
    elif named[unit].count != nodes:
        ck.add(block, "dimensions", "noc.dimensions", f"nodes must equal the count of unit '{unit}'",
               got=f"{nodes} nodes vs count {named[unit].count}", hint="one node per PE array")
    if max(memory_nodes) >= nodes:
        ck.add(block, "memory_nodes", "noc.memory_nodes", f"node indices must be below {nodes}",
               got=list(memory_nodes))
    elif topology in ("bus", "crossbar") and memory_nodes != (0,):
        ck.add(block, "memory_nodes", "noc.memory_nodes", "only a mesh or a ring has memory nodes",
               got=list(memory_nodes), hint=f"a {topology}'s memory side has its own "
               f"{'agent on the bus' if topology == 'bus' else 'port'}")
    if len(ck.problems) > problems:
        return None
    return Noc(topology=topology, dimensions=tuple(dims), unit=unit, link_bandwidth_bytes_per_s=bandwidth,
               hop_latency_s=latency, energy_pj_per_bit_hop=energy / 8, multicast=multicast,
               memory_nodes=memory_nodes)
