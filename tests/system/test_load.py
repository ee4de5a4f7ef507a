"""System YAML: every shipped system loads; bad files fail with one line per problem naming file,
line, key, what is wrong and what would be right — never a traceback."""
from __future__ import annotations

import pytest

from archsim.errors import ConfigError
from archsim.system import is_system, list_systems, load_system, parse_system

GOOD = """\
version: 1
name: s
kind: system
devices:
  - name: host
    chip: edge-npu
  - name: pim
    chip: hbm-pim
links:
  - name: bus
    between: [host, pim]
    bandwidth: 64 GB/s
    energy: 5 pJ/bit
    source: [a]
placement: attention on pim
sources:
  - id: a
    text: test
"""

#: (edit of GOOD, text every message must contain)
BAD = [
    (("chip: hbm-pim", "chip: hbm-pimm"), ["s.yaml:8: devices.pim.chip: chip does not load",
                                          "did you mean 'hbm-pim'"]),
    (("    bandwidth: 64 GB/s", "    bandwidth: 64 GHz"), ["s.yaml:12: links.bus.bandwidth:"]),
    (("between: [host, pim]", "between: [host, pum]"), ["s.yaml:11: links.bus.between: no device named 'pum'",
                                                       "did you mean 'pim'"]),
    (("placement: attention on pim", "placement: atention on pim"),
     ["s.yaml:15: placement: placement names unknown op group 'atention'", "did you mean 'attention'"]),
    (("placement: attention on pim", "placement: attention on gpu"),
     ["s.yaml:15: placement: placement names unknown device 'gpu'"]),
    (("    source: [a]", "    source: [b]"), ["s.yaml:14: links.bus.source: unknown source id (got 'b')"]),
    (("kind: system", "kind: pim"), ["s.yaml:3: kind: a system description has kind: system"]),
    (("  - name: pim\n", "  - name: host\n"), ["duplicate device name"]),
    (("    energy: 5 pJ/bit", "    energy: 5 pJ/bit\n    energy: 6 pJ/bit"), ["s.yaml:14: links.bus.energy: duplicate key"]),
    (("    energy: 5 pJ/bit", "    enrgy: 5 pJ/bit"), ["s.yaml:13: links.bus.enrgy: unknown key", "did you mean 'energy'"]),
    (("    source: [a]\n", ""), ["links.bus.source: missing required field"]),
    (("    chip: edge-npu\n", "    chip: edge-npu\n    holds: [weights]\n"),
     ["s.yaml:7: devices.host.holds: unknown value", "did you mean 'weight'"]),
]


@pytest.mark.parametrize("name", list_systems())
def test_every_shipped_system_loads_with_sources(name):
    system = load_system(name)
    assert system.name == name and is_system(name)
    assert system.sources and all(d.chip for d in system.devices)


def test_a_good_system_parses():
    s = parse_system(GOOD, "s.yaml")
    assert [d.name for d in s.devices] == ["host", "pim"]
    assert s.links[0].bandwidth_bytes_per_s == 64e9 and s.links[0].energy_pj_per_bit == 5.0
    assert not is_system("edge-npu")


@pytest.mark.parametrize("edit,expected", BAD, ids=[e[1][0][:40] for e in BAD])
def test_bad_system_yaml_says_where_and_why(edit, expected):
    old, new = edit
    assert old in GOOD
    with pytest.raises(ConfigError) as info:
        parse_system(GOOD.replace(old, new, 1), "s.yaml")
    text = str(info.value)
    for part in expected:
        assert part in text, text
    assert "Traceback" not in text


def test_unknown_system_name_suggests():
    with pytest.raises(ConfigError, match="did you mean 'attacc-dgx-h100'"):
        load_system("attacc-dgx-h10")


def test_per_byte_link_energy_is_read_per_bit():
    s = parse_system(GOOD.replace("5 pJ/bit", "10.4 pJ/B"), "s.yaml")
    assert s.links[0].energy_pj_per_bit == pytest.approx(1.3)


SHARED = GOOD + """\
shared_memory:
  - name: dram
    devices: [host, pim]
    to_pim: 50 ns
    source: [a]
"""


def test_a_shared_memory_parses():
    system = parse_system(SHARED, "s.yaml")
    (memory,) = system.shared_memories
    assert memory.devices == ("host", "pim") and memory.to_pim_s == pytest.approx(50e-9)
    assert memory.to_host_s == 0.0 and system.memory_of("pim") is memory


@pytest.mark.parametrize("edit, expected", [
    (("devices: [host, pim]", "devices: [host, pym]"),
     "s.yaml:21: shared_memory.dram.devices: no device named 'pym'; did you mean 'pim'"),
    (("devices: [host, pim]", "devices: [host]"),
     "s.yaml:21: shared_memory.dram.devices: must name two or more different devices"),
    (("to_pim: 50 ns", "to_pim: 50 GB"), "s.yaml:22: shared_memory.dram.to_pim:"),
    (("    source: [a]\n", "    sorce: [a]\n"), "s.yaml:23: shared_memory.dram.sorce: unknown key"),
])
def test_bad_shared_memory_says_where_and_why(edit, expected):
    text = SHARED[::-1].replace(edit[0][::-1], edit[1][::-1], 1)[::-1]     # the last occurrence
    with pytest.raises(ConfigError) as err:
        parse_system(text, "s.yaml")
    assert expected in str(err.value)


def test_a_device_sits_on_one_shared_memory():
    text = SHARED + """\
  - name: other
    devices: [pim, host]
    source: [a]
"""
    with pytest.raises(ConfigError, match="device 'pim' already sits on shared memory 'dram'"):
        parse_system(text, "s.yaml")


def test_two_shared_memories_may_not_share_a_name():
    text = SHARED + """\
  - name: dram
    devices: [pim, host]
    source: [a]
"""
    with pytest.raises(ConfigError, match="s.yaml:24: shared_memory.dram.name: duplicate shared memory name"):
        parse_system(text, "s.yaml")
