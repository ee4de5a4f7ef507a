"""No request is lost or served twice, under every scheduler, with a KV cache small enough to
preempt; every served request got exactly its output tokens in time order."""
from __future__ import annotations

from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archsim.serving import POLICIES, Request, Scheduler, run_serving

requests_st = st.lists(
    st.tuples(st.floats(0, 2.0), st.integers(1, 300), st.integers(1, 40)), min_size=1, max_size=40)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=requests_st, policy=st.sampled_from(POLICIES), preemption=st.sampled_from(["recompute", "swap"]),
       capacity=st.sampled_from([256, 512, 4096]), max_batch=st.integers(1, 6),
       budget=st.sampled_from([32, 128, 512]))
def test_every_request_is_served_once_or_rejected(pim_table, rows, policy, preemption, capacity,
                                                  max_batch, budget):
    table = replace(pim_table, kv_capacity_tokens=capacity)
    reqs = [Request(i, t, p, o) for i, (t, p, o) in enumerate(rows)]
    sched = Scheduler(policy, max_batch=max_batch, token_budget=budget, preemption=preemption)
    run = run_serving(reqs, table, sched)
    served = [f.id for f in run.finished]
    assert len(served) == len(set(served))
    assert sorted(served + list(run.rejected)) == list(range(len(reqs)))
    whole = capacity // sched.block_tokens * sched.block_tokens
    for r in reqs:          # only a request whose whole KV cannot fit an empty cache is turned away
        assert (r.id in run.rejected) == (r.prompt_tokens + r.output_tokens > whole)
    by_id = {r.id: r for r in reqs}
    for f in run.finished:
        r = by_id[f.id]
        assert f.arrival_s == r.arrival_s and f.output_tokens == r.output_tokens
        assert f.arrival_s < f.first_token_s <= f.finish_s
        assert (f.finish_s > f.first_token_s) == (r.output_tokens > 1)
    assert sum(f.energy_j for f in run.finished) <= run.energy_j * (1 + 1e-9)
    assert all(0.0 <= u <= 1.0 for _, u in run.kv_samples)


def test_a_small_cache_preempts_and_still_serves_everyone(pim_table):
    table = replace(pim_table, kv_capacity_tokens=1024)
    reqs = [Request(i, 0.0, 200, 120) for i in range(12)]
    for preemption in ("recompute", "swap"):
        run = run_serving(reqs, table, Scheduler("continuous", max_batch=4, preemption=preemption))
        assert len(run.finished) == 12 and not run.rejected
        assert run.preemption_times_s, preemption
        assert max(u for _, u in run.kv_samples) > 0.9


def test_a_request_larger_than_the_cache_is_rejected_not_lost(pim_table):
    table = replace(pim_table, kv_capacity_tokens=160)
    reqs = [Request(0, 0.0, 100, 10), Request(1, 0.1, 150, 20), Request(2, 0.2, 50, 10)]
    run = run_serving(reqs, table, Scheduler("continuous"))
    assert run.rejected == (1,) and [f.id for f in run.finished] == [0, 2]


def test_prompt_chunks_never_take_the_blocks_a_decode_needs(pim_table):
    """Found by the CI profile: a chunked-prefill step gave the blocks make_room had freed for the
    running decodes to prompt chunks, and the decode's growth then failed (RuntimeError)."""
    table = replace(pim_table, kv_capacity_tokens=256)
    reqs = [Request(0, 0.0, 223, 2), Request(1, 0.0, 17, 1)]
    for preemption in ("recompute", "swap"):
        run = run_serving(reqs, table, Scheduler("chunked", max_batch=2, token_budget=32,
                                                 preemption=preemption))
        assert sorted(f.id for f in run.finished) == [0, 1] and not run.rejected
