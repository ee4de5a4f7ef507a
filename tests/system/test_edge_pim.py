"""The edge NPU + LPDDR5-PIM system (`npu-lpddr5-pim`): it loads, runs at both fidelities with
per-device results, and the PIM wins exactly where its internal bandwidth says it must — decode
GEMVs at batch 1 — and loses where the NPU's MAC rate matters (FC layers at a large batch). Its
one LPDDR5 is shared: NPU traffic and PIM all-bank work time-share the channels, so a concurrent
run is slower than the same system with two private memories."""
from __future__ import annotations

import pytest

from dataclasses import replace

from archsim.hardware import load_hardware
from archsim.system import load_system, simulate_system

SYSTEM = "npu-lpddr5-pim"
MODEL = "gpt2-small"
GEMV_ON_PIM = "attention on pim, fc on pim, vector on npu"


def _run(batch, placement, fidelity="analytic", phase="decode", system=SYSTEM, overlap=True):
    kw = {"context": 512} if phase == "decode" else {"seq": 64}
    return simulate_system(MODEL, system, phase=phase, batch=batch, dtype="int8", fidelity=fidelity,
                           placement=placement, overlap=overlap, **kw)


def _pim_peaks():
    """(internal bytes/s the PIM units read at int8, the LPDDR5 pins' bytes/s, peak MAC/s)."""
    hw = load_hardware("lpddr5-pim")
    units = [cu for cu in hw.compute if cu.type == "pim_bank"]
    macs = sum(cu.count * cu.macs_per_cycle_for("int8") * cu.freq_hz for cu in units)
    return macs * 1.0, hw.levels[0].dram.peak_bandwidth_bytes_per_s, macs


def test_the_system_shares_one_lpddr5_interface():
    system = load_system(SYSTEM)
    npu, pim = (load_hardware(d.chip) for d in system.devices)
    assert npu.levels[0].dram.peak_bandwidth_bytes_per_s == pim.levels[0].dram.peak_bandwidth_bytes_per_s
    assert npu.levels[0].size_bytes == pim.levels[0].size_bytes
    link = system.link("npu", "pim")
    assert link.bandwidth_bytes_per_s == pim.levels[0].dram.peak_bandwidth_bytes_per_s
    assert system.memory_of("npu") is system.memory_of("pim") is not None   # one LPDDR5
    internal, pins, _ = _pim_peaks()
    assert internal / pins == pytest.approx(8.0)            # PIM-AI: 102.4 vs 12.8 GB/s per die


@pytest.mark.parametrize("fidelity", ["analytic", "cycle"])
def test_runs_at_both_fidelities_with_per_device_results(fidelity):
    r = _run(1, GEMV_ON_PIM, fidelity)
    assert r.fits and r.fidelity == fidelity
    use = {d.name: d for d in r.devices}
    assert use["npu"].busy_s > 0 and use["pim"].busy_s > 0
    assert use["pim"].busy_s > use["npu"].busy_s and r.bound_by == "pim"   # the GEMVs bound the token
    (memory,) = r.memories
    assert 0.9 * use["pim"].busy_s < memory.pim_s <= use["pim"].busy_s and memory.host_s > 0 and memory.switches > 0
    assert all(res.fidelity == fidelity for d in r.devices for res in d.results)
    assert use["pim"].energy_j > 0 and {lk.name for lk in r.links} == {"lpddr5:npu->pim", "lpddr5:pim->npu"}
    assert r.latency_s >= max(d.busy_s for d in r.devices) * (1 - 1e-9)


def test_decode_gemvs_on_pim_win_by_what_the_internal_bandwidth_allows():
    """Batch-1 decode streams every weight once: the NPU is bound by the pins, the PIM by its
    internal bandwidth, 8x more. The speedup must be large (at least half of that ratio) and can
    never beat the PIM units' peak MAC rate."""
    npu_only = _run(1, "all on npu")
    on_pim = _run(1, GEMV_ON_PIM)
    internal, pins, mac_rate = _pim_peaks()
    speedup = npu_only.latency_s / on_pim.latency_s
    assert speedup >= 0.5 * internal / pins
    pim_macs = sum(op.macs for d in on_pim.devices if d.name == "pim" for res in d.results for op in res.ops)
    assert on_pim.latency_s >= pim_macs / mac_rate


def test_fc_on_pim_loses_at_a_large_batch_but_attention_on_pim_still_wins():
    """At batch 64 a weight read serves 64 MACs: the NPU's 1,024 MACs/cycle beat the PIM's 1,024
    per 200 MHz cycle, so FC layers belong on the NPU; each sequence's KV cache is still read once
    per token, so attention GEMVs keep their PIM advantage."""
    npu_only = _run(64, "all on npu").latency_s
    assert _run(64, "fc on pim, rest on npu").latency_s > npu_only
    assert _run(64, "attention on pim, rest on npu").latency_s < npu_only
    searched = _run(64, "search")
    assert searched.placement == "attention on pim, fc on npu, vector on npu"
    assert _run(1, "search").placement == GEMV_ON_PIM


def test_prefill_stays_on_the_npu():
    assert _run(1, "search", phase="prefill").placement == "all on npu"


@pytest.mark.parametrize("fidelity", ["analytic", "cycle"])
@pytest.mark.parametrize("batch", [8, 64])
def test_a_shared_memory_slows_a_concurrent_run_but_never_below_the_serial_sum(fidelity, batch):
    """Attention on the PIM while the NPU streams FC weights: both devices are busy and both need
    the channels. Sharing them costs time against two private memories, never more than running
    every op back to back; the memory is busy no longer than the run."""
    placement = "attention on pim, rest on npu"
    private = replace(load_system(SYSTEM), shared_memories=())
    shared = _run(batch, placement, fidelity)
    alone = _run(batch, placement, fidelity, system=private)
    serial = _run(batch, placement, fidelity, overlap=False)
    assert min(d.busy_s for d in alone.devices) > 0.05 * alone.latency_s     # both devices busy
    assert alone.latency_s < shared.latency_s <= serial.latency_s * (1 + 1e-9)
    (memory,) = shared.memories
    assert 0 < memory.busy_s <= shared.latency_s * (1 + 1e-9)
    assert memory.switches * 50e-9 * (1 - 1e-9) <= memory.switch_s <= memory.switches * 70e-9 * (1 + 1e-9)
    # the one LPDDR5's background power is counted once (two private memories count it twice)
    assert "dram_background" not in dict(shared.device("pim").energy_breakdown_j)
    assert "dram_background" in dict(alone.device("pim").energy_breakdown_j)


def test_the_cli_reports_the_shared_memory(tmp_path):
    import json
    from archsim.cli import main
    out, page = tmp_path / "r.json", tmp_path / "r.html"
    assert main(["simulate", "--system", SYSTEM, "--model", MODEL, "--context", "128", "--dtype", "int8",
                 "--json", str(out), "--html", str(page), "--quiet"]) == 0
    (memory,) = json.loads(out.read_text())["system"]["memories"]
    assert memory["name"] == "lpddr5" and memory["devices"] == ["npu", "pim"]
    assert memory["pim_s"] > 0 and memory["host_s"] > 0 and memory["switches"] > 0
    assert 0 < memory["utilization"] <= 1 + 1e-9
    assert "memory:lpddr5" in page.read_text()          # its own lane on the timeline
