"""The loader's cross-checks of `sources`: every id a `source` names, alone or in a list, must be
one of `sources`; two sources may not share an id; `notes` is one text, not a list."""
from __future__ import annotations

import copy
import functools

import pytest
import yaml

from archsim.errors import ArchsimError
from archsim.hardware import hardware_path, parse_hardware

CHIP = "edge-npu"


@functools.lru_cache(maxsize=None)
def _doc():
    return yaml.safe_load(hardware_path(CHIP).read_text())


def _parse(doc):
    return parse_hardware(yaml.safe_dump(doc, sort_keys=False), f"{CHIP}.yaml")


def _error(doc) -> str:
    with pytest.raises(ArchsimError) as info:
        _parse(doc)
    return str(info.value)


def test_the_shipped_description_loads():
    hw = _parse(copy.deepcopy(_doc()))
    assert {s.id for s in hw.sources} == {s["id"] for s in _doc()["sources"]}


@pytest.mark.parametrize("where", ["top", "memory"])
def test_an_unknown_id_in_a_list_of_sources_is_an_error(where):
    doc = copy.deepcopy(_doc())
    node = doc if where == "top" else doc["memory"][0]
    known = doc["sources"][0]["id"]
    node["source"] = [known, "no-such-source"]
    message = _error(doc)
    assert "unknown source id" in message and "'no-such-source'" in message, message
    node["source"] = [known]
    _parse(doc)


def test_two_sources_with_one_id_are_an_error():
    doc = copy.deepcopy(_doc())
    doc["sources"].append(dict(doc["sources"][0], text="another text under the same id"))
    message = _error(doc)
    assert doc["sources"][0]["id"] in message and "sources" in message, message


def test_notes_are_one_text_not_a_list():
    doc = copy.deepcopy(_doc())
    doc["memory"][0]["notes"] = ["one note", "another"]
    message = _error(doc)
    assert "notes" in message and f"{CHIP}.yaml:" in message, message
    doc["memory"][0]["notes"] = "one note; another"
    _parse(doc)
