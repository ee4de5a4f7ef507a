"""Every section's `source` and `notes` are read, wherever they sit: a number, a mapping or an
empty list there is an error naming the file, line and key (they were once kept silently in
`power:`, a DRAM block, `fpga:` and `defaults:`)."""
from __future__ import annotations

import copy

import pytest
import yaml

from archsim.errors import ArchsimError
from archsim.hardware import hardware_path, parse_hardware

CHIPS = ("edge-npu", "zcu102", "pim-gpt", "xeon-gold-6154")
BAD_VALUES = (5, {"a": 1}, [])


def _annotation_paths(node, path=()):
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("source", "notes"):
                yield path + (key,)
            elif key != "sources":
                yield from _annotation_paths(value, path + (key,))
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from _annotation_paths(item, path + (i,))


def _dotted(doc, path) -> str:
    """The loader's name for `path`: list items by their `name`."""
    out, node = [], doc
    for key in path:
        node = node[key]
        out.append(node["name"] if isinstance(key, int) and isinstance(node, dict) and "name" in node
                   else str(key))
    return ".".join(out)


@pytest.mark.parametrize("chip", CHIPS)
def test_every_source_and_notes_is_checked(chip):
    doc = yaml.safe_load(hardware_path(chip).read_text())
    paths = list(_annotation_paths(doc))
    assert {p[0] for p in paths} >= {"source", "memory", "compute"}
    for path in paths:
        for bad in BAD_VALUES:
            broken = copy.deepcopy(doc)
            node = broken
            for key in path[:-1]:
                node = node[key]
            node[path[-1]] = bad
            with pytest.raises(ArchsimError) as info:
                parse_hardware(yaml.safe_dump(broken, sort_keys=False), f"{chip}.yaml")
            message = str(info.value)
            assert f"{chip}.yaml:" in message, message
            assert _dotted(broken, path) in message, (path, bad, message)


def test_sections_that_were_silent():
    text = hardware_path("zcu102").read_text()
    doc = yaml.safe_load(text)
    for section in ("power", "fpga"):
        broken = copy.deepcopy(doc)
        broken[section]["source"] = 5
        with pytest.raises(ArchsimError, match=rf"{section}\.source: must be a list of text"):
            parse_hardware(yaml.safe_dump(broken, sort_keys=False), "zcu102.yaml")
