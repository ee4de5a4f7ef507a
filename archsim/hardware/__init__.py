"""Chip descriptions: the frozen `Hardware` types and the YAML boundary that builds them.

| module | what lives there |
|---|---|
| `types` | the frozen dataclasses: `Hardware`, `MemoryLevel`, `DramTiming`, `ComputeUnit`, … |
| `load` | `load_hardware`, `parse_hardware`, `list_hardware`: `base:` merging and `--hw-set` overrides |
| `yaml_lines` | YAML read with every key's line kept; duplicate keys, tags and alias bombs refused |
| `fields` | small field readers (units, ranges, choices) whose messages name field, expected and got |
| `build` | one description's sections turned into the types, every problem collected |
| `check` | cross-field checks (names unique, sources resolved, DRAM timing consistent) |
| `dump` | a `Hardware` back to YAML (`archsim hw dump`) |
| `ops` | which op kinds a unit runs and where each kind goes (one rule for mapper, engine and lint) |
| `lint` | `archsim hw lint`: DRAM timing vs burst, sustained bandwidth, op kinds, power, sources |

The types are imported first so that the loader's modules can import them from here.
"""
from __future__ import annotations

from archsim.hardware.types import *  # noqa: F401,F403  (the types are this package's vocabulary)
from archsim.hardware.types import OFF_CHIP_KINDS, __all__ as _TYPES
from archsim.hardware.load import (dump_hardware, hardware_path, library_dir, list_hardware,
                                   load_hardware, parse_hardware)

__all__ = list(_TYPES) + ["OFF_CHIP_KINDS", "load_hardware", "parse_hardware", "list_hardware",
                          "dump_hardware", "hardware_path", "library_dir"]
