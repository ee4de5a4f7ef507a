"""Arrivals, traces, the KV cache's block arithmetic, scheduler arguments and the step table's
interpolation against direct simulation."""
from __future__ import annotations

import statistics

import pytest

from archsim.errors import ArchsimError
from archsim.serving import PagedKVCache, Scheduler, gamma, load_trace, poisson


def test_poisson_and_gamma_have_the_asked_rate_and_burstiness():
    for cv in (0.0, 1.0, 3.0):
        reqs = gamma(50.0, 20_000, 10, 5, cv=cv, seed=2)
        gaps = [b.arrival_s - a.arrival_s for a, b in zip(reqs, reqs[1:])]
        mean = statistics.fmean(gaps)
        assert mean == pytest.approx(1 / 50, rel=0.05)
        assert statistics.pstdev(gaps) / mean == pytest.approx(cv, abs=0.08)
    assert poisson(3.0, 10, 1, 1, seed=5) == gamma(3.0, 10, 1, 1, cv=1.0, seed=5)


def test_traces_in_vidur_and_archsim_columns(tmp_path):
    csv_file = tmp_path / "t.csv"
    csv_file.write_text("arrived_at,num_prefill_tokens,num_decode_tokens\n4.5,396,109\n2.0,374,44\n")
    reqs = load_trace(csv_file)
    assert [(r.arrival_s, r.prompt_tokens, r.output_tokens) for r in reqs] == [(0.0, 374, 44), (2.5, 396, 109)]
    jsonl = tmp_path / "t.jsonl"
    jsonl.write_text('{"arrival_s": 0, "prompt_tokens": 8, "output_tokens": 2}\n\n'
                     '{"arrival_s": 1, "prompt_tokens": 9, "output_tokens": 3}\n')
    assert len(load_trace(jsonl)) == 2 and len(load_trace(jsonl, limit=1)) == 1


@pytest.mark.parametrize("text, message", [
    ("arrived_at,num_prefill_tokens\n0,5\n", "t.csv:2: output_tokens: missing column"),
    ("arrival_s,prompt_tokens,output_tokens\n0,five,3\n", "t.csv:2: prompt_tokens: not a number (got 'five')"),
    ("arrival_s,prompt_tokens,output_tokens\n0,5,0\n", "t.csv:2: output_tokens: must be a whole number ≥ 1"),
    ("arrival_s,prompt_tokens,output_tokens\n", "t.csv: the trace has no requests"),
])
def test_bad_traces_say_where(tmp_path, text, message):
    path = tmp_path / "t.csv"
    path.write_text(text)
    with pytest.raises(ArchsimError) as exc:
        load_trace(path)
    assert message in str(exc.value).replace(str(tmp_path) + "/", "")


def test_paged_cache_counts_whole_blocks():
    kv = PagedKVCache(capacity_tokens=100, block_tokens=16)
    assert kv.total_blocks == 6
    kv.grow(1, 17)                                   # two blocks
    assert kv.free_blocks == 4 and kv.can_hold(1, 32) and not kv.can_hold(2, 65)
    kv.grow(1, 32)
    assert kv.free_blocks == 4
    assert kv.release(1) == 2 and kv.free_blocks == 6 and kv.used_fraction == 0


@pytest.mark.parametrize("kw, message", [
    (dict(policy="contiuous"), "did you mean 'continuous'"),
    (dict(preemption="spill"), "unknown scheduler preemption 'spill'"),
    (dict(max_batch=0), r"max_batch must be a whole number ≥ 1 \(got 0\)"),
])
def test_scheduler_arguments(kw, message):
    with pytest.raises(ArchsimError, match=message):
        Scheduler(**kw)


def test_interpolation_is_measured_against_direct_simulation(pim_table):
    err = pim_table.interpolation_error()
    assert err["points"] == 2 and err["median"] < 0.03
    for direct, interpolated in pim_table.checks:
        lookup = (pim_table.prefill(direct.a, direct.b) if direct.kind == "prefill"
                  else pim_table.decode(direct.a, direct.b))
        assert lookup[0] == interpolated
    for p in pim_table.points:                        # grid points come back exactly
        got = pim_table.prefill(p.a, p.b) if p.kind == "prefill" else pim_table.decode(p.a, p.b)
        assert got == pytest.approx((p.latency_s, p.energy_j), rel=1e-12)


def test_kv_capacity_is_memory_after_weights(pim_table):
    from archsim.hardware import load_hardware
    hw = load_hardware("pim-gpt")
    dram = max(hw.levels, key=lambda lv: lv.size_bytes)
    free = dram.size_bytes - pim_table.weight_bytes
    assert pim_table.kv_capacity_tokens == free // pim_table.kv_bytes_per_token
    # GPT-2 small: 12 layers × (K + V) × 768 × 2 bytes per token
    assert pim_table.kv_bytes_per_token == 12 * 2 * 768 * 2


def test_a_tensor_parallel_group_shards_the_kv_cache(pim_table, steps_cache):
    from archsim.serving import build_step_table
    pair = build_step_table("gpt2-small", "pim-gpt", devices=2, max_batch=1, max_prefill_tokens=64,
                            max_context=64, checks=0, cache_dir=steps_cache)
    assert pair.devices == 2 and pair.kv_bytes_per_token == pim_table.kv_bytes_per_token // 2
    assert pair.weight_bytes < pim_table.weight_bytes          # heads and MLP split, embeddings whole
    assert pair.kv_capacity_tokens > pim_table.kv_capacity_tokens
    assert pair.decode(1, 32)[0] != pim_table.decode(1, 32)[0]


def test_simulate_past_is_one_chunk_of_a_chunked_prefill():
    from archsim import api
    whole = api.simulate("gpt2-small", "pim-gpt", phase="prefill", seq=64, prefill_chunk=32)
    first = api.simulate("gpt2-small", "pim-gpt", phase="prefill", seq=32)
    second = api.simulate("gpt2-small", "pim-gpt", phase="prefill", seq=32, past=32)
    assert whole.fits and second.latency_s > first.latency_s    # it attends to 32 more positions
    assert first.latency_s + second.latency_s == pytest.approx(whole.latency_s, rel=1e-9)
    for kw, message in ((dict(phase="decode", context=8, past=4), "past applies to one prefill chunk"),
                        (dict(phase="prefill", seq=8, past=-1), "past must be a whole number")):
        with pytest.raises(ArchsimError, match=message):
            api.simulate("gpt2-small", "pim-gpt", **kw)
