"""The DRAM controller keys of every shipped description carry a source or an explicit assumption,
and the consequences of the sourced address mappings the engine relies on: the ZCU102 PS DDR map
(Vivado's rev 1.1 preset: two bank groups alternate per burst, a row is filled before the other
two) and the U280 HBM controller's Row Bank Column map (a row per bank before the next)."""
from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import numpy as np
import pytest
import yaml

from archsim.engine import dram_controller as dc
from archsim.engine.dram import row_burst_span
from archsim.engine.dram_equivalence import encode_addresses, engine_layout
from archsim.engine.dram_layout import burst_shape
from archsim.errors import ArchsimError, ConfigError
from archsim.hardware import load_hardware

HWCONFIGS = Path(__file__).parents[2] / "hwconfigs"
CONTROLLER_KEYS = ("address_mapping", "queue_depth", "row_hit_cap", "page_policy", "refresh",
                   "powerdown_idle")


def _dram_files() -> list[Path]:
    return sorted(p for p in list(HWCONFIGS.glob("*.yaml")) + list(HWCONFIGS.glob("systems/*.yaml"))
                  if re.search(r"^\s+dram:\s*$", p.read_text(), re.M))


def _dram_block(text: str) -> list[str]:
    lines = text.split("\n")
    start = next(i for i, line in enumerate(lines) if re.match(r"^\s+dram:\s*$", line))
    indent = len(lines[start]) - len(lines[start].lstrip()) + 2
    block = []
    for line in lines[start + 1:]:
        if line.strip() and len(line) - len(line.lstrip()) < indent:
            break
        block.append(line)
    return block


def test_the_shipped_dram_descriptions_are_found():
    names = {p.stem for p in _dram_files()}
    assert {"zcu102", "alveo-u280", "edge-npu", "pim-gpt", "neupims-pim", "t4"} <= names, names


@pytest.mark.parametrize("path", _dram_files(), ids=lambda p: p.stem)
def test_every_controller_key_carries_a_source_or_an_assumption(path):
    """Each of the six controller keys is written in the description's DRAM block with a comment
    naming sources of the file ([id, ...]); when every id named is an assumption source, the
    comment says 'assumption' too, so a reader sees which values nobody measured."""
    text = path.read_text()
    doc = yaml.safe_load(text)
    sources = {s["id"]: bool(s.get("assumption")) for s in doc["sources"]}
    block = _dram_block(text)
    for key in CONTROLLER_KEYS:
        line = next((x for x in block if re.match(rf"^\s+{key}:", x)), None)
        assert line is not None, f"{path.name}: dram.{key} is not written (source it or mark it an assumption)"
        comment = line.partition("#")[2]
        cited = [i.strip() for group in re.findall(r"\[([^\]]+)\]", comment) for i in group.split(",")]
        assert cited, f"{path.name}: dram.{key} cites no source: {line.strip()}"
        unknown = [i for i in cited if i not in sources]
        assert not unknown, f"{path.name}: dram.{key} cites unknown source ids {unknown}"
        if all(sources[i] for i in cited):
            assert "assumption" in comment, f"{path.name}: dram.{key} rests on assumptions only: say so"


def test_the_written_values_are_the_loaded_ones():
    for path in _dram_files():
        t = next(lv.dram for lv in load_hardware(str(path)).levels if lv.dram is not None)
        block = {m.group(1): m.group(2) for m in (re.match(r"^\s+(\w+):\s*([^#\s]+)", x) for x in _dram_block(path.read_text())) if m}
        assert block["address_mapping"] == t.address_mapping, path.name
        assert int(block["queue_depth"]) == t.queue_depth and int(block["row_hit_cap"]) == t.row_hit_cap
        assert block["page_policy"] == t.page_policy
        assert (block["refresh"] == "per_bank") == t.refresh_per_bank, path.name


def _dram(name):
    return next(lv.dram for lv in load_hardware(name).levels if lv.dram is not None)


def _decode(t, addr, mapping=None):
    from archsim.kernels.dram.address import decode
    fields, sizes = dc.parse_mapping(mapping or t.address_mapping, t)
    ch, bank, row = (np.zeros(len(addr), np.int64) for _ in range(3))
    decode(np.asarray(addr, np.int64), t.burst_bytes, fields, sizes, t.banks_per_group,
           t.ranks * t.bank_groups, ch, bank, row)
    return ch, bank, row


def test_zcu102_bursts_alternate_two_bank_groups_and_fill_their_rows():
    """Vivado's ZCU102 map (ADDRMAP8 bg_b0 at HIF 3, column HIF 10:4, bg_b1 HIF 11): consecutive
    64 B bursts alternate bank groups 0 and 1 in one row of one bank until both rows (16 KiB) are
    full, then groups 2 and 3, then the next bank; the row changes only every 128 KiB."""
    t = _dram("zcu102")
    assert (t.address_mapping, t.queue_depth, t.page_policy, t.refresh_per_bank, t.powerdown_idle) == \
        ("RoRaBaBgCoBgCh", 33, "open", False, 0)
    base = 5 * 128 * 1024                              # a row-aligned start (row 5)
    _, bank, row = _decode(t, base + np.arange(0, 64 * 1024, 64))
    group = bank // t.banks_per_group
    first = slice(0, 256)                              # 16 KiB
    assert set(row[first]) == {5} and list(group[:4]) == [0, 1, 0, 1]
    assert set(bank[first]) == {0, 4} and set(group[256:512]) == {2, 3}
    assert set(bank[512:768] % t.banks_per_group) == {1}
    assert row_burst_span(t) == 2


def test_u280_bursts_fill_a_row_per_bank_on_each_channel():
    """PG276's Row Bank Column map inside a channel: a channel's consecutive bursts stay in one
    row of one bank for a whole row (16 bursts of 64 B), then move to the next bank group."""
    t = _dram("alveo-u280")
    step = t.burst_bytes * t.channels                  # consecutive bursts of channel 0
    ch, bank, row = _decode(t, np.arange(0, 64 * step, step))
    assert set(ch) == {0}
    cols = t.row_size_bytes // t.burst_bytes
    assert cols == 16 and len(set(bank[:cols])) == 1 and len(set(row[:cols])) == 1
    assert bank[cols] != bank[0] and row_burst_span(t) == 1


@pytest.mark.parametrize("name,mapping,span", [("zcu102", None, 2), ("alveo-u280", None, 1),
                                                ("zcu102", "RoRaBaCoBgCh", 4),
                                                ("alveo-u280", "RoRaBaCoBgCh", 4)])
def test_the_engine_lays_a_transfer_out_as_its_mapping_does(name, mapping, span):
    """A transfer of whole row bursts from a row-burst boundary: the engine's column commands
    (`engine_layout`, the burst task of `burst_shape`) are consecutive addresses of the mapping,
    so what the controller path simulates is the byte stream the description's controller sees."""
    t = _dram(name)
    if mapping:
        t = dataclasses.replace(t, address_mapping=mapping)
    nbytes = 3 * span * t.row_size_bytes
    nrows, ncols, k = burst_shape(t, nbytes)
    assert k == span and nrows == 3
    slot0 = 2 * span                                   # a row-burst boundary
    bank, row, col = engine_layout(t, slot0, nrows, ncols, k)
    addr = encode_addresses(t, 0, bank, row, col) // t.burst_bytes
    step = t.channels if t.address_mapping.endswith("Ch") else 1
    assert np.array_equal(np.diff(addr), np.full(len(addr) - 1, step)), addr[:8]


@pytest.mark.parametrize("bad,text", [("RoBaBgCoBgBgCh", "at most twice"), ("RoBaBaCoCh", "at most twice")])
def test_only_the_bank_group_may_be_split(bad, text):
    with pytest.raises(ArchsimError, match=text):
        _load_with_mapping(bad)
    with pytest.raises(ArchsimError):
        dc.parse_mapping(bad, _dram("zcu102"))


def test_a_split_bank_group_needs_four_groups(tmp_path):
    t = dataclasses.replace(_dram("zcu102"), bank_groups=2)
    with pytest.raises(ArchsimError, match="even number of bank groups, at least 4"):
        dc.parse_mapping("RoRaBaBgCoBgCh", t)
    text = (HWCONFIGS / "zcu102.yaml").read_text().replace("bank_groups: 4 ", "bank_groups: 2 ") \
        .replace("banks: 4\n", "banks: 8\n")
    path = tmp_path / "chip.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=r"chip.yaml:\d+: .*address_mapping: a split bank group"):
        load_hardware(str(path))


def _load_with_mapping(mapping: str):
    import tempfile
    text = re.sub(r"address_mapping: \S+", f"address_mapping: {mapping}", (HWCONFIGS / "zcu102.yaml").read_text())
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "chip.yaml"
        path.write_text(text)
        return load_hardware(str(path))
