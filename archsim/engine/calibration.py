"""The GPU timing model against measured H200 kernels (h200-kernels.json, see DEFAULT_KERNELS_JSON):
the measurements as `Measurement`s, the model's prediction for each, error summaries per kind, and
leave-one-family-out cross-validation that refits the constants (`calibration_fit.fit_calibration`)
without the held-out family. Used by the calibration test and `benchmarks/engine.py`.

Families (so that near-duplicate shapes never sit on both sides of a split): a GEMM's `where`
(one weight matrix of one model, swept over M); an attention call's phase, backend, heads and head
size (swept over batch and sequence); an elementwise op's hidden size d (768: GPT-2/BERT, 4096:
LLaMA; swept over tokens)."""
from __future__ import annotations

import json
import statistics
from dataclasses import dataclass, replace
from pathlib import Path

from .timing import gpu

__all__ = ["Measurement", "CalPoint", "load_measurements", "predict_seconds", "calibration_points",
           "h200_spec", "summary", "cross_validate", "DEFAULT_KERNELS_JSON", "KINDS"]

#: The measured H200 kernels (a copy of the project's shared/reference/h200-kernels.json), shipped
#: as package data so the calibration and its cross-validation run from an installed archsim too.
DEFAULT_KERNELS_JSON = Path(__file__).resolve().parent / "data" / "h200-kernels.json"
KINDS = ("gemm", "attention", "elementwise")


@dataclass(frozen=True, slots=True)
class Measurement:
    kind: str                     # gemm | attention | elementwise
    group: str                    # model/shape family (see module docstring)
    label: str
    measured_s: float
    shape: tuple                  # sorted (key, value) pairs of the JSON record


@dataclass(frozen=True, slots=True)
class CalPoint:
    kind: str
    group: str
    label: str
    measured_s: float
    predicted_s: float

    @property
    def error(self) -> float:
        return self.predicted_s / self.measured_s - 1.0

    @property
    def ratio(self) -> float:
        return max(self.predicted_s / self.measured_s, self.measured_s / self.predicted_s)


def load_measurements(path: Path = DEFAULT_KERNELS_JSON) -> list[Measurement]:
    data = json.loads(Path(path).read_text())
    out: list[Measurement] = []
    for g in data["gemm_bf16"]:
        out.append(Measurement("gemm", g["where"], f"M{g['M']} N{g['N']} K{g['K']} ({g['where']})",
                               g["seconds"], tuple(sorted(g.items()))))
    for a in data["attention"]:
        out.append(Measurement("attention", f"{a['phase']} {a['backend']} H{a['H']} D{a['D']}",
                               f"{a['phase']} {a['backend']} B{a['B']} H{a['H']} Sq{a['Sq']} "
                               f"Skv{a['Skv']} D{a['D']}", a["seconds"], tuple(sorted(a.items()))))
    for e in data["elementwise"]:
        out.append(Measurement("elementwise", f"d{e['d']}", f"{e['op']} T{e['T']} d{e['d']}",
                               e["seconds"], tuple(sorted(e.items()))))
    return out


def h200_spec(hw=None, cal: gpu.GpuCalibration | None = None) -> gpu.GpuSpec:
    """From the h200-sxm description when given (tensor unit, HBM), else its datasheet numbers:
    132 SMs, 989.4 TFLOPS dense BF16, 4.8 TB/s (hardware-facts §7). Launch latency from `cal`."""
    cal = cal or gpu.load_gpu_calibration("h200-sxm")
    if hw is None:
        return gpu.GpuSpec(sms=132, tensor_flops_per_s=989.4e12, mem_bytes_per_s=4.8e12, launch_s=cal.launch_s)
    from .timing.sm import gpu_spec
    unit = max((u for u in hw.compute if u.type == "sm"), key=lambda u: u.peak_macs_per_s("bf16"))
    return replace(gpu_spec(unit, hw, "bf16"), launch_s=cal.launch_s)


def predict_seconds(m: Measurement, spec: gpu.GpuSpec, cal: gpu.GpuCalibration) -> float:
    """The model's time for one measured kernel; the spec's launch latency is the calibration's."""
    s = dict(m.shape)
    spec = replace(spec, launch_s=cal.launch_s)
    if m.kind == "gemm":
        return gpu.gemm_seconds(s["M"], s["N"], s["K"], spec, cal=cal)
    if m.kind == "attention":
        if s["phase"] == "prefill":
            return gpu.attention_prefill_seconds(s["B"], s["H"], s["Sq"], s["Skv"], s["D"], s["causal"],
                                                 spec, s["backend"], cal)
        return gpu.attention_decode_seconds(s["B"], s["H"], s["Skv"], s["D"], spec, s["backend"], cal=cal)
    return gpu.elementwise_seconds(s["op"], s["T"] * s["d"], spec, cal=cal, row_len=s["d"])


def calibration_points(path: Path = DEFAULT_KERNELS_JSON, spec: gpu.GpuSpec | None = None,
                       cal: gpu.GpuCalibration | None = None) -> list[CalPoint]:
    """Every measurement with the shipped (or given) calibration's prediction: in-sample."""
    cal = cal or gpu.load_gpu_calibration("h200-sxm")
    spec = spec or h200_spec(cal=cal)
    return [CalPoint(m.kind, m.group, m.label, m.measured_s, predict_seconds(m, spec, cal))
            for m in load_measurements(path)]


def _stats(points: list[CalPoint]) -> dict:
    worst = max(points, key=lambda p: p.ratio)
    return {"points": len(points), "median_abs_error": statistics.median(abs(p.error) for p in points),
            "max_ratio": worst.ratio, "worst_point": worst.label}


def summary(points: list[CalPoint]) -> dict:
    """Median |error| and worst ratio overall and per kind."""
    out = _stats(points)
    out["max_abs_error"] = max(abs(p.error) for p in points)
    out["by_kind"] = {k: _stats([p for p in points if p.kind == k]) for k in KINDS
                      if any(p.kind == k for p in points)}
    return out


def cross_validate(measurements: list[Measurement] | None = None,
                   spec: gpu.GpuSpec | None = None) -> list[CalPoint]:
    """Leave-one-family-out: for each family, refit every constant on all other measurements with
    `fit_calibration` (the procedure that produced the shipped table) and predict the held-out
    family. Returns one out-of-sample prediction per measurement."""
    from .calibration_fit import fit_calibration
    ms = measurements if measurements is not None else load_measurements()
    spec = spec or h200_spec()
    out: list[CalPoint] = []
    for kind, group in sorted({(m.kind, m.group) for m in ms}):
        train = [m for m in ms if (m.kind, m.group) != (kind, group)]
        cal = fit_calibration(train, spec)
        out += [CalPoint(m.kind, m.group, m.label, m.measured_s, predict_seconds(m, spec, cal))
                for m in ms if (m.kind, m.group) == (kind, group)]
    return out
