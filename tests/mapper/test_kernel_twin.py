"""The Numba cost kernel agrees with its plain-Python twin on random candidates of three chips."""
from __future__ import annotations

import numpy as np
import pytest

from archsim.kernels import costmodel as K
from archsim.mapper.costmodel import arrays_for, evaluate, score
from archsim.mapper.mapspace import build_space
from tests.mapper.hw_fixtures import conv, gemm, mcu, npu, npu_three_level, pim, softmax
from tests.mapper.twin_costmodel import eval_one, score_row

CASES = [
    (npu(), 0, gemm(48, 96, 72)),
    (npu(), 1, softmax(64, 200)),
    (npu_three_level(), 0, gemm(100, 37, 64)),
    (npu_three_level(), 0, conv(1, 8, 16, 7, 7, 3, 3)),
    (pim(), 0, gemm(1, 512, 256, bits=16)),
    (pim(), 1, gemm(4, 96, 64, bits=16)),
    (mcu(), 0, gemm(49, 64, 96)),
]


@pytest.mark.parametrize("hw,unit_index,op", CASES, ids=[f"{h.name}-{o.name}" for h, _, o in CASES])
def test_kernel_matches_twin(hw, unit_index, op):
    space = build_space(op, hw, hw.compute[unit_index])
    arrays = arrays_for(space)
    rng = np.random.default_rng(7)
    genomes = rng.integers(0, space.cardinalities, size=(60, len(space.cardinalities)))
    out, reads, writes = evaluate(arrays, genomes)
    rows = {obj: score(arrays, genomes, obj) for obj in ("latency", "energy", "edp")}
    for c, g in enumerate(genomes):
        m = space.decode(g)
        tiles = [[s for _, s in lt.tile] for lt in m.tiling]
        spatial = dict(m.spatial)
        tiles.append([spatial.get(d, 1) for d in space.dim_names])
        names = list(space.dim_names)
        orders = [[names.index(d) for d in lt.loop_order] for lt in m.tiling]
        opt = space.options[int(g[0])]
        ref = eval_one(tiles, orders, arrays.inc.tolist(), arrays.eb.tolist(),
                       arrays.is_out.tolist(), arrays.home.tolist(), arrays.keep.tolist(),
                       arrays.cap.tolist(), arrays.bw.tolist(), arrays.rd_pj.tolist(),
                       arrays.wr_pj.tolist(), arrays.dbuf.tolist(), arrays.up.tolist(),
                       K.DF_NONE if opt.dataflow == "none" else {"os": 1, "ws": 2, "is": 3}[opt.dataflow],
                       opt.t_dim, arrays.port.tolist(), arrays.refetch.tolist())
        assert out[c, K.O_CYCLES] == ref["cycles"]
        assert out[c, K.O_PORT] == pytest.approx(ref["port_cycles"], rel=1e-12)
        assert out[c, K.O_ENERGY] == pytest.approx(ref["energy"], rel=1e-9)
        assert out[c, K.O_FIT_LEVEL] == ref["fit_level"]
        assert np.allclose(reads[c], ref["reads"]) and np.allclose(writes[c], ref["writes"])
        for obj, got in rows.items():
            assert tuple(got[c]) == pytest.approx(score_row(ref, obj), rel=1e-9), obj


@pytest.mark.parametrize("kind", ["softmax", "layernorm", "gelu", "rmsnorm", "add"])
def test_vector_work_is_what_the_engine_charges(kind):
    """The mapper's work for a non-contraction op (iteration points × vector ops per element) is
    the engine's `work_units`, so a mapping ranked on vector-op time ranks the engine's time."""
    from dataclasses import replace
    from archsim.engine.timing.units import work_units
    from archsim.ir import OpKind
    op = replace(softmax(64, 200), kind=OpKind(kind))
    space = build_space(op, npu(), npu().compute[1])
    up = arrays_for(space).up
    assert up[K.U_MACS] == work_units(op)
