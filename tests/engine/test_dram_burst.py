"""A row burst as one event equals the command-by-command path: the closed form for the column
times (`archsim.kernels.dram.column_time`) against the plain recurrence every column obeys."""
from __future__ import annotations

import numpy as np
from hypothesis import given, settings, strategies as st

from archsim.kernels.dram import column_time


def _command_by_command(first, n, k, S, L):
    """Each column j ≥ k waits tCCD_S after the previous column (another bank group) and tCCD_L
    after the previous column of its own bank (j − k)."""
    t = list(first)
    for j in range(k, n):
        t.append(max(t[j - 1] + S, t[j - k] + L))
    return t


@settings(max_examples=300, deadline=None)
@given(k=st.integers(1, 8), S=st.integers(1, 8), extra_l=st.integers(0, 20),
       gaps=st.lists(st.integers(0, 50), min_size=8, max_size=8), n=st.integers(1, 200),
       t0=st.integers(-1000, 1000))
def test_closed_form_columns_equal_command_loop(k, S, extra_l, gaps, n, t0):
    L = S + extra_l
    if k == 1:
        S = L                       # one bank: consecutive columns share a bank group
    first = [t0]
    for g in gaps[:k - 1]:
        first.append(first[-1] + S + g)   # the first k columns, as the kernel resolves them
    ref = _command_by_command(first, max(n, k), k, S, L)
    c = np.array(first, dtype=np.int64)
    for j in range(k, max(n, k)):
        assert column_time(c, k, j, S, L) == ref[j]
