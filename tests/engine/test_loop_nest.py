"""The tiling's outer loop nest (`plan.loop_nest`) and an operand's refetch loop
(`plan.refetch_loop`), which `plan.refetch_factor` and `tiles.tile_stream` share: the refetch factor
is what walking the nest tile by tile gives. The buffer holds one tile of each operand, so the
operand is fetched whenever its tile changes from one tile of the nest to the next; loops of one
trip (a tile the whole dim) change nothing."""
from __future__ import annotations

from itertools import product

from hypothesis import given, settings, strategies as st

from archsim.engine.plan import loop_nest, refetch_factor
from archsim.ir import Op, OpKind, Operand, Role, Tensor
from archsim.mapping import LevelTiling, OpMapping

OFF = "dram"


def _matmul(m, n, k):
    x = Tensor("x", (m, k), 8)
    w = Tensor("w", (k, n), 8, Role.WEIGHT)
    y = Tensor("y", (m, n), 8)
    return Op("mm", OpKind.MATMUL, (("m", m), ("n", n), ("k", k)),
              (Operand(x, ("m", "k")), Operand(w, ("k", "n")), Operand(y, ("m", "n"), True)),
              macs=m * n * k, flops=2 * m * n * k)


def _walked_factor(op, om, operand) -> float:
    """Fetches of `operand` walking the nest tile by tile (a fetch each time its tile changes),
    over its compulsory fetches (its tiles), at least 1."""
    trips, order = loop_nest(op, om)
    fetches, prev = 0, None
    for idx in product(*(range(trips[d]) for d in order)):
        tile = tuple(i for d, i in zip(order, idx) if d in operand.dims)
        if tile != prev:
            fetches, prev = fetches + 1, tile
    compulsory = 1
    for d in operand.dims:
        compulsory *= trips[d]
    return max(1.0, fetches / compulsory)


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 9), st.integers(1, 9), st.integers(1, 9), st.data())
def test_refetch_factor_is_the_tile_walk(m, n, k, data):
    op = _matmul(m, n, k)
    sizes = op.dim_sizes
    tile = tuple((d, data.draw(st.integers(1, v))) for d, v in sizes.items())
    order = tuple(data.draw(st.permutations(list(sizes))))[: data.draw(st.integers(0, 3))]
    om = OpMapping(op="mm", unit="u", tiling=(LevelTiling(OFF, tuple(sizes.items()), order),
                                              LevelTiling("buf", tile)))
    for o in op.operands:
        assert refetch_factor(op, om, o, OFF) == _walked_factor(op, om, o), (o.tensor.name, tile, order)


def test_a_loop_of_one_trip_does_not_refetch():
    """W(k, n) under loops n, m, k with k one tile: W's tile changes only with n (factor 1), though
    k, innermost, indexes W."""
    op = _matmul(8, 8, 8)
    om = OpMapping(op="mm", unit="u", tiling=(LevelTiling(OFF, tuple(op.dim_sizes.items()), ("n", "m", "k")),
                                              LevelTiling("buf", (("m", 2), ("n", 2), ("k", 8)))))
    w = op.operands[1]
    assert refetch_factor(op, om, w, OFF) == 1.0
    assert loop_nest(op, om) == ({"m": 4, "n": 4, "k": 1}, ["n", "m", "k"])
