"""Per-kind compute timing: small pure functions keyed by `ComputeUnit.type`. Each returns cycles of
the unit's own clock for a whole op on all `count` instances, and never less than the op's MACs at
the unit's peak rate (so every result respects the roofline)."""
from __future__ import annotations

from math import ceil

from archsim.hardware import ComputeUnit
from archsim.ir import Op
from archsim.mapping import OpMapping

from .shapes import OPS_PER_ELEM, gemm_shape, op_dtype, op_elems

__all__ = ["peak_cycles", "systolic_cycles", "vector_cycles", "dsp_array_cycles",
           "scalar_core_cycles", "unit_cycles", "work_units"]

#: Cortex-M7-class cycles per MAC on top of the SIMD issue rate, CMSIS-NN-style kernels
#: (assumption: int8 needs SXTB16 unpacking, ~+50%; fp32 uses the FPU at 1 MAC/cycle).
MCU_OVERHEAD_BY_DTYPE = {"int8": 1.5, "int16": 1.0, "fp32": 1.0, "int4": 2.0}
#: ART accelerator: share of flash line fetches whose wait states it hides for sequential weight
#: streams (assumption; ST AN4667 describes prefetch + a 64×128-bit cache, no hit rate).
ART_HIT_RATE = 0.75
FLASH_LINE_BYTES = 16


def work_units(op: Op) -> int:
    """MACs for contractions; for other ops, elements × operations per element (times the share
    a fused causal kernel computes, the plan's `computed_fraction`)."""
    if op.macs:
        return op.macs
    work = op_elems(op) * OPS_PER_ELEM.get(op.kind.value, 2)
    fraction = op.attr("computed_fraction", 1.0)
    return work if fraction == 1.0 else int(ceil(work * fraction))


def peak_cycles(unit: ComputeUnit, op: Op, dtype: str | None = None) -> int:
    dtype = dtype or op_dtype(op, unit)
    rate = unit.count * max(unit.macs_per_cycle_for(dtype), 1e-9)
    return int(ceil(work_units(op) / rate))


def systolic_cycles(unit: ComputeUnit, op: Op, dataflow: str = "ws", dtype: str | None = None) -> int:
    """SCALE-Sim's analytical form, the mapper's (`kernels.costmodel.systolic_fold_cycles`):
    folds × (T + R + C − 2, + R for the WS/IS preload) − 1, where the stationary operand is tiled
    R×C and T is the streamed dimension (ws: K×N stationary, T=M; os: M×N, T=K; is: K×M, T=N);
    folds (× batch) are shared by the `count` arrays."""
    if not op.macs:
        return peak_cycles(unit, op, dtype)
    from archsim.kernels.costmodel import systolic_fold_cycles
    R, C = (unit.shape + (1, 1))[:2]
    B, M, N, K = gemm_shape(op)
    sr, sc, t = {"os": (M, N, K), "is": (K, M, N)}.get(dataflow, (K, N, M))
    folds = ceil(sr / R) * ceil(sc / C) * B
    per_fold = systolic_fold_cycles(t, R, C, dataflow in ("ws", "is"))
    return max(int(ceil(ceil(folds / unit.count) * per_fold - 1)), peak_cycles(unit, op, dtype))


def vector_cycles(unit: ComputeUnit, op: Op, dtype: str | None = None) -> int:
    return peak_cycles(unit, op, dtype) + unit.pipeline_depth


def dsp_array_cycles(unit: ComputeUnit, op: Op, dtype: str | None = None,
                     streamed: bool = False) -> int:
    """HLS-style pipeline: one issue every II cycles, plus the pipeline depth to fill it. With
    layer-to-layer streaming (the op consumes its producer's output on the same array), the
    pipeline stays full across the layer boundary and the fill is not paid again."""
    fill = 0 if streamed else unit.pipeline_depth
    return peak_cycles(unit, op, dtype) * max(1, unit.initiation_interval) + fill


def scalar_core_cycles(unit: ComputeUnit, op: Op, dtype: str | None = None,
                       weight_bytes: int = 0, wait_states: int = 0) -> int:
    """MCU core: MACs at the SIMD rate × a per-dtype kernel overhead, plus flash wait states on the
    weight stream that the ART cache does not hide."""
    dtype = dtype or op_dtype(op, unit)
    base = peak_cycles(unit, op, dtype)
    cycles = base * MCU_OVERHEAD_BY_DTYPE.get(dtype, 1.0)
    lines = ceil(weight_bytes / FLASH_LINE_BYTES)
    stalls = lines * wait_states * (1.0 - ART_HIT_RATE)
    return int(ceil(cycles + stalls))


def unit_cycles(unit: ComputeUnit, op: Op, dataflow: str = "none", *, weight_bytes: int = 0,
                wait_states: int = 0, streamed: bool = False, mapping: OpMapping | None = None) -> int:
    """Cycles of `unit` (its own clock) for the compute of `op`, by unit type. `sm` and
    `pim_bank` are timed elsewhere (timing.gpu, the DRAM command path) but get a peak-rate value here.
    With the op's `mapping`, systolic and vector units follow its spatial unroll and tiles
    (`timing.spatial`: lanes an edge tile leaves idle cost time), never beating the peak rate."""
    t = unit.type
    if mapping is not None and t in ("systolic", "vector"):
        from .spatial import mapped_systolic_cycles, mapped_vector_cycles
        if t == "systolic":
            mapped = mapped_systolic_cycles(unit, op, mapping)
        else:
            mapped = mapped_vector_cycles(unit, op, mapping, work_units(op),
                                          max(unit.macs_per_cycle_for(op_dtype(op, unit)), 1e-9))
        if mapped is not None:
            return max(mapped, peak_cycles(unit, op))
    if t == "systolic":
        return systolic_cycles(unit, op, dataflow if dataflow in ("ws", "os", "is") else
                               (unit.dataflows[0] if unit.dataflows else "ws"))
    if t == "dsp_array":
        return dsp_array_cycles(unit, op, streamed=streamed)
    if t == "scalar_core":
        return scalar_core_cycles(unit, op, weight_bytes=weight_bytes, wait_states=wait_states)
    if t == "vector":
        return vector_cycles(unit, op)
    return peak_cycles(unit, op)
