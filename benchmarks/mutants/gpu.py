"""Mutants of GPU timing: kernel launch, the calibration and its fit, kernel fusion (engine/timing/sm.py, engine/calibration*.py, engine/gpu_kernels.py)."""
from __future__ import annotations

from .mutant import Mutant
from .suites import GPUK

MUTANTS = (
    Mutant("gpu-launch", "archsim/engine/timing/sm.py",
           "launch_s=min(unit.launch_overhead_s or launch, launch)", "launch_s=0.0",
           ("tests/engine/test_gpu_calibration.py", "tests/engine/test_software_stack.py",
            "tests/engine/test_host_overhead.py"), "GPU kernel launch time dropped"),
    Mutant("gpu-cal-cv-leak", "archsim/engine/calibration.py",
           "train = [m for m in ms if (m.kind, m.group) != (kind, group)]", "train = list(ms)", GPUK,
           "cross-validation fits on the held-out family too"),
    Mutant("gpu-cal-elements", "archsim/engine/calibration.py",
           'gpu.elementwise_seconds(s["op"], s["T"] * s["d"], spec',
           'gpu.elementwise_seconds(s["op"], s["T"], spec', GPUK,
           "an elementwise kernel predicted for T elements, not T × d"),
    Mutant("gpu-cal-memo-key", "archsim/engine/calibration_fit.py",
           "key = (tuple((m.label, m.measured_s) for m in ms), tuple(names), make(prior), spec)",
           "key = (tuple(m.label for m in ms), tuple(names), make(prior), spec)", GPUK,
           "the fit's memo forgets the measured times (a refit returns the old constants)"),
    Mutant("gpu-kernels-epilogue", "archsim/engine/gpu_kernels.py",
           'if p.op.kind in _EPILOGUE_KINDS and src is not None and kernels[src][0] == "gemm":',
           "if p.op.kind in _EPILOGUE_KINDS and src is not None:", GPUK,
           "an activation fused as the epilogue of a non-GEMM kernel"),
    Mutant("mac-price-cheapest", "archsim/engine/accounting.py",
           'if used is not None and f"{unit}.mac.{used}" in table:', "if False:",
           ("tests/engine/test_mac_price_fallback.py",),
           "a MAC dtype a unit has no energy for is priced at its cheapest entry, not the one it runs at"),
    Mutant("gpu-baselines-causal-flops", "archsim/studies/gpu_baselines.py",
           "return full / 2 if causal else full", "return full",
           ("tests/studies/test_gpu_baselines.py",),
           "gpu-baselines counts causal attention FLOPs in full (the papers halve them)"),
    Mutant("gpu-baselines-split-intercept", "archsim/studies/gpu_baselines.py",
           "return t_small_s - b_small / rate, rate", "return t_small_s, rate",
           ("tests/studies/test_gpu_baselines.py",),
           "gpu-baselines decode split reports the step time as its fixed part"),
)
