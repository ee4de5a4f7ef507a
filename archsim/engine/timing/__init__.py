"""Per-kind timing: pure functions keyed by compute-unit type (systolic, vector, pim_bank, dsp_array,
scalar_core, sm); CPUs are described as vector or scalar_core units and use those functions."""
from .shapes import gemm_shape, op_dtype, op_elems
from .units import (dsp_array_cycles, peak_cycles, scalar_core_cycles, systolic_cycles, unit_cycles,
                    vector_cycles, work_units)

__all__ = ["gemm_shape", "op_dtype", "op_elems", "dsp_array_cycles", "peak_cycles",
           "scalar_core_cycles", "systolic_cycles", "unit_cycles", "vector_cycles", "work_units"]
