from __future__ import annotations

import pytest

from archsim.units import UnitError, parse_quantity


@pytest.mark.parametrize("text, dimension, value", [
    ("320 KiB", "bytes", 327_680),
    ("320 KB", "bytes", 320_000),
    ("320 kB", "bytes", 320_000),
    ("1 MiB", "bytes", 1_048_576),
    ("24.75 MiB", "bytes", 25_952_256),
    ("141 GB", "bytes", 141_000_000_000),
    ("8 Gb", "bytes", 1_000_000_000),
    ("8 Gib", "bytes", 1 << 30),
    ("64 bit", "bytes", 8),
    ("128 bit", "bits", 128),
    ("4.8 TB/s", "bandwidth", 4.8e12),
    ("2039 GB/s", "bandwidth", 2.039e12),
    ("16 Gb/s", "bandwidth", 2e9),
    ("1.98 GHz", "frequency", 1.98e9),
    ("216 MHz", "frequency", 216e6),
    ("13.75 ns", "time", 13.75e-9),
    ("625 ps", "time", 625e-12),
    ("3.9 us", "time", 3.9e-6),
    ("7.5 pJ/bit", "energy_per_byte", 60.0),
    ("28.72 pJ/B", "energy_per_byte", 28.72),
    ("4.2 nJ", "energy", 4200.0),
    ("2 W", "power", 2.0),
    ("278 mW", "power", 0.278),
    ("826 mm2", "area", 826.0),
    ("826 mm²", "area", 826.0),
    ("28 nm", "length", 28.0),
    ("1_000 B", "bytes", 1000),
])
def test_parse_exact(text, dimension, value):
    got = parse_quantity(text, dimension)
    assert got == value
    assert type(got) is type(value)


@pytest.mark.parametrize("text, dimension, fragment", [
    ("320", "bytes", "missing unit"),
    ("4.8 TB/sec", "bandwidth", "unknown bandwidth unit"),
    ("1.5 B", "bytes", "whole number"),
    ("fast", "frequency", "not a frequency quantity"),
    ("1 GHz", "time", "unknown time unit"),
    (True, "bytes", "expected a bytes quantity"),
    ("nan GHz", "frequency", "not a frequency quantity"),
])
def test_parse_errors(text, dimension, fragment):
    with pytest.raises(UnitError) as info:
        parse_quantity(text, dimension)
    assert fragment in str(info.value)


def test_hint_suggests_unit():
    with pytest.raises(UnitError) as info:
        parse_quantity("3 Ghz", "frequency")
    assert "GHz" in info.value.hint


def test_bare_numbers_only_when_allowed():
    assert parse_quantity(64, "bits", allow_bare=True) == 64
    with pytest.raises(UnitError):
        parse_quantity(64, "bits")
