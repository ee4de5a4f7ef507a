"""Frozen descriptions of a chip. Built only by `archsim.hardware.load_hardware` (the YAML boundary).

A `Hardware` is an ordered tuple of memory levels, outermost first (DRAM/HBM/flash → global buffer →
local buffers/registers), plus compute units attached to levels. The accelerator kind is a field;
differences in timing are captured by pure functions keyed by `ComputeUnit.type`, never by classes.
All quantities are SI with the unit in the name (bytes, Hz, seconds, pJ, W, mm²).
"""
from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "KINDS", "MEMORY_KINDS", "UNIT_TYPES", "DramTiming", "MemoryLevel", "ComputeUnit",
    "Interconnect", "Noc", "NOC_TOPOLOGIES", "FpgaResources", "Source", "Hardware",
]

KINDS = ("pim", "fpga", "npu", "mcu", "gpu", "cpu")
MEMORY_KINDS = ("dram", "hbm", "gddr", "lpddr", "sram", "register", "flash", "bram", "uram", "cache")
OFF_CHIP_KINDS = ("dram", "hbm", "gddr", "lpddr", "flash")
UNIT_TYPES = ("systolic", "vector", "pim_bank", "dsp_array", "scalar_core", "sm")


@dataclass(frozen=True, slots=True)
class DramTiming:
    """DRAM organisation and timing. Timing parameters are in DRAM clock cycles of `tck_s`."""
    channels: int
    ranks: int
    bank_groups: int
    banks_per_group: int
    rows: int
    row_size_bytes: int          # page size per bank, per channel
    bus_width_bits: int          # per channel
    burst_length: int
    tck_s: float
    data_rate: int = 2           # transfers per tCK (2 = DDR; GDDR6 is often described per WCK)
    cl: int = 0
    trcd: int = 0
    trp: int = 0
    tras: int = 0
    tccd_s: int = 0
    tccd_l: int = 0
    trrd_s: int = 0
    trrd_l: int = 0
    tfaw: int = 0
    twr: int = 0
    trtp: int = 0
    trefi: int = 0
    trfc: int = 0
    trfc_pb: int = 0                 # per-bank refresh time (REFpb / REFsb)
    refresh_per_bank: bool = False   # refresh one bank every tREFI / banks (else all banks every tREFI)
    twtr_s: int = 0                  # write data end → read command, other / same bank group
    twtr_l: int = 0
    trtw: int = 0                    # read command → write command; 0 = CL + burst + 2 − CWL
    act_energy_pj: float = 0.0       # one ACT+PRE pair, per bank
    refresh_energy_pj: float = 0.0   # one REF command, per rank
    # PIM all-bank activate: a PIM MAC row burst opens its row in all its banks with ONE command
    # (GDDR6-AiM ACT4/ACT16), spaced tRRD_L from other ACTs and outside the tFAW window
    all_bank_activate: bool = False
    # the controller (request-level model, `archsim.engine.dram_controller`)
    address_mapping: str = "RoRaBaCoBgCh"   # fields from the most significant down (schema doc)
    page_policy: str = "open"        # open | closed (auto-precharge after every column)
    queue_depth: int = 32            # requests per channel queue
    row_hit_cap: int = 4             # FR-FCFS+Cap: younger requests served ahead of the oldest
    txp: int = 0                     # power-down exit → first command
    tcke: int = 0                    # minimum power-down residency
    powerdown_idle: int = 0          # idle cycles before power-down entry; 0 = never
    # host transfers against PIM all-bank MAC bursts on the engine's controller path: `transfer`
    # waits for the whole PIM burst; `row` goes between its row bursts (assumption either way)
    pim_host_interleave: str = "transfer"

    @property
    def banks_per_channel(self) -> int:
        return self.ranks * self.bank_groups * self.banks_per_group

    @property
    def capacity_bytes(self) -> int:
        return self.channels * self.banks_per_channel * self.rows * self.row_size_bytes

    @property
    def burst_bytes(self) -> int:
        return self.bus_width_bits * self.burst_length // 8

    @property
    def peak_bandwidth_bytes_per_s(self) -> float:
        """Pin bandwidth: channels × bus width × transfers per second."""
        return self.channels * self.bus_width_bits / 8 * self.data_rate / self.tck_s


@dataclass(frozen=True, slots=True)
class MemoryLevel:
    name: str
    kind: str
    size_bytes: int
    bandwidth_bytes_per_s: float            # sustained peak between this level and the next inner one
    read_energy_pj_per_byte: float
    write_energy_pj_per_byte: float
    ports: int = 1
    banks: int = 1
    latency_s: float = 0.0
    leakage_w: float = 0.0
    wait_states: int = 0                    # flash wait states at the core clock (MCU)
    dram: DramTiming | None = None
    holds: tuple[str, ...] = ()             # roles this level may hold: weight, activation, kv_cache; () = any
    area_mm2: float = 0.0
    instances: int = 1                      # identical copies (e.g. one shared memory per GPU SM); size_bytes is
                                            # per copy, bandwidth_bytes_per_s the total over all copies
    address: int | None = None              # base address in the chip's address map; levels whose ranges
                                            # adjoin form one contiguous region (one MCU arena pool)
    memory_type: str = ""                   # DRAM technology (ddr4, hbm3e, …): prices background power

    @property
    def off_chip(self) -> bool:
        return self.kind in OFF_CHIP_KINDS

    @property
    def capacity_bytes(self) -> int:
        """Bytes the level holds over all its instances."""
        return self.size_bytes * max(1, self.instances)


@dataclass(frozen=True, slots=True)
class ComputeUnit:
    """A compute resource. `macs_per_cycle` maps dtype name → MACs per cycle per instance.

    `shape` is (rows, cols) for systolic/dsp arrays, (lanes,) for vector/pim_bank/scalar units.
    `attached_to` names the memory level it reads operands from. `ops` lists op kinds it runs
    (empty = every kind its type can run)."""
    name: str
    type: str
    count: int
    freq_hz: float
    shape: tuple[int, ...]
    macs_per_cycle: tuple[tuple[str, float], ...]
    attached_to: str
    dataflows: tuple[str, ...] = ()
    ops: tuple[str, ...] = ()
    pipeline_depth: int = 0
    initiation_interval: int = 1
    launch_overhead_s: float = 0.0
    energy_pj_per_mac: tuple[tuple[str, float], ...] = ()
    area_mm2: float = 0.0
    placement: str = ""                     # pim_bank only: bank | bank_group | buffer_die
    # dtype → (the rate entry it runs at, MACs per cycle), filled on first use: the engine and the
    # mapper ask it for every op
    _rates: dict = field(init=False, repr=False, compare=False, default_factory=dict)

    def _rate(self, dtype: str) -> tuple[str | None, float]:
        hit = self._rates.get(dtype)
        if hit is None:
            table = dict(self.macs_per_cycle)
            used = next((d for d in (dtype, *_DTYPE_FALLBACK.get(dtype, ())) if d in table), None)
            hit = self._rates[dtype] = (used, table[used] if used is not None else 0.0)
        return hit

    def rate_dtype(self, dtype: str) -> str | None:
        """The entry of `macs_per_cycle` that `dtype` runs at: itself, else its first alias listed
        (bf16 ↔ fp16, int4 → int8, fp8 → int8/fp16/bf16, …); None without either."""
        return self._rate(dtype)[0]

    def macs_per_cycle_for(self, dtype: str) -> float:
        return self._rate(dtype)[1]

    def peak_macs_per_s(self, dtype: str) -> float:
        return self.count * self.macs_per_cycle_for(dtype) * self.freq_hz


_DTYPE_FALLBACK = {
    "bf16": ("fp16",), "fp16": ("bf16",), "int4": ("int8",), "int2": ("int4", "int8"),
    "ternary": ("int2", "int4", "int8"), "fp8": ("int8", "fp16", "bf16"), "tf32": ("fp32",),
}


@dataclass(frozen=True, slots=True)
class Interconnect:
    name: str
    bandwidth_bytes_per_s: float
    latency_s: float = 0.0
    energy_pj_per_bit: float = 0.0
    links: int = 1


#: on-chip network shapes: a 2-D mesh with XY routing, a bidirectional ring, one shared bus, a
#: crossbar (a port per node and one for the memory side); `archsim.engine.noc` routes on them
NOC_TOPOLOGIES = ("mesh", "ring", "bus", "crossbar")


@dataclass(frozen=True, slots=True)
class Noc:
    """The network between the PE arrays of one compute unit (`unit`: its `count` instances are the
    nodes) and the on-chip level they read (the unit's `attached_to`, which injects into and ejects
    from the routers of `memory_nodes`, each over its own pair of links). `dimensions`: [x, y] for a mesh, [nodes] otherwise. A link carries
    `link_bandwidth_bytes_per_s` in one direction; a hop costs `hop_latency_s`; moving one bit
    over one hop (router + wire) costs `energy_pj_per_bit_hop`."""
    topology: str
    dimensions: tuple[int, ...]
    unit: str
    link_bandwidth_bytes_per_s: float
    hop_latency_s: float = 0.0
    energy_pj_per_bit_hop: float = 0.0
    multicast: bool = True
    memory_nodes: tuple[int, ...] = (0,)

    @property
    def nodes(self) -> int:
        n = 1
        for d in self.dimensions:
            n *= d
        return n


@dataclass(frozen=True, slots=True)
class FpgaResources:
    dsp: int
    bram36: int
    uram: int
    lut: int
    ff: int


@dataclass(frozen=True, slots=True)
class Source:
    """Where a number comes from. `assumption=True` marks a documented guess."""
    id: str
    text: str
    assumption: bool = False


@dataclass(frozen=True, slots=True)
class Hardware:
    name: str
    kind: str
    freq_hz: float
    tech_node_nm: float
    levels: tuple[MemoryLevel, ...]
    compute: tuple[ComputeUnit, ...]
    interconnect: tuple[Interconnect, ...] = ()
    static_power_w: float = 0.0
    idle_power_w: float = 0.0
    area_mm2: float = 0.0
    fpga: FpgaResources | None = None
    sources: tuple[Source, ...] = ()
    description: str = ""
    file: str = ""
    version: int = 1
    tdp_w: float = 0.0                      # thermal design power (GPU/CPU baselines)
    active_power_w: float = 0.0             # power above idle/static while the chip runs (GPU active
                                            # floor; MCU run-mode power minus its static power)
    power_limit_w: float = 0.0              # board power cap: a run above it is clock-throttled (0 = none)
    idle_covers_dram: bool = False          # the idle power is a board measurement that includes the
                                            # DRAM's background power (GPU/CPU boards)
    host_overhead_s: float = 0.0            # GPU: host time to issue one kernel (eager framework)
    default_dtype: str = ""                 # `defaults.dtype`: what a run uses when none is asked for
    default_phase: str = ""                 # `defaults.phase`: e.g. decode on a decode accelerator
    noc: Noc | None = None                  # the on-chip network between a unit's PE arrays
    # values the engine derives from this (frozen) description, filled on first use (`derived`):
    # not compared, not in repr (hashes, equality and the mapping cache's digest unchanged), and
    # a `dataclasses.replace` copy starts empty
    _derived: dict = field(init=False, repr=False, compare=False, default_factory=dict)

    def derived(self, key, compute):
        """`compute()`, computed once per description object and `key` (a value that follows
        from the description alone, e.g. its GPU calibration)."""
        try:
            return self._derived[key]
        except KeyError:
            value = self._derived[key] = compute()
            return value

    def level(self, name: str) -> MemoryLevel:
        for lv in self.levels:
            if lv.name == name:
                return lv
        raise KeyError(name)

    def level_index(self, name: str) -> int:
        for i, lv in enumerate(self.levels):
            if lv.name == name:
                return i
        raise KeyError(name)

    def unit(self, name: str) -> ComputeUnit:
        for cu in self.compute:
            if cu.name == name:
                return cu
        raise KeyError(name)

    @property
    def off_chip(self) -> MemoryLevel:
        return self.levels[0]

    def peak_macs_per_s(self, dtype: str) -> float:
        return sum(cu.peak_macs_per_s(dtype) for cu in self.compute)
