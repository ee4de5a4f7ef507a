"""The engine honours the mapper's placement of tensors (`OpMapping.attrs["placement"]`,
`Mapping.attrs["streamed"]`, `Mapping.placement`): a tensor placed on chip or streamed inside a
fused group ("@pipeline") moves no bytes to or from DRAM, a tensor placed in DRAM does, and the
per-level bytes of every op row agree with where its tensors live — in both fidelities, with the
Numba loop and the SimPy reference agreeing on the mapped trace and the invariants (cycles ≥
roofline, occupancy ≤ capacity, energy adds up) holding."""
from __future__ import annotations

import dataclasses
import functools
import math

import numpy as np
import pytest

from archsim.engine import simulate
from archsim.engine.analytic import roofline_ticks
from archsim.engine.execute import run_numba
from archsim.engine.lower import lower
from archsim.engine.plan import plan_ops
from archsim.engine.reference import run_simpy
from archsim.errors import MappingError
from archsim.ir import OpKind, Role, ops_in_order
from archsim.mapping import Mapping
from archsim.result import ACTIVE_COMPONENTS, STATIC_COMPONENTS

PIPELINE = "@pipeline"


@functools.lru_cache(maxsize=None)
def _mapped(hw_name: str, model: str, phase: str, length: int, layers: int | None = None):
    from archsim import mapper
    from archsim import workloads
    from archsim.hardware import load_hardware
    hw = load_hardware(hw_name)
    kw = dict(context=length) if phase == "decode" else dict(seq=length)
    if layers is not None:
        kw["overrides"] = {"layers": layers}
    g = workloads.build_graph(model, phase, **kw)
    return hw, g, mapper.map_graph(g, hw)


@functools.lru_cache(maxsize=None)
def _result(hw_name, model, phase, length, layers, fidelity):
    hw, g, m = _mapped(hw_name, model, phase, length, layers)
    return simulate(g, hw, m, fidelity=fidelity)


def _homes(op, m: Mapping) -> list[str]:
    """Where the mapper put each operand of `op` (read straight off its per-op placement)."""
    pl = dict(m.for_op(op.name).attr("placement"))
    out = []
    for o in op.operands:
        role = "activation" if o.tensor.role in (Role.ACTIVATION, Role.OUTPUT) else o.tensor.role.value
        out.append(pl.get(o.tensor.name) or pl[role])
    return out


def _bytes(row, level: str) -> int:
    return dict(row.bytes_by_level).get(level, 0)


BERT = ("tpu-v1", "bert-base", "encode", 512, None)


@pytest.mark.parametrize("fidelity", ["analytic", "cycle"])
def test_bert_on_tpu_v1_ops_placed_on_chip_move_no_dram_bytes(fidelity):
    hw, g, m = _mapped(*BERT)
    r = _result(*BERT, fidelity)
    dram = hw.levels[0].name
    rows = {o.name: o for o in r.ops}
    on_chip_ops = 0
    for op in ops_in_order(g):
        homes = _homes(op, m)
        row = rows[op.name]
        if all(h != dram for h in homes):
            on_chip_ops += 1
            assert _bytes(row, dram) == 0, (op.name, homes, row.bytes_by_level)
            assert row.bound != f"memory:{dram}", (op.name, row.bound)
        else:   # what lives in DRAM is read from / written to DRAM (at least once)
            need = sum(min(o.tensor.size_bytes, sum(x.tensor.size_bytes for x in op.outputs))
                       if op.kind is OpKind.EMBEDDING and o.tensor.role is Role.WEIGHT
                       else o.tensor.size_bytes for o, h in zip(op.operands, homes) if h == dram)
            assert _bytes(row, dram) >= need > 0, (op.name, homes, row.bytes_by_level)
    assert on_chip_ops >= 12 * 3          # at least QKᵀ, softmax and P·V of every layer
    for kind in ("softmax", "gelu"):
        ops = [o for o in r.ops if o.kind == kind]
        assert len(ops) == 12
        for o in ops:
            assert _bytes(o, dram) == 0 and o.bound != f"memory:{dram}", (o.name, o.bound, o.bytes_by_level)


@pytest.mark.parametrize("fidelity", ["analytic", "cycle"])
def test_bytes_by_level_follow_the_placement(fidelity):
    """Each on-chip home is read (inputs) or written (outputs) at least by its tensor's bytes; an op
    whose every tensor streams inside its fused group touches no level; no off-chip bytes beyond
    the tensors placed off chip when the mapping has no tiling re-fetches for them."""
    hw, g, m = _mapped(*BERT)
    r = _result(*BERT, fidelity)
    rows = {o.name: o for o in r.ops}
    on_chip = {lv.name for lv in hw.levels if not lv.off_chip}
    for op in ops_in_order(g):
        homes = _homes(op, m)
        row = rows[op.name]
        want: dict[str, int] = {}
        for o, h in zip(op.operands, homes):
            if h in on_chip:
                want[h] = want.get(h, 0) + o.tensor.size_bytes
        for level, n in want.items():
            assert _bytes(row, level) >= n, (op.name, level, n, row.bytes_by_level)
        if all(h == PIPELINE for h in homes):
            assert row.bytes_by_level == (), (op.name, row.bytes_by_level)
    softmax = next(o for o in r.ops if o.kind == "softmax")
    assert softmax.bytes_by_level == ()          # scores and probabilities never materialised
    # the run as a whole: DRAM carries the weights, not the activations kept in the unified buffer
    dram = next(lu for lu in r.levels if lu.level == hw.levels[0].name)
    weights = sum(t.size_bytes for t in {o.tensor.name: o.tensor for op in ops_in_order(g)
                                         for o in op.operands if o.tensor.role is Role.WEIGHT}.values()
                  if not t.name.startswith(("embed", "pos_embed", "type_embed")))
    assert dram.writes_bytes == 0
    assert weights <= dram.reads_bytes <= weights * 1.05


@pytest.mark.parametrize("fidelity", ["analytic", "cycle"])
def test_activations_the_mapper_places_in_dram_are_moved(fidelity):
    """eyeriss (108 KiB global buffer) cannot hold gpt2-small's prefill activations: the mapper
    places them in DRAM (a few small ones stay on chip), and the engine moves exactly those."""
    case = ("eyeriss", "gpt2-small", "prefill", 64, 1)
    hw, g, m = _mapped(*case)
    dram = hw.levels[0].name
    assert m.placed("activation") == dram
    r = _result(*case, fidelity)
    rows = {o.name: o for o in r.ops}
    plans = {p.op.name: p for p in plan_ops(g, hw, m)}
    moved = 0
    for op in ops_in_order(g):
        homes = _homes(op, m)
        acts = [(o, h) for o, h in zip(op.operands, homes)
                if o.tensor.role in (Role.ACTIVATION, Role.OUTPUT)]
        act_in = sum(o.tensor.size_bytes for o, h in acts if h == dram and not o.is_output)
        act_out = sum(o.tensor.size_bytes for o, h in acts if h == dram and o.is_output)
        p = plans[op.name]
        if p.unit.type != "pim_bank" and op.kind is not OpKind.EMBEDDING:
            assert p.offchip_read_bytes >= act_in and p.offchip_write_bytes >= act_out, op.name
            if not any(o.tensor.role is Role.KV_CACHE for o in op.operands):
                assert p.offchip_write_bytes == act_out, op.name
        if act_out:
            assert _bytes(rows[op.name], dram) >= act_in + act_out > 0
            moved += 1
        if not any(h == dram for h in homes):
            assert _bytes(rows[op.name], dram) == 0, op.name
    assert moved >= 5
    lu = next(lu for lu in r.levels if lu.level == dram)
    assert lu.writes_bytes > 0


def test_hand_made_placement_roles_streamed_and_bad_level():
    """Graph-level placement alone (no per-op attrs) drives the plan; `Mapping.attrs["streamed"]`
    means never materialised; a placement naming a level the chip lacks is a MappingError."""
    hw, g, _ = _mapped(*BERT)
    dram, ub = hw.levels[0].name, "unified_buffer"
    off = Mapping(hw=hw.name, ops=(), placement=(("activation", dram), ("weight", dram)))
    on = Mapping(hw=hw.name, ops=(), placement=(("activation", ub), ("weight", dram)))
    sm = next(op for op in ops_in_order(g) if op.kind is OpKind.SOFTMAX)
    streamed = Mapping(hw=hw.name, ops=(), placement=on.placement,
                       attrs=(("streamed", tuple(o.tensor.name for o in sm.operands)),))
    p_off, p_on, p_st = ({p.op.name: p for p in plan_ops(g, hw, mp)}[sm.name] for mp in (off, on, streamed))
    size = sum(o.tensor.size_bytes for o in sm.operands)
    assert p_off.offchip_read_bytes + p_off.offchip_write_bytes == size
    assert p_on.offchip_read_bytes + p_on.offchip_write_bytes == 0
    assert dict(p_on.residents) == {ub: size}
    assert p_st.residents == () and p_st.offchip_read_bytes == 0 and set(p_st.homes) == {PIPELINE}
    bad = Mapping(hw=hw.name, ops=(), placement=(("activation", "unified_bufer"),))
    with pytest.raises(MappingError, match="unified_buffer"):
        plan_ops(g, hw, bad)


MAPPED_CASES = [("tpu-v1", "bert-base", "encode", 128, 1), ("eyeriss", "gpt2-small", "prefill", 64, 1),
                ("eyeriss", "gpt2-small", "decode", 64, 1), ("edge-npu", "gpt2-small", "prefill", 64, 1),
                ("pim-gpt", "gpt2-small", "decode", 64, 1), ("zcu102", "gpt2-small", "prefill", 64, 1),
                ("t4", "gpt2-small", "decode", 64, 1)]


@pytest.mark.parametrize("case", MAPPED_CASES, ids=lambda c: f"{c[0]}-{c[2]}")
def test_mapped_traces_numba_equals_simpy_and_invariants_hold(case):
    hw, g, m = _mapped(*case)
    lw = lower(g, hw, m)
    a, b = run_numba(lw.trace), run_simpy(lw.trace)
    assert np.array_equal(a.start, b.start) and np.array_equal(a.finish, b.finish)
    assert np.array_equal(a.dram_counts, b.dram_counts) and a.makespan == b.makespan
    plans = plan_ops(g, hw, m)
    for fidelity in ("analytic", "cycle"):
        r = simulate(g, hw, dataclasses.replace(m, peak_buffer_bytes=()), fidelity=fidelity)
        for p, o in zip(plans, r.ops):
            assert o.cycles >= roofline_ticks(p, hw), (o.name, o.cycles)
        for lu, lv in zip(r.levels, hw.levels):
            if not lv.off_chip:
                assert lu.peak_buffer_bytes <= lu.capacity_bytes, lu
        parts = dict(r.energy_breakdown_j)
        assert math.isclose(r.energy_j, math.fsum(parts.values()), rel_tol=1e-12)
        rebuilt = (math.fsum(o.energy_j for o in r.ops) + parts.get("dram_act_pre", 0.0)
                   + parts.get("dram_refresh", 0.0)
                       + math.fsum(parts.get(c, 0.0) for c in STATIC_COMPONENTS + ACTIVE_COMPONENTS))
        assert math.isclose(r.energy_j, rebuilt, rel_tol=1e-9, abs_tol=1e-15)
