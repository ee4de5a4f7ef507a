"""Chunked prefill through the API and the CLI: the result for the whole prompt is the chunks run
one after another — latency and energy are sums, the buffer need is the largest chunk's — and a
prompt whose one-pass activations do not fit a chip runs when chunked."""
from __future__ import annotations

import math
import re

import pytest

import archsim
from archsim import api
from archsim.api import ArgumentError
from archsim.chunked import chunk_plan
from archsim.cli import main

TINY = {"layers": 2, "hidden": 256, "heads": 4, "kv_heads": 2, "ffn": 512, "vocab": 1024}
#: a 2-layer LLaMA-2-7B prefilling 32K tokens on an A100 needs 4.1 GB of HBM in one pass and
#: 2.6 GB in chunks of 4K (weights, KV cache and the largest chunk's activations)
TWO_LAYERS = {"layers": 2}


@pytest.fixture(scope="module")
def runs():
    kw = dict(phase="prefill", seq=1000, overrides=TINY)
    whole = archsim.simulate("llama2-7b", "a100-80gb", prefill_chunk=256, **kw)
    parts = [archsim.simulate(archsim.build_graph("llama2-7b", "prefill", seq=n, past=past,
                                                  overrides=TINY), "a100-80gb")
             for past, n in chunk_plan(1000, 256)]
    return whole, parts


def test_totals_are_the_chunks_run_back_to_back(runs):
    whole, parts = runs
    assert whole.fits and len(parts) == 4
    assert math.isclose(whole.latency_s, sum(p.latency_s for p in parts), rel_tol=1e-12)
    assert math.isclose(whole.energy_j, sum(p.energy_j for p in parts), rel_tol=1e-12)
    assert whole.cycles == sum(p.cycles for p in parts)
    assert len(whole.ops) == sum(len(p.ops) for p in parts)
    assert (whole.seq, whole.context, whole.tokens) == (1000, 1000, 1000)
    assert any("4 chunks of ≤256 tokens" in n for n in whole.notes)


def test_energy_equals_its_breakdown_and_ops_follow_each_other(runs):
    whole, _ = runs
    assert math.isclose(whole.energy_j, sum(v for _, v in whole.energy_breakdown_j), rel_tol=1e-12)
    starts = [op.start_s for op in whole.ops if op.name.startswith("c3.")]
    assert min(starts) >= sum(p.latency_s for p in runs[1][:3]) - 1e-15
    assert max(op.start_s + op.latency_s for op in whole.ops) <= whole.latency_s * (1 + 1e-9)


def test_buffer_need_is_the_largest_chunks(runs):
    whole, parts = runs
    for lv in whole.levels:
        assert lv.peak_buffer_bytes == max(dict((x.level, x.peak_buffer_bytes) for x in p.levels)
                                           [lv.level] for p in parts)


def test_a_prompt_too_big_for_one_pass_fits_in_chunks():
    kw = dict(phase="prefill", seq=32768, overrides=TWO_LAYERS,
              hw_overrides={"memory.hbm.size": "3 GB"})
    one = archsim.simulate("llama2-7b", "a100-80gb", **kw)
    assert not one.fits and "hbm" in one.does_not_fit
    assert any("--prefill-chunk 4096" in n for n in one.notes)      # the way out, suggested
    chunked = archsim.simulate("llama2-7b", "a100-80gb", prefill_chunk=4096, **kw)
    assert chunked.fits and chunked.latency_s > 0
    hbm = next(lv for lv in chunked.levels if lv.level == "hbm")
    assert hbm.peak_buffer_bytes <= hbm.capacity_bytes


def test_a_chunk_that_does_not_fit_is_named():
    r = archsim.simulate("llama2-7b", "a100-80gb", phase="prefill", seq=32768, prefill_chunk=4096,
                         overrides=TWO_LAYERS, hw_overrides={"memory.hbm.size": "2 GB"})
    assert not r.fits
    assert re.match(r"chunk [1-8] of 8 \(tokens [\d,]+–[\d,]+\): .*hbm", r.does_not_fit)


def test_short_prompt_is_one_pass():
    a = archsim.simulate("gpt2-small", "a100-80gb", phase="prefill", seq=128)
    b = archsim.simulate("gpt2-small", "a100-80gb", phase="prefill", seq=128, prefill_chunk=512)
    assert a.latency_s == b.latency_s and not any("chunk" in n for n in b.notes)


def test_compare_and_sweep_take_the_chunk():
    c = archsim.compare("llama2-7b", ["a100-80gb", "h100-sxm"], phase="prefill", seq=600,
                        prefill_chunk=256, overrides=TINY)
    assert all(any("3 chunks" in n for n in row.result.notes) for row in c.rows)
    s = api.sweep("llama2-7b", "a100-80gb", phase="prefill", seq=[200, 600], prefill_chunk=256,
                      overrides=TINY)
    assert [any("chunks" in n for n in r.notes) for r in s.results] == [False, True]


@pytest.mark.parametrize("kwargs, match", [
    (dict(phase="decode", context=512, prefill_chunk=64), "prefill only"),
    (dict(phase="prefill", prefill_chunk=64), "needs seq"),
    (dict(phase="prefill", seq=256, prefill_chunk=0), "positive number of tokens"),
    (dict(phase="prefill", seq=256, prefill_chunk=True), "positive number of tokens"),
])
def test_bad_chunk_arguments(kwargs, match):
    with pytest.raises(ArgumentError, match=match):
        archsim.simulate("gpt2-small", "a100-80gb", **kwargs)


def test_cli_flag(tmp_path, capsys):
    out = tmp_path / "r.json"
    code = main(["simulate", "--model", "gpt2-small", "--hw", "a100-80gb", "--phase", "prefill",
                 "--seq", "1024", "--prefill-chunk", "512", "--json", str(out), "--quiet"])
    assert code == 0 and "2 chunks" in out.read_text()
    code = main(["simulate", "--model", "gpt2-small", "--hw", "a100-80gb", "--context", "64",
                 "--prefill-chunk", "512", "--quiet"])
    err = capsys.readouterr().err
    assert code != 0 and "prefill only" in err and "Traceback" not in err
