"""Reading YAML while keeping where every key came from (private helper of `archsim.hardware`).

PyYAML silently keeps the last of two equal keys and forgets line numbers once it builds dicts, so
we compose the node tree ourselves: every mapping becomes a `LocMap` (a dict that remembers the
file and line of each key) and every sequence a `LocList` (same, per item). Syntax errors, tabs,
duplicate keys, empty files and non-mapping documents become `Problem` rows, never tracebacks.
"""
from __future__ import annotations

import yaml

from archsim.errors import Problem
from archsim.strict_json import flow_depth

__all__ = ["LocMap", "LocList", "read_yaml", "where", "plain"]

Where = tuple[str, "int | None"]


class LocMap(dict):
    """A dict with `.lines[key] = (file, line)` and `.at = (file, line)` of the mapping itself."""

    def __init__(self, *args, at: Where = ("<input>", None), **kwargs):
        super().__init__(*args, **kwargs)
        self.at = at
        self.lines: dict = {}


class LocList(list):
    """A list with `.lines[index] = (file, line)` and `.at = (file, line)`."""

    def __init__(self, *args, at: Where = ("<input>", None)):
        super().__init__(*args)
        self.at = at
        self.lines: dict = {}


def where(container, key) -> Where:
    """(file, line) of `key` in a LocMap/LocList, falling back to the container itself."""
    lines = getattr(container, "lines", {})
    if key in lines:
        return lines[key]
    return getattr(container, "at", ("<input>", None))


def _line(node) -> int:
    return node.start_mark.line + 1


def _scalar(loader: yaml.SafeLoader, node, file: str, problems: list[Problem], path: str = ""):
    try:
        return loader.construct_object(node, deep=True)
    except yaml.YAMLError as exc:
        problems.append(Problem(file, _line(node), "", f"cannot read value: {getattr(exc, 'problem', exc)}",
                                got=repr(node.value)))
        return None
    except ValueError as exc:   # an int of > 4,300 digits, a date such as 2001-13-45: Python refuses it
        value = node.value if len(node.value) <= 40 else f"{node.value[:40]}… ({len(node.value):,} characters)"
        problems.append(Problem(file, _line(node), path, f"cannot read value: {exc}".split(";")[0]
                                if len(str(exc)) < 80 else "cannot read value: a number too long to be read",
                                got=repr(value)))
        return None


#: most nodes one description may expand to (guards against alias bombs)
MAX_NODES = 200_000
#: deepest nesting of mappings and lists (a description nests ~5 deep)
MAX_DEPTH = 50
#: largest YAML document read (the biggest shipped description is ~6 KB)
MAX_DOCUMENT_CHARS = 1_000_000


def _item_path(path: str, index: int, node) -> str:
    """`memory.gbuf` for a list entry with a plain `name` (or `id`), else `memory[2]`."""
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value in ("name", "id") and isinstance(value, yaml.ScalarNode):
                if value.value and value.tag == "tag:yaml.org,2002:str":
                    return f"{path}.{value.value}"
    return f"{path}[{index}]"


def _convert(node, file: str, loader: yaml.SafeLoader, problems: list[Problem], path: str, depth: int = 0,
             budget: list | None = None):
    budget = [MAX_NODES] if budget is None else budget
    budget[0] -= 1
    if depth > MAX_DEPTH or budget[0] < 0:
        if budget[0] >= -1 or depth > MAX_DEPTH:
            problems.append(Problem(file, _line(node), path, "nesting too deep or too many nodes (recursive alias?)"))
        return None
    if isinstance(node, yaml.MappingNode):
        out = LocMap(at=(file, _line(node)))
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                problems.append(Problem(file, _line(key_node), path, "a key must be plain text",
                                        got=key_node.id))
                continue
            if key_node.tag == "tag:yaml.org,2002:merge":
                problems.append(Problem(file, _line(key_node), path, "YAML merge keys ('<<') are not supported",
                                        hint="use 'base: OTHER-CONFIG' to reuse another description"))
                continue
            key = key_node.value
            sub = f"{path}.{key}" if path else key
            if key in out:
                first = out.lines[key][1]
                problems.append(Problem(file, _line(key_node), sub, "duplicate key",
                                        hint=f"first given at line {first}; YAML would silently keep the last"))
                continue
            out[key] = _convert(value_node, file, loader, problems, sub, depth + 1, budget)
            out.lines[key] = (file, _line(key_node))
        return out
    if isinstance(node, yaml.SequenceNode):
        seq = LocList(at=(file, _line(node)))
        for i, item in enumerate(node.value):
            seq.append(_convert(item, file, loader, problems, _item_path(path, i, item), depth + 1, budget))
            seq.lines[i] = (file, _line(item))
        return seq
    return _scalar(loader, node, file, problems, path)


HARDWARE_START = "a hardware description starts with 'version: 1', 'name:' and 'kind:'"


def read_yaml(text: str, file: str, start_hint: str = HARDWARE_START) -> tuple[LocMap | None, list[Problem]]:
    """Parse one YAML document into LocMap/LocList values. Returns (data, problems); data is None
    when the text is not a usable mapping. `start_hint` tells what an empty or non-mapping file
    should have started with (the hardware loader and the co-search space loader share this reader)."""
    problems: list[Problem] = []
    if len(text) > MAX_DOCUMENT_CHARS:
        problems.append(Problem(file, None, "", f"larger than {MAX_DOCUMENT_CHARS:,} characters",
                                hint="a description is a page of YAML, not a data file"))
        return None, problems
    if flow_depth(text) > MAX_DEPTH:     # before PyYAML, whose scanner slows with depth
        problems.append(Problem(file, None, "", f"nested too deeply (more than {MAX_DEPTH} levels of [ or {{)"))
        return None, problems
    if "\t" in text:
        for number, line in enumerate(text.splitlines(), start=1):
            indent = line[: len(line) - len(line.lstrip(" \t"))]
            if "\t" in indent:
                problems.append(Problem(file, number, "", "tab character in indentation",
                                        hint="YAML indentation must use spaces"))
                return None, problems
    node = _fast_node(text)     # libyaml when present; the pure-Python reader words the errors
    if node is not None:
        return _finish(node, file, problems, start_hint)
    try:
        loader = yaml.SafeLoader(text)
    except yaml.reader.ReaderError as exc:
        line = text[: exc.position].count("\n") + 1 if isinstance(exc.position, int) else None
        problems.append(Problem(file, line, "", "character not allowed in YAML", got=repr(chr(exc.character))
                                if isinstance(exc.character, int) else None))
        return None, problems
    try:
        node = loader.get_single_node()
    except RecursionError:                 # PyYAML composes nested collections recursively
        problems.append(Problem(file, None, "", f"nested too deeply (more than {MAX_DEPTH} levels)"))
        return None, problems
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        text = f"YAML syntax error: {exc.problem or exc.context}"
        if exc.problem and exc.context and exc.context_mark is not None:
            text += f" ({exc.context} at line {exc.context_mark.line + 1})"
        problems.append(Problem(file, line, "", text))
        return None, problems
    except yaml.YAMLError as exc:
        problems.append(Problem(file, None, "", f"YAML error: {exc}"))
        return None, problems
    finally:
        loader.dispose()
    return _finish(node, file, problems, start_hint)


def _fast_node(text: str):
    """The document's node parsed by libyaml (several times faster), or None when libyaml is
    missing, the text is empty or it fails to parse (then the pure-Python parser reports why)."""
    loader_class = getattr(yaml, "CSafeLoader", None)
    if loader_class is None:
        return None
    try:
        loader = loader_class(text)
        try:
            return loader.get_single_node()
        finally:
            loader.dispose()
    except Exception:
        return None


def _finish(node, file: str, problems: list[Problem], start_hint: str):
    if node is None:
        problems.append(Problem(file, 1, "", "empty file", hint=start_hint))
        return None, problems
    if not isinstance(node, yaml.MappingNode):
        got = "a list" if isinstance(node, yaml.SequenceNode) else "a single value"   # never its text
        problems.append(Problem(file, _line(node), "", "the top level must be a mapping of keys", got=got,
                                hint=start_hint))
        return None, problems
    loader = yaml.SafeLoader("")
    data = _convert(node, file, loader, problems, "")
    return data, problems


def plain(data, path: str = "", lines: dict | None = None):
    """`data` (LocMap/LocList values) as plain dicts and lists, plus `{dotted.path: line}` for every
    key and list item (`a.b`, `a.b[0]`), the form the co-search space validator reports with."""
    lines = {} if lines is None else lines
    if isinstance(data, dict):
        out = {}
        for key, value in data.items():
            sub = f"{path}.{key}" if path else str(key)
            lines[sub] = where(data, key)[1]
            out[key] = plain(value, sub, lines)[0]
        return out, lines
    if isinstance(data, list):
        out = []
        for i, value in enumerate(data):
            sub = f"{path}[{i}]"
            lines[sub] = where(data, i)[1]
            out.append(plain(value, sub, lines)[0])
        return out, lines
    return data, lines
