"""The planted bugs `benchmarks/mutation.py` runs, one file per area of the code. Each mutant
names a file, an exact text that must occur there once, its replacement and the tests that should
fail; a new mutant goes at the end of its area's MUTANTS (a new area: a new file, added below).

History: the first 40 (units, energy, engine, kernels, mapper, workloads), a second round over the
modules those left untouched (search, fusion/PIM passes, the cache key, model families and HF
configs, GPU timing, DRAM refresh and background power, node scaling, the event loop), long DRAM
streams (#20), a third round over sessions 6-7 (the PIM host buffer, at most 8 refreshes owed,
closed-form coarse loads, NoC tile grouping, gap shares, the loader's source/notes checks, HF
activations, static and DRAM power, GPU kernels and calibration, serving, systems), then the
controller path as the default (flip), the exclusive-time walk (gapname), the array-backed trace
builder, DRAM power-down (ctrlpd) and the SimPy twin of the controller path (simpyctrl)."""
from __future__ import annotations

from . import dram, energy, engine, gap, gpu, hardware, kernels, mapper, serving, twin, workloads
from .equivalent import EQUIVALENT
from .mutant import Mutant

__all__ = ["Mutant", "MUTANTS", "EQUIVALENT"]

MUTANTS: tuple[Mutant, ...] = (hardware.MUTANTS + energy.MUTANTS + engine.MUTANTS + kernels.MUTANTS
                               + dram.MUTANTS + mapper.MUTANTS + workloads.MUTANTS + gpu.MUTANTS
                               + gap.MUTANTS + serving.MUTANTS + twin.MUTANTS)
