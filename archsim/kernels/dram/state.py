"""DRAM channel state for the Numba kernels: parameter and state-array layouts, fresh state, scratch
size. Params P[28] (see `archsim.engine.dram.PARAM_NAMES`), bank_st[nbanks, 5] (open_row, act_t,
last_rd_t, last_wr_t, rdy_act_t), bg_last[n_bg] (last column per bank group), chan[30] (C_* below;
the last four are power-down's, `powerdown.py`: last data end, last wake, entries, cycles).
Plain Python: nothing here compiles."""
from __future__ import annotations

import numpy as np

__all__ = ['NEG', 'P_NBANKS', 'P_BPG', 'P_NBG', 'P_CL', 'P_CWL', 'P_RCD', 'P_RP', 'P_RAS',
           'P_CCDS', 'P_CCDL', 'P_RRDS', 'P_RRDL', 'P_FAW', 'P_WR', 'P_RTP', 'P_REFI', 'P_RFC',
           'P_BL', 'P_CCDAB', 'P_ACTAB', 'P_REFPB', 'P_RFCPB', 'P_WTRS', 'P_WTRL', 'P_RTW',
           'P_TXP', 'P_TCKE', 'P_PDIDLE', 'N_PARAMS', 'B_ROW', 'B_ACT', 'B_RD', 'B_WR', 'B_RDY', 'C_LASTCOL', 'C_LASTCOL_BG',
           'C_LASTACT', 'C_LASTACT_BG', 'C_NEXTREF', 'C_RING', 'C_R0', 'C_R1', 'C_R2', 'C_R3',
           'C_REFS', 'C_ACTS', 'C_PRES', 'C_HITS', 'C_MISSES', 'C_RDCOLS', 'C_WRCOLS', 'C_MACCOLS',
           'C_FLOOR', 'C_ABACTS', 'C_RINGN', 'C_REFMASK', 'C_LASTRD', 'C_LASTWR', 'C_LASTWR_BG',
           'C_PBREFS', 'C_LASTEND', 'C_WAKE', 'C_PDN', 'C_PDCYC', 'N_CHAN', 'ALL_BANKS_BG', 'MODE_READ', 'MODE_WRITE', 'MODE_PIM_MAC',
           'REFRESH_SKIP_MIN_ROWS', 'ALWAYS', 'MAX_POSTPONED', 'new_state', 'work_size']

NEG = -(1 << 40)

# params
P_NBANKS, P_BPG, P_NBG, P_CL, P_CWL, P_RCD, P_RP, P_RAS, P_CCDS, P_CCDL, P_RRDS, P_RRDL, P_FAW, \
    P_WR, P_RTP, P_REFI, P_RFC, P_BL, P_CCDAB, P_ACTAB, P_REFPB, P_RFCPB, P_WTRS, P_WTRL, P_RTW, \
    P_TXP, P_TCKE, P_PDIDLE = range(28)
N_PARAMS = 28
# bank state columns
B_ROW, B_ACT, B_RD, B_WR, B_RDY = range(5)
# channel state
C_LASTCOL, C_LASTCOL_BG, C_LASTACT, C_LASTACT_BG, C_NEXTREF, C_RING, C_R0, C_R1, C_R2, C_R3, \
    C_REFS, C_ACTS, C_PRES, C_HITS, C_MISSES, C_RDCOLS, C_WRCOLS, C_MACCOLS, C_FLOOR, C_ABACTS, \
    C_RINGN, C_REFMASK, C_LASTRD, C_LASTWR, C_LASTWR_BG, C_PBREFS, C_LASTEND, C_WAKE, C_PDN, \
    C_PDCYC = range(30)
N_CHAN = 30
ALL_BANKS_BG = -2          # C_LASTACT_BG after an all-bank ACT
MODE_READ, MODE_WRITE, MODE_PIM_MAC = 0, 1, 2
#: refresh commands a controller may postpone (JEDEC DDR4 JESD79-4 §4.9, and the same 8 for DDR5,
#: LPDDR4/5, GDDR6 and HBM2/3: "up to 8 REF commands may be postponed"); any column stream (read,
#: write, PIM) stops to refresh when the last of them falls due (`commands.postponed_limit`)
MAX_POSTPONED = 8
#: the refresh-period skip keeps a state per refresh, which costs more than it saves on a stream
#: shorter than this many row bursts (its period can be ten thousand row bursts and more: the
#: refresh drifts through the offsets of the stream's row-burst grid before a state repeats; a
#: pim-gpt score read after its write stream: period 13,916 row bursts (2,048 refreshes). Measured
#: one stream per type of tests/engine/dram_types.py: at 16 K row bursts 1.4-15x faster than row
#: by row but 2.2x slower on DDR4 / HBM3 all-bank; at 64 K faster on every type)
REFRESH_SKIP_MIN_ROWS = 65536
ALWAYS = 2     # `periodic` = ALWAYS: both skips whatever the stream's length (tests)


def work_size(params: np.ndarray) -> int:
    """Length of the int64 scratch array `burst` needs for a channel with `params`."""
    nb = int(params[P_NBANKS])
    return 2 * (4 * nb + int(params[P_NBG]) + 9) + 3 * nb + N_CHAN + 4


def new_state(params: np.ndarray):
    """Fresh (bank_st, bg_last, chan) for one channel with `params`."""
    nb = int(params[P_NBANKS])
    bank_st = np.empty((nb, 5), dtype=np.int64)
    bank_st[:, B_ROW] = -1
    bank_st[:, B_ACT] = NEG
    bank_st[:, B_RD] = NEG
    bank_st[:, B_WR] = NEG
    bank_st[:, B_RDY] = 0
    bg_last = np.full(int(params[P_NBG]), NEG, dtype=np.int64)
    chan = np.zeros(N_CHAN, dtype=np.int64)
    chan[C_LASTCOL] = NEG
    chan[C_LASTCOL_BG] = -1
    chan[C_LASTACT] = NEG
    chan[C_LASTACT_BG] = -1
    chan[C_NEXTREF] = params[P_REFI] if params[P_REFI] > 0 else (1 << 62)
    chan[C_R0:C_R3 + 1] = NEG
    chan[C_LASTRD] = NEG
    chan[C_LASTWR] = NEG
    chan[C_LASTWR_BG] = -1
    return bank_st, bg_last, chan
