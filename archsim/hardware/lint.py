"""`archsim hw lint`: checks that a well-formed description is also one to trust.

| check | what it asks |
|---|---|
| `dram` | the timing fits the burst: BL is a whole number of clocks at the data rate, and tCCD_S is no longer than one burst (else the bus can never be full: a tCCD taken from a preset with another burst convention) |
| `bandwidth` | the sustained sequential-read bandwidth each DRAM level's timing allows (whole-row bursts over bank groups, refresh included) lies in its technology's band of pin bandwidth |
| `ops` | every op kind the model zoo produces has a unit that runs it as described (`archsim.hardware.ops`), not only a fallback |
| `power` | peak compute power (every unit at its most energetic rate) + off-chip power at the sustained bandwidth + static power ≤ the TDP or budget |
| `noc` | the NoC's derived figures: links, diameter in hops, bisection and injection bandwidth |
| `sources` | every memory level, DRAM block, compute unit, interconnect, the NoC and the power section cite a source id (a source may be marked `assumption: true`) |

`lint(hw, data)` returns `Finding`s; problems have `ok=False`, and the derived numbers (sustained
bandwidth, op-kind routes, peak power) come back as `ok=True` lines that `hw lint` prints. The loader
runs the same checks and turns problems into `HardwareLintWarning`s.
"""
from __future__ import annotations

from dataclasses import dataclass
import warnings

from archsim.hardware.ops import ZOO_OP_KINDS, route_kind
from archsim.hardware.types import Hardware, MemoryLevel
from archsim.hardware.yaml_lines import LocList, LocMap, where

__all__ = ["Finding", "HardwareLintWarning", "lint", "sustained_read_bandwidth_bytes_per_s",
           "peak_power_w", "SUSTAINED_BANDS", "warn_findings"]

#: Band of pin bandwidth that long sequential reads reach, per off-chip memory kind. Real parts reach
#: 70-90 % of pin (controller queues, refresh, turnaround); the timing limit computed here has no
#: controller loss and hides per-bank refresh, so the band runs up to the pin rate; its floor is the
#: real parts' floor (assumption): below it the timing, not the part, is wrong.
SUSTAINED_BANDS = {"hbm": (0.70, 1.0), "gddr": (0.70, 1.0), "lpddr": (0.70, 1.0), "dram": (0.70, 1.0)}


class HardwareLintWarning(UserWarning):
    """A description loads but fails a `hw lint` check."""


@dataclass(frozen=True, slots=True)
class Finding:
    check: str                  # dram | bandwidth | ops | power | sources | noc
    path: str                   # dotted key, e.g. memory.gddr6.dram.tCCD_S
    message: str
    ok: bool = False            # True: a derived number reported, not a problem
    file: str = ""
    line: int | None = None

    def __str__(self) -> str:
        at = f"{self.file}:{self.line}: " if self.line else (f"{self.file}: " if self.file else "")
        return f"{at}{self.path}: {self.message}"


def sustained_read_bandwidth_bytes_per_s(lv: MemoryLevel) -> float:
    """Long sequential reads of a DRAM level: the timing-limited streaming rate of every channel,
    less the refresh share (`archsim.engine.dram` closed forms); the level's bandwidth otherwise."""
    if lv.dram is None:
        return lv.bandwidth_bytes_per_s
    from archsim.engine.dram import stream_refresh_fraction, streaming_bandwidth_bytes_per_s
    t = lv.dram
    return streaming_bandwidth_bytes_per_s(t) * t.channels * (1.0 - stream_refresh_fraction(t))


#: off-chip memory a part's TDP covers: on the package or the board the TDP is quoted for (HBM
#: stacks, a GPU card's GDDR, an MCU's internal flash). External DRAM (DDR DIMMs, LPDDR packages) is
#: outside a chip's TDP (a Xeon's 200 W, Eyeriss's measured 278 mW exclude their DRAM).
TDP_COVERS = ("hbm", "gddr", "flash")


def peak_power_w(hw: Hardware) -> tuple[float, float]:
    """(peak compute W, off-chip memory W at the sustained read bandwidth; 0 for external DRAM,
    which the part's TDP does not cover — see TDP_COVERS)."""
    from archsim.energy import table_for
    table = dict(table_for(hw).entries)
    compute = 0.0
    for u in hw.compute:
        per_cycle = max((r * table.get(f"{u.name}.mac.{d}", 0.0) for d, r in u.macs_per_cycle), default=0.0)
        compute += per_cycle * u.count * u.freq_hz * 1e-12
    off = hw.off_chip
    if off.kind not in TDP_COVERS:
        return compute, 0.0
    memory = sustained_read_bandwidth_bytes_per_s(off) * table.get(f"{off.name}.read", 0.0) * 1e-12
    return compute, memory


def _entry(data: LocMap | None, section: str, name: str) -> LocMap | None:
    items = data.get(section) if data is not None else None
    if isinstance(items, LocList):
        for m in items:
            if isinstance(m, LocMap) and m.get("name") == name:
                return m
    return None


def _at(node: LocMap | None, key: str, file: str) -> tuple[str, int | None]:
    """(file, line) of `key` in `node` (else of `node` itself); the description's file without data."""
    if node is None:
        return file, None
    f, line = where(node, key)
    return f or file, line


def _dram(hw: Hardware, data, out: list[Finding]) -> None:
    for lv in hw.levels:
        t = lv.dram
        if t is None:
            continue
        block = (_entry(data, "memory", lv.name) or {}).get("dram") if data is not None else None
        path = f"memory.{lv.name}.dram"
        burst_tck = t.burst_length / max(1, t.data_rate)
        if t.burst_length % max(1, t.data_rate):
            f, line = _at(block, "burst_length", hw.file)
            out.append(Finding("dram", f"{path}.burst_length", f"BL{t.burst_length} is not a whole number of "
                               f"clocks at {t.data_rate} transfers per tCK (got {burst_tck:g} tCK)", False, f, line))
        if t.tccd_s > burst_tck + 1e-9:
            f, line = _at(block, "tCCD_S", hw.file)
            out.append(Finding(
                "dram", f"{path}.tCCD_S",
                f"tCCD_S is {t.tccd_s} tCK but one BL{t.burst_length} burst takes {burst_tck:g} tCK at "
                f"{t.data_rate} transfers per tCK (got a bus at most {burst_tck / t.tccd_s:.0%} busy); "
                f"was tCCD taken from a preset with another burst convention? give it in bursts of this "
                f"description (tCCD_S ≤ {burst_tck:g})", False, f, line))


def _bandwidth(hw: Hardware, data, out: list[Finding]) -> None:
    for lv in hw.levels:
        if not lv.off_chip:
            continue
        path = f"memory.{lv.name}"
        if lv.dram is None:
            out.append(Finding("bandwidth", path, f"sustained {lv.bandwidth_bytes_per_s / 1e9:.4g} GB/s as given "
                               f"(no DRAM timing block: the level's bandwidth is taken as sustained)", True))
            continue
        pin = lv.dram.peak_bandwidth_bytes_per_s
        sustained = sustained_read_bandwidth_bytes_per_s(lv)
        frac = sustained / pin
        low, high = SUSTAINED_BANDS.get(lv.kind, (0.0, 1.0))
        text = (f"sustained sequential read {sustained / 1e9:.4g} GB/s = {frac:.1%} of the "
                f"{pin / 1e9:.4g} GB/s pin rate")
        if low <= frac <= high:
            out.append(Finding("bandwidth", path, text + f" (band {low:.0%}-{high:.0%} for {lv.kind})", True))
        else:
            f, line = _at(_entry(data, "memory", lv.name), "dram", hw.file)
            out.append(Finding("bandwidth", path, text + f", outside the {low:.0%}-{high:.0%} band of {lv.kind} "
                               f"parts; check tCCD, tRFC/tREFI and the burst length", False, f, line))


def _ops(hw: Hardware, data, kinds, out: list[Finding]) -> None:
    for kind in kinds:
        route = route_kind(hw, kind)
        if route.how == "declared":
            out.append(Finding("ops", f"ops.{kind}", f"→ {', '.join(route.units)}", True))
            continue
        f, line = _at(data, "compute", hw.file)
        taken = f"falls back to {route.units[0]} ({route.how})" if route.units else "no unit can take it"
        out.append(Finding("ops", f"ops.{kind}", f"no compute unit runs op kind {kind!r} as described; it "
                           f"{taken}; add {kind!r} to the 'ops' list of the unit meant to run it", False, f, line))


def _power(hw: Hardware, data, out: list[Finding]) -> None:
    compute, memory = peak_power_w(hw)
    total = compute + memory + hw.static_power_w
    text = (f"peak {total:.4g} W = compute {compute:.4g} W + off-chip memory {memory:.4g} W + static "
            f"{hw.static_power_w:.4g} W")
    if hw.off_chip.kind not in TDP_COVERS:
        text += f" ({hw.off_chip.name} is external {hw.off_chip.kind}, outside the tdp)"
    if not hw.tdp_w:
        out.append(Finding("power", "power", text + "; no tdp given, so not checked", True))
    elif total <= hw.tdp_w:
        out.append(Finding("power", "power.tdp", text + f" ≤ tdp {hw.tdp_w:.4g} W", True))
    elif 0 < hw.power_limit_w <= hw.tdp_w:
        # a board with a power limit (GPUs) lowers its clock rather than exceed it: its datasheet
        # peaks are not reachable at once, and the engine throttles a run that would be above it
        out.append(Finding("power", "power.limit", text + f" is above the power limit "
                           f"{hw.power_limit_w:.4g} W: runs that would draw more are clock-throttled "
                           f"(the result says so and its latency grows)", True))
    else:
        power = data.get("power") if data is not None else None
        f, line = _at(power if isinstance(power, LocMap) else None, "tdp", hw.file)
        out.append(Finding("power", "power.tdp", text + f" exceeds the tdp {hw.tdp_w:.4g} W by "
                           f"{total / hw.tdp_w - 1:.0%}; lower clocks or unit counts, or check the energy "
                           f"per MAC and per byte", False, f, line))


def _sources(hw: Hardware, data, out: list[Finding]) -> None:
    if data is None:
        return
    entries: list[tuple[str, LocMap]] = []
    for section in ("memory", "compute", "interconnect"):
        items = data.get(section)
        for m in items if isinstance(items, LocList) else ():
            if isinstance(m, LocMap):
                entries.append((f"{section}.{m.get('name')}", m))
                if section == "memory" and isinstance(m.get("dram"), LocMap):
                    entries.append((f"{section}.{m.get('name')}.dram", m["dram"]))
    for section in ("power", "fpga", "noc"):
        if isinstance(data.get(section), LocMap):
            entries.append((section, data[section]))
    for path, m in entries:
        if not m.get("source"):
            f, line = _at(m, "name" if "name" in m else next(iter(m), "name"), hw.file)
            out.append(Finding("sources", path, "cites no source; add 'source: ID' naming an entry of "
                               "'sources' (mark a guess there with 'assumption: true')", False, f or hw.file, line))


def _noc(hw: Hardware, data, out: list[Finding]) -> None:
    """The NoC's derived figures (`archsim.engine.noc`): links, diameter, bisection and injection
    bandwidth (reported, never a problem)."""
    if hw.noc is None:
        return
    from archsim.engine.noc import describe
    n = hw.noc
    f, line = _at(data.get("noc") if data is not None else None, "topology", hw.file)
    d = describe(n)
    out.append(Finding("noc", "noc", f"{n.topology} {list(n.dimensions)}: {d['links']} links, diameter "
                       f"{d['diameter_hops']} hops, bisection {d['bisection_bytes_per_s'] / 1e9:.4g} GB/s, "
                       f"injection {d['injection_bytes_per_s'] / 1e9:.4g} GB/s, "
                       f"{'multicast' if n.multicast else 'unicast only'}", True, f or hw.file, line))


def lint(hw: Hardware, data: LocMap | None = None, kinds=ZOO_OP_KINDS) -> list[Finding]:
    """Every check on `hw`; `data` (the merged YAML with line numbers) adds locations and the
    sources check. Problems first, in check order, then the derived numbers."""
    out: list[Finding] = []
    _dram(hw, data, out)
    _bandwidth(hw, data, out)
    _ops(hw, data, kinds, out)
    _power(hw, data, out)
    _sources(hw, data, out)
    _noc(hw, data, out)
    return [f for f in out if not f.ok] + [f for f in out if f.ok]


def warn_findings(findings: list[Finding]) -> None:
    """Turn lint problems into `HardwareLintWarning`s (the loader's load-time check)."""
    for f in findings:
        if not f.ok:
            warnings.warn(f"{f} (archsim hw lint)", HardwareLintWarning, stacklevel=3)
