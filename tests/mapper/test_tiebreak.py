"""The objective is a total order: ties in the objective (e.g. every candidate at EDP 0 on a chip
without an energy table) fall to the tie-break metric (cycles for energy/EDP, energy for latency),
then to the candidate's enumeration index (its genome), so every strategy agrees on the optimum."""
from __future__ import annotations

import dataclasses

import numpy as np
from hypothesis import given, settings, strategies as st

from archsim.hardware import Hardware
from archsim.mapper.costmodel import score
from archsim.mapper.map_op import map_op, search_space
from archsim.mapper.mapspace import build_space, unit_can_run
from archsim.mapper.search.exhaustive import Exhaustive
from archsim.mapper.search.order import key_less, keys_of, lex_argmin, lex_order
from tests.mapper.hw_fixtures import gemm, mcu, npu

ALL_STRATEGIES = ("exhaustive", "random", "genetic", "local", "hybrid", "auto")


def zero_energy(hw: Hardware) -> Hardware:
    """`hw` with no energy table: every per-access, per-MAC and static energy is 0."""
    levels = tuple(dataclasses.replace(lv, read_energy_pj_per_byte=0.0,
                                       write_energy_pj_per_byte=0.0) for lv in hw.levels)
    units = tuple(dataclasses.replace(u, energy_pj_per_mac=tuple((d, 0.0)
                                                                 for d, _ in u.energy_pj_per_mac))
                  for u in hw.compute)
    return dataclasses.replace(hw, levels=levels, compute=units, static_power_w=0.0)


def test_zero_energy_edp_and_energy_pick_the_fastest_mapping():
    hw = zero_energy(npu())
    for shape in [(64, 64, 64), (128, 32, 256), (48, 40, 120)]:
        op = gemm(*shape)
        _, fastest = map_op(op, hw, objective="latency", use_cache=False)
        for objective in ("edp", "energy"):
            _, cost = map_op(op, hw, objective=objective, use_cache=False)
            assert cost.energy_pj == 0.0
            assert cost.cycles == fastest.cycles, (shape, objective)
    m, cost = map_op(gemm(64, 64, 64), hw, use_cache=False)   # default objective: edp
    assert cost.cycles < 2000                                    # not the 1×1×1-tile mapping
    assert any(s > 1 for lt in m.tiling[1:] for _, s in lt.tile)


def test_zero_energy_search_breaks_ties_by_cycles_on_every_unit():
    hw = zero_energy(npu())
    op = gemm(32, 48, 16)
    for unit in [u for u in hw.compute if unit_can_run(u, op)]:
        space = build_space(op, hw, unit)
        lat, _ = search_space(space, "exhaustive", "latency")
        for objective in ("edp", "energy"):
            res, _ = search_space(space, "exhaustive", objective)
            assert res.best_score == 0.0
            assert res.best_key[1] == lat.best_score, (unit.name, objective)


def test_energy_objective_ties_fall_to_latency_on_a_normal_chip():
    """Equal energy with different cycles happens on normal chips too (here 24 systolic mappings
    of a 30×70×90 GEMM share the minimum energy; the first enumerated is 1534 cycles, the fastest
    1373): the energy optimum must be the fastest of them."""
    hw = npu()
    space = build_space(gemm(30, 70, 90), hw, hw.compute[0])
    res, arrays = search_space(space, "exhaustive", "energy")
    strat = Exhaustive(space.cardinalities, space.prune)
    tied_cycles = []
    while (batch := strat.ask()) is not None:
        s = score(arrays, batch, "energy")
        tied_cycles += list(s[s[:, 0] == res.best_score, 1])
    assert len(tied_cycles) > 1 and tied_cycles[0] > min(tied_cycles)   # a real tie to break
    assert res.best_key[1] == min(tied_cycles)
    _, cost = map_op(gemm(30, 70, 90), hw, objective="energy", units=("mxu",), use_cache=False)
    assert cost.cycles == min(tied_cycles)


def test_every_strategy_returns_the_same_mapping_for_a_fixed_seed():
    cases = [(zero_energy(npu()), gemm(64, 64, 64), ("edp", "energy", "latency")),
             (npu(), gemm(32, 48, 16), ("edp",)),
             (zero_energy(mcu()), gemm(30, 70, 90), ("edp",)),
             (mcu(), gemm(32, 48, 16), ("edp", "energy", "latency"))]
    for hw, op, objectives in cases:
        budget = max(build_space(op, hw, u).size for u in hw.compute if unit_can_run(u, op))
        for objective in objectives:
            results = {s: map_op(op, hw, strategy=s, objective=objective, budget=budget, seed=5,
                                 use_cache=False) for s in ALL_STRATEGIES}
            ref = results["exhaustive"]
            assert all(r == ref for r in results.values()), (
                hw.name, op.name, objective, {s: r[1].cycles for s, r in results.items()})


keys_rows = st.lists(st.tuples(st.sampled_from([0.0, 1.0, 2.5, np.inf]),
                               st.sampled_from([0.0, 3.0, 7.0]), st.integers(0, 3),
                               st.integers(0, 3)), min_size=1, max_size=30)


@settings(max_examples=100, deadline=None)
@given(keys_rows)
def test_order_is_lexicographic_on_scores_then_genome(rows):
    scores = np.array([[a, b] for a, b, _, _ in rows])
    genomes = np.array([[g, h] for _, _, g, h in rows], dtype=np.int64)
    keys = keys_of(scores, genomes)
    as_tuples = [tuple(k) for k in keys]
    assert as_tuples[lex_argmin(keys)] == min(as_tuples)
    assert [as_tuples[i] for i in lex_order(keys)] == sorted(as_tuples)
    assert keys_of(scores[:, 0], genomes).shape == (len(rows), 3)   # one score per genome works


def test_key_less_treats_missing_as_worst():
    assert key_less((1.0, 2.0), None) and key_less((1.0, 2.0), ())
    assert not key_less(None, (1.0,)) and not key_less((), ())
    assert key_less((0.0, 1.0, 5.0), (0.0, 2.0, 0.0)) and not key_less((0.0, 1.0), (0.0, 1.0))
