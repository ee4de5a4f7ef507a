"""The roofline of a chip (peak arithmetic rate, per-level bandwidth): plain values, no plotly,
so a command that writes only JSON or CSV can compute it without importing the figure code."""
from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Roof", "roof_from_hardware"]


@dataclass(frozen=True, slots=True)
class Roof:
    """The roofline of a chip: peak arithmetic rate and the bandwidth of each memory level."""
    peak_flops_per_s: float
    bandwidths_bytes_per_s: tuple[tuple[str, float], ...]


def roof_from_hardware(hw, dtype: str = "bf16") -> Roof:
    """2 FLOPs per MAC at the chip's peak MAC rate for `dtype` (for a per-class label such as
    'activations=int8,weights=int4', the weights' dtype); every level's stated bandwidth, and for
    processing-in-memory the banks' internal bandwidth: the rate at which the in-bank MAC units take
    operands (units × MACs per cycle × operand bytes × clock), far above the pins' — a PIM GEMV sits
    under that roof, not above every roof."""
    from archsim.ir import dtype_bits
    dtype = dtype or "bf16"
    if "=" in dtype:
        dtype = dict(item.split("=", 1) for item in dtype.split(",")).get("weights", "bf16")
    roofs = [(lv.name, lv.bandwidth_bytes_per_s) for lv in hw.levels if lv.bandwidth_bytes_per_s > 0]
    for cu in hw.compute:
        if cu.type == "pim_bank" and cu.peak_macs_per_s(dtype) > 0:
            roofs.append((f"{cu.name} (in-bank, internal)", cu.peak_macs_per_s(dtype) * dtype_bits(dtype) / 8))
    return Roof(peak_flops_per_s=2.0 * hw.peak_macs_per_s(dtype), bandwidths_bytes_per_s=tuple(roofs))
