"""A shared DRAM is held for an op's off-chip bytes at its sustained streaming rate, refresh
included: on npu-lpddr5-pim with all-bank refresh (its LPDDR5 otherwise refreshes per bank, which
a stream hides), the NPU's hold time scales as 1 / (1 − the refresh share of a stream) when only
tRFC changes."""
from __future__ import annotations

import pytest

from archsim.engine.dram import stream_refresh_fraction
from archsim.hardware import load_hardware
from archsim.system import simulate_system


def _hold(trfc: str):
    d = {"dram.refresh": "all_bank", "dram.tRFC": trfc}
    r = simulate_system("gpt2-small", "npu-lpddr5-pim", phase="decode", batch=1, dtype="int8", context=64,
                        overrides={"layers": 1}, placement="all on npu", device_overrides={"npu": d, "pim": d})
    (memory,) = r.memories
    assert not r.links and memory.pim_s == 0 and memory.host_s > 0
    return memory.host_s, stream_refresh_fraction(load_hardware("edge-npu", d).levels[0].dram)


def test_the_hold_rate_loses_the_refresh_share():
    (long_s, long_f), (short_s, short_f) = _hold("380 ns"), _hold("38 ns")
    assert long_f > short_f > 0
    assert long_s / short_s == pytest.approx((1 - short_f) / (1 - long_f), rel=1e-9)
