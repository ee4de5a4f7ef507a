"""The GPU timing model against measured H200 kernels (h200-kernels.json, see DEFAULT_KERNELS_JSON):
one row per measured point with predicted and measured seconds. Used by the calibration test and
`benchmarks/engine.py`."""
from __future__ import annotations

import json
import statistics
from dataclasses import dataclass
from pathlib import Path

from .timing import gpu

__all__ = ["CalPoint", "calibration_points", "h200_spec", "summary", "DEFAULT_KERNELS_JSON"]

#: The measured kernels, copied into the repository (tests/engine/data) from the project's reference
#: folder (/work/shared/reference/h200-kernels.json); the copy is used when present.
_REPO_COPY = Path(__file__).resolve().parents[2] / "tests" / "engine" / "data" / "h200-kernels.json"
DEFAULT_KERNELS_JSON = _REPO_COPY if _REPO_COPY.exists() else Path("/work/shared/reference/h200-kernels.json")


@dataclass(frozen=True, slots=True)
class CalPoint:
    family: str
    label: str
    measured_s: float
    predicted_s: float

    @property
    def error(self) -> float:
        return self.predicted_s / self.measured_s - 1.0


def h200_spec(hw=None) -> gpu.GpuSpec:
    """From the h200-sxm description when given (tensor unit, HBM), else its datasheet numbers:
    132 SMs, 989.4 TFLOPS dense BF16, 4.8 TB/s (hardware-facts §7)."""
    if hw is None:
        return gpu.GpuSpec(sms=132, tensor_flops_per_s=989.4e12, mem_bytes_per_s=4.8e12,
                           launch_s=gpu.DEFAULT_LAUNCH_S)
    from .timing.sm import gpu_spec
    unit = max((u for u in hw.compute if u.type == "sm"), key=lambda u: u.peak_macs_per_s("bf16"))
    return gpu_spec(unit, hw, "bf16")


def calibration_points(path: Path = DEFAULT_KERNELS_JSON, spec: gpu.GpuSpec | None = None) -> list[CalPoint]:
    data = json.loads(Path(path).read_text())
    spec = spec or h200_spec()
    pts: list[CalPoint] = []
    for g in data["gemm_bf16"]:
        pts.append(CalPoint("gemm", f"M{g['M']} N{g['N']} K{g['K']} ({g['where']})", g["seconds"],
                            gpu.gemm_seconds(g["M"], g["N"], g["K"], spec)))
    for a in data["attention"]:
        if a["phase"] == "prefill":
            p = gpu.attention_prefill_seconds(a["B"], a["H"], a["Sq"], a["Skv"], a["D"], a["causal"],
                                              spec, a["backend"])
        else:
            p = gpu.attention_decode_seconds(a["B"], a["H"], a["Skv"], a["D"], spec, a["backend"])
        pts.append(CalPoint("attention", f"{a['phase']} {a['backend']} B{a['B']} H{a['H']} "
                            f"Sq{a['Sq']} Skv{a['Skv']} D{a['D']}", a["seconds"], p))
    for e in data["elementwise"]:
        pts.append(CalPoint("elementwise", f"{e['op']} T{e['T']} d{e['d']}", e["seconds"],
                            gpu.elementwise_seconds(e["op"], e["T"] * e["d"], spec)))
    return pts


def summary(points: list[CalPoint]) -> dict:
    errs = [abs(p.error) for p in points]
    fams = sorted({p.family for p in points})
    return {
        "points": len(points),
        "median_abs_error": statistics.median(errs),
        "max_abs_error": max(errs),
        "max_ratio": max(max(p.predicted_s / p.measured_s, p.measured_s / p.predicted_s) for p in points),
        "by_family": {f: statistics.median(abs(p.error) for p in points if p.family == f) for f in fams},
    }
