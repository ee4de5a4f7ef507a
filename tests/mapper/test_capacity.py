"""The mapper's own on-chip capacity checks, reached directly (the engine repeats them, so an
end-to-end run cannot tell when the mapper's are gone):

- per op, the tiles a mapping keeps in an on-chip level (double-buffered) fit its capacity, and an
  op whose smallest tiles cannot fit is reported as does-not-fit at that level;
- per graph, the planned buffers (persistent tensors + activation arena) of an on-chip level are
  checked against its capacity even when the placement pass did not object (no shipped chip gets
  there; the placement is made over-optimistic here to reach the check)."""
from __future__ import annotations

from math import prod

import pytest

from archsim.errors import MappingError
from archsim.hardware import load_hardware
from archsim.mapper import map_graph, map_op
from tests.mapper.hw_fixtures import KB, gemm, npu

TINY = "tests/hardware/data/tiny.yaml"


def _resident_bytes(op, om, level: str) -> int:
    """Bytes a mapping keeps at `level`: each operand's tile there (its dims' tile sizes ×
    bytes per element), twice when the level double-buffers. By hand from the mapping."""
    lt = next(t for t in om.tiling if t.level == level)
    tile = lt.tile_sizes
    total = 0
    for o in op.operands:
        elems = prod(tile.get(d, op.dim_sizes[d]) for d in o.dims)
        total += elems * o.tensor.dtype_bits // 8
    return total * (2 if lt.double_buffer else 1)


@pytest.mark.parametrize("gb_kib", [4, 16, 64])
def test_chosen_tiles_fit_the_buffer(gb_kib):
    hw = npu(16, 16, gb_bytes=gb_kib * KB)
    op = gemm(256, 256, 256)                      # 3 × 64 KiB of int8 operands: never fits whole
    om, _ = map_op(op, hw, placement={"activation": "dram", "weight": "dram"})
    assert any(t.level == "gbuf" for t in om.tiling)
    assert _resident_bytes(op, om, "gbuf") <= gb_kib * KB


def test_an_op_that_cannot_fit_names_the_level():
    hw = npu(16, 16, gb_bytes=64 * KB)
    op = gemm(256, 256, 1024)                     # x alone is 256 KiB, kept whole in the buffer
    with pytest.raises(MappingError) as info:
        map_op(op, hw, placement={"activation": "gbuf", "weight": "dram"})
    dnf = info.value.does_not_fit
    assert dnf.level == "gbuf" and dnf.capacity_bytes == 64 * KB
    assert dnf.needed_bytes >= 256 * 1024


def test_planned_buffers_over_capacity_do_not_fit_when_placement_misses_it(monkeypatch):
    import archsim.mapper.graph as mg
    from archsim.mapper.passes.placement import PlacementPlan
    from archsim.workloads import build_graph

    def optimistic(graph, hw, streamed=frozenset(), *_, **__):
        roles = {"weight": "dram", "kv_cache": "gbuf", "activation": "gbuf"}
        return PlacementPlan(tuple(sorted(roles.items())), None)

    monkeypatch.setattr(mg, "place", optimistic)
    g = build_graph("gpt2-small", "prefill", seq=16, overrides={"layers": 1})
    small = load_hardware(TINY, {"memory.gbuf.size": "128 KiB"})
    m = map_graph(g, small)
    attrs = dict(m.attrs)
    peak = dict(m.peak_buffer_bytes)["gbuf"]
    assert peak > 128 * 1024, "the setup must overflow the buffer"
    dnf = attrs["does_not_fit"]
    assert (dnf.level, dnf.tensor, dnf.needed_bytes, dnf.capacity_bytes) == \
        ("gbuf", "planned buffers", peak, 128 * 1024)
    big = load_hardware(TINY, {"memory.gbuf.size": "1 MiB"})
    assert "does_not_fit" not in dict(map_graph(g, big).attrs)
