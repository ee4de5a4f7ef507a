"""Cross-field checks of a hardware description (private helper of `archsim.hardware`): names unique,
references resolve, sizes nest, DRAM geometry matches capacity and bandwidth, timings are sane."""
from __future__ import annotations

from archsim.hardware.yaml_lines import LocList, LocMap
from archsim.errors import did_you_mean

__all__ = ["check_hardware", "CAPACITY_SLACK", "BANDWIDTH_TOLERANCE"]

#: a DRAM level's usable size may be below its raw geometry by up to this fraction (e.g. H200:
#: 141 GB usable of 144 GiB raw), never above it.
CAPACITY_SLACK = 0.1
#: a stated off-chip bandwidth must be within this fraction of the timing block's pin bandwidth.
BANDWIDTH_TOLERANCE = 0.05


def _maps(data: LocMap, section: str) -> list[LocMap]:
    value = data.get(section)
    return [m for m in value if isinstance(m, LocMap)] if isinstance(value, LocList) else []


def _duplicates(ck, maps, key: str, section: str) -> None:
    seen: dict[str, int | None] = {}
    for m in maps:
        value = m.get(key)
        if not isinstance(value, str):
            continue
        if value in seen:
            ck.add(m, key, f"{section}.{value}.{key}", f"duplicate {key}", got=repr(value),
                   hint=f"first used at line {seen[value]}")
        else:
            seen[value] = m.lines.get(key, (None, None))[1]


def _source_refs(ck, node, path: str, ids: set[str]) -> None:
    if isinstance(node, LocMap):
        for key, value in node.items():
            sub = f"{path}.{key}" if path else key
            if key == "source" and ids:
                refs = [value] if isinstance(value, str) else value if isinstance(value, list) else []
                for ref in refs:
                    if isinstance(ref, str) and ref not in ids:
                        ck.add(node, key, sub, "unknown source id", got=repr(ref),
                               hint=did_you_mean(ref, sorted(ids)) or f"ids in 'sources': {', '.join(sorted(ids))}")
            elif key != "sources":
                _source_refs(ck, value, sub, ids)
    elif isinstance(node, LocList):
        for i, item in enumerate(node):
            name = item.get("name") if isinstance(item, LocMap) else None
            _source_refs(ck, item, f"{path}.{name}" if isinstance(name, str) else f"{path}[{i}]", ids)


def _dram(ck, m: LocMap, path: str, level) -> None:
    d = level.dram
    block = m["dram"]
    cap = d.capacity_bytes
    if "size" in m and not (cap * (1 - CAPACITY_SLACK) <= level.size_bytes <= cap):
        ck.add(m, "size", f"{path}.size", "DRAM geometry does not match the size",
               got=f"{level.size_bytes} B vs geometry {cap} B",
               hint="channels × ranks × bank_groups × banks × rows × row_size must equal the size "
                    f"(usable size may be up to {CAPACITY_SLACK:.0%} below)")
    peak = d.peak_bandwidth_bytes_per_s
    if ("bandwidth" in m or "bytes_per_cycle" in m) and abs(level.bandwidth_bytes_per_s / peak - 1) > BANDWIDTH_TOLERANCE:
        key = "bandwidth" if "bandwidth" in m else "bytes_per_cycle"
        ck.add(m, key, f"{path}.{key}", "off-chip bandwidth disagrees with the DRAM timing block",
               got=f"{level.bandwidth_bytes_per_s:.4g} B/s vs {peak:.4g} B/s from channels × bus_width × data_rate / tCK",
               hint=f"they must agree within {BANDWIDTH_TOLERANCE:.0%}")
    if d.row_size_bytes < d.burst_bytes:
        ck.add(block, "row_size", f"{path}.dram.row_size", "row smaller than one burst",
               got=f"{d.row_size_bytes} B < {d.burst_bytes} B")
    pairs = (("tRAS", d.tras, "tRCD", d.trcd), ("tCCD_L", d.tccd_l, "tCCD_S", d.tccd_s),
             ("tRRD_L", d.trrd_l, "tRRD_S", d.trrd_s), ("tREFI", d.trefi, "tRFC", d.trfc))
    for big, big_v, small, small_v in pairs:
        if big_v and small_v and big_v < small_v:
            ck.add(block, big, f"{path}.dram.{big}", f"must be ≥ {small}", got=f"{big_v} < {small_v} cycles")
    if d.trefi and d.trfc and d.trefi >= d.trfc and 2 * d.trfc > d.trefi:
        # a channel owing 8 refreshes must catch up within 8 intervals (the engine's JEDEC limit);
        # with tRFC near tREFI it never does and a long burst would not finish
        ck.add(block, "tRFC", f"{path}.dram.tRFC", "refresh would take more than half of every refresh "
               "interval", got=f"tRFC {d.trfc} of tREFI {d.trefi} cycles",
               hint="real DRAM refreshes for under 15 % of tREFI (DDR5 16 Gb: 295 ns of 3.9 µs); "
                    "check the units (cycles of tCK)")


def check_hardware(ck, data: LocMap, levels: list, units: list, sources: list) -> None:
    """Add cross-field problems to `ck` (levels/units/sources may hold None for broken entries)."""
    level_maps, unit_maps = _maps(data, "memory"), _maps(data, "compute")
    _duplicates(ck, level_maps, "name", "memory")
    _duplicates(ck, unit_maps, "name", "compute")
    _duplicates(ck, _maps(data, "sources"), "id", "sources")
    names = [m.get("name") for m in level_maps if isinstance(m.get("name"), str)]
    for m in unit_maps:
        target = m.get("attached_to")
        if isinstance(target, str) and target not in names:
            ck.add(m, "attached_to", f"compute.{m.get('name')}.attached_to", "no memory level with this name",
                   got=repr(target), hint=did_you_mean(target, names) or f"levels: {', '.join(names)}")
    ids = {s.id for s in sources if s is not None}
    _source_refs(ck, data, "", ids)
    pairs = [(m, lv) for m, lv in zip(level_maps, levels) if lv is not None]
    if len(pairs) != len(level_maps) or not pairs:
        return
    outer_m, outer = pairs[0]
    if outer.off_chip:     # a board's several off-chip levels: inner levels fit the largest of them
        outer = max((lv for _, lv in pairs if lv.off_chip), key=lambda lv: lv.size_bytes)
    for m, lv in pairs:
        path = f"memory.{lv.name}"
        if lv.dram is not None:
            _dram(ck, m, path, lv)
    for i, (m, lv) in enumerate(pairs[1:], start=1):
        path = f"memory.{lv.name}"
        total = lv.capacity_bytes
        # several off-chip levels are siblings (a board's QSPI flash and SDRAM), not nested
        if total > outer.size_bytes and not lv.off_chip:
            ck.add(m, "size", f"{path}.size", f"inner level larger than the outermost level '{outer.name}'",
                   got=f"{total} B > {outer.size_bytes} B", hint="levels are listed outermost first")
            continue
        if lv.off_chip and not pairs[i - 1][1].off_chip:
            ck.add(m, "kind", f"{path}.kind", "an off-chip level listed inside an on-chip level",
                   got=lv.kind, hint="levels are listed outermost first")
        prev = pairs[i - 1][1]
        if lv.kind == "cache" and not prev.off_chip and total > prev.capacity_bytes:
            ck.add(m, "size", f"{path}.size", f"a {lv.kind} cannot be larger than the level it sits in ('{prev.name}')",
                   got=f"{total} B > {prev.capacity_bytes} B")
