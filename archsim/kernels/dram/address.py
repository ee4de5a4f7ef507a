"""Address mapping (Numba): byte addresses to (channel, bank, row) under a configurable field order
(`decode`, used by the request-level controller), and where a burst task's bank slots land inside
one channel (`slot_bank`: consecutive slots go to different bank groups first)."""
from __future__ import annotations

import numpy as np
from numba import njit

from .state import P_ACTAB, P_BPG, P_NBANKS, P_NBG


@njit(cache=True)
def slot_bank(P, slot):
    """Address interleaving: consecutive slots go to different bank groups first."""
    nb = P[P_NBANKS]
    s = slot % nb
    return (s % P[P_NBG]) * P[P_BPG] + (s // P[P_NBG]) % P[P_BPG]


@njit(cache=True)
def all_bank_ok(P, slot0, span):
    """An all-bank ACT applies: enabled, several banks, and all of them on one row."""
    return P[P_ACTAB] != 0 and span > 1 and (slot0 % P[P_NBANKS]) + span <= P[P_NBANKS]


#: address-mapping fields (`archsim.engine.dram_address.FIELDS`)
F_CH, F_CO, F_BG, F_BA, F_RA, F_RO = range(6)


@njit(cache=True)
def decode(addr, burst_bytes, fields, sizes, bpg, nbg, ch, bank, row):
    """Byte addresses → (channel, bank in channel, row) under a mapping given as its fields from the
    least significant up (`fields`, `sizes`: mixed radix, so channel counts need not be powers of
    two); the burst offset is below every field. A field given twice (a split bank group) takes
    its lower occurrence as its low digit. bank = (rank · nbg + bank group) · bpg + bank."""
    vals = np.zeros(6, dtype=np.int64)
    mult = np.ones(6, dtype=np.int64)
    for i in range(addr.shape[0]):
        x = addr[i] // burst_bytes
        vals[:] = 0
        mult[:] = 1
        for f in range(fields.shape[0]):
            vals[fields[f]] += (x % sizes[f]) * mult[fields[f]]
            mult[fields[f]] *= sizes[f]
            x //= sizes[f]
        ch[i] = vals[F_CH]
        bank[i] = (vals[F_RA] * nbg + vals[F_BG]) * bpg + vals[F_BA]
        row[i] = vals[F_RO]
