"""Hypothesis: load → dump → load is the identity; random edits of a valid file give a ConfigError or
a Hardware, never any other exception."""
from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, example, given, settings, strategies as st

from archsim.hardware import dump_hardware, list_hardware, load_hardware, parse_hardware
from archsim.errors import ConfigError

TINY = Path(__file__).parent / "data" / "tiny.yaml"
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

overrides = st.fixed_dictionaries({}, optional={
    "clock": st.sampled_from(["100 MHz", "1 GHz", "1.98 GHz", "216 MHz", "333.3 MHz"]),
    "technology": st.sampled_from(["5 nm", "7 nm", "16 nm", "28 nm", "45 nm", "65 nm"]),
    "memory.gbuf.size": st.integers(1, 4096).map(lambda k: f"{k} KiB"),
    "memory.gbuf.bytes_per_cycle": st.integers(1, 1024),
    "memory.dram.bandwidth": st.floats(0.1, 5000, allow_nan=False).map(lambda g: f"{g:.6g} GB/s"),
    "memory.dram.read_energy": st.floats(0.5, 100).map(lambda e: f"{e:.5g} pJ/bit"),
    "compute.pe.shape": st.tuples(st.integers(1, 256), st.integers(1, 256)).map(list),
    "compute.pe.count": st.integers(1, 64),
    "compute.pe.macs_per_cycle": st.dictionaries(st.sampled_from(["int8", "bf16", "fp16", "fp32", "int4"]),
                                                 st.integers(1, 65536), min_size=1, max_size=3),
    "compute.pe.launch_overhead": st.floats(0, 100).map(lambda t: f"{t:.4g} us"),
})


@SETTINGS
@given(overrides)
def test_load_dump_load_identity(over):
    try:
        hw = load_hardware(TINY, over)
    except ConfigError:
        return
    text = dump_hardware(hw)
    again = parse_hardware(text, hw.file)
    assert again == hw
    assert dump_hardware(again) == text


@SETTINGS
@given(st.sampled_from(list_hardware()), st.sampled_from(["2 MiB", "64 KiB", "300 KiB"]))
def test_library_override_round_trip(name, size):
    hw = load_hardware(name)
    inner = hw.levels[-1].name
    try:
        changed = load_hardware(name, {f"memory.{inner}.size": size})
    except ConfigError:
        return
    assert changed.level(inner).size_bytes != hw.level(inner).size_bytes or size in ("2 MiB", "64 KiB", "300 KiB")
    assert parse_hardware(dump_hardware(changed), changed.file) == changed


_JUNK = st.sampled_from(["", "-1", "0", "1e400", "x", "[", "]", "{", ":", "- a", "\t", "'", '"', "&a", "*a",
                         "!!python/object:os.system", "1 GiB", "2 GHz", "nan", "null", "~", "true", "[1, 2]",
                         "{a: 1}", "<<: {}", "? a", "%YAML 1.1", "---", "..."])
_TEXT = TINY.read_text()
_LIB_TEXT = {n: Path(load_hardware(n).file).read_text() for n in ("pim-gpt", "zcu102", "hbm3-pim-bg")}


@st.composite
def mutated(draw):
    text = draw(st.sampled_from([_TEXT, *_LIB_TEXT.values()]))
    lines = text.splitlines()
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.integers(0, len(lines) - 1))
        action = draw(st.sampled_from(["delete", "duplicate", "value", "insert", "truncate", "indent", "char"]))
        line = lines[i]
        if action == "delete":
            del lines[i]
        elif action == "duplicate":
            lines.insert(i, line)
        elif action == "value" and ":" in line:
            lines[i] = line.split(":", 1)[0] + ": " + draw(_JUNK)
        elif action == "insert":
            lines.insert(i, draw(_JUNK))
        elif action == "truncate":
            lines = lines[:i]
        elif action == "indent":
            lines[i] = draw(st.sampled_from(["  ", "\t", " "])) + line
        elif action == "char" and line:
            j = draw(st.integers(0, len(line) - 1))
            lines[i] = line[:j] + draw(st.characters(codec="utf-8")) + line[j + 1:]
        if not lines:
            break
    return "\n".join(lines) + "\n"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutations_never_crash(text):
    try:
        hw = parse_hardware(text, "mutated.yaml")
    except ConfigError as exc:
        assert exc.problems and all(str(p).startswith("mutated.yaml") or str(p).startswith(("hwconfigs", "/"))
                                    for p in exc.problems), str(exc)
        return
    assert hw.levels and hw.compute


_PATHS = st.sampled_from(["clock", "technology", "memory", "compute", "memory.0", "memory.gbuf", "memory.gbuf.size",
                          "dram", "dram.channels", "dram.tCK", "compute.pe", "compute.pe.shape", "compute.pe.lanes",
                          "compute.0.count", "sources", "sources.test.text", "power.tdp", "fpga.dsp", "x.y.z",
                          "name", "kind", "base", "compute.pe.placement", "version"])
_VALUES = st.one_of(st.none(), st.integers(-5, 10 ** 12), st.floats(), st.text(max_size=12), st.booleans(),
                    st.lists(st.integers(-2, 300), max_size=3), st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
                    st.sampled_from(["2 MiB", "1 GHz", "bank", "t4", "7.5 pJ/bit"]))


@settings(max_examples=150, deadline=None)
@given(st.sampled_from([str(TINY), "edge-npu", "zcu102", "h100-sxm"]), st.dictionaries(_PATHS, _VALUES, min_size=1, max_size=3))
@example(str(TINY), {"compute.pe.shape": None, "compute.pe.lanes": 0})   # was a TypeError in build
def test_random_overrides_never_crash(name, over):
    try:
        hw = load_hardware(name, over)
    except ConfigError as exc:
        assert exc.problems
        return
    assert parse_hardware(dump_hardware(hw), hw.file) == hw
