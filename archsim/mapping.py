"""How a graph runs on a chip: the mapper's decisions as hashable frozen values the engine consumes.

Produced by `mapper`, consumed by the `archsim` engine; it lives in the core so neither imports the
other. Per op: which compute unit, which dims unroll spatially and by how much, the dataflow, and
for each memory level (outermost first) the tile held there and the temporal loop order around it.
Per graph: where each tensor class lives, which ops are fused, and the buffer plan.
"""
from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["LevelTiling", "OpMapping", "Mapping"]


@dataclass(frozen=True, slots=True)
class LevelTiling:
    """At memory level `level`, a tile of `tile` (dim → size) is resident; `loop_order` (outer to
    inner) iterates over the tiles of the next inner level within it."""
    level: str
    tile: tuple[tuple[str, int], ...]
    loop_order: tuple[str, ...] = ()
    double_buffer: bool = True

    @property
    def tile_sizes(self) -> dict[str, int]:
        return dict(self.tile)


@dataclass(frozen=True, slots=True)
class OpMapping:
    op: str
    unit: str
    spatial: tuple[tuple[str, int], ...] = ()
    dataflow: str = "none"          # os | ws | is | rs | none
    tiling: tuple[LevelTiling, ...] = ()
    fused_into: str | None = None   # name of the op (or fused group) this op's work runs inside
    attrs: tuple[tuple[str, object], ...] = ()

    def attr(self, key: str, default=None):
        for k, v in self.attrs:
            if k == key:
                return v
        return default


@dataclass(frozen=True, slots=True)
class Mapping:
    hw: str
    ops: tuple[OpMapping, ...]
    placement: tuple[tuple[str, str], ...] = ()        # tensor name or role → memory level name
    peak_buffer_bytes: tuple[tuple[str, int], ...] = ()  # memory level → planned peak bytes
    candidates_evaluated: int = 0
    attrs: tuple[tuple[str, object], ...] = ()
    # `placement` as a dict, built on first use (the engine asks for every operand of every op):
    # not compared, not in repr; a `dataclasses.replace` copy starts empty
    _where: dict = field(init=False, repr=False, compare=False, default_factory=dict)

    def for_op(self, name: str) -> OpMapping:
        for m in self.ops:
            if m.op == name:
                return m
        raise KeyError(name)

    def placed(self, tensor_or_role: str, default: str | None = None) -> str | None:
        """The level `placement` gives a tensor name or a role (its first entry for it)."""
        where = self._where
        if not where and self.placement:
            where.update(reversed(self.placement))       # the first entry of a key wins
        return where.get(tensor_or_role, default)
