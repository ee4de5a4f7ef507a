"""Hypothesis properties of the cost model and the mapspace: accesses per level ≥ compulsory
traffic; tiles cover the iteration space exactly once; more bandwidth never increases a single
op's cost under a fixed mapping; a chosen mapping never exceeds a level's capacity."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
from hypothesis import HealthCheck, given, settings, strategies as st

from archsim.mapper.costmodel import analytic_cost
from archsim.mapper.map_op import map_op
from archsim.mapper.mapspace import build_space
from archsim.mapper.tiles import iterate_tiles
from tests.mapper.hw_fixtures import gemm, mcu, npu, npu_three_level, pim

HW = [npu(), npu_three_level(), pim(), mcu()]
dims = st.integers(1, 96)
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _random_mapping(data, hw, op):
    unit = data.draw(st.sampled_from([u for u in hw.compute]))
    space = build_space(op, hw, unit)
    genome = [data.draw(st.integers(0, c - 1)) for c in space.cardinalities]
    return space, space.decode(genome)


@SETTINGS
@given(m=dims, n=dims, k=dims, hw_i=st.integers(0, len(HW) - 1), data=st.data())
def test_accesses_at_least_compulsory(m, n, k, hw_i, data):
    hw = HW[hw_i]
    op = gemm(m, n, k, bits=16 if hw.kind == "pim" else 8)
    space, mapping = _random_mapping(data, hw, op)
    cost = analytic_cost(op, mapping, hw)
    outer = hw.levels[space.path[0]].name
    for o, home in zip(op.operands, space.homes):
        if home != 0 or len(space.path) == 1:
            continue
        if o.is_output:
            assert cost.writes(outer) >= o.tensor.size_bytes
        else:
            assert cost.reads(outer) >= o.tensor.size_bytes
    assert cost.cycles >= 1 and cost.energy_pj > 0


@SETTINGS
@given(m=st.integers(1, 40), n=st.integers(1, 40), k=st.integers(1, 40), data=st.data())
def test_tiles_cover_iteration_space_exactly_once(m, n, k, data):
    hw = npu_three_level(4, 4)
    op = gemm(m, n, k)
    _, mapping = _random_mapping(data, hw, op)
    count = np.zeros((m, n, k), dtype=np.int32)
    for box in iterate_tiles(mapping, op.dim_sizes, spatial=True):
        r = {d: (lo, hi) for d, lo, hi in box}
        count[r["m"][0]:r["m"][1], r["n"][0]:r["n"][1], r["k"][0]:r["k"][1]] += 1
    assert (count == 1).all()


@SETTINGS
@given(m=dims, n=dims, k=dims, hw_i=st.integers(0, len(HW) - 1),
       factor=st.floats(1.0, 1000.0), level=st.integers(0, 2), data=st.data())
def test_more_bandwidth_never_increases_cost(m, n, k, hw_i, factor, level, data):
    hw = HW[hw_i]
    op = gemm(m, n, k, bits=16 if hw.kind == "pim" else 8)
    _, mapping = _random_mapping(data, hw, op)
    before = analytic_cost(op, mapping, hw)
    li = level % len(hw.levels)
    faster = replace(hw, levels=tuple(
        replace(lv, bandwidth_bytes_per_s=lv.bandwidth_bytes_per_s * factor) if i == li else lv
        for i, lv in enumerate(hw.levels)))
    after = analytic_cost(op, mapping, faster)
    assert after.cycles <= before.cycles
    assert after.energy_pj <= before.energy_pj * (1 + 1e-12)


@settings(max_examples=25, deadline=None)
@given(m=st.integers(1, 300), n=st.integers(1, 300), k=st.integers(1, 300),
       hw_i=st.integers(0, len(HW) - 1), objective=st.sampled_from(["latency", "energy", "edp"]))
def test_chosen_mapping_never_exceeds_capacity(m, n, k, hw_i, objective):
    hw = HW[hw_i]
    op = gemm(m, n, k, bits=16 if hw.kind == "pim" else 8)
    mapping, _ = map_op(op, hw, objective=objective, budget=300, use_cache=False)
    space = build_space(op, hw, hw.unit(mapping.unit))
    for pos, lt in enumerate(mapping.tiling):
        level = hw.level(lt.level)
        tile = lt.tile_sizes
        need = 0
        for o, home in zip(op.operands, space.homes):
            keep = not level.holds or ("activation" if o.is_output else o.tensor.role.value) in level.holds
            if home > pos or (home < pos and not keep):
                continue
            elems = int(np.prod([op.dim_sizes[d] if home == pos else tile[d] for d in o.dims]))
            need += elems * o.tensor.dtype_bits // 8 * (2 if home < pos and lt.double_buffer else 1)
        assert need <= level.size_bytes, (lt, need, level.size_bytes)
