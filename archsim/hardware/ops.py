"""Which op kinds a compute unit runs, and which unit each op kind goes to on a chip.

A unit runs the op kinds its `ops` list names (a list may name kinds its type runs only by
emulation, e.g. Eyeriss's softmax on the PE array); empty `ops` = every kind its type runs: a systolic
array contractions other than depthwise convolution, a PIM bank unit GEMV-class contractions, a
vector unit, scalar core, SM or DSP array anything. The mapper, the engine's default and `archsim hw lint`
all use this one rule. When no unit runs a kind, a general-purpose unit (vector, scalar core, SM,
DSP array) takes it regardless of its `ops` list, and failing that any unit with a MAC rate
emulates it: both are fallbacks the result notes and `hw lint` reports.
"""
from __future__ import annotations

from dataclasses import dataclass

from archsim.hardware.types import ComputeUnit, Hardware
from archsim.ir import OpKind

__all__ = ["GENERAL_UNITS", "PIM_KINDS", "unit_runs_kind", "KindRoute", "route_kind", "ZOO_OP_KINDS"]

GENERAL_UNITS = ("vector", "scalar_core", "sm", "dsp_array")
#: the contractions a PIM bank unit runs without listing them: GEMV-class, weights or KV in its banks
PIM_KINDS = frozenset({OpKind.MATMUL, OpKind.ATTN_QK, OpKind.ATTN_AV, OpKind.LM_HEAD, OpKind.MOE_ROUTER})

#: Op kinds the model zoo produces (every model, every phase). `tests/workloads` keeps it equal to
#: the zoo; `hw lint` requires a unit that runs each one.
ZOO_OP_KINDS = ("add", "attn_av", "attn_qk", "conv2d", "dwconv2d", "embedding", "gelu", "gla_recurrence",
                "kv_append", "layernorm", "lm_head", "matmul", "moe_dispatch", "moe_router", "mul", "pool",
                "quantize", "relu", "rmsnorm", "rope", "selective_scan", "silu", "softmax", "swiglu")


def _type_runs(unit: ComputeUnit, kind: OpKind) -> bool:
    if unit.type == "systolic":
        return kind.is_contraction and kind is not OpKind.DWCONV2D
    if unit.type == "pim_bank":
        return kind in PIM_KINDS or kind.value in unit.ops
    return True


def unit_runs_kind(unit: ComputeUnit, kind: OpKind | str) -> bool:
    """Whether `unit` runs ops of `kind` as described: its `ops` list names the kind, or it has
    none and its type runs the kind."""
    kind = OpKind(kind)
    if unit.ops:
        return kind.value in unit.ops
    return _type_runs(unit, kind)


@dataclass(frozen=True, slots=True)
class KindRoute:
    """Where ops of one kind go: `units` that run it as described, else the fallback `units` and
    `how` = "fallback" (a general-purpose unit outside its `ops` list) or "emulated" (any unit with a
    MAC rate); `how` = "" when no unit at all can take it."""
    kind: str
    units: tuple[str, ...]
    how: str = "declared"


def _peak(unit: ComputeUnit) -> float:
    return unit.count * unit.freq_hz * max((r for _, r in unit.macs_per_cycle), default=0.0)


def route_kind(hw: Hardware, kind: OpKind | str) -> KindRoute:
    """The units ops of `kind` go to on `hw`, fastest first (the mapper picks among them by cost)."""
    kind = OpKind(kind)
    rated = [u for u in hw.compute if _peak(u) > 0]
    for how, units in (("declared", [u for u in rated if unit_runs_kind(u, kind)]),
                       ("fallback", [u for u in rated if u.type in GENERAL_UNITS and _type_runs(u, kind)]),
                       ("emulated", rated)):
        if units:
            return KindRoute(kind.value, tuple(u.name for u in sorted(units, key=_peak, reverse=True)), how)
    return KindRoute(kind.value, (), "")
