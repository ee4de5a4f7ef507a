"""The GPU energy calibration: archsim's activity counts of the four measured H200 runs
(`archsim/energy/data/h200-energy-calibration.json`) fitted by `archsim.energy.gpu_fit`, the shipped
constants of h200-sxm / h100-sxm / a100-80gb / t4 derived from the fit, and the residuals.

    python -m archsim.studies.gpu_energy_fit        # prints the fit, the YAML values, the residuals

The shipped YAML values were written from this output. Counts come from archsim's own analytic run
of each point (graph replay, as measured); the time terms of the fit use the measured latency (see
`archsim.energy.gpu_fit`), and `residuals` reports both that fit and the end-to-end model (archsim's
latency × its power).
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from archsim.energy import mac_energy_pj
from archsim.energy.gpu_fit import FitPoint, GpuEnergyFit, fit_gpu_energy, predict_j, transfer

__all__ = ["CALIBRATION", "calibration_points", "fit_points", "fit", "residuals", "shipped_values",
           "TRANSFERS"]

CALIBRATION = Path(__file__).resolve().parents[1] / "energy" / "data" / "h200-energy-calibration.json"

#: GPU → (node nm, memory type, TDP W) for the transfer (H200 is the fitted part).
TRANSFERS = {"h200-sxm": (4, "hbm3e", 700.0), "h100-sxm": (4, "hbm3", 700.0),
             "a100-80gb": (7, "hbm2e", 400.0), "t4": (12, "gddr6", 70.0),
             "jetson-agx-orin": (8, "lpddr5", 60.0)}


def calibration_points() -> list[dict]:
    return json.loads(CALIBRATION.read_text())["points"]


def _label(pt: dict) -> str:
    size = f"ctx {pt['context']}" if pt["phase"] == "decode" else f"seq {pt['seq']}"
    return f"{pt['model']} {pt['phase']} b{pt['batch']} {size}"


@lru_cache(maxsize=None)
def _run(model: str, phase: str, batch: int, size: int, hw: str = "h200-sxm"):
    from archsim.api import simulate
    kw = {"context": size} if phase == "decode" else {"seq": size}
    return simulate(model, hw, phase=phase, batch=batch, **kw)


def run_point(pt: dict, hw: str = "h200-sxm"):
    size = pt["context"] if pt["phase"] == "decode" else pt["seq"]
    return _run(pt["model"], pt["phase"], pt["batch"], size, hw)


def _fit_point(pt: dict, result, hw) -> FitPoint:
    """The point's counts split into the fitted classes and the fixed-price rest."""
    from archsim.engine.accounting import prices
    table = prices(hw)
    tensor = max(hw.compute, key=lambda u: u.peak_macs_per_s("bf16"))
    r_vec = mac_energy_pj("fp32", hw.tech_node_nm) / mac_energy_pj("bf16", hw.tech_node_nm)
    macs = hbm = fixed = 0.0
    for action, n in result.actions:
        unit, _, rest = action.partition(".")
        if rest.startswith("mac."):
            macs += n if unit == tensor.name else r_vec * n
        elif unit == hw.off_chip.name and rest in ("read", "write"):
            hbm += n
        else:
            fixed += n * table.get(action, 0.0) * 1e-12
    return FitPoint(label=_label(pt), measured_s=pt["seconds"], measured_j=pt["joules"], macs=macs,
                    hbm_bytes=hbm, fixed_j=fixed, idle_w=hw.idle_power_w)


def fit_points(hw_name: str = "h200-sxm") -> list[FitPoint]:
    from archsim.hardware import load_hardware
    hw = load_hardware(hw_name)
    return [_fit_point(pt, run_point(pt, hw_name), hw) for pt in calibration_points()]


def fit() -> GpuEnergyFit:
    return fit_gpu_energy(fit_points())


def residuals(hw_name: str = "h200-sxm") -> list[dict]:
    """Per point: measured vs the shipped model end to end (archsim's latency and energy, which
    includes the power limit) and vs the fit at the measured latency."""
    f = fit()
    rows = []
    for pt, fp in zip(calibration_points(), fit_points(hw_name)):
        r = run_point(pt, hw_name)
        rows.append({
            "point": fp.label, "measured_s": pt["seconds"], "measured_j": pt["joules"],
            "measured_w": pt["avg_watts"], "archsim_s": r.latency_s, "archsim_j": r.energy_j,
            "archsim_w": r.avg_power_w, "latency_err": r.latency_s / pt["seconds"] - 1,
            "energy_err": r.energy_j / pt["joules"] - 1, "power_err": r.avg_power_w / pt["avg_watts"] - 1,
            "fit_energy_err": predict_j(fp, f) / pt["joules"] - 1})
    return rows


def shipped_values() -> dict[str, dict]:
    """The constants each GPU description ships: per-MAC energy by dtype of its tensor unit and
    fp32 of its vector unit, HBM/GDDR energy per byte, active floor and power limit."""
    f = fit()
    node, mem, tdp = TRANSFERS["h200-sxm"]
    out = {}
    for name, (to_node, to_mem, to_tdp) in TRANSFERS.items():
        g, note = (f, "fitted") if name == "h200-sxm" else transfer(f, node, mem, tdp, to_node, to_mem, to_tdp)
        base = mac_energy_pj("bf16", 45)
        per_dtype = {d: round(g.mac_pj * mac_energy_pj(d, 45) / base, 4)
                     for d in ("bf16", "fp16", "fp8", "int8", "int4", "tf32", "fp32")}
        out[name] = {"energy_per_mac": per_dtype, "offchip_pj_per_byte": round(g.hbm_pj_per_byte, 2),
                     "active_w": round(g.active_w, 1), "limit_w": to_tdp, "note": note}
    return out


def main() -> None:
    f = fit()
    print(f"fit (H200, 4 points): active floor {f.active_w:.1f} W, {f.mac_pj:.4f} pJ/MAC (bf16), "
          f"{f.hbm_pj_per_byte:.2f} pJ per HBM byte")
    for name, v in shipped_values().items():
        print(f"{name}: {v}")
    print(f"{'point':34s} {'lat err':>8s} {'E err':>8s} {'P err':>8s} {'fit E err':>9s}")
    for row in residuals():
        print(f"{row['point']:34s} {row['latency_err']:+8.1%} {row['energy_err']:+8.1%} "
              f"{row['power_err']:+8.1%} {row['fit_energy_err']:+9.1%}")


if __name__ == "__main__":
    main()
