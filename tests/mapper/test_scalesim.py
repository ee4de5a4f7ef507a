"""Systolic compute cycles agree with the real SCALE-Sim (run in its own venv, in a subprocess) on
GEMM shapes for OS, WS and IS with unlimited bandwidth; SRAM operand reads agree too."""
from __future__ import annotations

import pytest

from archsim.engine.timing import systolic_cycles, unit_cycles
from archsim.studies.scalesim_runner import run_scalesim, scalesim_python
from archsim.mapper.costmodel import analytic_cost
from archsim.mapper.mapspace import build_space
from tests.mapper.hw_fixtures import gemm, npu

SHAPES = [(20, 12, 30), (64, 64, 64), (1, 128, 96), (100, 37, 64), (128, 16, 200), (33, 65, 17),
          (256, 64, 32), (8, 300, 40), (77, 77, 77), (16, 16, 512), (130, 20, 50), (48, 96, 24)]
ARRAYS = [(16, 16), (8, 32)]


def _full_tile_mapping(op, hw, dataflow):
    space = build_space(op, hw, hw.compute[0])
    opt = next(i for i, o in enumerate(space.options) if o.dataflow == dataflow)
    genome = [opt] + [len(v) - 1 for v in space.values] + [0]
    return space.decode(genome)


@pytest.fixture(scope="module")
def python():
    py = scalesim_python()
    if py is None:
        from tests.requires import missing
        missing("SCALE-Sim (its venv)", "run .ci/run, which creates /tmp/or-cache-dir/scalesim-venv "
                "(python -m venv DIR && DIR/bin/pip install scalesim 'numpy<2.4'), or set "
                "ARCHSIM_SCALESIM_PYTHON to an interpreter that imports scalesim")
    return py


@pytest.mark.parametrize("rows,cols", ARRAYS)
@pytest.mark.parametrize("dataflow", ["os", "ws", "is"])
def test_compute_cycles_match_scalesim(python, dataflow, rows, cols):
    hw = npu(rows, cols, gb_bytes=1 << 40, dram_bw=1e30, sram_bw=1e30, dataflows=(dataflow,))
    rows_ref = run_scalesim(SHAPES, rows, cols, dataflow, python=python)
    assert len(rows_ref) == len(SHAPES) >= 12
    for ref in rows_ref:
        assert ref.stall_cycles == 0
        op = gemm(ref.m, ref.n, ref.k)
        cost = analytic_cost(op, _full_tile_mapping(op, hw, dataflow), hw)
        assert abs(cost.compute_cycles - ref.cycles) <= 0.01 * ref.cycles, (ref, cost.compute_cycles)
        # the engine times the same GEMM with the same formula: unmapped (the op's dims on the
        # array) and under the mapping above (whole tiles) it gives SCALE-Sim's cycles exactly,
        # unless the peak-rate floor is higher
        unit = hw.compute[0]
        floor = -(-ref.m * ref.n * ref.k // (rows * cols))
        assert systolic_cycles(unit, op, dataflow) == max(ref.cycles, floor), ref
        mapped = unit_cycles(unit, op, dataflow, mapping=_full_tile_mapping(op, hw, dataflow))
        assert mapped == max(ref.cycles, floor), ref
        assert abs(cost.cycles - ref.cycles) <= 0.01 * ref.cycles, (ref, cost.cycles)
        # int8, one byte per element. Global-buffer reads = what the array reads of X and W
        # (SCALE-Sim's ifmap + filter SRAM reads) + every output byte leaving the buffer (drained
        # to DRAM, or read back as a partial sum when the reduction is folded: WS/IS).
        folds_k = 1 if dataflow == "os" else -(-ref.k // rows)
        y_bytes = ref.m * ref.n * folds_k
        expected = ref.ifmap_sram_reads + ref.filter_sram_reads + y_bytes
        assert cost.reads("gbuf") == pytest.approx(expected, rel=1e-9), ref
