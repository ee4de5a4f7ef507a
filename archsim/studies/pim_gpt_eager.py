"""Sensitivity for the PIM-GPT study: the paper's T4 numbers are measured framework runs, archsim's
T4 replays kernels as a CUDA graph would. How far does an eager framework's per-kernel host time
(`Hardware.host_overhead_s`) move the GPU speedup range? PyTorch's per-op CPU-side time is put at
about 5–25 µs by a secondary source (a GPU-serving lesson, jiahuanglin.xyz "From PyTorch op to kernel
launch"); the paper's own framework and its overhead are not known. Informational rows only: the
checked rows keep the graph-replay baseline.
"""
from __future__ import annotations

from dataclasses import replace

from .study import info, measured

__all__ = ["HOST_OVERHEADS_S", "eager_gpu_rows"]

#: per-kernel host time, low and high end of the cited range
HOST_OVERHEADS_S = (5e-6, 25e-6)


def eager_gpu_rows(gpu_hw, pim_latency_s: dict[str, float], decode, published: tuple[float, float]):
    """One info row per host overhead: the range of T4 ÷ PIM-GPT token latency over the models in
    `pim_latency_s`, with `decode(model, hw)` simulating the T4 description run eagerly."""
    rows = []
    for host in HOST_OVERHEADS_S:
        eager = replace(gpu_hw, host_overhead_s=host)
        runs = [decode(m, eager, stack="eager") for m in pim_latency_s]

        def span(*rs, pim=pim_latency_s) -> str:
            ratios = sorted(r.latency_s / pim[r.model] for r in rs)
            return f"{ratios[0]:.1f}–{ratios[-1]:.1f} ×"
        speedup = {r.model: r.latency_s / pim_latency_s[r.model] for r in runs}
        lo, hi = min(speedup, key=speedup.get), max(speedup, key=speedup.get)
        rows.append(info(
            f"speedup vs GPU if the T4 ran eagerly at {host * 1e6:g} µs per kernel",
            measured(span, *runs),
            note=f"published {published[0]:g}–{published[1]:g}×; lowest {lo}, highest {hi}; "
                 "sensitivity, not checked (the paper's framework overhead is not known)"))
    return rows
