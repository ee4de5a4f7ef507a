"""Technology scaling of dynamic energy between process nodes (not linear below 16 nm).

Rule: Stillmaker & Baas, "Scaling equations for the accurate prediction of CMOS device performance
from 180 nm to 7 nm", Integration 58 (2017) 74–81 [SB17]: energy at a node is a fitted quadratic in
the supply voltage, a·V² + b·V + c, one row per node (their predictive-technology-model fits, as
encoded in Accelergy's hwcomponents tech-scaling table). A node's energy is that polynomial at its
nominal supply (`NOMINAL_VDD`); between tabulated nodes the energy is interpolated log-linearly in the
node size. The resulting 45 nm → 7 nm factor is 0.057, not the 0.094 of C·V² ∝ node·V².

Below 7 nm SB17 has no rows. Assumption: TSMC's public N5-vs-N7 and N3-vs-N5 claims (about 30 % lower
power at the same speed each) give 5 nm = 0.7 × the 7 nm energy and 3 nm = 0.49 ×; 4 nm (an N5-family
node) is interpolated. Above 130 nm: the 130 nm value × (node/130)·(V/1.3)² (C·V², assumption).
"""
from __future__ import annotations

import math

__all__ = ["SB17_ENERGY_POLY", "NOMINAL_VDD", "vdd_at", "energy_factor", "scale_energy"]

#: SB17 energy polynomial (a, b, c) per node in nm: E ∝ a·V² + b·V + c.
SB17_ENERGY_POLY: dict[float, tuple[float, float, float]] = {
    130: (7.171, -6.709, 2.904), 90: (4.762, -4.781, 2.092), 65: (3.755, -4.398, 1.975),
    45: (1.103, -0.362, 0.2767), 32: (0.9559, -0.7823, 0.471), 20: (0.373, -0.1582, 0.04104),
    16: (0.2958, -0.1241, 0.03024), 14: (0.2363, -0.09675, 0.02239), 10: (0.2068, -0.09311, 0.02375),
    7: (0.1776, -0.09097, 0.02447),
}

#: Sub-7 nm energy relative to 7 nm (assumption: TSMC N5/N3 ~30 % power reduction claims).
_BELOW_7NM = {5.0: 0.7, 3.0: 0.49}

#: Nominal core supply by node (assumption: typical nominal voltages of each generation).
NOMINAL_VDD: tuple[tuple[float, float], ...] = (
    (180, 1.8), (130, 1.3), (90, 1.2), (65, 1.1), (45, 0.9), (40, 0.9), (32, 0.9), (28, 0.9),
    (22, 0.8), (20, 0.8), (16, 0.8), (14, 0.8), (12, 0.75), (10, 0.75), (7, 0.7), (5, 0.7), (4, 0.7),
    (3, 0.65),
)


def vdd_at(node_nm: float) -> float:
    """Nominal supply voltage at a node, linearly interpolated in NOMINAL_VDD (clamped at the ends)."""
    return _interp(sorted(NOMINAL_VDD), node_nm, log=False)


def _interp(pts, x: float, log: bool) -> float:
    if x <= pts[0][0]:
        return pts[0][1]
    if x >= pts[-1][0]:
        return pts[-1][1]
    for (x0, y0), (x1, y1) in zip(pts, pts[1:]):
        if x0 <= x <= x1:
            if log:
                t = math.log(x / x0) / math.log(x1 / x0)
                return math.exp(math.log(y0) + t * math.log(y1 / y0))
            return y0 + (y1 - y0) * (x - x0) / (x1 - x0)
    raise AssertionError  # pragma: no cover


def _sb17(node: float) -> float:
    a, b, c = SB17_ENERGY_POLY[node]
    v = vdd_at(node)
    return a * v * v + b * v + c


def _table() -> list[tuple[float, float]]:
    pts = [(float(n), _sb17(n)) for n in SB17_ENERGY_POLY]
    pts += [(n, _sb17(7) * f) for n, f in _BELOW_7NM.items()]
    return sorted(pts)


_POINTS = _table()


def energy_factor(node_nm: float) -> float:
    """Dynamic energy at `node_nm` relative to 45 nm (1.0 at 45 nm)."""
    if node_nm > 130:
        e = _sb17(130) * (node_nm / 130) * (vdd_at(node_nm) / 1.3) ** 2
    elif node_nm < 3:
        e = _POINTS[0][1] * node_nm / 3
    else:
        e = _interp(_POINTS, node_nm, log=True)
    return e / _sb17(45)


def scale_energy(energy_45nm_pj: float, node_nm: float) -> float:
    """Scale a 45 nm energy to another node by `energy_factor` (SB17)."""
    return energy_45nm_pj * energy_factor(node_nm)
