"""Hand-built results for the report tests: they depend on nothing but the core result types, so the
reports are tested while the engine and mapper are still being written."""
from __future__ import annotations

import pytest

from archsim.comparison import Sweep, compare_results
from archsim.result import LevelUse, OpResult, SimResult, Timeline

LEVELS = ("hbm", "l2", "smem")


def make_result(model="llama2-7b", hw="h200-sxm", hw_kind="gpu", phase="decode", batch=1,
                context=1024, layers=2, scale=1.0, fits=True, **changes) -> SimResult:
    """A small but complete result: per layer a GEMM, an attention and a norm, plus an lm head."""
    ops, t = [], 0.0
    kinds = (("matmul", "sm", 4_000_000, 8_000_000), ("attn_qk", "sm", 500_000, 2_000_000),
             ("rmsnorm", "sm", 0, 40_000))
    for layer in range(layers):
        for kind, unit, macs, outer in kinds:
            lat = scale * (1e-5 + outer / 4.8e12)
            ops.append(OpResult(
                name=f"layer{layer}.{kind}", kind=kind, unit=unit, cycles=int(lat * 1.98e9),
                latency_s=lat, start_s=t, energy_j=scale * outer * 3e-11, macs=macs * batch,
                flops=2 * macs * batch + (5_000 if kind == "rmsnorm" else 0),
                bytes_by_level=(("hbm", outer), ("l2", outer // 2), ("smem", outer // 4)),
                bound="memory:hbm" if kind != "rmsnorm" else "latency",
                analytic_cycles=int(lat * 1.9e9), layer=layer))
            t += lat
    ops.append(OpResult(name="lm_head", kind="lm_head", unit="sm", cycles=1000, latency_s=2e-5,
                        start_s=t, energy_j=1e-4, macs=131_072_000, flops=262_144_000,
                        bytes_by_level=(("hbm", 262_144_000),), bound="memory:hbm"))
    t += 2e-5
    levels = (LevelUse("hbm", 141_000_000_000, 13_500_000_000, 10**10, 10**6),
              LevelUse("l2", 60 * 2**20, 40 * 2**20, 10**8, 10**8),
              LevelUse("smem", 228 * 1024 * 132, 100 * 1024 * 132, 10**7, 10**7))
    timelines = tuple(Timeline(level=lv.level, time_s=(0.0, t / 3, 2 * t / 3, t),
                               occupancy_bytes=(0, lv.peak_buffer_bytes // 2, lv.peak_buffer_bytes, 0))
                      for lv in levels)
    base = dict(
        model=model, hw=hw, hw_kind=hw_kind, phase=phase, batch=batch, seq=1 if phase == "decode" else 128,
        context=context if phase == "decode" else 0, fidelity="analytic", cycles=int(t * 1.98e9),
        freq_hz=1.98e9, latency_s=t,
        energy_breakdown_j=(("compute", scale * 0.01), ("hbm", scale * 0.05), ("static", scale * 0.02)),
        levels=levels, ops=tuple(ops), tokens=batch, utilization=(("sm", 0.4),), timelines=timelines,
        sim_wall_s=0.123, dtype="fp16", analytic_vs_cycle_gap=0.031)
    if not fits:
        base.update(fits=False, does_not_fit="does not fit: weights need 140 GB in hbm, has 141 MB "
                    "(short by 139.9 GB)", ops=(), energy_breakdown_j=(), latency_s=0.0, cycles=0,
                    timelines=(), analytic_vs_cycle_gap=None)
    base.update(changes)
    return SimResult(**base)


@pytest.fixture
def result() -> SimResult:
    return make_result()


@pytest.fixture
def comparison():
    rs = [make_result(hw="h200-sxm"), make_result(hw="pim-gpt", hw_kind="pim", scale=0.5),
          make_result(hw="stm32f746", hw_kind="mcu", fits=False)]
    return compare_results(rs, "h200-sxm", areas_mm2={"h200-sxm": 814.0, "pim-gpt": 120.0},
                           tech_nodes_nm={"h200-sxm": 4, "pim-gpt": 28})


@pytest.fixture
def sweep():
    rs = [make_result(context=c, batch=b, scale=c / 1024 * b)
          for b in (1, 8) for c in (128, 1024, 4096)]
    return Sweep(model="llama2-7b", hw="h200-sxm", parameters=("batch", "context"), results=tuple(rs))
