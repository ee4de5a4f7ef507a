"""`dump_hardware(hw) -> str`: a `Hardware` back to schema-version-1 YAML that loads to an equal
`Hardware` (every float is written with a unit chosen so that parsing gives back the same bits)."""
from __future__ import annotations

from decimal import Decimal

import yaml

from archsim.hardware.types import ComputeUnit, DramTiming, Hardware, MemoryLevel

__all__ = ["dump_hardware"]

_SCALES = {
    "frequency": (("GHz", 10 ** 9), ("MHz", 10 ** 6), ("kHz", 10 ** 3), ("Hz", 1)),
    "bandwidth": (("TB/s", 10 ** 12), ("GB/s", 10 ** 9), ("MB/s", 10 ** 6), ("B/s", 1)),
    "time": (("ns", Decimal("1e-9")), ("us", Decimal("1e-6")), ("ps", Decimal("1e-12")), ("s", 1)),
    "energy": (("pJ",  1),),
    "energy_per_byte": (("pJ/B", 1),),
    "energy_per_bit": (("pJ/bit", 1),),
    "power": (("W", 1), ("mW", Decimal("1e-3"))),
    "area": (("mm2", 1),),
    "length": (("nm", 1),),
}


def _q(value: float, dimension: str) -> str:
    """The shortest exact text for `value` (in the base unit) in one of the dimension's units."""
    scales = _SCALES[dimension]
    for i, (unit, scale) in enumerate(scales):
        scaled = value / float(scale)
        if abs(scaled) < 1 and value != 0 and i < len(scales) - 1:
            continue
        text = repr(float(scaled))
        if float(Decimal(text) * Decimal(scale)) == value:
            return f"{text.removesuffix('.0')} {unit}"
    base_unit = _SCALES[dimension][-1][0]
    return f"{value!r} {base_unit}"


def _bytes(n: int) -> str:
    for unit, scale in (("GiB", 2 ** 30), ("MiB", 2 ** 20), ("KiB", 2 ** 10)):
        if n >= scale and n % scale == 0:
            return f"{n // scale} {unit}"
    for unit, scale in (("GB", 10 ** 9), ("MB", 10 ** 6), ("KB", 10 ** 3)):
        if n >= scale and n % scale == 0:
            return f"{n // scale} {unit}"
    return f"{n} B"


def _dram(d: DramTiming) -> dict:
    out = {
        "channels": d.channels, "ranks": d.ranks, "bank_groups": d.bank_groups, "banks": d.banks_per_group,
        "rows": d.rows, "row_size": _bytes(d.row_size_bytes), "bus_width": d.bus_width_bits,
        "burst_length": d.burst_length, "tCK": _q(d.tck_s, "time"), "data_rate": d.data_rate,
        "CL": d.cl, "tRCD": d.trcd, "tRP": d.trp, "tRAS": d.tras, "tCCD_S": d.tccd_s, "tCCD_L": d.tccd_l,
        "tRRD_S": d.trrd_s, "tRRD_L": d.trrd_l, "tFAW": d.tfaw, "tWR": d.twr, "tRTP": d.trtp,
        "tREFI": d.trefi, "tRFC": d.trfc, "act_energy": _q(d.act_energy_pj, "energy"),
        "refresh_energy": _q(d.refresh_energy_pj, "energy"),
    }
    for key, value in (("tRFCpb", d.trfc_pb), ("tWTR_S", d.twtr_s), ("tWTR_L", d.twtr_l), ("tRTW", d.trtw)):
        if value:
            out[key] = value
    if d.refresh_per_bank:
        out["refresh"] = "per_bank"
    if d.all_bank_activate:
        out["all_bank_activate"] = True
    for key, value, default in (("tXP", d.txp, 0), ("tCKE", d.tcke, 0), ("powerdown_idle", d.powerdown_idle, 0),
                                ("address_mapping", d.address_mapping, "RoRaBaCoBgCh"),
                                ("page_policy", d.page_policy, "open"), ("queue_depth", d.queue_depth, 32),
                                ("row_hit_cap", d.row_hit_cap, 4),
                                ("pim_host_interleave", d.pim_host_interleave, "transfer")):
        if value != default:
            out[key] = value
    return out


def _level(lv: MemoryLevel) -> dict:
    out = {"name": lv.name, "kind": lv.kind, "size": _bytes(lv.size_bytes),
           "bandwidth": _q(lv.bandwidth_bytes_per_s, "bandwidth"),
           "read_energy": _q(lv.read_energy_pj_per_byte, "energy_per_byte"),
           "write_energy": _q(lv.write_energy_pj_per_byte, "energy_per_byte"),
           "ports": lv.ports, "banks": lv.banks, "instances": lv.instances,
           "latency": _q(lv.latency_s, "time"), "leakage": _q(lv.leakage_w, "power"),
           "wait_states": lv.wait_states, "area": _q(lv.area_mm2, "area")}
    if lv.holds:
        out["holds"] = list(lv.holds)
    if lv.address is not None:
        out["address"] = f"0x{lv.address:08X}"
    if lv.memory_type:
        out["memory_type"] = lv.memory_type
    if lv.dram is not None:
        out["dram"] = _dram(lv.dram)
    return out


def _unit(cu: ComputeUnit) -> dict:
    out = {"name": cu.name, "type": cu.type, "count": cu.count, "clock": _q(cu.freq_hz, "frequency"),
           "shape": list(cu.shape), "macs_per_cycle": dict(cu.macs_per_cycle), "attached_to": cu.attached_to}
    if cu.dataflows:
        out["dataflows"] = list(cu.dataflows)
    if cu.ops:
        out["ops"] = list(cu.ops)
    if cu.placement:
        out["placement"] = cu.placement
    out.update(pipeline_depth=cu.pipeline_depth, initiation_interval=cu.initiation_interval,
               launch_overhead=_q(cu.launch_overhead_s, "time"),
               energy_per_mac={d: _q(e, "energy") for d, e in cu.energy_pj_per_mac},
               area=_q(cu.area_mm2, "area"))
    return out


def dump_hardware(hw: Hardware) -> str:
    """YAML text of `hw` in schema version 1 (all defaults written out, every value with its unit)."""
    doc: dict = {"version": hw.version, "name": hw.name, "kind": hw.kind}
    if hw.description:
        doc["description"] = hw.description
    doc.update(clock=_q(hw.freq_hz, "frequency"), technology=_q(hw.tech_node_nm, "length"),
               memory=[_level(lv) for lv in hw.levels], compute=[_unit(cu) for cu in hw.compute])
    if hw.interconnect:
        doc["interconnect"] = [{"name": ic.name, "bandwidth": _q(ic.bandwidth_bytes_per_s, "bandwidth"),
                                "latency": _q(ic.latency_s, "time"),
                                "energy": _q(ic.energy_pj_per_bit, "energy_per_bit"), "links": ic.links}
                               for ic in hw.interconnect]
    if hw.noc is not None:
        n = hw.noc
        doc["noc"] = {"topology": n.topology, "dimensions": list(n.dimensions), "unit": n.unit,
                      "link_bandwidth": _q(n.link_bandwidth_bytes_per_s, "bandwidth"),
                      "hop_latency": _q(n.hop_latency_s, "time"),
                      "energy": _q(n.energy_pj_per_bit_hop, "energy_per_bit"), "multicast": n.multicast,
                      "memory_nodes": list(n.memory_nodes)}
    doc["power"] = {"static": _q(hw.static_power_w, "power"), "idle": _q(hw.idle_power_w, "power"),
                    "tdp": _q(hw.tdp_w, "power"), "active": _q(hw.active_power_w, "power"),
                    "limit": _q(hw.power_limit_w, "power")}
    if hw.idle_covers_dram:
        doc["power"]["idle_covers_dram"] = True
    doc["area"] = _q(hw.area_mm2, "area")
    if hw.host_overhead_s:
        doc["host_overhead"] = _q(hw.host_overhead_s, "time")
    defaults = {k: v for k, v in (("dtype", hw.default_dtype), ("phase", hw.default_phase)) if v}
    if defaults:
        doc["defaults"] = defaults
    if hw.fpga is not None:
        f = hw.fpga
        doc["fpga"] = {"dsp": f.dsp, "bram36": f.bram36, "uram": f.uram, "lut": f.lut, "ff": f.ff}
    doc["sources"] = [{"id": s.id, "text": s.text, "assumption": s.assumption} for s in hw.sources]
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=110)
