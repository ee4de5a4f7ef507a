"""The GPU kernel model against 183 measured H200 kernels, and its transfer to other GPUs.

- in-sample: the shipped h200-sxm table (fitted on all 183 points) meets issue 5's target, median
  |error| <= 10% and no point off by more than 2x (pytest -s prints every point);
- the shipped table IS the output of the documented fit (no hand-tuned numbers);
- out-of-sample: leave-one-family-out cross-validation, refitting every constant without the
  held-out family: measured median 7.7%, worst 6.18x on the one unaligned GEMM family (see the
  test for why), 1.99x on every other family;
- other GPUs use their own datasheet peaks with the `transferred` constants, and land between
  their own roofline bound and a sane multiple of it.
"""
from __future__ import annotations

import dataclasses

import pytest

from archsim.engine.calibration import (DEFAULT_KERNELS_JSON, calibration_points, cross_validate, h200_spec,
                                        load_measurements, summary)
from archsim.engine.timing import gpu

UNALIGNED_FAMILY = "gpt2-s lm_head"      # the only GEMM with N (50257) not a multiple of 8


def _spec():
    from archsim.hardware import load_hardware
    return h200_spec(load_hardware("h200-sxm"))


def test_h200_in_sample_meets_issue_target():
    pts = calibration_points(spec=_spec())
    for p in pts:
        print(f"{p.kind:12s} {p.label:55s} measured {p.measured_s*1e6:9.2f} us  "
              f"model {p.predicted_s*1e6:9.2f} us  error {p.error:+.1%}")
    s = summary(pts)
    print(s)
    assert s["points"] == 183
    assert s["median_abs_error"] <= 0.10
    assert s["max_ratio"] <= 2.0


def test_shipped_table_is_the_documented_fit():
    from archsim.engine.calibration_fit import fit_calibration
    shipped = gpu.load_gpu_calibration("h200-sxm")
    refit = fit_calibration(load_measurements(), _spec())
    for f in dataclasses.fields(gpu.GpuCalibration):
        if f.name not in ("elementwise", "aliases"):
            assert getattr(refit, f.name) == pytest.approx(getattr(shipped, f.name), rel=2e-3), f.name
    assert {c.op for c in refit.elementwise} == {c.op for c in shipped.elementwise}
    for c in refit.elementwise:
        s = shipped.cost(c.op)
        assert (c.launches, c.bytes_per_elem, c.row_elem_s) == pytest.approx(
            (s.launches, s.bytes_per_elem, s.row_elem_s), rel=2e-3), c.op


def test_out_of_sample_leave_one_family_out():
    pts = cross_validate(load_measurements(), _spec())
    s = summary(pts)
    print({k: (round(v["median_abs_error"], 3), round(v["max_ratio"], 2), v["worst_point"])
           for k, v in s["by_kind"].items()})
    assert len(pts) == 183
    assert s["median_abs_error"] <= 0.15
    # With gpt2-s lm_head held out no training GEMM is unaligned, so the unaligned slowdowns stay
    # at their prior (1.0) and that family is predicted ~6x too fast: measured 6.18x, asserted with
    # a 10% margin. Every other family stays within 2.5x (measured 1.99x, layernorm T1 d4096).
    assert s["max_ratio"] <= 6.8
    others = summary([p for p in pts if p.group != UNALIGNED_FAMILY])
    assert others["max_ratio"] <= 2.5


def test_small_kernels_are_latency_bound_and_gemv_streams_below_peak():
    spec = h200_spec()
    tiny = gpu.gemm_seconds(1, 768, 768, spec)
    assert tiny > 5 * (2 * 768 * 768 * 2 / spec.mem_bytes_per_s)     # launch/latency dominates
    big = gpu.gemm_seconds(1, 28672, 8192, spec)
    achieved = 28672 * 8192 * 2 / big
    assert 0.6 * spec.mem_bytes_per_s < achieved < spec.mem_bytes_per_s


@pytest.mark.parametrize("name", ["a100-80gb", "t4", "h100-sxm"])
@pytest.mark.parametrize("mnk", [(1, 4096, 4096), (128, 11008, 4096), (2048, 4096, 4096), (8192, 8192, 8192)])
def test_other_gpus_sit_between_their_roofline_and_a_sane_multiple(name, mnk):
    from archsim.hardware import load_hardware
    from archsim.engine.timing.sm import gpu_calibration, gpu_spec, sm_op_seconds
    from .test_timing import gemm
    hw = load_hardware(name)
    tensor = max((u for u in hw.compute if u.type == "sm"), key=lambda u: u.peak_macs_per_s("fp16"))
    M, N, K = mnk
    t = sm_op_seconds(gemm(M, N, K), tensor, hw)
    peak_flops = 2.0 * tensor.peak_macs_per_s("fp16")            # bf16 and fp16 peaks are equal where both exist
    off = hw.levels[0]
    bw = off.dram.peak_bandwidth_bytes_per_s if off.dram is not None else off.bandwidth_bytes_per_s
    roofline = max(2.0 * M * N * K / peak_flops, 2.0 * (M * K + K * N + M * N) / bw)
    spec, cal = gpu_spec(tensor, hw, "fp16"), gpu_calibration(hw)
    assert spec.sms == tensor.count and spec.mem_bytes_per_s == bw and spec.tensor_flops_per_s == peak_flops
    # no H200-measured entry: the transferred one, moved to this chip's SM clock
    assert cal == gpu.load_gpu_calibration("transferred", sm_clock_hz=tensor.freq_hz)
    h200 = gpu.load_gpu_calibration("h200-sxm")
    ratio = tensor.freq_hz / 1.83e9
    assert cal.gemm_ramp_s == pytest.approx(h200.gemm_ramp_s / ratio)           # cycles: 1 / clock
    assert cal.flash_score_rate == pytest.approx(h200.flash_score_rate * ratio)  # per-SM rate: clock
    assert (cal.stream_eff, cal.tensor_eff, cal.launch_s) == (h200.stream_eff, h200.tensor_eff, h200.launch_s)
    assert t >= roofline                                            # never beats its own peaks
    fixed = spec.launch_s + cal.gemm_ramp_s
    assert t <= fixed + roofline / min(cal.tensor_eff, cal.stream_eff) * 1.6   # waves, overlap, split-K


def test_a_misspelt_table_constant_is_a_config_error(tmp_path):
    from archsim.errors import ConfigError
    bad = tmp_path / "cal.yaml"
    bad.write_text("transferred:\n  tensor_ef: 0.5\n")
    with pytest.raises(ConfigError, match="tensor_ef: unknown constant; did you mean 'tensor_eff'"):
        gpu.load_gpu_calibration("t4", bad)
