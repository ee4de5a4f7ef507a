"""Turn a merged hardware description (LocMap) into a `Hardware`, collecting every problem
(private helper of `archsim.hardware`; the schema is documented in docs/hardware-schema.md)."""
from __future__ import annotations

import math

from archsim import energy
from archsim.hardware.check import check_hardware
from archsim.hardware.noc import read_noc
from archsim.hardware.fields import (
    BAD, Bad, Checker, address, boolean, choice, choices, cycles, int_list, integer, number, quantity, text,
    text_list,
)
from archsim.hardware.yaml_lines import LocList, LocMap
from archsim.energy.tables import DRAM_PJ_PER_BIT, MAC_45NM_PJ
from archsim.limits import MAX_DRAM_BANKS, MAX_DRAM_CHANNELS, MAX_PIPELINE_DEPTH, out_of_range
from archsim.hardware.types import (
    KINDS, MEMORY_KINDS, UNIT_TYPES, ComputeUnit, DramTiming, FpgaResources, Hardware, Interconnect,
    MemoryLevel, Source,
)
from archsim.ir import DTYPE_BITS, OpKind

__all__ = ["build_hardware", "TOP_KEYS", "LEVEL_KEYS", "DRAM_KEYS", "COMPUTE_KEYS"]

TOP_KEYS = ("version", "name", "kind", "description", "base", "clock", "technology", "memory", "compute",
            "interconnect", "power", "area", "host_overhead", "fpga", "sources", "source", "notes",
            "defaults", "noc")
DEFAULTS_KEYS = ("dtype", "phase", "source", "notes")
PHASES = ("prefill", "decode", "encode")
LEVEL_KEYS = ("name", "kind", "size", "bandwidth", "bytes_per_cycle", "read_energy", "write_energy",
              "energy", "width", "ports", "banks", "instances", "latency", "leakage", "wait_states", "dram",
              "holds", "area", "memory_type", "address", "source", "notes")
DRAM_TIMINGS = ("CL", "tRCD", "tRP", "tRAS", "tCCD_S", "tCCD_L", "tRRD_S", "tRRD_L", "tFAW", "tWR", "tRTP",
                "tREFI", "tRFC", "tRFCpb", "tWTR_S", "tWTR_L", "tRTW", "tXP", "tCKE", "powerdown_idle")
DRAM_KEYS = ("channels", "ranks", "bank_groups", "banks", "rows", "row_size", "bus_width", "burst_length",
             "tCK", "data_rate") + DRAM_TIMINGS + ("refresh", "act_energy", "refresh_energy",
                                                "all_bank_activate", "address_mapping", "page_policy",
                                                "queue_depth", "row_hit_cap", "pim_host_interleave",
                                                "source", "notes")
#: address-mapping fields (two letters each, most significant first; `archsim.engine.dram_controller`)
MAPPING_FIELDS = ("Ro", "Ra", "Bg", "Ba", "Co", "Ch")
#: MACs per cycle a unit may claim per PE of its shape: packed narrow dtypes (int4 on a T4 tensor core
#: runs at 4x its fp16 shape); more than this is a shape that was changed without its rates.
MAX_MACS_PER_PE = 8

COMPUTE_KEYS = ("name", "type", "count", "clock", "shape", "lanes", "macs_per_cycle", "dataflows", "ops",
                "attached_to", "placement", "pipeline_depth", "initiation_interval", "launch_overhead",
                "energy_per_mac", "area", "source", "notes")
LINK_KEYS = ("name", "bandwidth", "latency", "energy", "links", "source", "notes")
POWER_KEYS = ("static", "idle", "tdp", "active", "run_per_mhz", "limit", "idle_covers_dram", "source", "notes")
FPGA_KEYS = ("dsp", "bram36", "uram", "lut", "ff", "source", "notes")
SOURCE_KEYS = ("id", "text", "assumption", "covers")
DATAFLOWS = ("ws", "os", "is", "rs")
DATAFLOW_ALIASES = {"weight_stationary": "ws", "output_stationary": "os", "input_stationary": "is",
                    "row_stationary": "rs"}
PLACEMENTS = ("bank", "bank_group", "buffer_die")
ROLES = ("weight", "activation", "kv_cache")
MEMORY_TYPES = tuple(k for k in DRAM_PJ_PER_BIT if not k.endswith("_write"))


def _label(item, index: int, section: str) -> str:
    name = item.get("name") if isinstance(item, LocMap) else None
    return f"{section}.{name}" if isinstance(name, str) and name else f"{section}[{index}]"


def _items(ck: Checker, data: LocMap, section: str, required: bool):
    value = data.get(section)
    if value is None:
        if required:
            ck.take(data, section, "", text, required=True)
        return []
    if not isinstance(value, LocList) or (required and not value):
        ck.add(data, section, section, "must be a non-empty list" if required else "must be a list",
               got="a mapping" if isinstance(value, LocMap) else repr(value))
        return []
    out = []
    for i, item in enumerate(value):
        path = _label(item, i, section)
        if not isinstance(item, LocMap):
            ck.add(value, i, path, "each entry must be a mapping of keys", got=repr(item))
            continue
        out.append((path, item))
    return out


def _cycles(value, tck_s: float):
    if isinstance(value, tuple):
        return math.ceil(value[1] / tck_s - 1e-9)
    return value


def address_mapping(value):
    """A mapping name: two-letter fields out of MAPPING_FIELDS, each once, with Ro, Ba, Co and Ch."""
    name = text(value)
    tokens = [name[i:i + 2] for i in range(0, len(name), 2)]
    bad = [x for x in tokens if x not in MAPPING_FIELDS]
    if len(name) % 2 or bad:
        raise Bad(f"fields are two letters each out of {', '.join(MAPPING_FIELDS)}", "e.g. RoRaBaCoBgCh",
                  got=name)
    twice = [x for x in set(tokens) if tokens.count(x) > 1]
    if twice not in ([], ["Bg"]) or tokens.count("Bg") > 2 or not {"Ro", "Ba", "Co", "Ch"} <= set(tokens):
        raise Bad("needs Ro, Ba, Co and Ch, each once (Ra optional; Bg optional, at most twice: "
                  "split bank-group bits)", "e.g. RoRaBaCoBgCh or RoRaBaBgCoBgCh", got=name)
    return name


def _dram(ck: Checker, m: LocMap, path: str, kind: str, memory_type: str):
    ck.keys(m, DRAM_KEYS, path)
    _annotations(ck, m, path)
    take = lambda key, reader, required=False, default=None: ck.take(m, key, path, reader, required, default)
    v = {k: take(k, integer(1), required=True) for k in ("banks", "rows", "burst_length")}
    v["channels"] = take("channels", integer(1, MAX_DRAM_CHANNELS), required=True)
    v["ranks"] = take("ranks", integer(1), default=1)
    v["bank_groups"] = take("bank_groups", integer(1), default=1)
    counts = [v[k] for k in ("channels", "ranks", "bank_groups", "banks")]
    if BAD not in counts and math.prod(counts) > MAX_DRAM_BANKS:
        ck.add(m, "banks", f"{path}.banks", f"channels × ranks × bank_groups × banks must be at most "
               f"{MAX_DRAM_BANKS:,} (the engine keeps a state per bank; archsim.limits)",
               got=f"{' × '.join(map(str, counts))} = {math.prod(counts):,}",
               hint="larger than any real memory; check the digits")
        return BAD
    v["data_rate"] = take("data_rate", integer(1), default=2)
    v["row_size"] = take("row_size", quantity("bytes"), required=True)
    v["bus_width"] = take("bus_width", quantity("bits", allow_bare=True), required=True)
    tck = take("tCK", quantity("time"), required=True)
    timings = {k: take(k, cycles, default=0) for k in DRAM_TIMINGS}
    act = take("act_energy", quantity("energy", positive=False), default=None)
    ref = take("refresh_energy", quantity("energy", positive=False), default=None)
    all_bank = take("all_bank_activate", boolean, default=False)
    refresh = take("refresh", choice(("all_bank", "per_bank")), default="all_bank")
    ctl = {"address_mapping": take("address_mapping", address_mapping, default="RoRaBaCoBgCh"),
           "page_policy": take("page_policy", choice(("open", "closed")), default="open"),
           "queue_depth": take("queue_depth", integer(1, 4096), default=32),
           "row_hit_cap": take("row_hit_cap", integer(0, 1 << 20), default=4),
           "pim_host_interleave": take("pim_host_interleave", choice(("transfer", "row")),
                                       default="transfer")}
    if BAD in ctl.values():
        return BAD
    if ctl["address_mapping"].count("Bg") == 2 and v["bank_groups"] not in (BAD, None) \
            and (v["bank_groups"] < 4 or v["bank_groups"] % 2):
        ck.add(m, "address_mapping", f"{path}.address_mapping",
               "a split bank group (Bg twice) needs an even number of bank groups, at least 4",
               got=f"{v['bank_groups']} bank groups")
        return BAD
    if BAD in v.values() or tck is BAD or BAD in timings.values() or act is BAD or ref is BAD \
            or all_bank is BAD or refresh is BAD:
        return BAD
    t = {k: _cycles(x, tck) for k, x in timings.items()}
    if refresh == "per_bank" and not t["tRFCpb"]:
        ck.add(m, "refresh", f"{path}.refresh", "per-bank refresh needs tRFCpb", got="no tRFCpb",
               hint="give the per-bank refresh time, e.g. 'tRFCpb: 120 ns'")
        return BAD
    return DramTiming(
        channels=v["channels"], ranks=v["ranks"], bank_groups=v["bank_groups"], banks_per_group=v["banks"],
        rows=v["rows"], row_size_bytes=v["row_size"], bus_width_bits=v["bus_width"],
        burst_length=v["burst_length"], tck_s=tck, data_rate=v["data_rate"], cl=t["CL"], trcd=t["tRCD"],
        trp=t["tRP"], tras=t["tRAS"], tccd_s=t["tCCD_S"], tccd_l=t["tCCD_L"], trrd_s=t["tRRD_S"],
        trrd_l=t["tRRD_L"], tfaw=t["tFAW"], twr=t["tWR"], trtp=t["tRTP"], trefi=t["tREFI"], trfc=t["tRFC"],
        trfc_pb=t["tRFCpb"], refresh_per_bank=refresh == "per_bank", twtr_s=t["tWTR_S"],
        twtr_l=t["tWTR_L"], trtw=t["tRTW"],
        act_energy_pj=energy.act_pre_energy_pj(kind, memory_type, v["bus_width"]) if act is None else act,
        refresh_energy_pj=energy.refresh_energy_pj(kind, memory_type, v["bus_width"]) if ref is None else ref,
        all_bank_activate=all_bank, txp=t["tXP"], tcke=t["tCKE"], powerdown_idle=t["powerdown_idle"], **ctl,
    )


def _energy_per_byte(ck: Checker, m: LocMap, key: str, path: str, width_bytes):
    """pJ per byte from 'X pJ/bit', 'X pJ/B' or, with `width`, 'X pJ' per access."""
    value = m.get(key)
    if isinstance(value, str) and value.strip().endswith(("pJ", "nJ", "fJ")) and "/" not in value:
        per_access = ck.take(m, key, path, quantity("energy", positive=False))
        if per_access is BAD:
            return BAD
        if not width_bytes:
            ck.add(m, key, f"{path}.{key}", "energy per access needs the access 'width' of the level",
                   got=repr(value), hint="add 'width: 64 bit', or write the energy per bit, e.g. '7.5 pJ/bit'")
            return BAD
        return per_access / width_bytes
    return ck.take(m, key, path, quantity("energy_per_byte", positive=False))


def _level(ck: Checker, path: str, m: LocMap, clock_hz, node_nm):
    ck.keys(m, LEVEL_KEYS, path)
    take = lambda key, reader, required=False, default=None: ck.take(m, key, path, reader, required, default)
    name = take("name", text, required=True)
    kind = take("kind", choice(MEMORY_KINDS), required=True)
    memory_type = take("memory_type", choice(MEMORY_TYPES))
    dram = None
    if m.get("dram") is not None:
        block = ck.mapping(m, "dram", f"{path}.dram", m["dram"])
        if block is not None and kind is not BAD:
            if kind not in ("dram", "hbm", "gddr", "lpddr"):
                ck.add(m, "dram", f"{path}.dram", "a DRAM timing block needs a DRAM level",
                       got=f"kind {kind}", hint="use kind dram, hbm, gddr or lpddr")
                dram = BAD
            else:
                dram = _dram(ck, block, f"{path}.dram", kind, memory_type if memory_type is not BAD else "")
        elif block is None:
            dram = BAD
    size = take("size", quantity("bytes"), required=dram is None)
    if size is None and dram not in (None, BAD):
        size = dram.capacity_bytes
        problem = out_of_range(size, "bytes")
        if problem:
            ck.add(m, "dram", f"{path}.dram", f"capacity (channels × ranks × banks × rows × row_size) "
                   f"{problem}", got=f"{size:,} B")
            size = BAD
    bandwidth = take("bandwidth", quantity("bandwidth"))
    per_cycle = take("bytes_per_cycle", number())
    if bandwidth is None and per_cycle is None:
        if dram is BAD:
            bandwidth = BAD
        elif dram is not None:
            bandwidth = float(f"{dram.peak_bandwidth_bytes_per_s:.12g}")
        else:
            ck.add(m, None, f"{path}.bandwidth", "missing required field",
                   hint="give 'bandwidth' (e.g. '4.8 TB/s') or 'bytes_per_cycle' (at the chip clock)")
            bandwidth = BAD
    elif bandwidth is None and per_cycle is not BAD:
        bandwidth = per_cycle * clock_hz if clock_hz not in (None, BAD) else BAD
        problem = out_of_range(bandwidth, "bandwidth") if bandwidth is not BAD else None
        if problem:
            ck.add(m, "bytes_per_cycle", f"{path}.bytes_per_cycle", f"bytes_per_cycle × clock {problem}",
                   got=f"{per_cycle:g} B × {clock_hz:g} Hz")
            bandwidth = BAD
    elif bandwidth is not None and per_cycle is not None:
        ck.add(m, "bytes_per_cycle", f"{path}.bytes_per_cycle", "give either 'bandwidth' or 'bytes_per_cycle'")
    width = take("width", quantity("bytes"))
    both = _energy_per_byte(ck, m, "energy", path, width) if "energy" in m else None
    read = _energy_per_byte(ck, m, "read_energy", path, width) if "read_energy" in m else both
    write = _energy_per_byte(ck, m, "write_energy", path, width) if "write_energy" in m else read
    if memory_type and kind not in (BAD, "dram", "hbm", "gddr", "lpddr"):
        ck.add(m, "memory_type", f"{path}.memory_type", "only DRAM levels have a memory type", got=f"kind {kind}")
    fields = dict(
        ports=take("ports", integer(1), default=1), banks=take("banks", integer(1), default=1),
        instances=take("instances", integer(1), default=1),
        latency_s=take("latency", quantity("time", positive=False), default=0.0),
        leakage_w=take("leakage", quantity("power", positive=False), default=0.0),
        wait_states=take("wait_states", integer(0, MAX_PIPELINE_DEPTH), default=0),
        holds=take("holds", choices(ROLES), default=()),
        area_mm2=take("area", quantity("area", positive=False), default=0.0),
        address=take("address", address),
    )
    _annotations(ck, m, path)
    needed = (name, kind, size, bandwidth, read, write, dram, memory_type, width) + tuple(fields.values())
    if BAD in needed or node_nm is BAD:
        return None
    if read is None:
        if memory_type:
            read = energy.dram_energy_pj_per_byte(memory_type)
            write = read
        else:
            # a banked array is read one bank at a time: price the access by the bank's size
            read = energy.level_energy_pj_per_byte(kind, max(1, size // fields["banks"]), node_nm)
            write = read if write is None else write
    return MemoryLevel(name=name, kind=kind, size_bytes=size, bandwidth_bytes_per_s=bandwidth,
                       read_energy_pj_per_byte=read, write_energy_pj_per_byte=write, dram=dram,
                       memory_type=memory_type or "", **fields)


def _dtype_map(ck: Checker, m: LocMap, key: str, path: str, reader):
    value = m.get(key)
    if value is None:
        return ()
    if not isinstance(value, LocMap) or not value:
        ck.add(m, key, f"{path}.{key}", "must be a mapping of dtype → value, e.g. {int8: 256}",
               got=repr(value) if not isinstance(value, LocList) else "a list")
        return BAD
    out, ok = [], True
    for dtype in value:
        if dtype not in DTYPE_BITS:
            from archsim.errors import did_you_mean
            ck.add(value, dtype, f"{path}.{key}.{dtype}", "unknown dtype",
                   hint=did_you_mean(dtype, DTYPE_BITS) or f"choose from {', '.join(DTYPE_BITS)}")
            ok = False
            continue
        parsed = ck.take(value, dtype, f"{path}.{key}", reader, required=True)
        ok = ok and parsed is not BAD
        out.append((dtype, parsed))
    return tuple(out) if ok else BAD


def _compute(ck: Checker, path: str, m: LocMap, clock_hz, node_nm, levels=()):
    ck.keys(m, COMPUTE_KEYS, path)
    take = lambda key, reader, required=False, default=None: ck.take(m, key, path, reader, required, default)
    name = take("name", text, required=True)
    type_ = take("type", choice(UNIT_TYPES), required=True)
    shape = take("shape", int_list)
    lanes = take("lanes", integer(1))
    if shape is None and lanes is None:
        ck.add(m, None, f"{path}.shape", "missing required field", hint="give 'shape: [rows, cols]' or 'lanes: N'")
        shape = BAD
    elif shape is None:
        shape = BAD if lanes is BAD else (lanes,)      # a bad `lanes` is reported already
    elif lanes is not None:
        ck.add(m, "lanes", f"{path}.lanes", "give either 'shape' or 'lanes'")
    macs = _dtype_map(ck, m, "macs_per_cycle", path, number())
    if macs == ():
        ck.add(m, None, f"{path}.macs_per_cycle", "missing required field", hint="e.g. 'macs_per_cycle: {int8: 256}'")
        macs = BAD
    energy_map = _dtype_map(ck, m, "energy_per_mac", path, quantity("energy"))
    unit_clock = take("clock", quantity("frequency"), default=clock_hz)
    fields = dict(
        count=take("count", integer(1), default=1),
        attached_to=take("attached_to", text, required=True),
        dataflows=take("dataflows", choices(DATAFLOWS, DATAFLOW_ALIASES), default=()),
        ops=take("ops", choices(tuple(k.value for k in OpKind)), default=()),
        placement=take("placement", choice(PLACEMENTS), default=""),
        pipeline_depth=take("pipeline_depth", integer(0, MAX_PIPELINE_DEPTH), default=0),
        initiation_interval=take("initiation_interval", integer(1, MAX_PIPELINE_DEPTH), default=1),
        launch_overhead_s=take("launch_overhead", quantity("time", positive=False), default=0.0),
        area_mm2=take("area", quantity("area", positive=False), default=0.0),
    )
    _annotations(ck, m, path)
    if type_ not in (BAD, "systolic", "dsp_array") and fields["dataflows"]:
        ck.add(m, "dataflows", f"{path}.dataflows", "only systolic and dsp_array units have dataflows",
               got=f"type {type_}")
    if type_ != "pim_bank" and fields["placement"]:
        ck.add(m, "placement", f"{path}.placement", "only pim_bank units have a placement", got=f"type {type_}")
    needed = (name, type_, shape, macs, energy_map, unit_clock, node_nm) + tuple(fields.values())
    if BAD in needed or unit_clock is None:
        return None
    if type_ in ("systolic", "dsp_array") and len(shape) != 2:
        ck.add(m, "shape", f"{path}.shape", f"a {type_} unit needs shape [rows, cols]", got=list(shape))
        return None
    pes = 1
    for n in shape or ():
        pes *= n
    too_fast = [(d, v) for d, v in macs if shape and v > MAX_MACS_PER_PE * pes]
    if too_fast:
        d, v = too_fast[0]
        ck.add(m, "macs_per_cycle", f"{path}.macs_per_cycle.{d}",
               f"more than {MAX_MACS_PER_PE}x the {pes} PEs of shape {list(shape)}", got=f"{v:g}",
               hint="change macs_per_cycle together with shape (or lanes)")
        return None
    given = dict(energy_map)
    unpriced = [d for d, _ in macs if d not in given and d not in MAC_45NM_PJ]
    if unpriced:
        ck.add(m, "macs_per_cycle", f"{path}.energy_per_mac", f"no default MAC energy for {', '.join(unpriced)}",
               hint="give 'energy_per_mac: {DTYPE: X pJ}'")
        return None
    # a unit with its own register file has its operand delivery counted there (energy.register_file)
    delivery = energy.register_file([lv for lv in levels if lv is not None], type_,
                                    fields["attached_to"]) is None
    if type_ == "dsp_array":     # DSP slices with the fabric that feeds them (energy.fpga)
        energy_pj = tuple((d, given.get(d, energy.dsp_array_mac_energy_pj(rate / pes, node_nm)))
                          for d, rate in macs)
    else:
        energy_pj = tuple((d, given.get(d, energy.mac_energy_pj(d, node_nm, delivery))) for d, _ in macs)
    energy_pj += tuple((d, e) for d, e in energy_map if d not in dict(macs))
    return ComputeUnit(name=name, type=type_, freq_hz=unit_clock, shape=shape, macs_per_cycle=macs,
                       energy_pj_per_mac=energy_pj, **fields)


def _link(ck: Checker, path: str, m: LocMap):
    ck.keys(m, LINK_KEYS, path)
    take = lambda key, reader, required=False, default=None: ck.take(m, key, path, reader, required, default)
    v = dict(name=take("name", text, required=True), bandwidth_bytes_per_s=take("bandwidth", quantity("bandwidth"),
             required=True), latency_s=take("latency", quantity("time", positive=False), default=0.0),
             energy_pj_per_bit=take("energy", quantity("energy_per_byte", positive=False), default=0.0),
             links=take("links", integer(1), default=1))
    _annotations(ck, m, path)
    if BAD in v.values():
        return None
    v["energy_pj_per_bit"] /= 8
    return Interconnect(**v)


def _source(ck: Checker, path: str, m: LocMap):
    ck.keys(m, SOURCE_KEYS, path)
    take = lambda key, reader, required=False, default=None: ck.take(m, key, path, reader, required, default)
    v = dict(id=take("id", text, required=True), text=take("text", text, required=True),
             assumption=take("assumption", boolean, default=False))
    take("covers", text_list)
    return None if BAD in v.values() else Source(**v)


def _block(ck: Checker, data: LocMap, key: str, allowed):
    block = ck.mapping(data, key, key, data.get(key))
    if block is not None:
        ck.keys(block, allowed, key)
        _annotations(ck, block, key)
    return block


def _annotations(ck: Checker, m: LocMap, path: str) -> None:
    """Every section's `source` (an id or a list of ids of `sources`) and `notes` (text) are read,
    so a number or a mapping there is an error, not silently kept."""
    ck.take(m, "source", path, text_list)
    ck.take(m, "notes", path, text)


def _active_w(pw: dict, clock_hz: float) -> float:
    """Power above static while running: `active` as given, or `run_per_mhz` (run-mode supply
    current × voltage per MHz, MCU datasheet style) × clock in MHz minus the static power."""
    if pw["active"]:
        return pw["active"]
    if pw["run_per_mhz"]:
        return max(0.0, pw["run_per_mhz"] * clock_hz / 1e6 - pw["static"])
    return 0.0


def build_hardware(data: LocMap) -> tuple[Hardware | None, list]:
    """Validate a merged description; returns (Hardware or None, problems)."""
    ck = Checker()
    ck.keys(data, TOP_KEYS, "")
    take = lambda key, reader, required=False, default=None: ck.take(data, key, "", reader, required, default)
    version = take("version", integer(1), required=True)
    if version not in (BAD, 1):
        ck.add(data, "version", "version", "unsupported schema version", got=version, hint="this archsim reads version 1")
    name = take("name", text, required=True)
    kind = take("kind", choice(KINDS), required=True)
    clock = take("clock", quantity("frequency"), required=True)
    node = take("technology", quantity("length"), required=True)
    description = take("description", text, default="")
    take("base", text)
    _annotations(ck, data, "")
    levels = [_level(ck, p, m, clock, node) for p, m in _items(ck, data, "memory", True)]
    units = [_compute(ck, p, m, clock, node, levels) for p, m in _items(ck, data, "compute", True)]
    links = [_link(ck, p, m) for p, m in _items(ck, data, "interconnect", False)]
    noc = read_noc(ck, data, clock, units) if data.get("noc") is not None else None
    sources = [_source(ck, p, m) for p, m in _items(ck, data, "sources", True)]
    power = _block(ck, data, "power", POWER_KEYS)
    pw = {k: ck.take(power, k, "power", quantity("power", positive=False), default=0.0) if power else 0.0
          for k in ("static", "idle", "tdp", "active", "run_per_mhz", "limit")}
    covers = ck.take(power, "idle_covers_dram", "power", boolean, default=False) if power else False
    area = take("area", quantity("area", positive=False), default=0.0)
    host = take("host_overhead", quantity("time", positive=False), default=0.0)
    if host not in (BAD, 0.0) and not any(u is not None and u.type == "sm" for u in units):
        ck.add(data, "host_overhead", "host_overhead", "only a GPU (a description with sm units) "
               "issues kernels from a host", hint="other units charge per-op time as a compute "
               "unit's launch_overhead")
    defaults = _block(ck, data, "defaults", DEFAULTS_KEYS)
    default_dtype = default_phase = ""
    if defaults is not None:
        default_dtype = ck.take(defaults, "dtype", "defaults", choice(tuple(DTYPE_BITS)), default="")
        default_phase = ck.take(defaults, "phase", "defaults", choice(PHASES), default="")
    fpga_block = _block(ck, data, "fpga", FPGA_KEYS)
    fpga = None
    if fpga_block is not None:
        r = {k: ck.take(fpga_block, k, "fpga", integer(0), required=True) for k in ("dsp", "bram36", "uram", "lut", "ff")}
        fpga = None if BAD in r.values() else FpgaResources(**r)
    if kind == "fpga" and "fpga" not in data:
        ck.add(data, None, "fpga", "missing required field", hint="an FPGA description lists its resources (dsp, bram36, uram, lut, ff)")
    scalars = (version, name, kind, clock, node, description, area, host, default_dtype,
               default_phase, covers) + tuple(pw.values())
    if ck.problems or BAD in scalars or None in levels or None in units or None in links or None in sources:
        check_hardware(ck, data, levels, units, sources)
        return None, ck.problems
    hw = Hardware(name=name, kind=kind, freq_hz=clock, tech_node_nm=node, levels=tuple(levels),
                  compute=tuple(units), interconnect=tuple(links), static_power_w=pw["static"],
                  idle_power_w=pw["idle"], tdp_w=pw["tdp"], area_mm2=area,
                  active_power_w=_active_w(pw, clock), power_limit_w=pw["limit"], idle_covers_dram=covers,
                  fpga=fpga, sources=tuple(sources), description=description, version=version,
                  host_overhead_s=host, default_dtype=default_dtype, default_phase=default_phase,
                  noc=noc)
    check_hardware(ck, data, levels, units, sources)
    return (None if ck.problems else hw), ck.problems
