"""Fit of a GPU's energy constants to measured whole-model runs (board energy from NVML).

Model of one run (energy in J):
    E = P_idle·T + P_active·T + e_mac·(MACs + r_vec·vector ops) + e_hbm·(HBM bytes) + fixed
- P_idle: the board's measured idle power (not fitted); P_active: the active floor while kernels run;
- e_mac: energy per tensor-core MAC of the run's dtype, operand delivery included; vector (CUDA-core)
  operations cost r_vec × e_mac, r_vec = the fp32/bf16 ratio of `archsim.energy.mac_energy_pj`
  (assumption: the same delivery overhead proportion);
- e_hbm: energy per byte read from or written to HBM, including its path through the memory
  controller, the NoC and L2 (what the board sees per HBM byte);
- fixed: actions priced from their own tables (L2 and shared-memory bytes, links).
Three constants are fitted (P_active, e_mac, e_hbm), non-negative, minimising the relative energy
error Σ((E_model − E_measured)/E_measured)². T is the **measured** latency: the constants describe the
board's power, not archsim's timing, so they carry over unchanged when the latency model improves
(`archsim.studies.gpu_energy_fit` reports the residuals with archsim's own latency next to these).

Transfer to other GPUs (`transfer`, every factor an assumption stated in its note): e_mac × the SB17
node-energy ratio; e_hbm split into the HBM device part (`DRAM_PJ_PER_BIT` of the memory type) and
the on-chip remainder, the device part swapped for the target's memory and the remainder × the node
ratio; the active floor × the TDP ratio; the power limit = the target's TDP.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from archsim.energy.scaling import energy_factor
from archsim.energy.tables import DRAM_PJ_PER_BIT

__all__ = ["FitPoint", "GpuEnergyFit", "fit_gpu_energy", "predict_j", "transfer"]


@dataclass(frozen=True, slots=True)
class FitPoint:
    label: str
    measured_s: float
    measured_j: float
    macs: float            # tensor MACs + r_vec × vector ops
    hbm_bytes: float
    fixed_j: float         # energy of actions priced outside the fit
    idle_w: float


@dataclass(frozen=True, slots=True)
class GpuEnergyFit:
    active_w: float
    mac_pj: float
    hbm_pj_per_byte: float


def predict_j(p: FitPoint, f: GpuEnergyFit, latency_s: float | None = None) -> float:
    t = p.measured_s if latency_s is None else latency_s
    return ((p.idle_w + f.active_w) * t + f.mac_pj * 1e-12 * p.macs + f.hbm_pj_per_byte * 1e-12 * p.hbm_bytes
            + p.fixed_j)


def fit_gpu_energy(points: list[FitPoint]) -> GpuEnergyFit:
    """Non-negative least squares on the relative energy residuals (closed form: the model is linear)."""
    from scipy.optimize import nnls
    a = np.array([[p.measured_s, p.macs * 1e-12, p.hbm_bytes * 1e-12] for p in points])
    b = np.array([p.measured_j - p.idle_w * p.measured_s - p.fixed_j for p in points])
    w = 1.0 / np.array([p.measured_j for p in points])
    scale = a.max(axis=0)
    x, _ = nnls(a * w[:, None] / scale, b * w)
    x = x / scale
    return GpuEnergyFit(active_w=float(x[0]), mac_pj=float(x[1]), hbm_pj_per_byte=float(x[2]))


def transfer(f: GpuEnergyFit, node_nm: float, memory_type: str, tdp_w: float, to_node_nm: float,
             to_memory_type: str, to_tdp_w: float) -> tuple[GpuEnergyFit, str]:
    """The fitted constants carried to another GPU by the documented ratios; returns them and a note."""
    node = energy_factor(to_node_nm) / energy_factor(node_nm)
    device = DRAM_PJ_PER_BIT[memory_type].value * 8
    to_device = DRAM_PJ_PER_BIT[to_memory_type].value * 8
    on_chip = max(f.hbm_pj_per_byte - device, 0.0)
    out = GpuEnergyFit(active_w=f.active_w * to_tdp_w / tdp_w, mac_pj=f.mac_pj * node,
                       hbm_pj_per_byte=to_device + on_chip * node)
    note = (f"transfer from the H200 fit (assumption): MAC and on-chip path × SB17 node ratio {node:.3f} "
            f"({node_nm:g}→{to_node_nm:g} nm); HBM device {device:.1f}→{to_device:.1f} pJ/B ({memory_type}→"
            f"{to_memory_type}); active floor × TDP ratio {to_tdp_w:g}/{tdp_w:g}")
    return out, note
