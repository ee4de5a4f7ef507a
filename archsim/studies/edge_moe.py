"""Edge-MoE (Sarkar et al., ICCAD 2023, arXiv 2305.18691): the M³ViT multi-task ViT (16 experts,
top-2) on a ZCU102 FPGA, throughput and energy efficiency against GPU and CPU baselines, through the
real pipeline (zoo `m3vit` → mapper → engine)."""
from __future__ import annotations

from . import pipeline
from .study import FACTOR_1_5, compare, energy_share_row, finish, info, match, measured

__all__ = ["TITLE", "SOURCE", "ASSUMPTIONS", "run"]

TITLE = "Edge-MoE: M³ViT on a ZCU102 FPGA vs GPU and CPU"
SOURCE = ("Sarkar et al., Edge-MoE, ICCAD 2023 (arXiv 2305.18691) abstract; model from "
          "sharc-lab/Edge-MoE include/model.hpp (hardware-facts.md §3.1)")
MODEL = "m3vit"
FPGA, GPU, CPU = "zcu102", "t4", "xeon-gold-6154"
PUBLISHED_EE = {"GPU": 2.24, "CPU": 4.90}
FPGA_DTYPES = (("weights", "int16"), ("activations", "int32"), ("kv", "int32"))
BASELINE_DTYPES = (("weights", "fp32"), ("activations", "fp32"), ("kv", "fp32"))

ASSUMPTIONS = (
    "The paper's GPU and CPU baseline models are not stored (hardware-facts.md §3.1 [NF]); "
    f"{GPU!r} and {CPU!r} stand in (the project's GPU/CPU baselines of the same era).",
    "FPGA datatypes as in the Edge-MoE code: weights ap_fixed<16,2> → int16, features "
    "ap_fixed<32,10> → int32; baselines run fp32 (PyTorch default).",
    "One inference = one 256×128 image for one task, batch 1 on every chip; top-2 of 16 experts "
    "active per MoE layer as the zoo model states.",
    "Energy efficiency = baseline energy per inference ÷ FPGA energy per inference (equivalently "
    "inferences per joule); throughput = inferences per second.",
)


def run():
    fpga_hw, gpu_hw, cpu_hw = (pipeline.hardware(n) for n in (FPGA, GPU, CPU))
    fpga = pipeline.simulate_model(MODEL, fpga_hw, phase="encode", dtypes=FPGA_DTYPES)
    gpu = pipeline.simulate_model(MODEL, gpu_hw, phase="encode", dtypes=BASELINE_DTYPES)
    cpu = pipeline.simulate_model(MODEL, cpu_hw, phase="encode", dtypes=BASELINE_DTYPES)
    rows = []
    for r in (fpga, gpu, cpu):
        if not r.fits:
            rows.append(match(f"M³ViT fits {r.hw}", True, measured(lambda x: x.fits, r),
                              note=r.does_not_fit))
    if not all(r.fits for r in (fpga, gpu, cpu)):
        return finish("edge-moe", TITLE, SOURCE, rows, ASSUMPTIONS)
    for r in (fpga, gpu, cpu):
        rows.append(info(f"throughput on {r.hw}", measured(lambda x: x.throughput_per_s, r),
                         unit="inf/s", note=f"{r.avg_power_w:.3g} W average"))
        rows.append(info(f"energy per inference on {r.hw}",
                         measured(lambda x: x.energy_j / x.tokens * 1e3, r), unit="mJ"))
        rows.append(energy_share_row(r))
    for label, base in (("GPU", gpu), ("CPU", cpu)):
        ee = measured(lambda b, f: (b.energy_j / b.tokens) / (f.energy_j / f.tokens), base, fpga)
        rows.append(compare(f"energy efficiency vs {label} ({base.hw})", PUBLISHED_EE[label], ee,
                            FACTOR_1_5, unit="×"))
        rows.append(info(f"throughput vs {label} ({base.hw})",
                         measured(lambda f, b: f.throughput_per_s / b.throughput_per_s, fpga, base),
                         unit="×", note="published throughput ratio not stored"))
    if fpga.utilization:
        rows.append(info("FPGA utilisation", measured(
            lambda f: ", ".join(f"{k} {v:.0%}" for k, v in f.utilization), fpga)))
    gaps = []
    for label, base, hw in (("GPU", gpu, gpu_hw), ("CPU", cpu, cpu_hw)):
        row = next(r for r in rows if r.metric.startswith(f"energy efficiency vs {label}"))
        if row.within_band is False:
            gaps.append(
                f"vs {label}: the paper's {label} baseline is not stored, and {hw.name!r} stands in; "
                f"archsim's {hw.name} runs M³ViT at {base.throughput_per_s:.0f} inf/s averaging "
                f"{base.avg_power_w:.0f} W (config idle floor {hw.idle_power_w:g} W, an assumption) "
                f"against the FPGA's {fpga.throughput_per_s:.0f} inf/s at "
                f"{fpga.avg_power_w:.1f} W, so the ratio measures the stand-in and archsim's "
                "analytic (roofline + launch overhead) baseline rather than the paper's measured "
                "run. Nothing is fitted to close the gap.")
    return finish("edge-moe", TITLE, SOURCE, rows, ASSUMPTIONS, gaps)
