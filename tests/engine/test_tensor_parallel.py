"""Tensor parallelism: each device runs a shard (heads, KV heads and MLP width ÷ devices) and the
blocks' partial outputs are summed by ring all-reduces on the chip's link, on the critical path."""
from __future__ import annotations

import math

import pytest

import archsim
from archsim.api import ArgumentError
from archsim.cli import main
from archsim.hardware import load_hardware
from archsim.errors import ModelError
from archsim.errors import ArchsimError
from archsim.parallel import NCCL_BASE_LATENCY_S, allreduce_seconds, shard_overrides
from archsim.workloads import model_config


def test_shards_divide_heads_and_mlp_and_replicate_scarce_kv_heads():
    cfg = model_config("llama2-70b")                     # 64 heads, 8 KV heads, FFN 28672
    assert shard_overrides(cfg, 4) == {"heads": 16, "ffn": 7168, "kv_heads": 2, "head_dim": 128}
    assert shard_overrides(cfg, 16)["kv_heads"] == 1     # fewer KV heads than devices: replicated
    with pytest.raises(ModelError, match="heads 64, ffn 28672, kv_heads 8 not divisible by 3 devices"):
        shard_overrides(cfg, 3)
    with pytest.raises(ModelError, match="softmax-attention decoders"):
        shard_overrides(model_config("bert-base"), 2)


def test_ring_allreduce_cost():
    link = load_hardware("a100-80gb").interconnect[0]
    seconds, moved = allreduce_seconds(1e6, 4, link, "ring")
    assert moved == pytest.approx(2 * 2 * 3 / 4 * 1e6)
    assert seconds == pytest.approx(NCCL_BASE_LATENCY_S["ring"] + moved / link.bandwidth_bytes_per_s
                                    + 6 * link.latency_s)


def test_tree_allreduce_cost_and_the_faster_algorithm_by_message_size():
    link = load_hardware("h200-sxm").interconnect[0]
    seconds, moved = allreduce_seconds(1e6, 8, link, "tree")
    assert moved == pytest.approx(4e6)                                  # ~2·S each way
    assert seconds == pytest.approx(NCCL_BASE_LATENCY_S["tree"] + 6 * link.latency_s + 4e6 / 900e9)
    small, large = 8 * 1024, 256 * 2**20          # a decode token's activations vs a long prefill's
    ring = {n: allreduce_seconds(n, 8, link, "ring")[0] for n in (small, large)}
    tree = {n: allreduce_seconds(n, 8, link, "tree")[0] for n in (small, large)}
    assert tree[small] < ring[small] and ring[large] < tree[large]
    assert allreduce_seconds(small, 8, link)[0] == tree[small]
    assert allreduce_seconds(large, 8, link)[0] == ring[large]
    with pytest.raises(ArchsimError, match="unknown all-reduce algorithm 'mesh'"):
        allreduce_seconds(small, 8, link, "mesh")


@pytest.mark.parametrize("hw", ["a100-80gb", "h100-sxm", "h200-sxm"])
def test_every_multi_device_gpu_run_pays_link_latency(hw):
    link = load_hardware(hw).interconnect[0]
    assert link.latency_s > 0                            # sourced per description (NVLink 3 / 4)
    two = archsim.simulate("gpt2-small", hw, phase="decode", context=128, devices=2,
                           overrides={"layers": 2})
    reduces = [o for o in two.ops if o.kind == "allreduce"]
    assert len(reduces) == 4
    floor = min(NCCL_BASE_LATENCY_S.values()) + 2 * link.latency_s      # two steps between 2 devices
    assert all(o.latency_s >= floor for o in reduces)
    assert any("link latency" in n for n in two.notes)


@pytest.fixture(scope="module")
def pair():
    kw = dict(phase="decode", context=512)
    one = archsim.simulate("llama2-7b", "a100-80gb", **kw)
    two = archsim.simulate("llama2-7b", "a100-80gb", devices=2, **kw)
    shard = archsim.simulate("llama2-7b", "a100-80gb", overrides=shard_overrides(
        model_config("llama2-7b"), 2), **kw)
    return one, two, shard


def test_result_is_the_shard_plus_its_allreduces(pair):
    one, two, shard = pair
    reduces = [o for o in two.ops if o.kind == "allreduce"]
    assert two.devices == 2 and len(reduces) == 2 * 32            # after attention and MLP
    assert two.latency_s == pytest.approx(shard.latency_s + sum(o.latency_s for o in reduces))
    energy = dict(two.energy_breakdown_j)
    assert math.isclose(two.energy_j, sum(energy.values()), rel_tol=1e-12)
    assert energy["link:nvlink"] > 0
    assert two.energy_j == pytest.approx(2 * shard.energy_j + energy["link:nvlink"])
    starts = [o.start_s for o in two.ops]
    assert starts == sorted(starts)                                  # later ops start later


def test_each_device_holds_half_the_layers_weights(pair):
    one, two, _ = pair
    hbm = lambda r: next(lv.peak_buffer_bytes for lv in r.levels if lv.level == "hbm")
    assert 0.5 < hbm(two) / hbm(one) < 0.6        # embeddings and LM head stay whole


def test_a_model_too_big_for_one_chip_fits_on_two():
    kw = dict(phase="decode", context=1024)
    assert not archsim.simulate("llama2-70b", "a100-80gb", **kw).fits
    assert archsim.simulate("llama2-70b", "a100-80gb", devices=2, **kw).fits


def test_bad_device_arguments():
    with pytest.raises(ArgumentError, match="positive number of chips"):
        archsim.simulate("gpt2-small", "a100-80gb", devices=0)
    with pytest.raises(ArgumentError, match="stm32f746 has no interconnect"):
        archsim.simulate("gpt2-small", "stm32f746", devices=2)


def test_cli_flag(capsys):
    assert main(["simulate", "--model", "llama2-7b", "--hw", "a100-80gb", "--context", "256",
                 "--devices", "2", "--json", "-", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert '"devices": 2' in out and '"kind": "allreduce"' in out


def test_compare_counts_every_devices_area():
    c = archsim.compare("llama2-7b", ["a100-80gb", "h100-sxm"], phase="decode", context=256,
                        devices=2)
    for row in c.rows:
        assert row.result.devices == 2
        area = load_hardware(row.result.hw).area_mm2
        assert row.perf_per_mm2 == pytest.approx(row.result.throughput_per_s / (2 * area))


def test_chunked_prefill_runs_tensor_parallel_too():
    r = archsim.simulate("llama2-7b", "a100-80gb", phase="prefill", seq=1024, prefill_chunk=512,
                         devices=2, overrides={"layers": 2})
    reduces = [o for o in r.ops if o.kind == "allreduce"]
    assert r.fits and r.devices == 2 and len(reduces) == 2 * 2 * 2     # chunks × layers × blocks
    assert all(o.name.startswith(("c0.", "c1.")) for o in reduces)
