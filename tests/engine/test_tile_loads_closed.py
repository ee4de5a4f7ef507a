"""A tile stream's coarse loads in closed form (`tiles.coarse_loads`) equal `coarsen(loads)`, the
tile-by-tile walk: the same loading tiles, bytes per level and key order, on random streams; and
the closed form is the one taken on long streams (a 32 K-token attention op's 17 M loading tiles)."""
from __future__ import annotations

import time
from dataclasses import fields, replace
from unittest.mock import patch

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from archsim.engine import lower as lower_module, tile_issue, tiles
from archsim.engine.lower import lower
from archsim.mapper import map_graph
from archsim.workloads import build_graph

from . import dram_types

DRAM_TYPES = dram_types.all_dram_types()
from archsim.engine.tiles import TileStream, coarse_loads, coarsen

_PERIODS = st.sampled_from([1, 1, 2, 3, 4, 6, 7, 16, 1000])
_WEIGHTS = st.sampled_from([1.0, 2.0, 3.0, 16.0, 64.0, 65536.0, 0.5, 2.25])


@st.composite
def _streams(draw):
    n = draw(st.integers(1, 3000))
    names = ["gddr6", "hbm", "flash"][:draw(st.integers(1, 3))]
    operands = []
    for lv in names:
        if draw(st.booleans()) or len(names) == 1:
            per = draw(st.lists(st.tuples(_PERIODS, _WEIGHTS), min_size=1, max_size=3))
            operands.append((lv, tuple(per)))
    reads = [(lv, draw(st.sampled_from([0, 1, 7, 1000, 65536, 10 ** 6, 268435456]))) for lv in names]
    cap = draw(st.sampled_from([1, 2, 3, 8, 100, 334, 10 ** 6]))
    return TileStream(n=n, operands=tuple(operands)), reads, cap


@settings(max_examples=400, deadline=None)
@given(_streams())
def test_closed_form_equals_the_tile_walk(case):
    ts, reads, cap = case
    ref, ref_coarse = coarsen(ts.loads(reads), cap)
    got, coarse = coarse_loads(ts, reads, cap)
    assert coarse == ref_coarse
    assert got == ref
    for tile, part in got.items():      # levels in the order the walk merges them
        assert list(part) == list(ref[tile])


@settings(max_examples=200, deadline=None)
@given(_streams())
def test_closed_form_applies_or_declines_but_never_differs(case):
    ts, reads, cap = case
    closed = tiles._closed_loads(ts, reads, cap)
    if closed is not None:
        assert closed == coarsen(ts.loads(reads), cap)


def test_long_streams_take_the_closed_form():
    # the pim-gpt llama2-7b prefill 32 K attention-score stream: 16.7 M tiles, each loading
    ts = TileStream(n=16777216, operands=(("gddr6", ((1, 16.0),)),))
    reads = [("gddr6", 268435456)]
    assert tiles._closed_loads(ts, reads, 334) is not None
    t = time.process_time()
    loads, coarse = coarse_loads(ts, reads, 334)
    assert time.process_time() - t < 1.0
    assert coarse == -(-16777216 // 334) and len(loads) == 334
    assert sum(b for part in loads.values() for b in part.values()) == 268435456
    # two operands of one level, a tile-by-tile check on a prefix-sized copy
    small = TileStream(n=4096, operands=(("gddr6", ((1, 65536.0), (1, 2.0))),))
    r = [("gddr6", 268443648)]
    assert coarse_loads(small, r, 100) == coarsen(small.loads(r), 100)


# ------------------------------------------------------------------ whole traces on real chips
LONG = [("pim-gpt", {"dram.rows": 262144}, "llama2-7b", 1024),
        ("edge-npu", {}, "llama2-7b", 1024),
        ("tpu-v4", {}, "llama2-7b", 2048),
        ("hbm3-pim", {}, "llama2-7b", 256)]      # 32 pseudo-channels: each transfer is 32 tasks


@pytest.mark.parametrize("chip,hw_set,model,seq", LONG, ids=[c[0] for c in LONG])
def test_traces_equal_the_tile_walks(chip, hw_set, model, seq):
    """Long prompts, per-tile DRAM streams: the lowered trace is the one the tile-by-tile walk of
    every op's loads gives, field for field."""
    from archsim.api.arguments import resolve_hardware
    hw = resolve_hardware(chip, hw_set)
    g = build_graph(model, "prefill", overrides={"layers": 1}, seq=seq)
    mp = map_graph(g, hw)
    fast = lower(g, hw, mp).trace
    with patch.object(tile_issue, "coarse_loads",
                      lambda ts, reads, cap: coarsen(ts.loads(reads), cap)):
        walk = lower(g, hw, mp).trace
    _same_trace(fast, walk)


def _lower_without_shape_memo(g, hw, mp):
    """`lower` with every transfer's channel split computed afresh (no `_Lowerer.shape_memo`)."""
    class NoMemo(dict):
        def get(self, key, default=None):
            return default

        def __setitem__(self, key, value):
            pass

    init = lower_module._Lowerer.__init__

    def fresh(self, *args, **kwargs):
        init(self, *args, **kwargs)
        self.shape_memo = NoMemo()
    with patch.object(lower_module._Lowerer, "__init__", fresh):
        return lower(g, hw, mp).trace


def _same_trace(a, b):
    for f in fields(b):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if isinstance(y, np.ndarray):
            assert x.dtype == y.dtype and np.array_equal(x, y), f.name
        else:
            assert x == y, f.name


@pytest.fixture(scope="module")
def edge_prefill():
    from archsim.hardware import load_hardware
    hw = load_hardware("edge-npu")
    g = build_graph("gpt2-small", "prefill", overrides={"layers": 1, "vocab": 512}, seq=128)
    return hw, g, map_graph(g, hw)


@pytest.mark.parametrize("name", sorted(DRAM_TYPES))
def test_channel_split_kept_per_offset_is_exact_on_every_dram_type(name, edge_prefill):
    """Per-tile transfers split over the channels of every DRAM type (address mapping, channel
    count, burst size): the split kept per (offset in a round of interleave units, size) gives the
    trace computing every split afresh gives, and the closed-form loads the tile walk's."""
    hw, g, mp = edge_prefill
    off = hw.levels[0]
    hw = replace(hw, levels=(replace(off, dram=DRAM_TYPES[name]),) + tuple(hw.levels[1:]))
    fast = lower(g, hw, mp).trace
    _same_trace(fast, _lower_without_shape_memo(g, hw, mp))
    with patch.object(tile_issue, "coarse_loads",
                      lambda ts, reads, cap: coarsen(ts.loads(reads), cap)):
        _same_trace(fast, lower(g, hw, mp).trace)
