"""Placement: which memory level holds the weights, the KV cache and the activations.

Greedy, innermost first: each tensor class goes to the innermost level allowed to hold it (the
level's `holds`) that still has room, weights first, then KV cache, then activations (their peak
live bytes). Conventions: on an MCU weights stay in flash (executed in place) and activations in
SRAM; on a PIM chip weights and KV cache live in the DRAM banks that compute on them. Activations
that do not fit on chip as a whole are placed per tensor: the smallest first, as long as the
on-chip level's free space stay there while the live total fits (layer fusion through that
level) and their packed arena fits the level, the rest go off chip. An MoE model's experts that
no token of this step is routed to are not read by any op, yet they are stored with the other
weights: the weights' need counts every expert (graph meta `unread_weight_bytes`), so the fit
verdict is that of the full model.
"""
from __future__ import annotations

from dataclasses import dataclass

from archsim.errors import DoesNotFit
from archsim.hardware import Hardware, MemoryLevel
from archsim.ir import OpGraph, unread_weight_bytes

from .buffer_plan import arena_plan, liveness, persistent_tensors

__all__ = ["PlacementPlan", "place", "read_cost_s_per_byte"]


@dataclass(frozen=True, slots=True)
class PlacementPlan:
    placement: tuple[tuple[str, str], ...]           # role or tensor name → level
    does_not_fit: DoesNotFit | None = None

    def as_dict(self) -> dict[str, str]:
        return dict(self.placement)


def _allowed(hw: Hardware, role: str) -> list[int]:
    return [i for i, lv in enumerate(hw.levels) if not lv.holds or role in lv.holds]


def read_cost_s_per_byte(lv: MemoryLevel) -> float:
    """What reading one byte of a level costs an op: its transfer time (the placement's cost when a
    chip has several off-chip levels; the latency is paid once per stream, so it does not count)."""
    if lv.dram is not None:
        return 1.0 / max(lv.dram.peak_bandwidth_bytes_per_s, 1.0)
    return 1.0 / max(lv.bandwidth_bytes_per_s, 1.0)


def _split_tensors(persistent: dict[str, tuple[str, int]], role: str, levels: list[MemoryLevel],
                   free: dict[str, int]) -> dict[str, str] | None:
    """Tensor name → level for the tensors of `role`, in graph order, each in the first (cheapest)
    of `levels` with room left; None when they do not fit all of them together. Every weight is read
    once per pass, so filling the cheapest level first is the least total read time."""
    out: dict[str, str] = {}
    room = dict(free)
    for name, (r, b) in persistent.items():
        if r != role:
            continue
        at = next((lv.name for lv in levels if room[lv.name] >= b), None)
        if at is None:
            return None
        out[name] = at
        room[at] -= b
    free.update(room)
    return out


def place(graph: OpGraph, hw: Hardware, streamed: frozenset[str] = frozenset(),
          buffers: list | None = None, persistent: dict[str, tuple[str, int]] | None = None
          ) -> PlacementPlan:
    """`buffers` and `persistent`: `liveness(graph, streamed)` and `persistent_tensors(graph)`,
    when the caller has them already."""
    free = {lv.name: lv.size_bytes for lv in hw.levels}
    persistent = persistent_tensors(graph) if persistent is None else persistent
    need = {"weight": 0, "kv_cache": 0}
    largest: dict[str, tuple[str, int]] = {}
    for name, (role, b) in persistent.items():
        need[role] += b
        if b > largest.get(role, ("", -1))[1]:
            largest[role] = (name, b)
    need["weight"] += unread_weight_bytes(graph)     # MoE experts idle this step stay resident
    buffers = liveness(graph, streamed) if buffers is None else buffers
    need["activation"] = arena_plan(buffers).arena_bytes if buffers else 0
    out: dict[str, str] = {}
    problem: DoesNotFit | None = None
    pim_level = next((u.attached_to for u in hw.compute if u.type == "pim_bank"), None)
    main = max(hw.compute, key=lambda u: u.count * max((r for _, r in u.macs_per_cycle), default=0)
               * u.freq_hz) if hw.compute else None
    main_depth = hw.level_index(main.attached_to) if main else len(hw.levels) - 1
    for role in ("weight", "kv_cache", "activation"):
        allowed = _allowed(hw, role)
        if not allowed:
            allowed = [0]
        if hw.kind == "mcu" and role == "weight":
            order = allowed                       # flash first (execute in place)
        elif pim_level is not None and role in ("weight", "kv_cache"):
            order = [hw.level_index(pim_level)] + [i for i in allowed if hw.levels[i].name != pim_level]
        else:   # innermost first, among the levels the main compute unit reads through
            order = [i for i in reversed(allowed) if i <= main_depth] or list(reversed(allowed))
        outside = [i for i in order if hw.levels[i].off_chip]
        if len(outside) > 1 and role != "activation":
            # several off-chip levels (a board's internal flash, QSPI flash, SDRAM): the cheapest per
            # byte read first, and a role no one of them holds is split tensor by tensor
            outside.sort(key=lambda i: read_cost_s_per_byte(hw.levels[i]))
            order = [i for i in order if not hw.levels[i].off_chip] + outside
            if need[role] and free[hw.levels[outside[0]].name] < need[role]:
                split = _split_tensors(persistent, role, [hw.levels[i] for i in outside], free)
                if split is not None:
                    out.update(split)
                    held: dict[str, int] = {}
                    for t, at in split.items():
                        held[at] = held.get(at, 0) + persistent[t][1]
                    out[role] = max(held, key=lambda lv: (held[lv], lv))    # the role's main level
                    # MoE experts idle this step are stored there too (simulate checks its capacity)
                    free[out[role]] -= unread_weight_bytes(graph) if role == "weight" else 0
                    continue
        chosen = next((i for i in order if free[hw.levels[i].name] >= need[role]), None)
        if chosen is None:
            chosen = max(allowed, key=lambda i: hw.levels[i].size_bytes)
            lv = hw.levels[chosen]
            if need[role] > 0 and problem is None:
                label = {"weight": "weights", "kv_cache": "KV cache", "activation": "activations"}[role]
                if role in largest:
                    label += f" (all; largest {largest[role][0]})"
                tensor = label
                problem = DoesNotFit(lv.name, tensor, int(need[role]), int(free[lv.name]))
        lv = hw.levels[chosen]
        out[role] = lv.name
        free[lv.name] -= need[role]
    # activations off chip as a whole: keep the small ones on chip (layer fusion)
    act = hw.levels[hw.level_index(out["activation"])]
    if act.off_chip:
        inner = [lv for lv in hw.levels if not lv.off_chip and (not lv.holds or "activation" in lv.holds)]
        if inner:
            lv = max(inner, key=lambda x: x.size_bytes)
            budget = 0.9 * free[lv.name]
            steps = max((b.last for b in buffers), default=0) + 1
            live = [0] * steps
            kept = []
            for b in sorted(buffers, key=lambda b: (b.size_bytes, b.name)):
                if max(live[b.first: b.last + 1]) + b.size_bytes <= budget:
                    for i in range(b.first, b.last + 1):
                        live[i] += b.size_bytes
                    kept.append(b)
            # live bytes under the budget do not make an arena under it: packing leaves holes
            # (the buffer plan packs them the same way), so give up the largest until it fits
            while kept and arena_plan(kept).arena_bytes > free[lv.name]:
                kept.remove(max(kept, key=lambda b: (b.size_bytes, b.name)))
            out.update((b.name, lv.name) for b in kept)
    return PlacementPlan(tuple(sorted(out.items())), problem)
