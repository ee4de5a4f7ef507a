"""Every unit `archsim.units` accepts parses to the value a person would write down. The expected
values are written out by hand (powers of ten and two, bits ÷ 8), not derived from the module's
tables, and the test fails when a unit is added without an expected value here."""
from __future__ import annotations

import pytest

from archsim.units import DIMENSIONS, parse_quantity

# dimension → (amount written, {unit: expected value of "<amount> <unit>" in the base unit})
EXPECTED = {
    "bytes": (8, {
        "B": 8, "byte": 8, "bytes": 8, "KB": 8_000, "kB": 8_000, "MB": 8_000_000,
        "GB": 8_000_000_000, "TB": 8_000_000_000_000,
        "KiB": 8_192, "MiB": 8_388_608, "GiB": 8_589_934_592, "TiB": 8_796_093_022_208,
        "b": 1, "bit": 1, "bits": 1, "Kb": 1_000, "kb": 1_000, "Kbit": 1_000, "Mb": 1_000_000,
        "Mbit": 1_000_000, "Gb": 1_000_000_000, "Gbit": 1_000_000_000, "Tb": 1_000_000_000_000,
        "Kib": 1_024, "Mib": 1_048_576, "Gib": 1_073_741_824, "Tib": 1_099_511_627_776,
    }),
    "bits": (3, {"bit": 3, "bits": 3, "b": 3, "B": 24, "byte": 24}),
    "bandwidth": (8, {
        "B/s": 8, "byte/s": 8, "bytes/s": 8, "KB/s": 8e3, "kB/s": 8e3, "MB/s": 8e6, "GB/s": 8e9,
        "GBps": 8e9, "TB/s": 8e12, "KiB/s": 8_192, "MiB/s": 8_388_608, "GiB/s": 8_589_934_592,
        "TiB/s": 8_796_093_022_208, "b/s": 1, "bit/s": 1, "bits/s": 1, "Kb/s": 1e3, "kb/s": 1e3,
        "Kbit/s": 1e3, "Mb/s": 1e6, "Mbit/s": 1e6, "Mbps": 1e6, "Gb/s": 1e9, "Gbit/s": 1e9,
        "Gbps": 1e9, "Tb/s": 1e12, "Kib/s": 1_024, "Mib/s": 1_048_576, "Gib/s": 1_073_741_824,
        "Tib/s": 1_099_511_627_776,
    }),
    "frequency": (3, {"Hz": 3, "kHz": 3e3, "KHz": 3e3, "MHz": 3e6, "GHz": 3e9}),
    "time": (3, {"s": 3, "ms": 0.003, "us": 3e-6, "µs": 3e-6, "ns": 3e-9, "ps": 3e-12}),
    "energy": (3, {"fJ": 0.003, "pJ": 3, "nJ": 3e3, "uJ": 3e6, "µJ": 3e6, "mJ": 3e9, "J": 3e12}),
    "energy_per_byte": (3, {
        "fJ/B": 0.003, "fJ/byte": 0.003, "fJ/b": 0.024, "fJ/bit": 0.024,
        "pJ/B": 3, "pJ/byte": 3, "pJ/b": 24, "pJ/bit": 24,
        "nJ/B": 3e3, "nJ/byte": 3e3, "nJ/b": 24e3, "nJ/bit": 24e3,
        "uJ/B": 3e6, "uJ/byte": 3e6, "uJ/b": 24e6, "uJ/bit": 24e6,
        "µJ/B": 3e6, "µJ/byte": 3e6, "µJ/b": 24e6, "µJ/bit": 24e6,
        "mJ/B": 3e9, "mJ/byte": 3e9, "mJ/b": 24e9, "mJ/bit": 24e9,
        "J/B": 3e12, "J/byte": 3e12, "J/b": 24e12, "J/bit": 24e12,
    }),
    "power": (3, {"uW": 3e-6, "µW": 3e-6, "mW": 0.003, "W": 3, "kW": 3e3}),
    "area": (3, {"mm2": 3, "mm^2": 3, "mm²": 3, "um2": 3e-6, "um^2": 3e-6, "µm²": 3e-6,
                 "µm2": 3e-6}),
    "length": (3, {"nm": 3, "um": 3e3, "µm": 3e3}),
}

CASES = [(dim, unit, amount, value) for dim, (amount, table) in EXPECTED.items()
         for unit, value in table.items()]


def test_every_accepted_unit_has_an_expected_value():
    assert set(EXPECTED) == set(DIMENSIONS)
    for dim, (table, _, _) in DIMENSIONS.items():
        assert set(table) == set(EXPECTED[dim][1]), dim


@pytest.mark.parametrize("dim, unit, amount, value", CASES,
                         ids=[f"{d}-{u}" for d, u, _, _ in CASES])
def test_unit_parses_to_its_hand_written_value(dim, unit, amount, value):
    got = parse_quantity(f"{amount} {unit}", dim)
    if DIMENSIONS[dim][2]:
        assert type(got) is int and got == value
    else:
        assert got == pytest.approx(value, rel=1e-12)


def test_milliseconds_are_thousandths():
    assert parse_quantity("7.8 ms", "time") == pytest.approx(0.0078, rel=1e-12)
    assert parse_quantity("64 ms", "time") == pytest.approx(64e-3, rel=1e-12)
