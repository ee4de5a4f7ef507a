"""Mutants of the unit parser (archsim/units.py) and the hardware loader's checks (archsim/hardware/)."""
from __future__ import annotations

from .mutant import Mutant
from .suites import U, HWLOAD

MUTANTS = (
    Mutant("units-ms", "archsim/units.py", '"ms": Decimal("1e-3")', '"ms": Decimal("1e-6")', U,
           "milliseconds parsed as microseconds"),
    Mutant("units-kibi", "archsim/units.py", "_K, _KI = Decimal(1000), Decimal(1024)",
           "_K, _KI = Decimal(1000), Decimal(1000)", U, "KiB as 1000 bytes"),
    Mutant("units-per-bit", "archsim/units.py", '_PER = {"bit": Decimal(8), "b": Decimal(8)',
           '_PER = {"bit": Decimal(1), "b": Decimal(8)', U, "pJ/bit not multiplied by 8"),
    Mutant("units-ghz", "archsim/units.py", '"MHz": _K ** 2, "GHz": _K ** 3}',
           '"MHz": _K ** 2, "GHz": _K ** 2}', U, "GHz as MHz"),
    Mutant("units-gbps", "archsim/units.py", '"Gbps": _K ** 3 / 8', '"Gbps": _K ** 3', U,
           "Gbps read as gigabytes per second"),
    Mutant("units-whole", "archsim/units.py", "        if amount != amount.to_integral_value():",
           "        if False:", U, "fractional byte counts accepted"),
    Mutant("units-uw", "archsim/units.py", '_POWER = {"uW": Decimal("1e-6")',
           '_POWER = {"uW": Decimal("1e-3")', U, "microwatts as milliwatts"),
    Mutant("hw-source-list", "archsim/hardware/check.py",
           "refs = [value] if isinstance(value, str) else value if isinstance(value, list) else []",
           "refs = [value] if isinstance(value, str) else []", HWLOAD,
           "a list of source ids not checked"),
    Mutant("hw-notes-list", "archsim/hardware/build.py",
           '    ck.take(m, "notes", path, text)', '    ck.take(m, "notes", path, text_list)', HWLOAD,
           "a list given as notes accepted"),
    Mutant("hw-source-duplicates", "archsim/hardware/check.py",
           '    _duplicates(ck, _maps(data, "sources"), "id", "sources")\n', "", HWLOAD,
           "two sources with one id accepted"),
)
