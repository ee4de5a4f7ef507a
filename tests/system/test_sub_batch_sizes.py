"""Sub-batches split the batch into near-equal parts that add up to it: with one device, no
overlap and no weight reuse, the system's latency is the sum of the chip's latency at each part's
batch size (the first `batch % parts` parts one larger)."""
from __future__ import annotations

import functools

import pytest

import archsim
from archsim.system import simulate_system

from .test_system import ONE_DEVICE

MODEL = dict(phase="decode", context=64, overrides={"layers": 1})


@functools.lru_cache(maxsize=None)
def _chip(batch: int) -> float:
    return archsim.simulate("gpt2-small", "edge-npu", batch=batch, **MODEL).latency_s


@pytest.mark.parametrize("batch, parts, sizes", [(3, 2, (2, 1)), (4, 2, (2, 2)), (5, 3, (2, 2, 1)),
                                                 (2, 2, (1, 1))])
def test_serial_sub_batches_cost_their_sizes(tmp_path, batch, parts, sizes):
    path = tmp_path / "solo.yaml"
    path.write_text(ONE_DEVICE)
    r = simulate_system("gpt2-small", str(path), batch=batch, sub_batches=parts, overlap=False,
                        weight_reuse=False, **MODEL)
    assert r.tokens == batch
    assert sorted({s.sub_batch for s in r.spans}) == list(range(parts))
    assert r.latency_s == pytest.approx(sum(_chip(b) for b in sizes), rel=1e-9)
