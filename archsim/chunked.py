"""Chunked prefill: a long prompt processed as consecutive chunks, as serving stacks do (vLLM's
chunked prefill, Sarathi-Serve). Chunk i holds at most `chunk` new tokens after `past` positions
already in the KV cache; it attends to all of them and appends its own K/V. The chunks run one after
another, so the prefill's latency and energy are the chunks' sums and its buffer need is the largest
chunk's — which is how a prompt whose one-pass activations do not fit still runs.

`chunk_plan` splits a prompt; `combine_chunks` joins the chunks' `SimResult`s into one result for the
whole prompt (ops renamed `c<i>.<op>` and shifted in time; the analytic-vs-cycle gap and its parts
summed over the chunks).
"""
from __future__ import annotations

from dataclasses import replace

from .result import LevelUse, SimResult, Timeline, sum_gap_attribution

__all__ = ["chunk_plan", "combine_chunks"]


def chunk_plan(seq: int, chunk: int) -> tuple[tuple[int, int], ...]:
    """(past, tokens) of each chunk: `seq` tokens in chunks of `chunk`, the last one shorter."""
    return tuple((past, min(chunk, seq - past)) for past in range(0, seq, chunk))


def _weighted(results, get) -> float | None:
    """Latency-weighted mean of an optional per-chunk value; None if any chunk lacks it."""
    values = [get(r) for r in results]
    total = sum(r.latency_s for r in results)
    if any(v is None for v in values) or total <= 0:
        return None
    return sum(v * r.latency_s for v, r in zip(values, results)) / total


def _summed_gap(results) -> float | None:
    """(Σ cycle − Σ analytic) / Σ analytic over the chunks: each chunk's gap weighted by its
    analytic time (its ops' `analytic_cycles`); None if any chunk lacks one."""
    ana = [sum(op.analytic_cycles for op in r.ops) for r in results]
    if any(r.analytic_vs_cycle_gap is None for r in results) or sum(ana) <= 0:
        return None
    return sum(r.analytic_vs_cycle_gap * a for r, a in zip(results, ana)) / sum(ana)


def combine_chunks(results: list[SimResult], seq: int, chunk: int) -> SimResult:
    """One `SimResult` for a prompt of `seq` tokens run as `results` (one per chunk, in order).
    A chunk that does not fit makes the whole prefill not fit, with that chunk named."""
    first, n = results[0], len(results)
    plan = chunk_plan(seq, chunk)
    bad = next((i for i, r in enumerate(results) if not r.fits), None)
    note = (f"chunked prefill: {len(plan)} chunks of ≤{chunk:,} tokens, each attending to every "
            "earlier position through the KV cache")
    if bad is not None:
        past, tokens = plan[bad]
        return replace(results[bad], seq=seq, context=seq, tokens=first.batch * seq,
                       does_not_fit=f"chunk {bad + 1} of {len(plan)} (tokens {past:,}–"
                                    f"{past + tokens - 1:,}): {results[bad].does_not_fit}",
                       notes=results[bad].notes + (note,),
                       sim_wall_s=sum(r.sim_wall_s for r in results))
    if n != len(plan):
        raise ValueError(f"{n} chunk results for a plan of {len(plan)} chunks")
    energy: dict[str, float] = {}
    levels: dict[str, list[int]] = {}
    capacity: dict[str, int] = {}
    timelines: dict[str, tuple[list[float], list[int]]] = {}
    ops, offset = [], 0.0
    for i, r in enumerate(results):
        for component, joules in r.energy_breakdown_j:
            energy[component] = energy.get(component, 0.0) + joules
        for lv in r.levels:
            peak_reads_writes = levels.setdefault(lv.level, [0, 0, 0])
            peak_reads_writes[0] = max(peak_reads_writes[0], lv.peak_buffer_bytes)
            peak_reads_writes[1] += lv.reads_bytes
            peak_reads_writes[2] += lv.writes_bytes
            capacity[lv.level] = lv.capacity_bytes
        ops.extend(replace(op, name=f"c{i}.{op.name}", start_s=op.start_s + offset) for op in r.ops)
        for tl in r.timelines:
            t, occ, plan = timelines.setdefault(tl.level, ([], [], [0, True]))
            t.extend(x + offset for x in tl.time_s)
            occ.extend(tl.occupancy_bytes)
            plan[0], plan[1] = max(plan[0], tl.planned_bytes), plan[1] and tl.engine
        offset += r.latency_s
    resources = dict.fromkeys(k for r in results for k, _ in r.utilization)
    utilization = tuple((k, _weighted(results, lambda r, k=k: dict(r.utilization).get(k, 0.0)))
                        for k in resources)
    return replace(
        first, seq=seq, context=seq, tokens=first.batch * seq,
        cycles=sum(r.cycles for r in results), latency_s=offset,
        energy_breakdown_j=tuple(energy.items()),
        levels=tuple(LevelUse(name, capacity[name], *v) for name, v in levels.items()),
        ops=tuple(ops),
        analytic_vs_cycle_gap=_summed_gap(results),
        gap_attribution=sum_gap_attribution(r.gap_attribution for r in results),
        dram_row_hit_rate=_weighted(results, lambda r: r.dram_row_hit_rate),
        utilization=utilization,
        timelines=tuple(Timeline(k, tuple(t), tuple(o), *plan) for k, (t, o, plan) in timelines.items()),
        sim_wall_s=sum(r.sim_wall_s for r in results),
        notes=first.notes + (note,))
