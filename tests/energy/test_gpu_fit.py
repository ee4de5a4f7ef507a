"""The GPU energy fit: the math recovers known constants, the shipped h200-sxm constants are the fit
of the four measured runs, and the fit reproduces them at the measured latency."""
from __future__ import annotations

import pytest

from archsim.energy.gpu_fit import FitPoint, GpuEnergyFit, fit_gpu_energy, predict_j, transfer
from archsim.hardware import load_hardware


def test_fit_recovers_known_constants():
    truth = GpuEnergyFit(active_w=90.0, mac_pj=2.0, hbm_pj_per_byte=80.0)
    shapes = [(6e-4, 1e11, 3e8), (2.6e-2, 1.3e13, 1.2e10), (5.4e-3, 7e9, 1.4e10), (1.4e-2, 3.5e12, 1.4e10)]
    points = []
    for i, (t, macs, hbm) in enumerate(shapes):
        p = FitPoint(f"p{i}", t, 0.0, macs, hbm, fixed_j=0.01, idle_w=80.0)
        points.append(FitPoint(p.label, t, predict_j(p, truth), macs, hbm, 0.01, 80.0))
    got = fit_gpu_energy(points)
    assert got.active_w == pytest.approx(90.0, rel=1e-6)
    assert got.mac_pj == pytest.approx(2.0, rel=1e-6)
    assert got.hbm_pj_per_byte == pytest.approx(80.0, rel=1e-6)


def test_transfer_ratios():
    f = GpuEnergyFit(active_w=70.0, mac_pj=2.0, hbm_pj_per_byte=90.0)
    same, _ = transfer(f, 4, "hbm3e", 700, 4, "hbm3e", 700)
    assert same == f
    older, note = transfer(f, 4, "hbm3e", 700, 7, "hbm2e", 400)
    assert older.mac_pj > f.mac_pj and older.active_w == pytest.approx(40.0)
    assert "assumption" in note


@pytest.fixture(scope="module")
def residuals():
    from archsim.studies.gpu_energy_fit import residuals
    return residuals()


def test_fit_reproduces_the_four_runs_at_measured_latency(residuals):
    assert len(residuals) == 4
    for row in residuals:
        assert abs(row["fit_energy_err"]) <= 0.10, row


def test_end_to_end_average_power_within_10_percent(residuals):
    # power = archsim's energy / archsim's latency; the energy error end to end also carries the
    # latency model's error (issue #13), reported by benchmarks/energy.py
    for row in residuals:
        assert abs(row["power_err"]) <= 0.10, row


def test_shipped_h200_constants_are_the_fit(residuals):
    from archsim.studies.gpu_energy_fit import fit
    f = fit()
    hw = load_hardware("h200-sxm")
    assert hw.active_power_w == pytest.approx(f.active_w, rel=0.005)
    assert dict(hw.unit("tensor").energy_pj_per_mac)["bf16"] == pytest.approx(f.mac_pj, rel=0.005)
    assert hw.off_chip.read_energy_pj_per_byte == pytest.approx(f.hbm_pj_per_byte, rel=0.005)
    assert hw.power_limit_w == 700.0 and hw.idle_covers_dram
