"""`map_graph`: the whole-graph mapper. Passes in order: fusion → placement → per-op search (cached
by op shape, dtypes and hardware) → buffer plan → fit check. A model that cannot fit is a result:
`Mapping.attrs` holds ("does_not_fit", DoesNotFit(level, tensor, needed, capacity))."""
from __future__ import annotations

from typing import Callable

from archsim.errors import DoesNotFit, MappingError
from archsim.hardware import Hardware
from archsim.ir import OpGraph, ops_in_order
from archsim.mapping import Mapping, OpMapping

from .cost import Cost
from .map_op import MappingNotFound, map_op_result
from .mapspace import PIPELINE, unit_can_run
from .passes.buffer_plan import liveness, persistent_tensors, plan_buffers
from .passes.fusion import fuse
from .passes.mcu import TECHNIQUES as MCU_TECHNIQUES, mcu_report, sram_pools
from .passes.pim import pim_partition
from .passes.placement import place

__all__ = ["map_graph", "op_costs", "total_cost"]


_ROLES = ("weight", "kv_cache", "activation")


def _op_placement(op, roles: dict[str, str], streamed: frozenset[str],
                  by_role: dict[str, str] | None = None) -> dict[str, str]:
    """Where `op`'s tensors live: the levels of the roles (`by_role`: the role entries of `roles`,
    when the caller has them), then each tensor's own placement; tensors streamed in a fused
    group in PIPELINE."""
    out = dict(by_role) if by_role is not None else {k: v for k, v in roles.items() if k in _ROLES}
    for o in op.operands:
        if o.tensor.name in streamed:
            out[o.tensor.name] = PIPELINE
        elif o.tensor.name in roles:
            out[o.tensor.name] = roles[o.tensor.name]
    return out


def map_graph(graph: OpGraph, hw: Hardware, strategy: str = "auto", objective: str = "edp",
              budget: int | None = None, seed: int = 0,
              progress: Callable[[int, int, str], None] | None = None,
              only: str | None = None,
              mcu_techniques: tuple[str, ...] | list[str] | str = MCU_TECHNIQUES) -> Mapping:
    """Map every op of `graph` onto `hw`. `progress(done, total, op_name)` is called per op;
    `only` maps a single named op (and the passes still see the whole graph).
    `mcu_techniques`: the MCUFormer memory techniques applied on an MCU (any subset of
    `mapper.MCU_TECHNIQUES`: "operator_integration", "patch_decomposition",
    "token_overwriting"; default all, `()` none); they decide the SRAM arena and so whether the
    model fits. Validated everywhere, used only when `hw.kind == "mcu"`."""
    techniques = _techniques(mcu_techniques)
    ops = list(ops_in_order(graph))
    if only is not None and only not in graph:
        from archsim.errors import did_you_mean
        raise MappingError(f"no op named {only!r} in the graph; "
                           f"{did_you_mean(only, [o.name for o in ops]) or 'see `archsim graph`'}")
    fplan = fuse(graph, hw)
    buffers, tensors = liveness(graph, fplan.streamed), persistent_tensors(graph)
    pplan = place(graph, hw, fplan.streamed, buffers, tensors)
    roles = pplan.as_dict()
    rep = mcu_report(graph, hw, techniques) if hw.kind == "mcu" else None
    if rep is not None and rep.spilled:
        # the SRAM cannot hold the arena even with the techniques, a board's SDRAM can: the arena
        # lives there (every activation read and written off chip, timed by the engine)
        roles = {k: v for k, v in roles.items() if k != "activation" and hw.level(v).off_chip}
        roles["activation"] = rep.spill[0]
    problem: DoesNotFit | None = pplan.does_not_fit
    fused = dict(fplan.fused_into)
    mapped: list[OpMapping] = []
    costs: list[tuple[str, Cost]] = []
    evaluated = 0
    searched: set = set()          # ops of one shape are searched once (cache); count them once
    todo = [o for o in ops if only is None or o.name == only]
    by_role = {k: v for k, v in roles.items() if k in _ROLES}
    for i, op in enumerate(todo):
        pl = _op_placement(op, roles, fplan.streamed, by_role)
        try:
            try:
                res = map_op_result(op, hw, strategy, objective, budget, seed, None, pl, named=False)
            except MappingNotFound:
                # tensors kept on chip by layer fusion may crowd out this op's tiles: retry with
                # them where their role lives
                plain = {k: v for k, v in pl.items() if k in _ROLES or v == PIPELINE}
                if plain == pl:
                    raise
                pl = plain
                res = map_op_result(op, hw, strategy, objective, budget, seed, None, pl, named=False)
        except MappingNotFound as exc:
            problem = problem or exc.does_not_fit
            unit = next((u for u in hw.compute if unit_can_run(u, op)), hw.compute[0])
            mapped.append(OpMapping(op=op.name, unit=unit.name, fused_into=fused.get(op.name),
                                    attrs=(("does_not_fit", exc.does_not_fit),)))
            if progress:
                progress(i + 1, len(todo), op.name)
            continue
        if res.key not in searched:
            searched.add(res.key)
            evaluated += res.evaluated
        m = res.mapping
        attrs = list(m.attrs) + [("placement", tuple(sorted(pl.items())))]
        unit = hw.unit(m.unit)
        if unit.type == "pim_bank":
            spatial = dict(m.spatial)
            split = max((d for d in spatial if spatial[d] == unit.count), default=op.dims[0][0],
                        key=lambda d: op.dim_sizes.get(d, 0))
            attrs.append(("pim", pim_partition(op, hw, unit, split).as_attrs()))
        # (built field by field: `dataclasses.replace` per op cost 3 % of a warm estimate)
        mapped.append(OpMapping(op.name, m.unit, m.spatial, m.dataflow, m.tiling,
                                fused.get(op.name), tuple(attrs)))
        costs.append((op.name, res.cost))
        if progress:
            progress(i + 1, len(todo), op.name)
    plan = plan_buffers(graph, hw, roles, fplan.streamed, buffers=buffers, tensors=tensors)
    peaks = dict(plan.peak_bytes)
    attrs: list[tuple[str, object]] = [("op_costs", tuple(costs)),
                                       ("streamed", tuple(sorted(fplan.streamed)))]
    if hw.kind == "mcu":
        # an MCU runs with the chosen MCUFormer memory techniques and one SRAM arena; that plan,
        # not the generic per-level one, decides whether the model fits
        plain = mcu_report(graph, hw, ())
        if pplan.does_not_fit is not None and pplan.does_not_fit.tensor == "activations":
            problem = None if problem is pplan.does_not_fit else problem
        problem = problem or rep.does_not_fit
        peaks = _mcu_peaks(hw, peaks, roles, rep)
        attrs.append(("mcu", (("techniques", rep.techniques),
                              ("techniques_requested", techniques),
                              ("peak_sram_bytes", rep.peak_sram_bytes),
                              ("peak_sram_bytes_without_techniques", plain.peak_sram_bytes),
                              ("sram_bytes", rep.sram_bytes), ("flash_bytes", rep.flash_bytes),
                              ("flash_capacity_bytes", rep.flash_capacity_bytes))))
    elif problem is None:
        for lv_name, peak in peaks.items():
            lv = hw.level(lv_name)
            if peak > lv.size_bytes:
                problem = DoesNotFit(lv_name, "planned buffers", int(peak), int(lv.size_bytes))
                break
    if problem is not None:
        attrs.insert(0, ("does_not_fit", problem))
    names = [lv.name for lv in hw.levels]
    return Mapping(hw=hw.name, ops=tuple(mapped), placement=tuple(sorted(roles.items())),
                   peak_buffer_bytes=tuple((n, int(peaks[n])) for n in names if n in peaks),
                   candidates_evaluated=evaluated, attrs=tuple(attrs))


def _techniques(value) -> tuple[str, ...]:
    """The MCU technique names asked for, validated (MappingError with a did-you-mean)."""
    if value is None:
        return ()
    names = (value,) if isinstance(value, str) else tuple(value)
    for name in names:
        if name not in MCU_TECHNIQUES:
            from archsim.errors import did_you_mean
            hint = did_you_mean(str(name), MCU_TECHNIQUES) or \
                "choose from " + ", ".join(MCU_TECHNIQUES)
            raise MappingError(f"map_graph: mcu_techniques: unknown technique {name!r}; {hint}")
    return tuple(t for t in MCU_TECHNIQUES if t in names)     # canonical order, no repeats


def _mcu_peaks(hw: Hardware, peaks: dict[str, int], roles: dict[str, str], rep) -> dict[str, int]:
    """Weights in flash; each SRAM pool's arena spread over its levels (in address order within a
    contiguous region, largest first when the description gives no addresses)."""
    out = {k: v for k, v in peaks.items() if hw.level(k).off_chip}
    if rep.spilled:            # the arena lives in the board's SDRAM, the SRAM holds none of it
        out[rep.spill[0]] = rep.peak_sram_bytes
        return out
    flash = roles.get("weight")
    split = any(k not in ("weight", "kv_cache", "activation") and v in out for k, v in roles.items())
    if flash and not split:      # (weights split over a board's flash levels: planned per tensor)
        out[flash] = rep.flash_bytes
    for (levels, _), (_, _, peak) in zip(sram_pools(hw), rep.pools):
        left = peak
        for i, name in enumerate(levels):
            take = left if i == len(levels) - 1 else min(left, hw.level(name).size_bytes)
            if take > 0:
                out[name] = take
            left -= take
    return out


def op_costs(mapping: Mapping) -> dict[str, Cost]:
    for k, v in mapping.attrs:
        if k == "op_costs":
            return dict(v)
    return {}


def total_cost(mapping: Mapping) -> Cost:
    total = Cost(cycles=0, energy_pj=0.0)
    for c in op_costs(mapping).values():
        total = total + c
    return total
