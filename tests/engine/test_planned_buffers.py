"""The mapper's buffer plan (`Mapping.peak_buffer_bytes`) shows in the result: each level's peak is
max(the engine's own occupancy peak, the planned peak), the timeline carries the plan beside the
engine's own fill and drain (or the plan alone where no task holds the level), occupancy stays
within capacity when the plan fits, and a plan over capacity makes the result not fit."""
from __future__ import annotations

import dataclasses
import functools

import pytest

from archsim.engine import simulate
from archsim.errors import DoesNotFit


@functools.lru_cache(maxsize=None)
def _mapped():
    from archsim import mapper
    from archsim import workloads
    from archsim.hardware import load_hardware
    hw = load_hardware("tpu-v1")
    g = workloads.build_graph("bert-base", "encode", seq=128)
    return hw, g, mapper.map_graph(g, hw)


@pytest.mark.parametrize("fidelity", ["analytic", "cycle"])
def test_peak_is_max_of_engine_and_plan(fidelity):
    hw, g, m = _mapped()
    planned = dict(m.peak_buffer_bytes)
    on_chip = [lv.name for lv in hw.levels if not lv.off_chip and planned.get(lv.name, 0) > 0]
    assert on_chip, "the mapper plans an on-chip buffer on tpu-v1"
    r = simulate(g, hw, m, fidelity=fidelity)
    bare = simulate(g, hw, dataclasses.replace(m, peak_buffer_bytes=()), fidelity=fidelity)
    assert r.fits and r.cycles == bare.cycles
    for lu, lb in zip(r.levels, bare.levels):
        assert lu.peak_buffer_bytes == max(lb.peak_buffer_bytes, planned.get(lu.level, 0)), lu
        assert lu.peak_buffer_bytes <= lu.capacity_bytes
    tl = {t.level: t for t in r.timelines}
    for name in on_chip:
        peak = next(lu.peak_buffer_bytes for lu in r.levels if lu.level == name)
        assert peak >= planned[name] > 0
        assert tl[name].planned_bytes == planned[name]          # the plan rides beside the events
        assert max(max(tl[name].occupancy_bytes), tl[name].planned_bytes) == peak
        if tl[name].engine:     # the tasks' own occupancy: what `bare` (no plan) holds, unchanged
            bare_tl = {t.level: t for t in bare.timelines}[name]
            assert tl[name].occupancy_bytes == bare_tl.occupancy_bytes
        else:                   # no task holds the level: the plan is reserved all along
            assert fidelity == "analytic" or not any(t.level == name for t in bare.timelines)
            assert min(tl[name].occupancy_bytes) == planned[name]
            assert tl[name].time_s[0] == 0.0
        assert tl[name].time_s[-1] <= r.latency_s * (1 + 1e-12)
    if fidelity == "analytic":      # no engine occupancy: the plan alone is the peak
        assert all(lb.peak_buffer_bytes == 0 for lb, lv in zip(bare.levels, hw.levels) if not lv.off_chip)


@pytest.mark.parametrize("fidelity", ["analytic", "cycle"])
def test_plan_over_capacity_does_not_fit(fidelity):
    hw, g, m = _mapped()
    lv = next(lv for lv in hw.levels if not lv.off_chip and dict(m.peak_buffer_bytes).get(lv.name))
    cap = lv.size_bytes * max(1, lv.instances)
    over = tuple((k, cap + 4096 if k == lv.name else v) for k, v in m.peak_buffer_bytes)
    dnf = DoesNotFit(level=lv.name, tensor="planned buffers", needed_bytes=cap + 4096, capacity_bytes=cap)
    with_attr = dataclasses.replace(m, peak_buffer_bytes=over, attrs=(("does_not_fit", dnf),) + m.attrs)
    r = simulate(g, hw, with_attr, fidelity=fidelity)
    assert not r.fits and r.does_not_fit == str(dnf)
    assert next(lu for lu in r.levels if lu.level == lv.name).peak_buffer_bytes == cap + 4096
    # a hand-made plan over capacity without the mapper's verdict is caught by the engine too
    r = simulate(g, hw, dataclasses.replace(m, peak_buffer_bytes=over), fidelity=fidelity)
    assert not r.fits and lv.name in r.does_not_fit and f"{cap + 4096:,} B" in r.does_not_fit


def test_engine_does_not_fit_reason_reads_like_the_mappers():
    """The engine's own verdict uses DoesNotFit's wording: level, what, readable sizes, shortfall."""
    import dataclasses

    from archsim.hardware import load_hardware
    from archsim.engine import simulate
    from archsim.mapping import Mapping
    from archsim.workloads import build_graph

    hw = load_hardware("t4")
    small = dataclasses.replace(hw, levels=(dataclasses.replace(hw.levels[0], size_bytes=1 << 20),)
                                + hw.levels[1:])
    res = simulate(build_graph("gpt2-small", "decode", context=64), small, Mapping(hw=small.name, ops=()))
    assert not res.fits
    assert res.does_not_fit.startswith("does not fit: weights and KV cache needs ")
    assert "MiB" in res.does_not_fit and "short by" in res.does_not_fit
