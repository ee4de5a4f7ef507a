"""The YAML boundary of systems: `hwconfigs/systems/NAME.yaml` in, a frozen `System` out.

    load_system("attacc-dgx-h100")        # a library name (a file stem in hwconfigs/systems/)
    load_system("my-system.yaml")         # or a path
    list_systems() -> ["attacc-dgx-h100", ...]

It reads with the hardware loader's YAML reader (every key's line kept, duplicate keys refused) and
field readers, collects every problem and raises one `ConfigError` whose lines read
`FILE:LINE: path.to.key: problem (got X); hint`. Each device's chip is loaded too (its own errors
are reported as they are, under the device's `chip:` line), the placement policy is parsed against
the device names, and every `source:` must name an entry of `sources:`.
"""
from __future__ import annotations

import os
from pathlib import Path

from archsim.errors import ConfigError, Problem, did_you_mean
from archsim.hardware.fields import BAD, Checker, integer, quantity, text, text_list, boolean
from archsim.hardware.yaml_lines import LocList, LocMap, read_yaml
from archsim.system.types import ROLES, Device, Link, SharedMemory, System

__all__ = ["load_system", "parse_system", "list_systems", "system_path", "systems_dir", "is_system"]

_START = "a system description starts with 'version: 1', 'name:' and 'kind: system'"
_TOP = ("version", "name", "kind", "description", "shards", "devices", "links", "shared_memory", "placement",
        "sources")
_DEVICE = ("name", "chip", "overrides", "holds", "part_of", "source")
_LINK = ("name", "between", "bandwidth", "latency", "energy", "source")
_SHARED = ("name", "devices", "to_pim", "to_host", "source")
_SOURCE = ("id", "text", "assumption")
#: most devices in one system description (a rack of distinct device kinds is ~10)
MAX_DEVICES = 64


def systems_dir() -> Path:
    """The folder of the shipped system descriptions (`hwconfigs/systems`)."""
    from archsim import hwconfigs
    return Path(hwconfigs.__file__).resolve().parent / "systems"


def list_systems() -> list[str]:
    return sorted(p.stem for p in systems_dir().glob("*.yaml"))


def is_system(name) -> bool:
    """True for a shipped system's name or a YAML file whose `kind:` is `system` (a chip name or
    file is not one)."""
    if not isinstance(name, (str, os.PathLike)):
        return isinstance(name, System)
    text_name = os.fspath(name)
    if "/" not in text_name and os.sep not in text_name and (systems_dir() / f"{text_name}.yaml").is_file():
        return True
    path = Path(text_name)
    if path.suffix in (".yaml", ".yml") and path.is_file():
        try:
            head = path.read_text(errors="replace")[:4000]
        except OSError:
            return False
        return any(line.split("#")[0].strip() == "kind: system" for line in head.splitlines())
    return False


def system_path(name: str | os.PathLike) -> Path:
    """Path of a library system name or an existing file; ConfigError with did-you-mean otherwise."""
    if not isinstance(name, (str, os.PathLike)) or not os.fspath(name).strip():
        raise ConfigError([Problem("<system>", None, "", "expected a system name or a YAML path",
                                   got=repr(name), hint="see `archsim hw list`")])
    text_name = os.fspath(name)
    if "/" not in text_name and os.sep not in text_name:
        candidate = systems_dir() / f"{text_name}.yaml"
        if candidate.is_file():
            return candidate
    path = Path(text_name)
    if path.is_file():
        return path
    if path.suffix in (".yaml", ".yml") or "/" in text_name:
        raise ConfigError([Problem(text_name, None, "", "no such file")])
    names = list_systems()
    hint = did_you_mean(text_name, names) or f"known: {', '.join(names)}"
    raise ConfigError([Problem("<system>", None, "", f"unknown system {text_name!r}", hint=hint)])


def load_system(name_or_path) -> System:
    """A validated `System` from a library name or a YAML path (a `System` is returned as is)."""
    if isinstance(name_or_path, System):
        return name_or_path
    path = system_path(name_or_path)
    try:
        rel = os.path.relpath(path)
        shown = str(path) if rel.startswith("..") else rel
    except ValueError:  # pragma: no cover - other drive on Windows
        shown = str(path)
    return parse_system(path.read_text(errors="replace"), shown, base=path.parent)


def parse_system(text_yaml: str, file: str = "<text>", base: Path | None = None) -> System:
    """Like `load_system` for YAML text; a device's `chip:` path is resolved against `base`
    (default: the working directory)."""
    data, problems = read_yaml(text_yaml, file, start_hint=_START)
    if data is None:
        raise ConfigError(problems)
    ck = Checker()
    ck.problems.extend(problems)
    system = _build(ck, data, base or Path.cwd())
    if ck.problems or system is None:
        raise ConfigError(sorted(ck.problems, key=lambda p: p.line or 0))
    from dataclasses import replace
    return replace(system, file=file)


def _build(ck: Checker, data: LocMap, base: Path) -> System | None:
    ck.keys(data, _TOP, "")
    version = ck.take(data, "version", "", integer(1, 1), required=True)
    name = ck.take(data, "name", "", text, required=True)
    kind = ck.take(data, "kind", "", text, required=True)
    if kind not in (BAD, None, "system"):
        ck.add(data, "kind", "kind", "a system description has kind: system", got=repr(kind),
               hint="a chip is described in hwconfigs/, a system in hwconfigs/systems/")
    description = ck.take(data, "description", "", text, default="")
    shards = ck.take(data, "shards", "", integer(1, 4096), default=1)
    sources = _sources(ck, data)
    ids = {s[0] for s in sources}
    devices = _devices(ck, data, base, ids)
    names = [d.name for d in devices if d is not None]
    links = _links(ck, data, names, ids)
    shared = _shared(ck, data, names, ids)
    placement = ck.take(data, "placement", "", text, default="")
    if isinstance(placement, str) and placement and names and len(names) == len(devices):
        from archsim.system.placement import PolicyError, parse_policy
        try:
            parse_policy(placement, tuple(names))
        except PolicyError as exc:
            ck.add(data, "placement", "placement", str(exc))
    if BAD in (version, name, kind, shards, placement) or None in devices or None in links or None in shared:
        return None
    if not ck.problems and not devices:
        ck.add(data, "devices", "devices", "a system needs at least one device")
        return None
    return System(name=name, devices=tuple(devices), links=tuple(links), placement=placement or "",
                  shards=shards, shared_memories=tuple(shared), description=description,
                  sources=tuple(sources))


def _list(ck: Checker, data: LocMap, key: str, required: bool) -> LocList:
    value = data.get(key)
    if value is None:
        if required:
            file, line = data.at
            ck.problems.append(Problem(file, line, key, "missing required field"))
        return LocList()
    if not isinstance(value, LocList):
        ck.add(data, key, key, "must be a list of entries")
        return LocList()
    return value


def _sources(ck: Checker, data: LocMap) -> list[tuple[str, str, bool]]:
    out = []
    seen: set[str] = set()
    for i, node in enumerate(_list(ck, data, "sources", True)):
        path = f"sources[{i}]"
        if not isinstance(node, LocMap):
            ck.add(data["sources"], i, path, "must be a mapping with id and text")
            continue
        ck.keys(node, _SOURCE, path)
        sid = ck.take(node, "id", path, text, required=True)
        body = ck.take(node, "text", path, text, required=True)
        assumption = ck.take(node, "assumption", path, boolean, default=False)
        if sid in seen:
            ck.add(node, "id", f"{path}.id", "duplicate source id", got=repr(sid))
        if BAD not in (sid, body, assumption):
            seen.add(sid)
            out.append((sid, body, assumption))
    return out


def _source_ref(ck: Checker, node: LocMap, path: str, ids: set[str], required: bool) -> None:
    refs = ck.take(node, "source", path, text_list, required=required)
    for ref in refs or ():
        if ref not in ids:
            ck.add(node, "source", f"{path}.source", "unknown source id", got=repr(ref),
                   hint=did_you_mean(ref, sorted(ids)) or f"ids in 'sources': {', '.join(sorted(ids))}")


def _devices(ck: Checker, data: LocMap, base: Path, ids: set[str]) -> list[Device | None]:
    out: list[Device | None] = []
    nodes = _list(ck, data, "devices", True)
    if len(nodes) > MAX_DEVICES:
        ck.add(data, "devices", "devices", f"at most {MAX_DEVICES} devices", got=len(nodes))
        return [None]
    for node, path, name in _named_entries(ck, nodes, "devices", _DEVICE, "name and chip", "device"):
        if node is None:
            out.append(None)
            continue
        chip = ck.take(node, "chip", path, text, required=True)
        holds = ck.take(node, "holds", path, _roles, default=ROLES)
        part_of = ck.take(node, "part_of", path, text, default="")
        overrides = node.get("overrides")
        if overrides is not None and not isinstance(overrides, LocMap):
            ck.add(node, "overrides", f"{path}.overrides", "must be a mapping of dotted keys to values",
                   hint="e.g. {dram.channels: 16}")
            overrides = BAD
        _source_ref(ck, node, path, ids, required=False)
        if BAD in (name, chip, holds, overrides, part_of):
            out.append(None)
            continue
        plain = tuple(sorted(_plain(overrides).items())) if overrides else ()
        chip_ref = _chip_ref(chip, base)
        _check_chip(ck, node, path, chip_ref, dict(plain))
        out.append(Device(name=name, chip=chip_ref, overrides=plain, holds=holds, part_of=part_of))
    names = [d.name for d in out if d is not None]
    for i, d in enumerate(out):
        if d is not None and d.part_of and (d.part_of not in names or d.part_of == d.name):
            node = nodes[i]
            ck.add(node, "part_of", f"devices.{d.name}.part_of", "must name another device",
                   got=repr(d.part_of), hint=did_you_mean(d.part_of, names) or f"devices: {', '.join(names)}")
    return out


def _plain(m: LocMap) -> dict:
    from archsim.hardware.yaml_lines import plain
    return plain(m)[0]


def _chip_ref(chip: str, base: Path) -> str:
    """A library chip name as is; a relative YAML path resolved against the system file's folder."""
    if "/" in chip or chip.endswith((".yaml", ".yml")):
        path = Path(chip)
        return str(path if path.is_absolute() else (base / path))
    return chip


def _check_chip(ck: Checker, node: LocMap, path: str, chip: str, overrides: dict) -> None:
    import warnings
    from archsim.hardware import load_hardware
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")             # lint warnings belong to the chip's own file
            load_hardware(chip, overrides=overrides or None)
    except ConfigError as exc:
        first = exc.problems[0] if exc.problems else None
        detail = f"{first.problem}" + (f"; {first.hint}" if first and first.hint else "") if first else str(exc)
        if first is not None and first.file not in ("<hardware>", "<overrides>"):
            detail = str(first)
        ck.add(node, "chip", f"{path}.chip", f"chip does not load: {detail}", got=repr(chip))


def _roles(value):
    from archsim.hardware.fields import Bad, choice
    one = choice(ROLES)
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise Bad(f"must be a list of tensor roles ({', '.join(ROLES)})")
    return tuple(one(v) for v in value)


def _named_entries(ck: Checker, nodes: LocList, key: str, allowed, shape: str, what: str):
    """The entries of the list `key` as (node, path, name): each a mapping with a required `name`
    (its path then `key.name`), its keys among `allowed`, names unique; an entry that is not a
    mapping is reported (as needing `shape`) and comes as (None, path, BAD)."""
    seen: set[str] = set()
    for i, node in enumerate(nodes):
        path = f"{key}[{i}]"
        if not isinstance(node, LocMap):
            ck.add(nodes, i, path, f"must be a mapping with {shape}")
            yield None, path, BAD
            continue
        name = ck.take(node, "name", path, text, required=True)
        if isinstance(name, str):
            path = f"{key}.{name}"
            if name in seen:
                ck.add(node, "name", f"{path}.name", f"duplicate {what} name", got=repr(name))
            seen.add(name)
        ck.keys(node, allowed, path)
        yield node, path, name


def _known_devices(ck: Checker, node: LocMap, path: str, field: str, given, names: list[str]) -> bool:
    """Whether every device `given` (under `field`) is one of `names`; each unknown one reported."""
    known = True
    for dev in given:
        if names and dev not in names:
            ck.add(node, field, f"{path}.{field}", f"no device named {dev!r}",
                   hint=did_you_mean(dev, names) or f"devices: {', '.join(names)}")
            known = False
    return known


def _links(ck: Checker, data: LocMap, names: list[str], ids: set[str]) -> list[Link | None]:
    out: list[Link | None] = []
    for node, path, name in _named_entries(ck, _list(ck, data, "links", False), "links", _LINK,
                                           "name, between and bandwidth", "link"):
        if node is None:
            out.append(None)
            continue
        between = ck.take(node, "between", path, text_list, required=True)
        bw = ck.take(node, "bandwidth", path, quantity("bandwidth"), required=True)
        latency = ck.take(node, "latency", path, quantity("time", positive=False), default=0.0)
        energy = ck.take(node, "energy", path, _energy_per_bit, default=0.0)
        _source_ref(ck, node, path, ids, required=True)
        if between is not BAD and between is not None:
            if len(between) != 2 or between[0] == between[1]:
                ck.add(node, "between", f"{path}.between", "must name two different devices",
                       got=repr(list(between)))
                between = BAD
            elif not _known_devices(ck, node, path, "between", between, names):
                between = BAD
        if BAD in (name, between, bw, latency, energy):
            out.append(None)
            continue
        out.append(Link(name=name, between=tuple(between), bandwidth_bytes_per_s=bw, latency_s=latency,
                        energy_pj_per_bit=energy))
    return out


def _shared(ck: Checker, data: LocMap, names: list[str], ids: set[str]) -> list[SharedMemory | None]:
    """`shared_memory:` entries: a DRAM several devices sit on (each device on at most one)."""
    out: list[SharedMemory | None] = []
    taken: dict[str, str] = {}
    for node, path, name in _named_entries(ck, _list(ck, data, "shared_memory", False), "shared_memory",
                                           _SHARED, "name and devices", "shared memory"):
        if node is None:
            out.append(None)
            continue
        members = ck.take(node, "devices", path, text_list, required=True)
        to_pim = ck.take(node, "to_pim", path, quantity("time", positive=False), default=0.0)
        to_host = ck.take(node, "to_host", path, quantity("time", positive=False), default=0.0)
        _source_ref(ck, node, path, ids, required=True)
        if members not in (BAD, None):
            if len(members) < 2 or len(set(members)) != len(members):
                ck.add(node, "devices", f"{path}.devices", "must name two or more different devices",
                       got=repr(list(members)))
                members = BAD
            elif not _known_devices(ck, node, path, "devices", members, names):
                members = BAD
            else:
                for dev in members:
                    if dev in taken:
                        ck.add(node, "devices", f"{path}.devices",
                               f"device {dev!r} already sits on shared memory {taken[dev]!r}",
                               hint="a device has one off-chip memory")
                        members = BAD
                    else:
                        taken[dev] = str(name)
        if BAD in (name, members, to_pim, to_host):
            out.append(None)
            continue
        out.append(SharedMemory(name=name, devices=tuple(members), to_pim_s=to_pim, to_host_s=to_host))
    return out


def _energy_per_bit(value):
    """Energy per bit moved: '1.3 pJ/bit', or per byte ('10.4 pJ/B', divided by 8)."""
    from archsim.hardware.fields import Bad
    if isinstance(value, str) and value.strip().endswith("/bit"):
        number = value.strip()[: -len("/bit")]
        return quantity("energy", positive=False)(number)          # pJ
    try:
        per_byte = quantity("energy_per_byte", positive=False)(value)
    except Bad:
        raise Bad("must be an energy per bit or byte such as '1.3 pJ/bit' or '10.4 pJ/B'") from None
    return per_byte / 8                                            # pJ/B → pJ/bit
