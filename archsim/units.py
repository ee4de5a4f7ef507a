"""Quantities written the way people write them: `320 KiB`, `4.8 TB/s`, `1.98 GHz`, `7.5 pJ/bit`,
`13.75 ns`, `2 W`, `826 mm2`, `28 nm`.

`parse_quantity(text, dimension)` returns the value in the base unit of the dimension, computed
with `decimal.Decimal` so that `4.8 TB/s` is exactly 4.8e12 and `320 KiB` exactly 327,680.

Base units (the unit named by the field that receives the value):

| dimension         | base unit  | accepted units |
|-------------------|------------|----------------|
| `bytes`           | byte (int) | B, kB/KB, MB, GB, TB (powers of 1000); KiB, MiB, GiB, TiB (powers of 1024); bit, b, Kb, Mb, Gb, Kib, Mib, Gib (bits ÷ 8) |
| `bits`            | bit (int)  | bit, b, B (× 8) |
| `bandwidth`       | byte/s     | B/s, KB/s, MB/s, GB/s, TB/s, KiB/s…TiB/s, bit/s, Mb/s, Gb/s, Gbit/s, Tb/s |
| `frequency`       | Hz         | Hz, kHz, MHz, GHz |
| `time`            | s          | s, ms, us, µs, ns, ps |
| `energy`          | pJ         | fJ, pJ, nJ, uJ, µJ, mJ, J |
| `energy_per_byte` | pJ/byte    | fJ/pJ/nJ per bit, b, B, byte (per bit × 8) |
| `power`           | W          | uW, mW, W, kW |
| `area`            | mm²        | mm2, mm^2, mm², um2, um^2, µm² |
| `length`          | nm         | nm, um |

**KB vs KiB.** archsim follows SI/IEC strictly: `KB`/`kB`, `MB`, `GB`, `TB` are powers of 1000 and
`KiB`, `MiB`, `GiB`, `TiB` powers of 1024. A datasheet's "64 KB of SRAM" means 65,536 bytes, so
the library writes it `64 KiB`. Bandwidths in GB/s and TB/s are decimal, as vendors use them.
Upper-case `B` is a byte and lower-case `b` a bit (`8 Gb` is a gigabit DRAM die).

A bare number is accepted only by `parse_quantity(..., allow_bare=True)`, which returns it as already
in the base unit (used for counts and DRAM cycle numbers). Everything else needs its unit.
"""
from __future__ import annotations

from decimal import Decimal, InvalidOperation
import math
import re

__all__ = ["DIMENSIONS", "UnitError", "parse_quantity", "format_quantity", "units_for"]


class UnitError(ValueError):
    """A quantity that cannot be parsed; `hint` lists the units that would be accepted."""

    def __init__(self, problem: str, hint: str = ""):
        super().__init__(problem)
        self.problem = problem
        self.hint = hint


_K, _KI = Decimal(1000), Decimal(1024)


def _powers(base: Decimal, names: tuple[str, ...], scale: Decimal = Decimal(1)) -> dict[str, Decimal]:
    return {name: scale * base ** i for i, name in enumerate(names)}


_BYTES: dict[str, Decimal] = {}
for _names, _base in ((("B", "KB", "MB", "GB", "TB"), _K), (("B", "KiB", "MiB", "GiB", "TiB"), _KI)):
    _BYTES.update(_powers(_base, _names))
_BYTES.update({"kB": _K, "byte": Decimal(1), "bytes": Decimal(1)})
_BYTES.update(_powers(_K, ("b", "Kb", "Mb", "Gb", "Tb"), Decimal(1) / 8))
_BYTES.update(_powers(_KI, ("b", "Kib", "Mib", "Gib", "Tib"), Decimal(1) / 8))
_BYTES.update({"bit": Decimal(1) / 8, "bits": Decimal(1) / 8, "kb": _K / 8,
               "Kbit": _K / 8, "Mbit": _K ** 2 / 8, "Gbit": _K ** 3 / 8})

_BANDWIDTH = {f"{u}/s": v for u, v in _BYTES.items()}
_BANDWIDTH.update({"Gbps": _K ** 3 / 8, "Mbps": _K ** 2 / 8, "GBps": _K ** 3})

_FREQUENCY = {"Hz": Decimal(1), "kHz": _K, "KHz": _K, "MHz": _K ** 2, "GHz": _K ** 3}

_TIME = {"s": Decimal(1), "ms": Decimal("1e-3"), "us": Decimal("1e-6"), "µs": Decimal("1e-6"),
         "ns": Decimal("1e-9"), "ps": Decimal("1e-12")}

_ENERGY = {"fJ": Decimal("1e-3"), "pJ": Decimal(1), "nJ": Decimal("1e3"), "uJ": Decimal("1e6"),
           "µJ": Decimal("1e6"), "mJ": Decimal("1e9"), "J": Decimal("1e12")}

_PER = {"bit": Decimal(8), "b": Decimal(8), "B": Decimal(1), "byte": Decimal(1)}
_ENERGY_PER_BYTE = {f"{e}/{p}": ev * pv for e, ev in _ENERGY.items() for p, pv in _PER.items()}

_POWER = {"uW": Decimal("1e-6"), "µW": Decimal("1e-6"), "mW": Decimal("1e-3"), "W": Decimal(1),
          "kW": _K}

_AREA = {"mm2": Decimal(1), "mm^2": Decimal(1), "mm²": Decimal(1),
         "um2": Decimal("1e-6"), "um^2": Decimal("1e-6"), "µm²": Decimal("1e-6"), "µm2": Decimal("1e-6")}

_LENGTH = {"nm": Decimal(1), "um": _K, "µm": _K}

_BITS = {"bit": Decimal(1), "bits": Decimal(1), "b": Decimal(1), "B": Decimal(8), "byte": Decimal(8)}

#: dimension name → (unit table, base-unit label, integer result?)
DIMENSIONS: dict[str, tuple[dict[str, Decimal], str, bool]] = {
    "bytes": (_BYTES, "bytes", True),
    "bits": (_BITS, "bits", True),
    "bandwidth": (_BANDWIDTH, "B/s", False),
    "frequency": (_FREQUENCY, "Hz", False),
    "time": (_TIME, "s", False),
    "energy": (_ENERGY, "pJ", False),
    "energy_per_byte": (_ENERGY_PER_BYTE, "pJ/B", False),
    "power": (_POWER, "W", False),
    "area": (_AREA, "mm2", False),
    "length": (_LENGTH, "nm", False),
}

_EXAMPLE = {"bytes": "320 KiB", "bits": "128 bit", "bandwidth": "4.8 TB/s", "frequency": "1.98 GHz",
            "time": "13.75 ns", "energy": "0.2 pJ", "energy_per_byte": "7.5 pJ/bit", "power": "2 W",
            "area": "826 mm2", "length": "28 nm"}

_NUMBER_UNIT = re.compile(r"^\s*([-+]?(?:\d+(?:_\d+)*(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)\s*(.*?)\s*$")


def units_for(dimension: str) -> str:
    """A short list of accepted units for hints."""
    table = DIMENSIONS[dimension][0]
    common = [u for u in table if not u.startswith(("Kib", "Mib", "Gib", "Tib", "µ"))]
    return ", ".join(common[:12])


def _to_decimal(value) -> Decimal:
    if isinstance(value, bool):
        raise UnitError("expected a number, not a boolean")
    if isinstance(value, int):
        return Decimal(value)
    return Decimal(repr(float(value)))


def parse_quantity(value, dimension: str, allow_bare: bool = False):
    """Parse `value` (a string like '4.8 TB/s' or, with allow_bare, a plain number) into the base
    unit of `dimension`. Returns int for byte/bit dimensions (must be whole), float otherwise.
    Raises UnitError with a hint naming the accepted units."""
    if dimension not in DIMENSIONS:
        raise KeyError(dimension)
    table, base, integral = DIMENSIONS[dimension]
    example = _EXAMPLE[dimension]
    if isinstance(value, bool) or value is None or isinstance(value, (list, dict)):
        raise UnitError(f"expected a {dimension} quantity", f"write it like '{example}'")
    if isinstance(value, (int, float)):
        if not allow_bare:
            raise UnitError("missing unit", f"write it like '{example}'")
        amount, unit = _to_decimal(value), None
    else:
        match = _NUMBER_UNIT.match(str(value))
        if not match:
            raise UnitError(f"not a {dimension} quantity", f"write it like '{example}'")
        try:
            amount = Decimal(match.group(1).replace("_", ""))
        except InvalidOperation:  # pragma: no cover - the regex admits only valid numbers
            raise UnitError("not a number", f"write it like '{example}'") from None
        unit = match.group(2) or None
        if unit is None and not allow_bare:
            raise UnitError("missing unit", f"write it like '{example}'")
    if not amount.is_finite():
        raise UnitError("not a finite number", f"write it like '{example}'")
    if unit is not None:
        if unit not in table:
            from archsim.errors import did_you_mean
            guess = did_you_mean(unit, list(table))
            hint = guess or f"accepted units: {units_for(dimension)}"
            raise UnitError(f"unknown {dimension} unit {unit!r}", hint)
        amount = amount * table[unit]
    if not math.isfinite(float(amount)):    # e.g. '1e400 GB/s': finite as a Decimal, inf as a float
        raise UnitError("too large to be a real quantity", f"write it like '{example}'")
    if integral:
        if amount != amount.to_integral_value():
            raise UnitError(f"not a whole number of {base}", f"got {amount} {base}")
        return int(amount)
    return float(amount)


_DISPLAY = {
    "bytes": (("GiB", 1024 ** 3), ("MiB", 1024 ** 2), ("KiB", 1024), ("B", 1)),
    "bandwidth": (("TB/s", 1e12), ("GB/s", 1e9), ("MB/s", 1e6), ("B/s", 1)),
    "frequency": (("GHz", 1e9), ("MHz", 1e6), ("kHz", 1e3), ("Hz", 1)),
}


def format_quantity(value: float, dimension: str) -> str:
    """A short human string for tables (`2 MiB`, `4.8 TB/s`); not meant for round trips."""
    for unit, scale in _DISPLAY.get(dimension, ()):
        if abs(value) >= scale:
            return f"{value / scale:.4g} {unit}"
    return f"{value:.4g} {DIMENSIONS[dimension][1]}"
