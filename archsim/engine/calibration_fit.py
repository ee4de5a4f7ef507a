"""How the GPU calibration table is produced: least squares on log(predicted / measured) over the
measured kernels, one stage per kernel kind, each starting from the generic prior of
`GpuCalibration()` (never from a previous fit, so cross-validation cannot leak).

Stages, in order (a later stage holds the earlier stages' constants fixed):
1. elementwise `add` (one launch, 4 B/element: one bf16 read + one bf16 write, by construction):
   launch_s, elementwise_stream_eff; then per other op: launches, bytes_per_elem, and for a row
   reduction (`ROW_REDUCTIONS`) measured at two or more row lengths, row_elem_s.
2. GEMM: gemm_ramp_s, stream_eff, tensor_eff, overlap_p; the two unaligned slowdowns only when the
   training data holds a GEMM with N or K not a multiple of 8 (else they stay at the prior 1.0).
3. prefill attention: flash_score_rate, efficient_score_rate, prefill_ramp_s (matmuls at the
   GEMM's tensor_eff, memory at its stream_eff).
4. decode attention: decode_ramp_s, decode_stream_eff (split-KV flash-decoding calls),
   decode_batched_stream_eff (unsplit calls), kv_block_s.
A constant with no training point that depends on it keeps its prior value.

Needs scipy (extra `calibrate`; simulation itself does not). Run
`python -m archsim.engine.calibration_fit` to print the h200-sxm entry of the table from the
full data set (the shipped table was written from this output)."""
from __future__ import annotations

from dataclasses import replace
from math import exp

import numpy as np

from .timing import gpu
from .timing.gpu import kv_splits

__all__ = ["fit_calibration", "table_entry", "BOUNDS"]

#: (lower, upper) of each fitted constant: physical ranges, not tuning.
BOUNDS = {
    "launch_s": (0.2e-6, 20e-6), "elementwise_stream_eff": (0.05, 1.0), "launches": (0.5, 50.0),
    "bytes_per_elem": (1.0, 100.0), "row_elem_s": (1e-15, 1e-8), "gemm_ramp_s": (1e-9, 50e-6), "splitk_reduce_s": (1e-9, 50e-6), "stream_eff": (0.05, 1.0),
    "tensor_eff": (0.05, 1.0), "overlap_p": (1.0, 20.0), "unaligned_compute_slowdown": (1.0, 20.0),
    "unaligned_memory_slowdown": (1.0, 20.0), "flash_score_rate": (1e7, 1e12), "efficient_score_rate": (1e7, 1e12),
    "prefill_ramp_s": (1e-9, 200e-6), "decode_stream_eff": (0.05, 1.0), "decode_ramp_s": (1e-9, 200e-6),
    "decode_batched_stream_eff": (0.05, 1.0),
    "kv_block_s": (1e-9, 1e-4),
}
_CACHE: dict = {}
#: ops whose kernel reduces along a row (one CTA per row), so a row's length can bound their time
ROW_REDUCTIONS = ("layernorm", "rmsnorm", "softmax")


def _least_squares(make, names: list[str], prior: list[float], ms, spec, predict):
    """Fit `names` (log-parametrised, within BOUNDS) so that predict(m, spec, make(values)) ≈ m."""
    from scipy.optimize import least_squares
    if not ms or not names:
        return make(prior)
    key = (tuple((m.label, m.measured_s) for m in ms), tuple(names), make(prior), spec)
    if key in _CACHE:
        return _CACHE[key]
    lo = np.log([BOUNDS[n.split(":")[-1]][0] for n in names])
    hi = np.log([BOUNDS[n.split(":")[-1]][1] for n in names])
    x0 = np.clip(np.log(prior), lo + 1e-9, hi - 1e-9)
    meas = np.log([m.measured_s for m in ms])

    def residual(x):
        c = make([exp(v) for v in x])
        return np.log([predict(m, spec, c) for m in ms]) - meas

    x = least_squares(residual, x0, bounds=(lo, hi), method="trf", x_scale=1.0, diff_step=1e-6,
                      xtol=1e-10, ftol=1e-10, max_nfev=2000).x
    out = make([exp(v) for v in x])
    _CACHE[key] = out
    return out


def _fit_fields(cal: gpu.GpuCalibration, names: list[str], ms, spec, predict) -> gpu.GpuCalibration:
    prior = gpu.GpuCalibration()
    return _least_squares(lambda v: replace(cal, **dict(zip(names, v))), names,
                          [getattr(prior, n) for n in names], ms, spec, predict)


def _with_cost(cal: gpu.GpuCalibration, cost: gpu.ElementwiseCost) -> gpu.GpuCalibration:
    rest = tuple(c for c in cal.elementwise if c.op != cost.op)
    return replace(cal, elementwise=tuple(sorted(rest + (cost,), key=lambda c: (c.op != "add", c.op))))


def fit_calibration(measurements, spec: gpu.GpuSpec) -> gpu.GpuCalibration:
    """The calibration fitted to `measurements` (a list of `calibration.Measurement`) on `spec`."""
    from .calibration import predict_seconds as predict
    base = gpu.load_gpu_calibration("h200-sxm")
    cal = replace(gpu.GpuCalibration(), aliases=base.aliases)        # structural constants only
    by_kind = {k: [m for m in measurements if m.kind == k] for k in ("gemm", "attention", "elementwise")}
    elem = by_kind["elementwise"]
    add = [m for m in elem if dict(m.shape)["op"] == "add"]
    cal = _fit_fields(cal, ["launch_s", "elementwise_stream_eff"], add, spec, predict)
    for op in sorted({dict(m.shape)["op"] for m in elem} - {"add"}):
        pts = [m for m in elem if dict(m.shape)["op"] == op]
        names, prior = [f"{op}:launches", f"{op}:bytes_per_elem"], [1.0, 4.0]
        if op in ROW_REDUCTIONS and len({dict(m.shape)["d"] for m in pts}) > 1:
            names, prior = names + [f"{op}:row_elem_s"], prior + [1e-12]   # needs two row lengths
        cal = _least_squares(lambda v, op=op, c0=cal: _with_cost(c0, gpu.ElementwiseCost(op, *v)),
                             names, prior, pts, spec, predict)
    gemm = by_kind["gemm"]
    names = ["gemm_ramp_s", "stream_eff", "tensor_eff", "overlap_p", "splitk_reduce_s"]
    if any(dict(m.shape)["N"] % 8 or dict(m.shape)["K"] % 8 for m in gemm):
        names += ["unaligned_compute_slowdown", "unaligned_memory_slowdown"]
    cal = _fit_fields(cal, names, gemm, spec, predict)
    att = by_kind["attention"]
    prefill = [m for m in att if dict(m.shape)["phase"] == "prefill"]
    backends = {dict(m.shape)["backend"] for m in prefill}
    names = ["prefill_ramp_s"] + [f for b, f in (("flash", "flash_score_rate"),
                                                ("efficient", "efficient_score_rate")) if b in backends]
    cal = _fit_fields(cal, names, prefill, spec, predict)
    decode = [m for m in att if dict(m.shape)["phase"] == "decode"]
    spec_cal = replace(spec, launch_s=cal.launch_s)
    split = {kv_splits(s["B"] * s["H"], s["Skv"], spec_cal, cal) > 1 for s in (dict(m.shape) for m in decode)
             if s["backend"] == "flash"}
    names = ["decode_ramp_s"] + (["decode_stream_eff"] if True in split else []) + \
        (["decode_batched_stream_eff"] if False in split or
         any(dict(m.shape)["backend"] != "flash" for m in decode) else [])
    if any(dict(m.shape)["backend"] != "flash" for m in decode):
        names.append("kv_block_s")
    return _fit_fields(cal, names, decode, spec, predict)


def table_entry(cal: gpu.GpuCalibration) -> dict:
    """The fitted constants as the YAML table holds them (rounded to 4 significant digits)."""
    r = lambda v: float(f"{v:.4g}")                                      # noqa: E731
    skip = {"elementwise", "aliases", "tile_m", "tile_n", "small_tile_m", "min_k_slice", "attn_tile_q",
            "kv_block", "parallel_splitk_min", "split_kv_below", "max_kv_splits"}
    out = {f: r(getattr(cal, f)) for f in cal.__slots__ if f not in skip}
    out["elementwise"] = {c.op: {"launches": r(c.launches), "bytes_per_elem": r(c.bytes_per_elem)}
                          | ({"row_elem_s": r(c.row_elem_s)} if c.row_elem_s else {})
                          for c in cal.elementwise}
    return out


if __name__ == "__main__":
    import yaml

    from .calibration import h200_spec, load_measurements
    print(yaml.safe_dump(table_entry(fit_calibration(load_measurements(), h200_spec())), sort_keys=False))
