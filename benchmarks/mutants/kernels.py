"""Mutants of the Numba kernels outside the DRAM paths: the mapper's cost model, the genetic search, the event loop, the time-ordered loop (archsim/kernels/)."""
from __future__ import annotations

from .mutant import Mutant
from .suites import KERNEL, SCALESIM

MUTANTS = (
    Mutant("kernel-capacity", "archsim/kernels/costmodel.py",
           "        if need > cap[i] and fit_level < 0:", "        if need > 2.0 * cap[i] and fit_level < 0:",
           KERNEL, "tiles twice the buffer accepted"),
    Mutant("kernel-dbuf", "archsim/kernels/costmodel.py",
           "            if home[o] < i and dbuf[i]:\n                b *= 2.0",
           "            if home[o] < i and dbuf[i]:\n                b *= 1.0", KERNEL,
           "double buffering not counted"),
    Mutant("kernel-fold-minus-one", "archsim/kernels/costmodel.py",
           "compute = np.ceil(visits / count) * folds * per_fold - 1.0",
           "compute = np.ceil(visits / count) * folds * per_fold", KERNEL + SCALESIM,
           "the layer's last cycle counted"),
    Mutant("kernel-fold-preload", "archsim/kernels/costmodel.py",
           "return t_len + rows + cols - 2.0 + (rows if preload else 0.0)",
           "return t_len + rows + cols - 2.0 + rows", KERNEL + SCALESIM, "every dataflow preloads"),
    Mutant("kernel-write-price", "archsim/kernels/costmodel.py",
           "energy += reads[i] * rd_pj[i] + writes[i] * wr_pj[i]",
           "energy += reads[i] * rd_pj[i] + writes[i] * rd_pj[i]",
           KERNEL, "writes priced as reads in the mapper"),
    Mutant("ga-tournament", "archsim/kernels/genetic.py",
           "pa = min(a[i, 0], a[i, 1])",
           "pa = max(a[i, 0], a[i, 1])",
           ("tests/mapper/test_search_pins.py", "tests/mapper/test_search.py"),
           "tournament picks the worse parent"),
    Mutant("ga-elite", "archsim/kernels/genetic.py", "out[:n_elite] = pop[:n_elite]",
           "out[:n_elite] = pop[m - n_elite:]",
           ("tests/mapper/test_search_pins.py", "tests/mapper/test_search.py"),
           "elitism keeps the worst genomes"),
    Mutant("eventloop-deps", "archsim/kernels/eventloop.py",
           "            if ready > s:\n                s = ready\n            e = plain_finish(",
           "            e = plain_finish(",
           ("tests/engine/test_kernel_twins.py", "tests/engine/test_simulate.py"),
           "a task on a plain resource starts before its inputs are ready"),
    Mutant("timeloop-clock", "archsim/kernels/timeloop.py",
           "            if ts[h, T_END] < clock:", "            if False:",
           ("tests/engine/test_reference_controller.py",),
           "Numba: a transfer finished by an event before the latest one taken ends in the past"),
)
