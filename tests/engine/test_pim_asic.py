"""The ASIC side of a PIM + ASIC chip (`pim-gpt`): the non-VMM ops of a GPT decode token cost what
the configured vector unit takes by hand — elements × operations per element ÷ (lanes × count) at
its clock, softmax sized by the context (not the cache capacity) — and a KV append moves only the
new entries, never the whole cache, through the ASIC buffer (it used to charge the full cache as
ASIC-SRAM writes: ~19 MB and 5% of a gpt2-small token's energy). Invariants on the same graphs:
Numba == SimPy, cycles ≥ roofline, the energy breakdown sums to the total."""
from __future__ import annotations

import functools
import math

import pytest
from hypothesis import given, settings, strategies as st

from archsim.engine import simulate
from archsim.engine.analytic import analytic_ticks, roofline_ticks
from archsim.engine.execute import run_numba
from archsim.engine.actions import op_action_counts
from archsim.engine.lower import lower
from archsim.engine.plan import plan_ops
from archsim.engine.reference import run_simpy
from archsim.engine.timing.shapes import OPS_PER_ELEM
from archsim.ir import OpKind, ops_in_order

BF16 = {"weights": "bf16", "activations": "bf16", "kv": "bf16"}
D_MODEL, HEADS, D_FF = 768, 12, 3072      # gpt2-small


@functools.lru_cache(maxsize=None)
def _hw():
    from archsim.hardware import load_hardware
    return load_hardware("pim-gpt")


@functools.lru_cache(maxsize=None)
def _graph(context: int, layers: int = 1):
    from archsim.workloads import build_graph
    return build_graph("gpt2-small", "decode", context=context, dtypes=BF16,
                       overrides={"layers": layers})


@functools.lru_cache(maxsize=None)
def _mapped(context: int):
    from archsim import mapper
    g = _graph(context)
    return g, mapper.map_graph(g, _hw())


def _plans(context: int, mapped: bool = False):
    g, m = _mapped(context) if mapped else (_graph(context), None)
    return {p.op.name: p for p in plan_ops(g, _hw(), m)}


def _of_kind(plans, kind):
    return [p for p in plans.values() if p.op.kind is kind]


def _asic():
    return _hw().unit("asic")


def _hand_cycles(elems: int, kind: str) -> int:
    """Elements × operations per element ÷ the configured ASIC lanes (× count), rounded up."""
    u = _asic()
    return math.ceil(elems * OPS_PER_ELEM[kind] / (u.macs_per_cycle_for("bf16") * u.count))


def _ticks_of(p) -> int:
    """Analytic ticks of a plan, in ASIC cycles (engine tick = 1 / hw clock)."""
    return round(analytic_ticks(p, _hw()) * _asic().freq_hz / _hw().freq_hz)


# ---------------------------------------------------------------- KV append (the fix)
@pytest.mark.parametrize("mapped", [False, True])
def test_kv_append_moves_only_the_new_entries_through_the_asic_buffer(mapped):
    for context in (64, 1024):
        for p in _of_kind(_plans(context, mapped), OpKind.KV_APPEND):
            new = D_MODEL * 2                              # one token's K (or V), bf16
            c = op_action_counts(p)
            assert c.get("asic_sram.write", 0) <= 2 * new, (context, c)
            assert c.get("asic_sram.read", 0) <= 2 * new, (context, c)
            assert c.get("gddr6.write", 0) == new


@settings(max_examples=8, deadline=None)
@given(st.integers(min_value=2, max_value=1024))
def test_kv_append_bytes_do_not_grow_with_the_context(context):
    base = [op_action_counts(p) for p in _of_kind(_plans(64), OpKind.KV_APPEND)]
    here = [op_action_counts(p) for p in _of_kind(_plans(context), OpKind.KV_APPEND)]
    assert here == base


def test_kv_append_costs_no_asic_sram_energy_beyond_its_entries():
    r = simulate(_graph(1024), _hw(), None, fidelity="analytic")
    row = next(o for o in r.ops if o.kind == "kv_append")
    assert dict(row.bytes_by_level).get("asic_sram", 0) <= 3 * D_MODEL * 2


# ---------------------------------------------------------------- ASIC op costs by hand
@settings(max_examples=8, deadline=None)
@given(st.integers(min_value=2, max_value=1024))
def test_softmax_is_sized_by_the_context_and_costs_lanes_times_clock(context):
    (p,) = _of_kind(_plans(context), OpKind.SOFTMAX)
    assert p.unit.name == "asic" and p.offchip_read_bytes == p.offchip_write_bytes == 0
    assert _ticks_of(p) == _hand_cycles(HEADS * context, "softmax")


def test_gelu_and_residual_add_cost_lanes_times_clock():
    plans = _plans(512)
    (gelu,) = _of_kind(plans, OpKind.GELU)
    assert _ticks_of(gelu) == _hand_cycles(D_FF, "gelu")
    sram = _hw().level("asic_sram")
    for p in _of_kind(plans, OpKind.ADD):
        assert p.offchip_read_bytes == 0                    # residual stream stays in ASIC SRAM
        # two bf16 inputs read and one written through the ASIC SRAM's ports (issue #18): at 64 B
        # per cycle the buffer, not the lanes, bounds the add
        port = math.ceil(3 * D_MODEL * 2 / (sram.bandwidth_bytes_per_s / _asic().freq_hz))
        assert _ticks_of(p) == max(_hand_cycles(D_MODEL, "add"), port) == port


def test_layernorm_costs_its_compute_plus_at_most_one_gamma_beta_fetch():
    hw = _hw()
    t = next(lv for lv in hw.levels if lv.dram is not None).dram
    for p in _of_kind(_plans(512), OpKind.LAYERNORM):
        comp = _hand_cycles(D_MODEL, "layernorm")
        assert p.offchip_read_bytes == 2 * D_MODEL * 2      # gamma and beta (weights live in DRAM)
        fetch_s = p.offchip_read_bytes / hw.interconnect[0].bandwidth_bytes_per_s \
            + (t.trcd + t.cl) * t.tck_s
        assert comp <= _ticks_of(p) <= comp + math.ceil(fetch_s * _asic().freq_hz)


def test_asic_time_scales_with_the_asic_clock_only():
    """A 10x slower ASIC multiplies exactly the ASIC ops' analytic time by 10 (PIM ops unchanged),
    with the ASIC SRAM's ports fast enough never to bound them (they run at the chip clock)."""
    from dataclasses import replace
    hw = _hw()
    hw = replace(hw, levels=tuple(replace(lv, bandwidth_bytes_per_s=lv.bandwidth_bytes_per_s * 1e3)
                                  if lv.name == "asic_sram" else lv for lv in hw.levels))
    slow = replace(hw, compute=tuple(replace(u, freq_hz=u.freq_hz / 10) if u.name == "asic" else u
                                     for u in hw.compute))
    g = _graph(256)
    for a, b in zip(plan_ops(g, hw, None), plan_ops(g, slow, None)):
        ta, tb = analytic_ticks(a, hw), analytic_ticks(b, slow)
        if a.unit.name != "asic":
            assert ta == tb, a.op.name
        elif a.op.kind in (OpKind.SOFTMAX, OpKind.GELU, OpKind.ADD):
            assert tb == 10 * ta, a.op.name


# ---------------------------------------------------------------- invariants on the same graph
def test_pim_gpt_decode_invariants():
    g, m = _mapped(128)
    hw = _hw()
    lw = lower(g, hw, m)
    a, b = run_numba(lw.trace), run_simpy(lw.trace)
    assert a.makespan == b.makespan
    for fidelity in ("analytic", "cycle"):
        r = simulate(g, hw, m, fidelity=fidelity)
        assert sum(v for _, v in r.energy_breakdown_j) == pytest.approx(r.energy_j, rel=1e-9)
        assert len(r.ops) == len(list(ops_in_order(g)))
    for p in plan_ops(g, hw, m):
        assert analytic_ticks(p, hw) >= roofline_ticks(p, hw), p.op.name
