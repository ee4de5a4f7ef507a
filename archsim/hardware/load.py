"""The YAML boundary: hardware descriptions in, frozen `Hardware` out.

    load_hardware("h200-sxm")                          # a library name (a file stem in hwconfigs/)
    load_hardware("my-chip.yaml", {"memory.gbuf.size": "2 MiB", "compute.pe.shape": [64, 64],
                                   "dram.channels": 16})
    list_hardware() -> ["a100-80gb", ...]; hardware_path(name) -> Path; dump_hardware(hw) -> YAML text

Every problem in a file (syntax, duplicate or unknown keys, bad units, wrong types, inconsistent
values) is collected and raised as one `ConfigError` whose lines read
`FILE:LINE: path.to.key: problem (got X); hint`. The schema is in docs/hardware-schema.md.

`base: NAME-OR-PATH` reuses another description: mappings merge key by key, and the lists
`memory`, `compute`, `interconnect` (by `name`) and `sources` (by `id`) merge entry by entry, new
entries appended. `overrides` are dotted paths applied after merging and before validation; a list
entry is addressed by its name (`memory.gbuf.size`) and `dram.X` means the first DRAM timing block.
Overriding a DRAM geometry key (channels, banks, rows, row_size, bus_width, tCK, …) re-derives that
level's size and bandwidth from the timing block unless the same overrides set them. Overriding a
compute unit's `shape` (or `lanes`) scales its `macs_per_cycle` with the number of PEs unless the
same overrides set them.
"""
from __future__ import annotations

from collections import OrderedDict
from pathlib import Path
import os

from archsim.hardware.build import build_hardware
from archsim.hardware.dump import dump_hardware
from archsim.hardware.yaml_lines import LocList, LocMap, read_yaml, where
from archsim.errors import ConfigError, Problem, did_you_mean
from archsim.hardware.types import OFF_CHIP_KINDS, Hardware

__all__ = ["load_hardware", "parse_hardware", "read_hardware", "list_hardware", "dump_hardware",
           "hardware_path", "library_dir", "is_validated", "mark_validated"]

_NAMED_LISTS = {"memory": "name", "compute": "name", "interconnect": "name", "sources": "id"}
_OVERRIDES = "<overrides>"


def library_dir() -> Path:
    """The folder of the shipped descriptions (the `hwconfigs` package data)."""
    from archsim import hwconfigs
    return Path(hwconfigs.__file__).resolve().parent


def list_hardware() -> list[str]:
    """Names of the shipped descriptions, sorted."""
    return sorted(p.stem for p in library_dir().glob("*.yaml"))


def hardware_path(name: str | os.PathLike) -> Path:
    """Path of a library name or an existing file; ConfigError with did-you-mean otherwise."""
    if isinstance(name, Hardware):
        raise ConfigError([Problem("<hardware>", None, "", "already a loaded Hardware, not a name or path",
                                   hint="pass it on as it is")])
    if not isinstance(name, (str, os.PathLike)):
        raise ConfigError([Problem("<hardware>", None, "", "expected a library name or a YAML path",
                                   got=repr(name), hint="see `archsim hw list`")])
    text = os.fspath(name)
    if not text.strip():
        raise ConfigError([Problem("<hardware>", None, "", "empty hardware name", hint="see `archsim hw list`")])
    path = Path(text)
    library = "/" not in text and os.sep not in text and (library_dir() / f"{text}.yaml").is_file()
    if path.is_dir() and not library:
        raise ConfigError([Problem(text, None, "", "is a directory, expected a hardware YAML file",
                                   hint=_yaml_hint(path))])
    if path.is_file() and not library:
        return path                    # an existing file, whatever its suffix
    if path.suffix in (".yaml", ".yml") or os.sep in text or "/" in text:
        if path.is_file():
            return path
        if path.suffix in (".yaml", ".yml") and (library_dir() / path.name).is_file() and not path.parent.parts:
            return library_dir() / path.name
        raise ConfigError([Problem(text, None, "", "no such file")])
    candidate = library_dir() / f"{text}.yaml"
    if candidate.is_file():
        return candidate
    names = list_hardware()
    hint = did_you_mean(text, names) or f"known: {', '.join(names)}"
    raise ConfigError([Problem("<hardware>", None, "", f"unknown hardware {text!r}", hint=hint)])


def _yaml_hint(folder: Path) -> str | None:
    found = sorted(p.name for p in folder.glob("*.y*ml"))[:3]
    return f"did you mean {' or '.join(repr(str(folder / f)) for f in found)}?" if found else None


def _display(path: Path) -> str:
    try:
        rel = os.path.relpath(path)
    except ValueError:  # pragma: no cover - other drive on Windows
        return str(path)
    return str(path) if rel.startswith("..") else rel


def _merge(base, over):
    if isinstance(base, LocMap) and isinstance(over, LocMap):
        out = LocMap(base, at=over.at)
        out.lines = dict(base.lines)
        for key, value in over.items():
            if key in _NAMED_LISTS and isinstance(base.get(key), LocList) and isinstance(value, LocList):
                out[key] = _merge_named(base[key], value, _NAMED_LISTS[key])
            else:
                out[key] = _merge(base.get(key), value) if key in base else value
            out.lines[key] = over.lines[key]
        return out
    return over


def _off_chip_entry(item) -> bool:
    return isinstance(item, LocMap) and item.get("kind") in OFF_CHIP_KINDS


def _merge_named(base: LocList, over: LocList, id_key: str) -> LocList:
    """Entries of `over` replace (merge into) the base's entries of the same name; new ones are
    appended, except new off-chip memory levels (a board's external flash or SDRAM added to a
    chip), which go after the base's last off-chip level so levels stay outermost first."""
    rows = [(item, base.lines.get(i)) for i, item in enumerate(base)]
    index = {m.get(id_key): i for i, m in enumerate(base) if isinstance(m, LocMap) and isinstance(m.get(id_key), str)}
    for j, item in enumerate(over):
        key = item.get(id_key) if isinstance(item, LocMap) else None
        if isinstance(key, str) and key in index:
            rows[index[key]] = (_merge(base[index[key]], item), rows[index[key]][1])
        elif id_key == "name" and _off_chip_entry(item):
            at = max((i + 1 for i, (m, _) in enumerate(rows) if _off_chip_entry(m)), default=0)
            rows.insert(at, (item, over.lines.get(j)))
            index = {k: (i + 1 if i >= at else i) for k, i in index.items()}
        else:
            rows.append((item, over.lines.get(j)))
    out = LocList((m for m, _ in rows), at=over.at)
    out.lines = {i: line for i, (_, line) in enumerate(rows) if line is not None}
    return out


def _read(path: Path, chain: tuple[Path, ...], problems: list[Problem],
          files: list[Path] | None = None) -> LocMap | None:
    """The merged YAML of `path` (its `base:` chain read too); every file read is added to `files`."""
    if files is not None:
        files.append(path)
    shown = _display(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        problems.append(Problem(shown, None, "", f"not a text (UTF-8) file: undecodable byte at offset {exc.start}",
                                hint="a hardware description is a YAML text file"))
        return None
    except OSError as exc:
        problems.append(Problem(shown, None, "", f"cannot read ({(exc.strerror or str(exc)).lower()})"))
        return None
    if "\x00" in text:
        problems.append(Problem(shown, None, "", "not a text file (it contains NUL bytes)",
                                hint="a hardware description is a YAML text file"))
        return None
    return _read_text(text, shown, path.parent, chain, problems, files)


def _read_text(text: str, shown: str, folder: Path, chain: tuple[Path, ...], problems: list[Problem],
               files: list[Path] | None = None):
    data, found = read_yaml(text, shown)
    problems += found
    if data is None or "base" not in data:
        return data
    ref = data["base"]
    file, line = where(data, "base")
    if not isinstance(ref, str) or not ref:
        problems.append(Problem(file, line, "base", "must be the name or path of another description", got=repr(ref)))
        return data
    local = (folder / ref) if ref.endswith((".yaml", ".yml")) else None
    try:
        base_path = local if local is not None and local.is_file() else hardware_path(ref)
    except ConfigError as exc:
        problems.append(Problem(file, line, "base", "unknown base description", got=repr(ref), hint=exc.problems[0].hint))
        return data
    if base_path.resolve() in chain:
        problems.append(Problem(file, line, "base", "descriptions refer to each other in a loop", got=repr(ref)))
        return data
    found: list[Problem] = []
    base = _read(base_path, chain + (base_path.resolve(),), found, files)
    if base is None or "version" not in base or "kind" not in base:
        # `base:` may point at any file: say what it is not, never what it contains
        problems.append(Problem(file, line, "base", "is not a hardware description (a YAML file with "
                                "version:, name: and kind:)", got=repr(ref)))
        return data
    problems += found
    return _merge(base, data)


def _located(value):
    if isinstance(value, dict):
        out = LocMap({k: _located(v) for k, v in value.items()}, at=(_OVERRIDES, None))
        out.lines = {k: (_OVERRIDES, None) for k in value}
        return out
    if isinstance(value, (list, tuple)):
        out = LocList([_located(v) for v in value], at=(_OVERRIDES, None))
        out.lines = {i: (_OVERRIDES, None) for i in range(len(value))}
        return out
    return value


def _child(node, segment: str):
    if isinstance(node, LocMap):
        return node.get(segment)
    if isinstance(node, LocList):
        for item in node:
            if isinstance(item, LocMap) and segment in (item.get("name"), item.get("id")):
                return item
        if segment.isdigit() and int(segment) < len(node):
            return node[int(segment)]
    return None


def _apply_overrides(data: LocMap, overrides: dict, problems: list[Problem]) -> None:
    for dotted, value in overrides.items():
        parts = str(dotted).split(".")
        node = data
        if parts[0] == "dram" and "dram" not in data:
            levels = data.get("memory") if isinstance(data.get("memory"), LocList) else []
            node = next((m for m in levels if isinstance(m, LocMap) and isinstance(m.get("dram"), LocMap)), None)
            if node is None:
                problems.append(Problem(_OVERRIDES, None, dotted, "no memory level has a DRAM timing block"))
                continue
        for i, part in enumerate(parts[:-1]):
            child = _child(node, part)
            if not isinstance(child, (LocMap, LocList)):
                options = [m.get("name") for m in node if isinstance(m, LocMap)] if isinstance(node, LocList) else list(node)
                hint = did_you_mean(part, [str(o) for o in options]) or f"choose from {', '.join(map(str, options))}"
                problems.append(Problem(_OVERRIDES, None, dotted, f"no entry {'.'.join(parts[:i + 1])!r}", hint=hint))
                break
            node = child
        else:
            if not isinstance(node, LocMap):
                problems.append(Problem(_OVERRIDES, None, dotted, "cannot set a list entry by position"))
                continue
            before = node.get(parts[-1])
            node[parts[-1]] = _located(value)
            node.lines[parts[-1]] = (_OVERRIDES, None)
            if parts[-1] in _GEOMETRY:
                _rederive(data, node, overrides)
            if parts[0] == "compute" and len(parts) == 3 and parts[-1] in ("shape", "lanes"):
                _rescale_macs(node, before, value, overrides, ".".join(parts[:-1]))


#: DRAM keys that change capacity or pin bandwidth; overriding one re-derives the level's size and
#: bandwidth from the timing block unless the same overrides set them too.
_GEOMETRY = ("channels", "ranks", "bank_groups", "banks", "rows", "row_size", "bus_width", "tCK", "data_rate")


def _rederive(data: LocMap, block: LocMap, overrides: dict) -> None:
    levels = data.get("memory") if isinstance(data.get("memory"), LocList) else []
    level = next((m for m in levels if isinstance(m, LocMap) and m.get("dram") is block), None)
    if level is None:
        return
    name = level.get("name")
    for key in ("size", "bandwidth", "bytes_per_cycle"):
        if key in level and f"memory.{name}.{key}" not in overrides:
            del level[key]


def _pes(shape) -> int | None:
    """Processing elements of a `shape` ([rows, cols]) or `lanes` (N) value; None if malformed."""
    values = shape if isinstance(shape, (list, tuple)) else [shape]
    if not values or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in values):
        return None
    count = 1
    for v in values:
        count *= v
    return count


def _rescale_macs(unit: LocMap, before, after, overrides: dict, prefix: str) -> None:
    """An override of a unit's `shape`/`lanes` alone scales its `macs_per_cycle` with the number of
    PEs (a 64x64 array does 4x the MACs of a 32x32 one), unless the overrides set the rates too or the
    unit is an `sm` (whose shape is descriptive only)."""
    if any(str(k).startswith(f"{prefix}.macs_per_cycle") for k in overrides):
        return
    if unit.get("type") == "sm":                 # an SM's shape is descriptive only
        return
    old, new = _pes(before), _pes(after)
    rates = unit.get("macs_per_cycle")
    if old is None or new is None or old == new or not isinstance(rates, LocMap):
        return
    for dtype, rate in list(rates.items()):
        if isinstance(rate, (int, float)) and not isinstance(rate, bool):
            scaled = rate * new / old
            rates[dtype] = int(scaled) if float(scaled).is_integer() else scaled


def _finish(data: LocMap | None, problems: list[Problem], overrides: dict | None, file: str) -> Hardware:
    if overrides is not None and not isinstance(overrides, dict):
        raise ConfigError([Problem(_OVERRIDES, None, "", "overrides must be a mapping of dotted keys to values",
                                   got=type(overrides).__name__, hint="e.g. {'memory.gbuf.size': '2 MiB'}")])
    if data is not None and overrides:
        _apply_overrides(data, overrides, problems)
    if problems:
        raise ConfigError(problems)
    hw, found = build_hardware(data)
    if found or hw is None:
        order = {}
        for p in found:
            order.setdefault(p.file, len(order))
        raise ConfigError(sorted(found, key=lambda p: (order[p.file], p.line or 0)))
    import dataclasses
    return mark_validated(dataclasses.replace(hw, file=file))


#: descriptions known to pass every check (built by the loader, or checked once), by identity: a
#: `Hardware` is frozen, so one that passed stays valid (bounded; the newest kept)
_VALIDATED: "OrderedDict[int, Hardware]" = OrderedDict()


def mark_validated(hw: Hardware) -> Hardware:
    _VALIDATED[id(hw)] = hw
    _VALIDATED.move_to_end(id(hw))
    if len(_VALIDATED) > 256:
        _VALIDATED.popitem(last=False)
    return hw


def is_validated(hw) -> bool:
    """True when this very object was built by the loader or has been checked before."""
    return _VALIDATED.get(id(hw)) is hw


def _checked(hw: Hardware, data: LocMap | None) -> Hardware:
    """The `hw lint` checks at load time: each problem is a `HardwareLintWarning`, not an error."""
    from archsim.hardware.lint import lint, warn_findings
    warn_findings(lint(hw, data))
    return hw


def read_hardware(name_or_path: str | os.PathLike, overrides: dict | None = None,
                  files: list[Path] | None = None) -> tuple[Hardware, LocMap | None]:
    """(`Hardware`, the merged YAML with its line numbers) of a library name or file, unlinted:
    what `archsim hw lint` checks. Every file read (`base:` chain included) is added to `files`."""
    path = hardware_path(name_or_path)
    problems: list[Problem] = []
    data = _read(path, (path.resolve(),), problems, files)
    return _finish(data, problems, overrides, _display(path)), data


#: (file, overrides) → (the files it read with their size and mtime, the `Hardware`, lint findings):
#: a sweep loads the same description for every point; an edited file is read again
_LOADED: "OrderedDict[tuple, tuple[tuple, Hardware, list]]" = OrderedDict()


def _stamps(files) -> tuple:
    out = []
    for f in files:
        st = f.stat()
        out.append((str(f), st.st_size, st.st_mtime_ns))
    return tuple(out)


def load_hardware(name_or_path: str | os.PathLike, overrides: dict | None = None) -> Hardware:
    """Load a library name or a YAML file into a validated `Hardware`; raises ConfigError.
    A description that loads but fails a `hw lint` check warns (`HardwareLintWarning`).
    A file loaded before and unchanged since (its `base:` chain too) gives the same object."""
    if isinstance(name_or_path, Hardware):
        return name_or_path if not overrides else parse_hardware(dump_hardware(name_or_path), name_or_path.file, overrides)
    from archsim.hardware.lint import lint, warn_findings
    key = None
    if overrides is None or isinstance(overrides, dict):
        try:
            key = (os.fspath(hardware_path(name_or_path)), os.getcwd(), repr(sorted((overrides or {}).items())))
        except (ConfigError, TypeError):
            key = None          # read_hardware below raises the clear error
    hit = _LOADED.get(key) if key is not None else None
    if hit is not None:
        try:
            fresh = _stamps(Path(f) for f, _, _ in hit[0]) == hit[0]
        except OSError:
            fresh = False
        if fresh:
            _LOADED.move_to_end(key)
            warn_findings(hit[2])
            return hit[1]
    files: list[Path] = []
    hw, data = read_hardware(name_or_path, overrides, files)
    findings = lint(hw, data)
    warn_findings(findings)
    if key is not None:
        try:
            _LOADED[key] = (_stamps(files), hw, findings)
        except OSError:
            pass
        if len(_LOADED) > 64:
            _LOADED.popitem(last=False)
    return hw


def parse_hardware(text: str, file: str = "<text>", overrides: dict | None = None) -> Hardware:
    """Like `load_hardware` for YAML text; a `base:` path is resolved against the working directory."""
    problems: list[Problem] = []
    data = _read_text(text, file, Path.cwd(), (), problems)
    return _checked(_finish(data, problems, overrides, file), None)   # text (a dump, a what-if): no sources check
