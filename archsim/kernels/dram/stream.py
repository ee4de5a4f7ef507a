"""A burst task on one DRAM channel (Numba): `nrows` consecutive row bursts (`commands.row_burst`),
with the exact skips of `skips.py` on long streams, after the channel's power-down exit
(`powerdown.py`) when it idled long enough."""
from __future__ import annotations

import numpy as np
from numba import njit, types
from numba.typed import Dict

from .commands import row_burst
from .powerdown import note_data_end, powerdown_exit
from .skips import refresh_period_skip, steady_state_skip
from .state import (ALWAYS, C_FLOOR, C_PBREFS, C_REFS, N_CHAN, NEG, P_NBANKS, P_REFI,
                     REFRESH_SKIP_MIN_ROWS)


@njit(cache=True)
def burst(P, bank_st, bg_last, chan, slot0, row, ncols, span, mode, nrows, ready, periodic, work):
    """`nrows` consecutive row bursts over consecutive slots. Returns (first command, last data end).
    `periodic`: False = row by row; True = the exact skips below (the refresh-period one on
    streams of at least REFRESH_SKIP_MIN_ROWS row bursts); ALWAYS = both on any stream.

    The cost of a stream grows with the number of distinct states it passes through, not its
    length (see `skips.py`; tests/engine/test_steady_state.py checks both skips equal the row-by-row
    path)."""
    if chan[C_FLOOR] > ready:   # in-order issue: no burst starts before an earlier one was ready
        ready = chan[C_FLOOR]
    chan[C_FLOOR] = ready
    ready = powerdown_exit(P, chan, ready)     # a channel idle long enough powered down
    nb = P[P_NBANKS]
    m = nb // span if nb % span == 0 else 0
    use = periodic and m > 0 and nrows >= 4 * m
    nt = nb * 4 + bg_last.shape[0] + 9
    prev = work[0:nt]
    cur = work[nt:2 * nt]
    prev_rows = work[2 * nt:2 * nt + nb]
    prev_counts = work[2 * nt + nb:2 * nt + nb + N_CHAN]
    c = work[2 * nt + nb + N_CHAN:2 * nt + 2 * nb + N_CHAN]
    banks = work[2 * nt + 2 * nb + N_CHAN:2 * nt + 3 * nb + N_CHAN]
    ring = work[2 * nt + 3 * nb + N_CHAN:2 * nt + 3 * nb + N_CHAN + 4]
    have_prev = False
    first = NEG
    end = ready
    r = 0
    ps = nt + nb + N_CHAN + 2          # a kept snapshot: times, rows, channel, row index, horizon
    refreshing = use and P[P_REFI] > 0 and nrows > 2 * m and (
        periodic == ALWAYS or nrows >= REFRESH_SKIP_MIN_ROWS)
    store = np.empty((16 if refreshing else 1, ps), dtype=np.int64)
    nstore = 0
    index = Dict.empty(key_type=types.int64, value_type=types.int64)
    closed = np.zeros(nb, dtype=np.bool_)
    closed_prev = np.zeros(nb, dtype=np.bool_)
    while r < nrows:
        refs_before = chan[C_REFS] + chan[C_PBREFS]
        s, e = row_burst(P, bank_st, bg_last, chan, slot0 + r * span, row, ncols, span, mode, ready,
                         c, banks)
        if r == 0:
            first = s
        if e > end:
            end = e
        r += 1
        # a refresh (all-bank or per-bank) just issued, past the first cycle of banks (from then
        # on every row burst misses: `skips._canon`'s horizon bound holds)
        if refreshing and chan[C_REFS] + chan[C_PBREFS] != refs_before and m <= r < nrows:
            skipped, end, store, nstore = refresh_period_skip(
                P, bank_st, bg_last, chan, end, r, nrows, m, nt, nb, store, nstore, index, cur,
                ring, ready, closed, closed_prev)
            if skipped > 0:
                r += skipped
                have_prev = False
                continue
        if use and r % m == 0:
            r, end = steady_state_skip(P, bank_st, bg_last, chan, end, r, nrows, m, nt, nb,
                                       have_prev, prev, cur, prev_rows, prev_counts, ring, closed,
                                       closed_prev)
            have_prev = True
    note_data_end(chan, end)
    return first, end
