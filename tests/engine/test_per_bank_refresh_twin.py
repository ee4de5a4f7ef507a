"""The SimPy reference engine models per-bank refresh (HBM3 REFsb, LPDDR5 REFpb) as the Numba kernel
does: identical task times and counts on random traces, PIM all-bank MACs (which refresh all banks
at once) included."""
from __future__ import annotations

import numpy as np
from hypothesis import given, settings, strategies as st

from archsim.engine.execute import run_numba
from archsim.engine.reference import run_simpy

from .traces import random_trace


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10**6), n=st.integers(1, 50), dram=st.sampled_from(["hbm3", "lpddr5", "ddr4-3200"]),
       trefi=st.sampled_from([160, 400, 1500]), trfc_pb=st.sampled_from([20, 60, 150]),
       pim_share=st.sampled_from([0.0, 0.25]), all_bank=st.booleans())
def test_per_bank_refresh_twin(seed, n, dram, trefi, trfc_pb, pim_share, all_bank):
    tr = random_trace(seed, n, dram=dram, trefi=trefi, pim_share=pim_share, per_bank=trfc_pb,
                      all_bank=all_bank)
    a, b = run_numba(tr, periodic=False), run_simpy(tr)
    assert np.array_equal(a.start, b.start) and np.array_equal(a.finish, b.finish)
    assert np.array_equal(a.dram_counts, b.dram_counts)


def test_per_bank_refresh_happens():
    tr = random_trace(3, 60, dram="hbm3", trefi=160, pim_share=0.0, per_bank=40)
    assert run_simpy(tr).counts(0)["pb_refs"] > 0
