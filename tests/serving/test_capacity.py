"""The SLO capacity search, and a sweep over rates × chips × schedulers that gives the same points
on a real Dask cluster (a scheduler and two workers on loopback) as in process."""
from __future__ import annotations

import pytest

from archsim.serving import SLO, Scheduler, serve, serve_sweep, slo_capacity
from tests.cosearch.test_dask import dask_cluster  # noqa: F401  (the loopback cluster fixture)


def test_capacity_is_the_largest_rate_meeting_the_slo(pim_table):
    slo = SLO(ttft_s=0.05, tpot_s=0.01)
    sched = Scheduler("continuous", max_batch=4, token_budget=256)
    cap = slo_capacity("gpt2-small", "pim-gpt", slo=slo, scheduler=sched, requests=600,
                       prompt_tokens=64, output_tokens=16, table=pim_table, probes=8)
    assert 0 < cap.max_rate_rps < cap.saturated_rps
    assert cap.at_max.meets_slo and cap.at_max.slo_attainment >= 0.9
    failing = [r for r, a in cap.probes if a < slo.attainment]
    assert failing and min(failing) > cap.max_rate_rps
    again = serve("gpt2-small", "pim-gpt", cap.max_rate_rps, requests=600, prompt_tokens=64,
                  output_tokens=16, scheduler=sched, slo=slo, table=pim_table)
    assert again.metrics == cap.at_max


def test_an_slo_no_rate_meets_gives_zero(pim_table):
    cap = slo_capacity("gpt2-small", "pim-gpt", slo=SLO(ttft_s=1e-5, tpot_s=1e-5), requests=50,
                       prompt_tokens=64, output_tokens=16, table=pim_table, probes=3,
                       scheduler=Scheduler(max_batch=4))
    assert cap.max_rate_rps == 0 and cap.at_max is None and len(cap.probes) == 3


def _sweep(steps_cache, **kw):
    schedulers = [Scheduler("continuous", max_batch=4),
                  Scheduler("chunked", max_batch=4, token_budget=128)]
    return serve_sweep("gpt2-small", ["pim-gpt"], schedulers,
                       [20.0, 200.0], requests=200, prompt_tokens=64, output_tokens=16,
                       cache_dir=steps_cache, **kw)


def test_sweep_on_dask_equals_the_local_sweep(dask_cluster, steps_cache):  # noqa: F811
    local = _sweep(steps_cache)
    remote = _sweep(steps_cache, dask=dask_cluster)
    assert [(p.hw, p.scheduler, p.rate_rps) for p in local] == [
        ("pim-gpt", "continuous", 20.0), ("pim-gpt", "continuous", 200.0),
        ("pim-gpt", "chunked", 20.0), ("pim-gpt", "chunked", 200.0)]
    assert remote == local
    assert local[1].metrics["throughput_rps"] < 200.0 * 0.9     # 200 req/s is past saturation


def test_a_bad_dask_address_is_one_line(steps_cache):
    from archsim.errors import ArchsimError
    with pytest.raises(ArchsimError, match="not a Dask scheduler address"):
        _sweep(steps_cache, dask="not an address")
