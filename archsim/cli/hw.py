"""`archsim hw list | show NAME|FILE | validate FILE... | lint [NAME|FILE...]` — the hardware library,
its checker and its linter (`archsim.hardware.lint`)."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

__all__ = ["add_parser", "run", "summary_rows"]

_DTYPES = ("int8", "bf16", "fp16", "fp32")


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser("hw", help="list, show and validate hardware descriptions",
                              description="List the hardware library, show one description, or validate YAML files.")
    sub = p.add_subparsers(dest="hw_command", metavar="ACTION")
    ls = sub.add_parser("list", help="table of the shipped descriptions")
    ls.add_argument("--json", action="store_true", help="print JSON rows instead of a table")
    show = sub.add_parser("show", help="show one description (library name or YAML file)")
    show.add_argument("name", metavar="NAME|FILE")
    show.add_argument("--yaml", action="store_true", help="print the fully resolved YAML")
    val = sub.add_parser("validate", help="check YAML files; exit 0 if all are valid, 2 otherwise")
    val.add_argument("files", nargs="+", metavar="FILE",
                     help="YAML files, or folders whose *.yaml files are all checked")
    lint = sub.add_parser("lint", help="check descriptions can be trusted: DRAM timing, sustained bandwidth, "
                                        "op kinds, power, sources; exit 0 if all pass, 2 otherwise")
    lint.add_argument("names", nargs="*", metavar="NAME|FILE",
                      help="library names, YAML files or folders (default: every shipped description)")
    lint.add_argument("--quiet", action="store_true", help="print only the problems")
    return p


def summary_rows(names=None) -> list[dict]:
    """One row per description: name, kind, peak ops/s by dtype, memory sizes, off-chip bandwidth."""
    from archsim.hardware import list_hardware, load_hardware
    rows = []
    for name in names or list_hardware():
        hw = load_hardware(name)
        rows.append({
            "name": hw.name, "kind": hw.kind,
            "peak_ops_per_s": {d: 2 * hw.peak_macs_per_s(d) for d in _DTYPES if hw.peak_macs_per_s(d) > 0},
            "off_chip_bytes": hw.off_chip.size_bytes,
            "on_chip_bytes": sum(lv.capacity_bytes for lv in hw.levels[1:]),
            "off_chip_bandwidth_bytes_per_s": hw.off_chip.bandwidth_bytes_per_s,
            "levels": [lv.name for lv in hw.levels],
        })
    return rows


def _ops(value: float) -> str:
    for unit, scale in (("P", 1e15), ("T", 1e12), ("G", 1e9), ("M", 1e6)):
        if value >= scale:
            return f"{value / scale:.3g}{unit}"
    return f"{value:.3g}"


def _list(args) -> int:
    from archsim.units import format_quantity
    rows = summary_rows()
    if args.json:
        print(json.dumps(rows, indent=2, sort_keys=True))
        return 0
    header = ("name", "kind", *(f"{d} ops/s" for d in _DTYPES), "on-chip", "off-chip", "off-chip BW")
    table = [header]
    for r in rows:
        peak = r["peak_ops_per_s"]
        table.append((r["name"], r["kind"], *(_ops(peak[d]) if d in peak else "-" for d in _DTYPES),
                      format_quantity(r["on_chip_bytes"], "bytes"), format_quantity(r["off_chip_bytes"], "bytes"),
                      format_quantity(r["off_chip_bandwidth_bytes_per_s"], "bandwidth")))
    widths = [max(len(str(row[i])) for row in table) for i in range(len(header))]
    for row in table:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip())
    return 0


def _show(args) -> int:
    from archsim.hardware import dump_hardware, load_hardware
    from archsim.units import format_quantity
    hw = load_hardware(args.name)
    if args.yaml:
        sys.stdout.write(dump_hardware(hw))
        return 0
    print(f"{hw.name} ({hw.kind}) — {hw.description}" if hw.description else f"{hw.name} ({hw.kind})")
    print(f"  file: {hw.file}; clock {format_quantity(hw.freq_hz, 'frequency')}; {hw.tech_node_nm:g} nm")
    if hw.default_dtype or hw.default_phase:
        said = [f"{k} {v}" for k, v in (("phase", hw.default_phase), ("dtype", hw.default_dtype)) if v]
        print(f"  defaults (when a run does not say): {', '.join(said)}")
    print("  memory (outermost first):")
    for lv in hw.levels:
        copies = f" x{lv.instances}" if lv.instances > 1 else ""
        dram = f"; DRAM {lv.dram.channels} ch x {lv.dram.banks_per_channel} banks" if lv.dram else ""
        at = f" at 0x{lv.address:08X}" if lv.address is not None else ""
        print(f"    {lv.name:<16} {lv.kind:<8} {format_quantity(lv.size_bytes, 'bytes')}{copies}{at}, "
              f"{format_quantity(lv.bandwidth_bytes_per_s, 'bandwidth')}, {lv.read_energy_pj_per_byte:.3g} pJ/B{dram}")
    print("  compute:")
    for cu in hw.compute:
        rates = ", ".join(f"{d} {_ops(2 * cu.peak_macs_per_s(d))}ops/s" for d, _ in cu.macs_per_cycle)
        print(f"    {cu.name:<16} {cu.type:<11} {cu.count} x {list(cu.shape)} @ "
              f"{format_quantity(cu.freq_hz, 'frequency')} on {cu.attached_to}: {rates}")
    if hw.fpga is not None:
        f = hw.fpga
        print(f"  fpga resources: {f.dsp} DSP, {f.bram36} BRAM36, {f.uram} URAM, {f.lut} LUT, {f.ff} FF")
    if hw.host_overhead_s:
        print(f"  host: {format_quantity(hw.host_overhead_s, 'time')} to issue each kernel (eager)")
    if hw.area_mm2:
        print(f"  area: {hw.area_mm2:g} mm²")
    if hw.tdp_w or hw.idle_power_w or hw.static_power_w:
        print(f"  power: tdp {hw.tdp_w:g} W, idle {hw.idle_power_w:g} W, static {hw.static_power_w:g} W")
    from archsim.hardware.ops import ZOO_OP_KINDS, route_kind
    print("  op kinds → units (fastest first; the mapper picks by cost):")
    for kind in ZOO_OP_KINDS:
        route = route_kind(hw, kind)
        how = "" if route.how == "declared" else f"  ({route.how or 'no unit'}: no unit lists it)"
        print(f"    {kind:<16} {', '.join(route.units) or '-'}{how}")
    print("  sources:")
    for s in hw.sources:
        print(f"    [{s.id}]{' (assumption)' if s.assumption else ''} {s.text}")
    return 0


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _validate(args) -> int:
    from archsim.hardware import load_hardware
    from archsim.errors import ConfigError
    failed = False
    for path in _files(args.files):
        try:
            hw = load_hardware(path)
        except ConfigError as exc:
            failed = True
            for problem in exc.problems:
                print(f"archsim: error: {problem}", file=sys.stderr)
            continue
        levels, units = _count(len(hw.levels), "level"), _count(len(hw.compute), "compute unit")
        print(f"{path}: ok ({hw.name}, {hw.kind}, {levels}, {units})")
    return 2 if failed else 0


def _files(given: list[str]) -> list[str]:
    """Names and files as given; a folder stands for the YAML files in it."""
    files = []
    for item in given:
        folder = Path(item)
        found = sorted(folder.glob("*.yaml")) + sorted(folder.glob("*.yml")) if folder.is_dir() else []
        files += [str(f) for f in found] or [item]
    return files


def _lint(args) -> int:
    import warnings
    from archsim.errors import ConfigError
    from archsim.hardware import list_hardware
    from archsim.hardware.lint import lint
    from archsim.hardware.load import read_hardware
    failed = False
    for name in _files(args.names) if args.names else list_hardware():
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                hw, data = read_hardware(name)
        except ConfigError as exc:
            failed = True
            for problem in exc.problems:
                print(f"archsim: error: {problem}", file=sys.stderr)
            continue
        findings = lint(hw, data)
        problems = [f for f in findings if not f.ok]
        failed = failed or bool(problems)
        print(f"{name}: {'ok' if not problems else _count(len(problems), 'problem')}")
        for f in problems:
            print(f"archsim: lint: {f}", file=sys.stderr)
        if not args.quiet:
            for f in findings:
                if f.ok and f.check != "ops":
                    print(f"  {f.path}: {f.message}")
    return 2 if failed else 0


def run(args) -> int:
    action = getattr(args, "hw_command", None)
    if action == "list":
        return _list(args)
    if action == "show":
        return _show(args)
    if action == "validate":
        return _validate(args)
    if action == "lint":
        return _lint(args)
    print("usage: archsim hw {list,show,validate,lint} ...", file=sys.stderr)
    return 2
