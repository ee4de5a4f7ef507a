"""The engine honours the mapping's spatial unroll and tiles (edge under-utilisation) for systolic
and vector units: on GEMMs the mapper maps, the engine's compute time is never below the mapper's
analytic compute bound (`mapper.costmodel.analytic_cost`), and a tile that leaves array lanes idle
costs cycles the unmapped model does not charge."""
from __future__ import annotations

import functools
from math import ceil

import numpy as np
import pytest

from archsim.engine import simulate
from archsim.engine.plan import plan_ops
from archsim.engine.timing.spatial import mapped_tiles
from archsim.engine.timing.units import unit_cycles
from archsim.mapping import LevelTiling, Mapping, OpMapping

CASES = [("tpu-v1", "bert-base", "encode", dict(seq=128)),
         ("edge-npu", "gpt2-small", "prefill", dict(seq=100)),
         ("eyeriss", "gpt2-small", "prefill", dict(seq=100))]


@functools.lru_cache(maxsize=None)
def _mapped(hw_name, model, phase, kw):
    from archsim import mapper
    from archsim import workloads
    from archsim.hardware import load_hardware
    hw = load_hardware(hw_name)
    g = workloads.build_graph(model, phase, overrides={"layers": 1}, **dict(kw))
    return hw, g, mapper.map_graph(g, hw)


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_gemm_cycles_at_least_the_mappers_compute_bound(case):
    from archsim.mapper.costmodel import analytic_cost
    hw_name, model, phase, kw = case
    hw, g, m = _mapped(hw_name, model, phase, tuple(sorted(kw.items())))
    r = simulate(g, hw, m, fidelity="cycle")
    by_op = {o.name: o for o in r.ops}
    checked = 0
    for p in plan_ops(g, hw, m):
        if p.unit.type != "systolic" or not p.op.macs or p.mapping is None or not p.mapping.spatial:
            continue
        cost = analytic_cost(p.op, p.mapping, hw)
        mine = unit_cycles(p.unit, p.op, p.dataflow, mapping=p.mapping)
        assert mine >= cost.compute_cycles, (p.op.name, mine, cost.compute_cycles)
        bound_ticks = cost.compute_cycles / p.unit.freq_hz * hw.freq_hz
        assert by_op[p.op.name].cycles >= bound_ticks * (1 - 1e-9), p.op.name
        checked += 1
    assert checked >= 4


def _first_matmul(seq):
    from archsim.ir import OpKind
    from archsim import workloads
    g = workloads.build_graph("gpt2-small", "prefill", overrides={"layers": 1}, seq=seq)
    op = next(g.nodes[n]["op"] for n in g.nodes if g.nodes[n]["op"].kind is OpKind.MATMUL)
    return g, op


def test_edge_tiles_cost_idle_lanes_on_tpu():
    """A 768-wide reduction tiled by 300 on a 256×256 array: ⌈300/256⌉ = 2 folds per tile × 3
    tiles = 6 folds where the untiled op needs ⌈768/256⌉ = 3."""
    from archsim.hardware import load_hardware
    hw = load_hardware("tpu-v1")
    g, op = _first_matmul(128)           # 128 × 768 × 768
    unit = next(u for u in hw.compute if u.type == "systolic")
    sizes = op.dim_sizes
    k = next(d for d in sizes if d not in next(o for o in op.operands if o.is_output).dims)
    n = next(d for d in sizes if d != k and sizes[d] == 768)
    R, C = unit.shape[:2]
    whole = OpMapping(op=op.name, unit=unit.name, spatial=((n, C), (k, R)), dataflow="ws",
                      tiling=(LevelTiling(hw.levels[0].name, tuple(sizes.items())),
                              LevelTiling("unified_buffer", tuple(sizes.items()))))
    edged = OpMapping(op=op.name, unit=unit.name, spatial=((n, C), (k, R)), dataflow="ws",
                      tiling=(LevelTiling(hw.levels[0].name, tuple(sizes.items())),
                              LevelTiling("unified_buffer", tuple((d, 300 if d == k else s)
                                                                  for d, s in sizes.items()))))
    assert mapped_tiles(op, edged)[0] == ceil(sizes[k] / 300)
    t_len = next(s for d, s in sizes.items() if d not in (n, k))
    per_fold = t_len + 2 * R + C - 2
    a = unit_cycles(unit, op, "ws", mapping=whole)
    b = unit_cycles(unit, op, "ws", mapping=edged)
    folds_n = ceil(sizes[n] / C)
    assert a == max(folds_n * ceil(sizes[k] / R) * per_fold - 1, 1)
    assert b == folds_n * ceil(300 / R) * ceil(sizes[k] / 300) * per_fold - 1
    assert b > a
    # two arrays share the ⌈768 / 300⌉ = 3 visits: ⌈3 / 2⌉ = 2 rounds of the same folds
    import dataclasses
    pair = dataclasses.replace(unit, count=2)
    assert unit_cycles(pair, op, "ws", mapping=edged) == \
        max(folds_n * ceil(300 / R) * 2 * per_fold - 1, -(-op.macs // (2 * R * C)))
    # at cycle fidelity the edge tiles' idle lanes are in the compute tasks; the op's span also
    # holds its loads, which the three tiles pipeline and the one whole tile cannot
    from archsim.engine.lower import lower

    def compute_ticks(om):
        lw = lower(g, hw, Mapping(hw=hw.name, ops=(om,)))
        i = next(p.index for p in lw.plans if p.op.name == op.name)
        on_unit = np.array([lw.trace.resources[r] == "unit:" + unit.name for r in lw.trace.res])
        return int(lw.trace.dur[(lw.trace.op == i) & on_unit].sum())

    assert compute_ticks(edged) > compute_ticks(whole)


def test_vector_lanes_left_idle_by_a_narrow_unroll_cost_time():
    from archsim.hardware import load_hardware
    from archsim.ir import OpKind
    from archsim import workloads
    hw = load_hardware("tpu-v1")
    g = workloads.build_graph("bert-base", "encode", overrides={"layers": 1}, seq=128)
    op = next(g.nodes[x]["op"] for x in g.nodes if g.nodes[x]["op"].kind is OpKind.ADD)
    unit = next(u for u in hw.compute if u.type == "vector")
    lanes = unit.shape[0]
    sizes = op.dim_sizes
    d0, d1 = list(sizes)[:2]
    full = tuple(sizes.items())
    narrow = OpMapping(op=op.name, unit=unit.name, spatial=((d0, lanes),),
                       tiling=(LevelTiling(hw.levels[0].name, full),
                               LevelTiling("unified_buffer", tuple((d, lanes // 4 if d == d0 else s)
                                                                   for d, s in sizes.items()))))
    base = unit_cycles(unit, op)
    mapped = unit_cycles(unit, op, mapping=narrow)
    assert mapped >= 4 * (base - unit.pipeline_depth) + unit.pipeline_depth - 4
