"""A small YAML loader for search-space files: rejects duplicate keys and remembers the line of every
key, so a problem is reported as `file:line: path.to.key: ...` like hardware files are.

Kept here (not shared) because the hardware loader in `archsim.config` was being written at the same
time; both follow the same rules (safe loading, duplicate keys are errors, 1-based line numbers).
"""
from __future__ import annotations

from pathlib import Path

import yaml

from archsim.errors import ConfigError, Problem

__all__ = ["load_yaml_with_lines"]


class _LineLoader(yaml.SafeLoader):
    """SafeLoader that records `dotted.key → line` and refuses duplicate keys."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode, deep: bool = False):
    loader.flatten_mapping(node)
    prefix = loader._archsim_paths.get(id(node), "")
    result = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=deep)
        path = f"{prefix}.{key}" if prefix else str(key)
        line = key_node.start_mark.line + 1
        if key in result:
            loader._archsim_problems.append(Problem(
                file=loader._archsim_file, line=line, key=path,
                problem="duplicate key", hint=f"first given on line {loader._archsim_lines[path]}"))
            continue
        loader._archsim_lines[path] = line
        _tag_children(loader, value_node, path)
        result[key] = loader.construct_object(value_node, deep=True)
    return result


def _tag_children(loader: _LineLoader, node: yaml.Node, path: str) -> None:
    if isinstance(node, yaml.MappingNode):
        loader._archsim_paths[id(node)] = path
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            child = f"{path}[{i}]"
            loader._archsim_lines.setdefault(child, item.start_mark.line + 1)
            _tag_children(loader, item, child)


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def load_yaml_with_lines(path: str | Path) -> tuple[object, dict[str, int]]:
    """Parse `path`; return (data, {dotted key path: 1-based line}). Raises ConfigError for syntax
    errors and duplicate keys."""
    path = Path(path)
    if path.is_dir():
        raise ConfigError([Problem(str(path), None, "", "is a directory, expected a search-space YAML file")])
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError([Problem(str(path), None, "", f"not a text (UTF-8) file: undecodable byte at offset "
                                   f"{exc.start}", hint="a search space is a YAML text file")]) from None
    except OSError as exc:
        reason = (exc.strerror or str(exc)).lower()
        raise ConfigError([Problem(str(path), None, "", f"cannot read ({reason})")]) from None
    if "\x00" in text:
        raise ConfigError([Problem(str(path), None, "", "not a text file (it contains NUL bytes)",
                                   hint="a search space is a YAML text file")])
    loader = _LineLoader(text)
    loader._archsim_file = str(path)
    loader._archsim_lines = {}
    loader._archsim_paths = {}
    loader._archsim_problems = []
    try:
        data = loader.get_single_data()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        what = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError([Problem(file=str(path), line=line, key="", problem=f"not valid YAML: {what}")]) from None
    finally:
        loader.dispose()
    if loader._archsim_problems:
        raise ConfigError(loader._archsim_problems)
    return data, loader._archsim_lines
