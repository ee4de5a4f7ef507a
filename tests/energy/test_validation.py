"""Energy and power against published *measured* figures of real parts, each with its source and
band (±30 % unless the source says otherwise). A figure archsim does not reach yet is an xfail with
strict=True: it states the gap and turns into a failure the day the model reaches the band.

Not here, and why (see docs/energy-model.md): STM32F746 run-mode current at 216 MHz — the datasheet
table (DS10916) could not be found by search, so `run_per_mhz` stays unset. TPU v1's per-die busy
power was not found either; its test bounds the die by the measured *server* powers.
"""
from __future__ import annotations

import pytest

import archsim
from archsim.energy import dram
from archsim.hardware import load_hardware

from .alexnet import alexnet_conv_graph

BAND = 0.30


def _within(value: float, target: float, band: float = BAND) -> bool:
    return (1 - band) * target <= value <= (1 + band) * target


# --- TPU v4: measured power 90 / 170 / 192 W (min / mean / max), cloud.google.com/tpu/docs/v4
# (hardware-facts §4.1) -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tpu_v4_runs():
    return {"prefill": archsim.simulate("llama2-7b", "tpu-v4", phase="prefill", seq=2048, batch=4),
            "decode": archsim.simulate("llama2-7b", "tpu-v4", phase="decode", context=1024)}


def test_tpu_v4_power_between_measured_min_and_max(tpu_v4_runs):
    for r in tpu_v4_runs.values():
        assert (1 - BAND) * 90 <= r.avg_power_w <= (1 + BAND) * 192, r.avg_power_w
        assert r.peak_power_w <= (1 + BAND) * 192


@pytest.mark.xfail(strict=True, reason="the MXUs' fold traffic (32-bit partial sums of every k-fold "
                   "written and read back, actions.fold_refetch_bytes) is timed at VMEM's ports since #18: at "
                   "the description's assumed 4096 B/cycle (sized for bf16 operands, not partial sums) the "
                   "prefill's matmuls are port-bound, the run takes 2.0x as long and averages ~117 W (142 W "
                   "when the traffic was priced only); tpu-v4.yaml has no sourced VMEM bandwidth and no MXU "
                   "result buffers, where the partial sums would collect")
def test_tpu_v4_compute_bound_power_near_measured_mean(tpu_v4_runs):
    """A compute-bound prefill averages near the measured mean once the MXUs' fold traffic through
    VMEM is counted (actions.fold_refetch_bytes, SCALE-Sim's SRAM counts); before, 111 W."""
    r = tpu_v4_runs["prefill"]
    assert _within(r.avg_power_w, 170.0), r.avg_power_w
    vmem = dict(r.energy_breakdown_j)["vmem"]
    assert vmem > dict(r.energy_breakdown_j)["compute"]      # data movement, not arithmetic, leads


# --- TPU v1: measured server power (ISCA 2017, Jouppi et al., Table 2, as quoted by Hennessy &
# Patterson, 6th ed., Fig. 1.27): a TPU server (host + 4 TPU dies) idles at 290 W and draws 384 W
# busy. The per-die idle, 28 W, is an input of tpu-v1.yaml (same table). A die's busy power
# therefore lies between 28 W and 28 + (384 − 290) / 4 = 51.5 W (the upper end if the host drew
# nothing more when busy). ---------------------------------------------------------------------

TPU_V1_IDLE_W, TPU_V1_BUSY_BOUND_W = 28.0, 28.0 + (384.0 - 290.0) / 4


def test_tpu_v1_memory_bound_decode_between_idle_and_busy_bound():
    r = archsim.simulate("llama2-7b", "tpu-v1", phase="decode", context=512, dtype="int8")
    assert TPU_V1_IDLE_W <= r.avg_power_w <= TPU_V1_BUSY_BOUND_W, r.avg_power_w


def test_tpu_v1_compute_bound_prefill_within_busy_bound():
    """The MXU's k-fold partial sums collect in the 4 MiB accumulators (engine.plan.
    accumulator_level); priced in the 24 MiB unified buffer instead, the die averaged ~60 W."""
    r = archsim.simulate("llama2-7b", "tpu-v1", phase="prefill", seq=512, batch=4, dtype="int8")
    assert TPU_V1_IDLE_W <= r.avg_power_w <= TPU_V1_BUSY_BOUND_W, r.avg_power_w


# --- Eyeriss (65 nm): 278 mW chip power on AlexNet's conv layers, batch 4, 35 fps
# (JSSC 2017 abstract, hardware-facts §4.2); DRAM is outside the chip figure --------------------

@pytest.fixture(scope="module")
def eyeriss_alexnet():
    return archsim.simulate(alexnet_conv_graph(batch=4), "eyeriss")


def test_alexnet_conv_workload_is_the_published_one(eyeriss_alexnet):
    # 666 M MACs per 227² image (ISSCC 2016 abstract, hardware-facts §4.2)
    assert sum(o.macs for o in eyeriss_alexnet.ops) / 4 == pytest.approx(666e6, rel=0.01)


def _chip_energy_per_image_j(r) -> float:
    off = {"dram", "dram_act_pre", "dram_refresh", "dram_background"}
    return sum(v for k, v in r.energy_breakdown_j if k not in off) / 4


def test_eyeriss_alexnet_chip_energy_per_image(eyeriss_alexnet):
    """278 mW / 35 fps = 7.9 mJ per image measured; archsim counts the RF reads and writes row
    stationary makes (4 per MAC) at Eyeriss's own normalised 65 nm costs (ISCA 2016 Table IV).
    Was 2.4 mJ (3.3x low) before the RF was counted."""
    r = eyeriss_alexnet
    assert _within(_chip_energy_per_image_j(r), 0.278 / 35), _chip_energy_per_image_j(r)
    parts = dict(r.energy_breakdown_j)
    assert parts["spad"] > parts["compute"]             # RF accesses outweigh the arithmetic


def test_eyeriss_counts_four_rf_accesses_per_mac(eyeriss_alexnet):
    acts = dict(eyeriss_alexnet.actions)
    macs = acts["pe_array.mac.int16"]
    assert acts["spad.read"] == pytest.approx(3 * 2 * macs)      # input, filter, psum words of 2 B
    assert acts["spad.write"] == pytest.approx(2 * macs)         # psum


# --- DRAM: DDR4-3200 8 Gb x8 device, IDD currents of umd-memsys/DRAMsim3 DDR4_8Gb_x8_3200.ini ----

def test_ddr4_device_read_write_power_from_idd():
    d = dram.DRAM_DEVICES["ddr4"]
    # back-to-back reads: VDD × IDD4R = 1.2 V × 168 mA = 201.6 mW in the core (I/O on top)
    core_read = dram.read_power_w(d) - d.io_pj_per_bit * 1e-12 * d.width_bits * d.gbps_per_pin * 1e9
    assert core_read == pytest.approx(1.2 * 0.168)
    core_write = dram.read_power_w(d, write=True) - d.io_pj_per_bit * 1e-12 * 8 * 3.2e9
    assert core_write == pytest.approx(1.2 * 0.150)
    assert dram.background_w(d, 1, 0.0) == pytest.approx(1.2 * 0.037)         # IDD2N
    assert dram.background_w(d, 1, 1.0) == pytest.approx(1.2 * 0.052)         # IDD3N
    assert dram.background_w(d, 1, 0.0, 1.0) == pytest.approx(1.2 * 0.025)    # IDD2P power-down


def test_streaming_ddr4_rank_draws_its_idd_read_power():
    """A memory-bound decode on zcu102 (one 64-bit DDR4 rank = 8 x8 devices): archsim's DRAM power
    (reads, ACT, refresh, background) per device within ±30 % of the TN-41-01 device power at the
    bits it moves: VDD·IDD3N + (VDD·(IDD4R − IDD3N)/(8 pins × 3.2 Gb/s) + I/O) × bits/s."""
    hw = load_hardware("zcu102")
    r = archsim.simulate("gpt2-small", hw, phase="decode", context=256)
    lv = hw.off_chip
    moved = sum(n for a, n in r.actions if a in (f"{lv.name}.read", f"{lv.name}.write"))
    bits_per_s_per_device = moved * 8 / 8 / r.latency_s
    d = dram.DRAM_DEVICES["ddr4"]
    expected = (d.vdd_v * d.idd3n_ma * 1e-3
                + (dram.burst_pj_per_bit(d) + d.io_pj_per_bit) * 1e-12 * bits_per_s_per_device)
    parts = dict(r.energy_breakdown_j)
    got = sum(parts.get(k, 0.0) for k in (lv.name, "dram_act_pre", "dram_refresh", "dram_background"))
    assert _within(got / r.latency_s / 8, expected), (got / r.latency_s / 8, expected)
