"""Energy benchmark: prints ONE JSON line.

- h200_energy_calibration: the four measured whole-model H200 runs
  (archsim/energy/data/h200-energy-calibration.json) against the shipped h200-sxm: per point the
  error of archsim's latency, energy and average power end to end, and of the energy fit at the
  measured latency (`fit_energy_err`, the residual of archsim.energy.gpu_fit); the fitted constants;
  targets |energy_err| ≤ 10 % and |power_err| ≤ 10 % (end to end)
Run: python benchmarks/energy.py
"""
from __future__ import annotations

import json
from pathlib import Path
import sys
import time

_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]   # benchmarks/mapper.py ≠ mapper
sys.path.insert(0, str(_HERE.parent))


def main() -> None:
    from archsim.studies.gpu_energy_fit import fit, residuals
    t0 = time.perf_counter()
    rows = residuals()
    f = fit()
    out = {
        "h200_energy_calibration": {
            "fit": {"active_w": round(f.active_w, 2), "mac_pj_bf16": round(f.mac_pj, 4),
                    "hbm_pj_per_byte": round(f.hbm_pj_per_byte, 2)},
            "points": [{k: (round(v, 4) if isinstance(v, float) else v) for k, v in r.items()} for r in rows],
            "max_abs_energy_err": round(max(abs(r["energy_err"]) for r in rows), 4),
            "max_abs_power_err": round(max(abs(r["power_err"]) for r in rows), 4),
            "max_abs_fit_energy_err": round(max(abs(r["fit_energy_err"]) for r in rows), 4),
            "max_abs_latency_err": round(max(abs(r["latency_err"]) for r in rows), 4),
            "target": "|energy_err| and |power_err| <= 0.10",
        },
        "wall_s": round(time.perf_counter() - t0, 2),
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
