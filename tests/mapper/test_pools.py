"""SRAM pools: an MCU's activation SRAM is one arena per contiguous address region (the STM32F7's
DTCM + SRAM1 + SRAM2 are one 320 KB region; the STM32H7's DTCM and AXI SRAM are two), and the
greedy arena planner places each buffer whole in one pool."""
from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings, strategies as st
import pytest

from archsim.hardware import load_hardware
from archsim.mapper.passes.buffer_plan import Buffer, arena_plan, pool_plan
from archsim.mapper.passes.mcu import McuReport, sram_pools
from tests.mapper.hw_fixtures import mcu

KIB = 1024

buffers = st.lists(st.builds(lambda size, first, span: (size, first, first + span),
                             st.integers(1, 4000), st.integers(0, 30), st.integers(0, 10)),
                   min_size=1, max_size=25).map(
    lambda xs: [Buffer(f"t{i}", s, a, b) for i, (s, a, b) in enumerate(xs)])


@settings(max_examples=150, deadline=None)
@given(bufs=buffers, caps=st.lists(st.integers(1, 12000), min_size=1, max_size=3))
def test_pools_never_overlap_live_buffers(bufs, caps):
    plan = pool_plan(bufs, caps)
    where = {name: (pool, off) for name, pool, off in plan.offsets}
    assert set(where) == {b.name for b in bufs}                       # every buffer placed once
    for i, a in enumerate(bufs):
        for b in bufs[i + 1:]:
            (pa, oa), (pb, ob) = where[a.name], where[b.name]
            alive_together = not (a.last < b.first or b.last < a.first)
            if pa == pb and alive_together:
                assert oa + a.size_bytes <= ob or ob + b.size_bytes <= oa
    for p, peak in enumerate(plan.peaks):
        assert peak == max((off + next(b.size_bytes for b in bufs if b.name == n)
                            for n, q, off in plan.offsets if q == p), default=0)
    if plan.fits:
        assert all(peak <= cap for peak, cap in zip(plan.peaks, caps))


@settings(max_examples=100, deadline=None)
@given(bufs=buffers, cap=st.integers(1, 12000))
def test_one_pool_is_the_arena_planner(bufs, cap):
    one, arena = pool_plan(bufs, [cap]), arena_plan(bufs)
    assert one.peaks == (arena.arena_bytes,)
    assert {(n, off) for n, _, off in one.offsets} == set(arena.offsets)


def test_a_buffer_never_straddles_two_pools():
    # 600 KiB live at once: more than the H743's largest region although its SRAM totals 640 KiB
    plan = pool_plan([Buffer("x", 600 * KIB, 0, 1)], [512 * KIB, 128 * KIB])
    assert not plan.fits
    split = pool_plan([Buffer("a", 400 * KIB, 0, 1), Buffer("b", 200 * KIB, 0, 1)],
                      [512 * KIB, 128 * KIB])
    assert not split.fits                                   # 200 KiB fits neither what is left
    ok = pool_plan([Buffer("a", 400 * KIB, 0, 1), Buffer("b", 100 * KIB, 0, 1),
                    Buffer("c", 100 * KIB, 0, 1)], [512 * KIB, 128 * KIB])
    assert ok.fits and ok.peaks == (500 * KIB, 100 * KIB)


@pytest.mark.parametrize("board, pools", [
    ("stm32f746", [(("dtcm", "sram1", "sram2"), 320 * KIB)]),
    ("stm32f427", [(("sram",), 192 * KIB), (("ccm",), 64 * KIB)]),
    ("stm32h743", [(("axi_sram",), 512 * KIB), (("dtcm",), 128 * KIB)]),
])
def test_board_pools_follow_the_address_map(board, pools):
    assert list(sram_pools(load_hardware(board))) == pools


def test_no_addresses_means_one_region():
    hw = mcu()
    two = replace(hw, levels=hw.levels + (replace(hw.levels[1], name="sram_b", size_bytes=KIB),))
    assert sram_pools(two) == ((("sram", "sram_b"), 320 * KIB + KIB),)


def test_the_overflowing_pool_is_named():
    rep = McuReport((), 700 * KIB, 0, 640 * KIB, 1, (("axi_sram", 512 * KIB, 600 * KIB),
                                                    ("dtcm", 128 * KIB, 100 * KIB)))
    assert not rep.sram_fits
    reason = rep.does_not_fit
    assert reason.level == "axi_sram" and reason.needed_bytes == 600 * KIB


def _greedy_reference(bufs):
    """The greedy planner as first written: per buffer, the placed buffers alive with it sorted
    by offset, the lowest gap that holds it."""
    placed = []
    for b in sorted(bufs, key=lambda b: (-b.size_bytes, b.first, b.name)):
        live = sorted(((off, p) for off, p in placed if not (p.last < b.first or b.last < p.first)),
                      key=lambda x: x[0])
        offset = 0
        for off, p in live:
            if off - offset >= b.size_bytes:
                break
            offset = max(offset, off + p.size_bytes)
        placed.append((offset, b))
    return max((off + b.size_bytes for off, b in placed), default=0), \
        tuple(sorted((b.name, off) for off, b in placed))


@settings(max_examples=150, deadline=None)
@given(bufs=buffers)
def test_arena_planner_equals_its_reference(bufs):
    """The planner keeps placed buffers in offset order instead of sorting the live ones per
    buffer, and keeps its last plans: the same offsets as the reference, asked once or twice."""
    want = _greedy_reference(bufs)
    for _ in range(2):
        plan = arena_plan(list(bufs))
        assert (plan.arena_bytes, plan.offsets) == want
