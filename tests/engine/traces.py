"""Random task traces for engine-equality tests (Hypothesis strategies and a seeded builder)."""
from __future__ import annotations

import dataclasses
import random

from hypothesis import strategies as st

from archsim.engine.dram import dram_params
from archsim.engine.trace import TraceBuilder

from .dram_types import FACTS


def random_trace(seed: int, n: int = 50, dram: str = "ddr4-3200", trefi: int | None = 700,
                 n_plain: int = 2, all_bank: bool = False, pim_share: float = 0.25, per_bank: int = 0,
                 powerdown: tuple[int, int, int] | None = None):
    """`all_bank` turns on the all-bank activate for PIM MAC bursts; `pim_share` is the share of
    DRAM tasks in PIM MAC mode (the rest are reads and writes); `per_bank` > 0: per-bank refresh
    with that tRFCpb; `powerdown` = (tXP, tCKE, powerdown_idle) cycles."""
    rng = random.Random(seed)
    t = dataclasses.replace(FACTS[dram], all_bank_activate=all_bank)
    if powerdown is not None:
        t = dataclasses.replace(t, txp=powerdown[0], tcke=powerdown[1], powerdown_idle=powerdown[2])
    if per_bank:
        t = dataclasses.replace(t, refresh_per_bank=True, trfc_pb=per_bank)
    if trefi is not None:
        t = dataclasses.replace(t, trefi=trefi, trfc=min(t.trfc, trefi // 4))
    b = TraceBuilder()
    plain = [b.resource(f"u{i}") for i in range(n_plain)]
    d = b.resource("dram", dram_params(t))
    nbg = t.ranks * t.bank_groups
    nb = t.banks_per_channel
    for i in range(n):
        deps = rng.sample(range(i), min(i, rng.randint(0, 2)))
        if rng.random() < 0.45:
            b.task(rng.choice(plain), rng.randint(0, 300), deps)
        else:
            mode = 2 if rng.random() < pim_share else rng.choice([0, 0, 1])
            span = rng.randint(1, nb) if mode == 2 else rng.choice([s for s in (1, 2, 4) if s <= nbg])
            b.task(d, rng.randint(0, 3), deps, slot=rng.randint(0, 3 * nb), row=rng.randint(0, 3),
                   ncols=rng.randint(1, 24), span=span, mode=mode, nrows=rng.randint(1, 4))
    return b.build()


trace_args = st.tuples(st.integers(0, 10**6), st.integers(1, 60), st.sampled_from(sorted(FACTS)),
                       st.sampled_from([None, 300, 900]))
#: (tXP, tCKE, powerdown_idle) for traces with power-down on: idle timers short enough that the
#: random traces' plain tasks (0-300 cycles) leave channels idle past them
powerdown_args = st.tuples(st.integers(0, 24), st.integers(0, 16), st.integers(1, 120))
