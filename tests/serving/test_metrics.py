"""Serving statistics on hand-made runs (no step table): TPOT is the time after the first token
over the tokens after it; SLO attainment and goodput count every arrived request, rejected ones
included; the paged KV cache hands out its last free block."""
from __future__ import annotations

import pytest

from archsim.serving import SLO, Finished, PagedKVCache, Scheduler, ServeRun, summarize


def _done(i, arrival, first, finish, tokens):
    return Finished(id=i, arrival_s=arrival, first_token_s=first, finish_s=finish, prompt_tokens=8,
                    output_tokens=tokens, max_itl_s=0.0, energy_j=1.0, preemptions=0)


def _run(finished, arrived, rejected=()):
    return ServeRun(scheduler=Scheduler(), arrived=arrived, finished=tuple(finished), rejected=tuple(rejected),
                    steps=1, busy_s=1.0, energy_j=float(len(finished)), kv_samples=(),
                    preemption_times_s=(), kv_capacity_tokens=64)


def test_tpot_is_per_token_after_the_first():
    # 5 tokens: the first at 1.0 s, the other 4 over the next 2 s -> 0.5 s per output token
    m = summarize(_run([_done(0, 0.0, 1.0, 3.0, 5), _done(1, 0.0, 1.0, 1.0, 1)], arrived=2))
    assert dict(m.tpot_s)[50] == pytest.approx(0.5)              # the one-token request has no TPOT
    assert dict(m.ttft_s)[50] == pytest.approx(1.0)
    assert summarize(_run([_done(0, 0.0, 1.0, 3.0, 5)], 1), SLO(ttft_s=2.0, tpot_s=0.5)).slo_attainment == 1.0
    assert summarize(_run([_done(0, 0.0, 1.0, 3.0, 5)], 1), SLO(ttft_s=2.0, tpot_s=0.45)).slo_attainment == 0.0


def test_attainment_counts_rejected_requests():
    slo = SLO(ttft_s=1.0, tpot_s=1.0, attainment=0.9)
    ok = [_done(i, 0.0, 0.5, 1.0, 2) for i in range(3)]
    m = summarize(_run(ok, arrived=4, rejected=(3,)), slo)
    assert m.requests == 4 and m.finished == 3 and m.rejected == 1
    assert m.slo_attainment == pytest.approx(0.75) and not m.meets_slo
    assert m.goodput_rps == pytest.approx(3 / 1.0)
    assert summarize(_run(ok, arrived=3), slo).meets_slo


def test_the_last_free_block_is_handed_out():
    kv = PagedKVCache(capacity_tokens=64, block_tokens=16)
    kv.grow(1, 48)
    assert kv.free_blocks == 1
    assert kv.can_hold(2, 16) and kv.can_hold(1, 64) and not kv.can_hold(2, 17)
    kv.grow(2, 16)
    assert kv.free_blocks == 0 and kv.used_fraction == 1.0
