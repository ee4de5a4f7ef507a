"""The cold estimate mix's every mapping search, pinned (`tests/mapper/mix_pins.py` records them):
moving the search bookkeeping (ask/tell, legality, de-duplication, selection, neighbours, the
total order) into Numba kernels must choose the same genome after the same number of evaluations
for every (op, unit) of the eight estimates, and so the same latency and energy."""
from __future__ import annotations

import json

from tests.mapper.mix_pins import PINS_PATH, capture


def test_mix_searches_pinned():
    pinned = json.loads(PINS_PATH.read_text(encoding="utf-8"))
    got = json.loads(json.dumps(capture()))
    assert sorted(got) == sorted(pinned)
    for estimate, want in pinned.items():
        have = got[estimate]
        assert len(have["searches"]) == len(want["searches"]), estimate
        for i, (h, w) in enumerate(zip(have["searches"], want["searches"])):
            assert h == w, f"{estimate}: search {i} ({w['op']} on {w['unit']})"
        assert have["ops"] == want["ops"], estimate
        assert have["latency_s"] == want["latency_s"], estimate
        assert have["energy_j"] == want["energy_j"], estimate
