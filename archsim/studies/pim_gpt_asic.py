"""What-if for the PIM-GPT study: how wide would the ASIC have to be for archsim's PIM-GPT to spend
only the paper's 1.16% of a GPT3-XL token on non-VMM work, and what would the ASIC-clock and
channel sweeps give with that ASIC? The ASIC width is not published (hardware-facts.md §1.1 [NF]);
the shipped config assumes 32 lanes and keeps them — these rows only show whether that one unknown
explains the clock and channel gaps. They are informational: no band is checked against them.
"""
from __future__ import annotations

from dataclasses import replace

from .study import info, measured

__all__ = ["with_asic_width", "asic_what_if"]

#: widening factors tried, in order, until the non-VMM share reaches the paper's
FACTORS = (2, 4, 8, 16, 32, 64)


def with_asic_width(hw, factor: int):
    """`hw` with every non-PIM compute unit (the ASIC side) `factor`× wider: lanes and MACs per
    cycle scale together; clocks, memories and the PIM banks are unchanged."""
    def wider(cu):
        if cu.type == "pim_bank":
            return cu
        return replace(cu, shape=tuple(n * factor for n in cu.shape[:1]) + tuple(cu.shape[1:]),
                       macs_per_cycle=tuple((d, v * factor) for d, v in cu.macs_per_cycle))
    return replace(hw, compute=tuple(wider(cu) for cu in hw.compute))


def asic_what_if(hw, decode, share, target_pct: float, xl_model: str, small_model: str,
                 slow_clock, more_channels) -> list:
    """Rows: the smallest widening (of FACTORS) whose `xl_model` non-VMM share is ≤ `target_pct`
    (else the widest tried), and, at that width, the `small_model` cycle-fidelity cost of the slow ASIC clock and gain of
    doubled channels. `decode(model, hw, fidelity)` simulates; `share(result, hw)` is the non-VMM
    percent; `slow_clock(hw)` / `more_channels(hw)` make the swept descriptions."""
    lanes = next((cu.shape[0] for cu in hw.compute if cu.type != "pim_bank" and cu.shape), 0)
    for factor in FACTORS:
        wide = with_asic_width(hw, factor)
        xl = decode(xl_model, wide, "analytic")
        pct = share(xl, wide)
        if pct <= target_pct:
            break
    reached = pct <= target_pct
    base = decode(small_model, wide, "cycle")
    slow, double = decode(small_model, slow_clock(wide), "cycle"), \
        decode(small_model, more_channels(wide), "cycle")
    what = f"with a {factor}× wider ASIC ({factor * lanes} lanes)"

    def width(r, hw=wide, lanes=factor * lanes) -> str:
        return f"{lanes} lanes" if share(r, hw) <= target_pct else f"> {lanes} lanes"
    return [
        info(f"ASIC width for a ≤ {target_pct:g}% non-VMM share ({xl_model})", measured(width, xl),
             note=(f"{factor}× the config's {lanes}: share {pct:.2f}%" if reached else
                   f"still {pct:.2f}% at {factor}× the config's {lanes}: the rest is memory-bound "
                   "or per-op fixed time, which widening does not remove")
                  + "; the paper's ASIC width is not published"),
        info(f"ASIC 1 GHz → 100 MHz latency cost {what}",
             measured(lambda a, b: (a.latency_s / b.latency_s - 1) * 100, slow, base), unit="%",
             published=20.0, note=f"{small_model}, cycle fidelity"),
        info(f"speedup with doubled channels {what}",
             measured(lambda a, b: a.latency_s / b.latency_s, base, double), unit="×", published=2.0,
             note=f"{small_model}, cycle fidelity"),
    ]
