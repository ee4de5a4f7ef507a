"""PIM-GPT on the system simulator (issue #15): the ASIC and the PIM channels as two devices of
`hwconfigs/systems/pim-gpt-system.yaml`, each op streamed in slices so the ASIC's elementwise and
per-head work (GELU, residual adds, softmax) runs under the PIM banks' GEMVs, as the paper says
its ASIC's work is hidden. Reports the exposed non-VMM share of a token and the 8 → 16 channel
scaling on that system, next to the single-chip rows of the pim-gpt study."""
from __future__ import annotations

from dataclasses import replace

from .study import compare, info, measured

__all__ = ["SYSTEM", "SLICES", "system_rows", "exposed_non_vmm_share"]

SYSTEM = "pim-gpt-system"
SLICES = 16                     # each op in 16 slices (a head or 1/16 of the output columns each)


def exposed_non_vmm_share(result) -> float:
    """Percent of the token's latency in which the PIM banks do no VMM: the ASIC's work (and the
    transfers) left uncovered by overlap."""
    pim = result.device("pim").busy_s
    return 100.0 * max(0.0, result.latency_s - pim) / result.latency_s if result.latency_s > 0 else 0.0


def _speedup(base, faster) -> float:
    return base.latency_s / faster.latency_s


def _doubled(sysd, channels: int):
    """The system with twice the channels: the PIM side's DRAM channels and bank units, and the
    ASIC–PIM link (one set of pins per channel)."""
    links = tuple(replace(lk, bandwidth_bytes_per_s=2 * lk.bandwidth_bytes_per_s) for lk in sysd.links)
    return replace(sysd, links=links), {"dram.channels": 2 * channels}


def system_rows(context: int, dtypes, non_vmm_pct: float, xl_proxy: str, pim_hw) -> list:
    from archsim.system import load_system, simulate_system
    sysd = load_system(SYSTEM)
    dtype = dict(dtypes)
    rows = []
    kw = dict(phase="decode", context=context, dtype=dtype)
    whole = simulate_system(xl_proxy, sysd, **kw)
    streamed = simulate_system(xl_proxy, sysd, stream_chunks=SLICES, **kw)
    asic = streamed.device("asic")
    rows.append(info(f"{xl_proxy}: exposed non-VMM share on {SYSTEM}, ops in {SLICES} slices",
                     measured(exposed_non_vmm_share, streamed), unit="%", published=non_vmm_pct,
                     note=f"token time without PIM VMM work ÷ token latency "
                          f"({streamed.latency_s * 1e3:.3g} ms; ASIC busy {asic.utilization:.1%}); "
                          f"whole ops, no streaming: {exposed_non_vmm_share(whole):.1f}% of "
                          f"{whole.latency_s * 1e3:.3g} ms"))
    dram = next(lv for lv in pim_hw.levels if lv.dram is not None)
    channels = dram.dram.channels
    units = {cu.name: cu.count for cu in pim_hw.compute if cu.type == "pim_bank"}
    wide, overrides = _doubled(sysd, channels)
    overrides |= {f"compute.{name}.count": 2 * n for name, n in units.items()}
    for model, fidelity in (("gpt2-small", "cycle"), (xl_proxy, "analytic")):
        base = simulate_system(model, sysd, stream_chunks=SLICES, fidelity=fidelity, **kw)
        double = simulate_system(model, wide, stream_chunks=SLICES, fidelity=fidelity,
                                 device_overrides={"asic": overrides, "pim": overrides}, **kw)
        rows.append(compare(f"channel scaling {channels} → {2 * channels} on {SYSTEM} "
                            f"({model}, {fidelity}, {SLICES} slices)", 2.0,
                            measured(_speedup, base, double), (0.8, 1.05), unit="×",
                            note=f"exposed non-VMM share {exposed_non_vmm_share(base):.1f}% → "
                                 f"{exposed_non_vmm_share(double):.1f}%"))
    return rows
