"""PIM-GPT (Wu, Wang, Lu; arXiv 2310.09385 v2 / npj Unconventional Computing 2024): decode-token
latency and energy of eight GPT models on the `pim-gpt` config against `t4` (GPU) and
`xeon-gold-6154` (CPU), through the real pipeline (zoo graph → mapper → engine).

Checked: the speedup and energy-efficiency ranges over the eight models (each end within ×1.5 of the
published end), the DRAM row-hit rate, the cost of slowing the ASIC clock 10×, and the scaling with
channel count. The published per-model table is not available (hardware-facts.md §1.1 [NF]), so
the per-model ordering is checked only as the published bands imply it (the CPU gap exceeds the GPU
gap, in speed and energy); archsim's ordering of the models is reported. Diagnostic info rows put
numbers on the gaps: the non-VMM (ASIC) share of a token, and the share of its roofline bound each
baseline must have reached in the paper for the lowest published speedup, against archsim's own.
"""
from __future__ import annotations

from dataclasses import replace

from archsim.ir import OpKind, Role, graph_totals, ops_in_order

from . import pipeline
from .pim_gpt_asic import asic_what_if
from .pim_gpt_eager import HOST_OVERHEADS_S, eager_gpu_rows
from .pim_gpt_system import system_rows
from .study import FACTOR_1_5, arithmetic, compare, energy_share_row, finish, info, match, measured

#: metric → the ratio it takes from one model's (PIM-GPT, T4, Xeon) results
_RATIOS = {
    "speedup vs GPU": lambda p, g, c: g.latency_s / p.latency_s,
    "speedup vs CPU": lambda p, g, c: c.latency_s / p.latency_s,
    "energy efficiency vs GPU": lambda p, g, c: g.energy_j / p.energy_j,
    "energy efficiency vs CPU": lambda p, g, c: c.energy_j / p.energy_j,
}


def _per_model(metric: str, *results) -> dict[str, float]:
    """metric's ratio per model, from (PIM-GPT, T4, Xeon) results laid out flat."""
    triples = [results[i:i + 3] for i in range(0, len(results), 3)]
    return {t[0].model: _RATIOS[metric](*t) for t in triples}


def _cpu_first(p, g, c) -> str:
    """The published bands order every model the same way: the CPU gap exceeds the GPU gap."""
    ok = (_RATIOS["speedup vs CPU"](p, g, c) > _RATIOS["speedup vs GPU"](p, g, c)
          and _RATIOS["energy efficiency vs CPU"](p, g, c) > _RATIOS["energy efficiency vs GPU"](p, g, c))
    return "yes" if ok else "no"

__all__ = ["TITLE", "SOURCE", "ASSUMPTIONS", "MODELS", "run", "with_asic_clock", "with_channels",
           "non_vmm_share", "roofline_bound_s"]

TITLE = "PIM-GPT: GPT decode on a hybrid DRAM-PIM + ASIC accelerator vs T4 GPU and Xeon CPU"
SOURCE = ("Wu, Wang, Lu, PIM-GPT, arXiv 2310.09385 v2 / npj Unconv. Comput. 2024 — revised energy "
          "numbers; baselines and setup per hardware-facts.md §1.1")
MODELS = ("gpt2-small", "gpt2-medium", "gpt2-large", "gpt2-xl",
          "gpt3-125m", "gpt3-350m", "gpt3-760m", "gpt3-1.3b")
PIM, GPU, CPU = "pim-gpt", "t4", "xeon-gold-6154"
CONTEXT = 512
DTYPES = (("weights", "bf16"), ("activations", "bf16"), ("kv", "bf16"))
XL_PROXY = "gpt3-1.3b"          # archsim's closest zoo model to the paper's GPT3-XL (1.3B params)
NON_VMM_PCT = 1.16              # non-VMM share of GPT3-XL latency, hardware-facts.md §1.1 [S]

#: metric → (low, high) published range
PUBLISHED = {
    "speedup vs GPU": (41.0, 137.0),
    "speedup vs CPU": (631.0, 1074.0),
    "energy efficiency vs GPU": (123.0, 383.0),
    "energy efficiency vs CPU": (320.0, 602.0),
}
ROW_HIT = 0.98
CLOCK_COST = 0.20

ASSUMPTIONS = (
    "The eight models are GPT2-{small, medium, large, XL} and GPT3-{125M, 350M, 760M, 1.3B} "
    "(hardware-facts.md: most likely set; the paper's list is not stored).",
    f"One decode token at context {CONTEXT}, batch 1 (the paper's generation length is not "
    "stored); the same context on every chip.",
    "Speedup = baseline latency ÷ PIM-GPT latency; energy efficiency = baseline energy ÷ PIM-GPT "
    "energy, per token; bf16 everywhere (PIM-GPT's format).",
    "Row-hit rate and the clock / channel sweeps use the cycle fidelity on gpt2-small.",
    "ASIC clock sweep: every non-PIM compute unit's clock is set to 100 MHz with "
    "dataclasses.replace; the DRAM/PIM side is unchanged.",
    "Channel sweep: DRAM channels, PIM bank units, DRAM capacity and bandwidth scale together.",
    "System rows (pim-gpt-system): the ASIC and the PIM channels as two devices of the same "
    "description, joined by the channels' pins (256 GB/s, 7.5 pJ/bit, 20 ns: the latency an "
    "assumption); every op in 16 equal slices, an elementwise or per-head op starting on its "
    "input's first slice (an ideal split); doubling channels doubles the link too.",
    "Bands: range ends within ×1.5; row-hit rate within 0.95–1.05 of 98%; clock cost ≤ 20% × 1.5; "
    "scaling 8 → 16 channels gives ≥ 0.8 × the linear 2× speedup.",
    "Diagnostics (info rows): non-VMM share = latency of ops on non-PIM units ÷ summed op "
    "latency; a baseline's roofline bound = max(MACs ÷ its summed bf16 peak MAC rate, (weight + "
    "KV bytes − on-chip capacity, embedding tables as the rows looked up) ÷ its off-chip "
    "bandwidth), activations assumed on chip.",
)


def with_asic_clock(hw, freq_hz: float):
    """`hw` with every non-PIM compute unit (the ASIC side) clocked at `freq_hz`."""
    return replace(hw, compute=tuple(cu if cu.type == "pim_bank" else replace(cu, freq_hz=freq_hz)
                                     for cu in hw.compute))


def with_channels(hw, channels: int):
    """`hw` with `channels` DRAM channels: PIM units, capacity and bandwidth scale alike."""
    dram_level = next(lv for lv in hw.levels if lv.dram is not None)
    factor = channels / dram_level.dram.channels
    level = replace(dram_level, dram=replace(dram_level.dram, channels=channels),
                    size_bytes=int(dram_level.size_bytes * factor),
                    bandwidth_bytes_per_s=dram_level.bandwidth_bytes_per_s * factor)
    compute = tuple(replace(cu, count=max(1, round(cu.count * factor))) if cu.type == "pim_bank"
                    else cu for cu in hw.compute)
    return replace(hw, levels=tuple(level if lv is dram_level else lv for lv in hw.levels),
                   compute=compute)


def _decode(model: str, hw, fidelity: str = "analytic", stack: str = "graph"):
    return pipeline.simulate_model(model, hw, phase="decode", context=CONTEXT, fidelity=fidelity,
                                   dtypes=DTYPES, stack=stack)


def non_vmm_share(result, hw) -> float:
    """Percent of `result`'s summed op latency spent in ops not run on a `pim_bank` unit of `hw`
    (the ASIC side: the non-VMM ops). Summed op time, not wall time: where ops overlap (cycle
    fidelity) their sum exceeds the token latency."""
    types = {cu.name: cu.type for cu in hw.compute}
    total = sum(op.latency_s for op in result.ops)
    other = sum(op.latency_s for op in result.ops if types.get(op.unit) != "pim_bank")
    return 100.0 * other / total if total > 0 else 0.0


def roofline_bound_s(model: str, hw) -> float:
    """Lower bound on one decode token's latency on `hw`: max(MACs ÷ peak bf16 MAC rate, off-chip
    bytes ÷ off-chip bandwidth); off-chip bytes = weights + KV cache − what the on-chip levels can
    keep between tokens, a lookup-only table (embedding) counting just the rows it reads."""
    graph = pipeline.graph(model, phase="decode", context=CONTEXT, dtypes=DTYPES)
    totals = graph_totals(graph)
    tables: dict[str, list] = {}                # weight → [size, lookup-only?, bytes looked up]
    for op in ops_in_order(graph):
        for w in (o.tensor for o in op.operands if o.tensor.role is Role.WEIGHT):
            entry = tables.setdefault(w.name, [w.size_bytes, True, 0])
            entry[1] = entry[1] and op.kind is OpKind.EMBEDDING
            entry[2] += sum(o.tensor.size_bytes for o in op.outputs)
    unread = sum(size - min(size, read) for size, lookup, read in tables.values() if lookup)
    on_chip = sum(lv.capacity_bytes for lv in hw.levels if not lv.off_chip)
    off_chip = max(0, totals.weight_bytes - unread + totals.kv_cache_bytes - on_chip)
    return max(totals.macs / hw.peak_macs_per_s("bf16"),
               off_chip / hw.off_chip.bandwidth_bytes_per_s)


def run():
    pim_hw, gpu_hw, cpu_hw = (pipeline.hardware(n) for n in (PIM, GPU, CPU))
    ratios: dict[str, dict[str, float]] = {k: {} for k in PUBLISHED}
    rows = []
    power_w: dict[str, list[float]] = {GPU: [], CPU: []}
    latency_s: dict[str, dict[str, float]] = {PIM: {}, GPU: {}, CPU: {}}
    diag: dict = {}
    flat: list = []                          # (PIM-GPT, T4, Xeon) results of every model that fits
    for model in MODELS:
        pim, gpu, cpu = (_decode(model, hw) for hw in (pim_hw, gpu_hw, cpu_hw))
        for r in (pim, gpu, cpu):
            if not r.fits:
                rows.append(match(f"{model} on {r.hw}", True, measured(lambda x: x.fits, r),
                                  note=r.does_not_fit))
        if not (pim.fits and gpu.fits and cpu.fits):
            continue
        flat += [pim, gpu, cpu]
        power_w[GPU].append(gpu.avg_power_w)
        power_w[CPU].append(cpu.avg_power_w)
        for chip, r in ((PIM, pim), (GPU, gpu), (CPU, cpu)):
            latency_s[chip][model] = r.latency_s
        if model == XL_PROXY:
            diag["share_xl"] = non_vmm_share(pim, pim_hw)
            rows.append(_share_row(pim, pim_hw))
            rows += [energy_share_row(r) for r in (pim, gpu, cpu)]   # what drives the energy ratios
        for metric, ratio in _RATIOS.items():
            ratios[metric][model] = ratio(pim, gpu, cpu)
        rows.append(info(f"{model} PIM-GPT token latency", measured(lambda r: r.latency_s * 1e3, pim),
                         unit="ms",
                         note=f"T4 {gpu.latency_s * 1e3:.3g} ms, Xeon {cpu.latency_s * 1e3:.3g} ms"))
        rows.append(match(f"{model}: CPU ratios > GPU ratios (speedup and efficiency)", "yes",
                          measured(_cpu_first, pim, gpu, cpu)))
    for metric, (lo, hi) in PUBLISHED.items():
        values = ratios[metric]
        if not values:
            continue
        rows.append(compare(f"{metric}, lowest of {len(values)} models", lo,
                            measured(lambda *rs, m=metric: min(_per_model(m, *rs).values()), *flat),
                            FACTOR_1_5, unit="×", note=min(values, key=values.get)))
        rows.append(compare(f"{metric}, highest of {len(values)} models", hi,
                            measured(lambda *rs, m=metric: max(_per_model(m, *rs).values()), *flat),
                            FACTOR_1_5, unit="×", note=max(values, key=values.get)))
        rows.append(info(f"{metric}: models low → high", measured(
            lambda *rs, m=metric: " < ".join(sorted(_per_model(m, *rs), key=_per_model(m, *rs).get)),
            *flat), note="published per-model order not stored"))
    for chip, hw in ((GPU, gpu_hw), (CPU, cpu_hw)):
        if latency_s[chip]:
            row, diag[chip] = _efficiency(chip, hw, latency_s)
            rows.append(row)
    if latency_s[PIM]:
        rows += eager_gpu_rows(gpu_hw, latency_s[PIM], _decode, PUBLISHED["speedup vs GPU"])

    base = _decode("gpt2-small", pim_hw, fidelity="cycle")
    diag["share_small"] = non_vmm_share(base, pim_hw)
    if base.dram_row_hit_rate is not None:
        rows.append(compare("DRAM row-hit rate (gpt2-small)", ROW_HIT,
                            measured(lambda r: r.dram_row_hit_rate, base), (0.95, 1.05)))
    slow = _decode("gpt2-small", with_asic_clock(pim_hw, 100e6), fidelity="cycle")
    rows.append(info("ASIC 1 GHz → 100 MHz latency cost", measured(_clock_cost_pct, slow, base),
                     unit="%", published=20.0))
    rows.append(match("ASIC clock ÷10 costs ≤ ~20% (tolerance ×1.5)", "yes", measured(
        lambda a, b: "yes" if _clock_cost_pct(a, b) <= CLOCK_COST * 1.5 * 100 else "no", slow, base)))
    dram = next(lv for lv in pim_hw.levels if lv.dram is not None)
    channels = dram.dram.channels
    double = _decode("gpt2-small", with_channels(pim_hw, 2 * channels), fidelity="cycle")
    rows.append(compare(f"speedup {channels} → {2 * channels} channels (near-linear)", 2.0,
                        measured(lambda a, b: a.latency_s / b.latency_s, base, double),
                        (0.8, 1.05), unit="×"))
    what_if = asic_what_if(pim_hw, _decode, non_vmm_share,
                           NON_VMM_PCT, XL_PROXY, "gpt2-small",
                           lambda hw: with_asic_clock(hw, 100e6),
                           lambda hw: with_channels(hw, 2 * channels))
    rows += what_if
    diag["what_if"] = what_if
    rows += system_rows(CONTEXT, DTYPES, NON_VMM_PCT, XL_PROXY, pim_hw)
    return finish("pim-gpt", TITLE, SOURCE, rows, ASSUMPTIONS,
                  _gaps(rows, ratios, power_w, gpu_hw, cpu_hw, diag))


def _clock_cost_pct(slow, base) -> float:
    return (slow.latency_s / base.latency_s - 1) * 100


def _share_row(result, hw):
    summed_ms = sum(op.latency_s for op in result.ops) * 1e3
    return info(f"{result.model}: non-VMM (ASIC) share of summed op latency",
                measured(lambda r: non_vmm_share(r, hw), result), unit="%",
                published=NON_VMM_PCT,
                note=f"{result.model} is archsim's closest model to the paper's GPT3-XL; ops on "
                     f"non-pim_bank units ÷ summed op latency ({summed_ms:.3g} ms; token "
                     f"{result.latency_s * 1e3:.3g} ms, {result.fidelity}); paper: GPT3-XL")


def _efficiency(chip: str, hw, latency_s):
    """Info row: the highest share of its roofline bound the paper's `chip` baseline can have
    reached on any model, if the paper's PIM-GPT was no faster than archsim's, given the lowest
    published speedup; returns the row and (implied max %, archsim min %, archsim max %)."""
    lowest = PUBLISHED["speedup vs GPU" if chip == GPU else "speedup vs CPU"][0]
    bound = {m: roofline_bound_s(m, hw) for m in latency_s[chip]}
    implied = {m: 100 * bound[m] / (lowest * latency_s[PIM][m]) for m in bound}
    own = [100 * bound[m] / latency_s[chip][m] for m in bound]
    worst = max(implied, key=implied.get)
    label = "T4" if chip == GPU else "Xeon"
    row = info(f"{label} (paper): max share of its roofline bound, from the {lowest:g}× lowest "
               "published speedup if PIM-GPT ran as in archsim",
               arithmetic(implied[worst], "a diagnostic: the study's roofline bound (zoo graph "
                          "totals, datasheet peaks) over the engine's PIM-GPT latency × the "
                          "published lowest speedup — what the paper's baseline must have run at"),
               unit="%",
               note=f"at most, on every model (highest: {worst}); archsim's {label} reaches "
                    f"{min(own):.0f}–{max(own):.0f}% of the same bound over {len(own)} models")
    return row, (implied[worst], min(own), max(own))


def _gaps(rows, ratios, power_w, gpu_hw, cpu_hw, diag) -> list[str]:
    """Reasons for every out-of-band row, written from this run's numbers."""
    failed = {r.metric for r in rows if r.within_band is False}
    gaps = []
    if any(m.startswith("speedup vs") for m in failed):
        gaps.append(
            "Speedups fall far below the published ranges: archsim's T4 and Xeon baselines are "
            "analytic — every kernel bound by its roofline plus the config's launch overhead — "
            "i.e. close to what the chips can do at batch 1, whereas the paper's baselines are "
            "measured framework runs whose per-kernel overheads dominate a batch-1 decode token. "
            "No baseline efficiency factor is fitted to close this."
            + ("" if GPU not in diag or CPU not in diag else
               f" If the paper's PIM-GPT was no faster than archsim's, the published lower ends "
               f"({PUBLISHED['speedup vs GPU'][0]:g}×, {PUBLISHED['speedup vs CPU'][0]:g}×) imply "
               f"the paper's T4 ran at ≤ {diag[GPU][0]:.1f}% and its Xeon at ≤ {diag[CPU][0]:.1f}% "
               f"of their roofline bounds on every model, against {diag[GPU][1]:.0f}–"
               f"{diag[GPU][2]:.0f}% and {diag[CPU][1]:.0f}–{diag[CPU][2]:.0f}% for archsim's "
               "baselines."))
    eager = [r for r in rows if "ran eagerly" in r.metric]
    if eager and gaps and any(m.startswith("speedup vs GPU") for m in failed):
        lo, hi = (h * 1e6 for h in (HOST_OVERHEADS_S[0], HOST_OVERHEADS_S[-1]))
        gaps[-1] += (f" Run eagerly at {lo:g}–{hi:g} µs per kernel (PyTorch's per-op host time, a "
                     f"secondary source), archsim's T4 would give {eager[0].archsim} to "
                     f"{eager[-1].archsim}: per-kernel host time alone does not close the GPU gap "
                     "either.")
    if any(m.startswith("energy efficiency vs") for m in failed):
        gaps.append(
            f"Energy-efficiency ratios inherit the speed gap: a baseline's energy per token is its "
            f"average power × its idealised latency; archsim's T4 averages "
            f"{min(power_w[GPU]):.0f}–{max(power_w[GPU]):.0f} W and its Xeon "
            f"{min(power_w[CPU]):.0f}–{max(power_w[CPU]):.0f} W on these tokens (idle floors in the "
            f"configs: {gpu_hw.idle_power_w:g} W and {cpu_hw.idle_power_w:g} W, assumptions).")
    inverted = [m for m in MODELS                      # in model order: the docs stay stable
                if any(f.startswith(f"{m}: CPU ratios > GPU ratios") for f in failed)]
    if inverted:
        speed = [m for m in inverted
                 if ratios["speedup vs CPU"][m] <= ratios["speedup vs GPU"][m]]
        energy = [m for m in inverted
                  if ratios["energy efficiency vs CPU"][m] <= ratios["energy efficiency vs GPU"][m]]
        gaps.append(
            "The per-model ordering the published bands imply (CPU gap > GPU gap) fails for "
            + ", ".join(inverted) + f" (speed: {', '.join(speed) or 'none'}; energy: "
            f"{', '.join(energy) or 'none'}): on the smallest models archsim's Xeon is nearly as "
            "fast as its T4, a consequence of the idealised baselines above.")
    clock = next((r for r in rows if r.metric.startswith("ASIC 1 GHz")), None)
    if any(m.startswith("ASIC clock") for m in failed) and clock is not None:
        small = diag["share_small"]
        xl = f" and {diag['share_xl']:.1f}% on {XL_PROXY} (analytic)" if "share_xl" in diag else ""
        gaps.append(
            f"The 10× slower ASIC costs {clock.archsim:.0f}%, not ≤ ~20%: the ASIC side of the "
            f"config (every non-PIM compute unit) runs the non-VMM ops, which take {small:.1f}% of "
            f"the summed op latency of a gpt2-small token at 1 GHz (cycle fidelity; slowing them "
            f"10× would add about 9 × that, {9 * small:.0f}%, if none of it overlapped){xl}; the "
            f"paper reports non-VMM work as {NON_VMM_PCT:g}% of GPT3-XL latency, so its ASIC is "
            "relatively faster or better overlapped than this config models.")
    scaling = next((r for r in rows if r.metric.startswith("speedup ") and "channels" in r.metric),
                   None)
    if scaling is not None and scaling.within_band is False:
        fixed = 2 / scaling.archsim - 1          # Amdahl: 1/g = f + (1 − f)/2
        gaps.append(
            f"Doubling the channels gives {scaling.archsim:.2f}×, below 0.8 × linear: by Amdahl's "
            f"law about {fixed:.0%} of the token does not scale with the PIM banks (ASIC-side "
            "work and the per-token fixed costs), the same excess the clock sweep shows; the "
            "paper's near-linear scaling implies that share is small there.")
    for row in rows:
        if row.metric.startswith("channel scaling") and row.within_band is False:
            share = 2 / row.archsim - 1
            gaps.append(
                f"{row.metric}: {row.archsim:.2f}×, below 0.8 × linear (1.64× before the engine "
                "timed on-chip SRAM ports, issue #18; pim-gpt's vector ops now wait on its "
                "asic_sram, whose 64 B/cycle is an assumption): by Amdahl about "
                f"{share:.0%} of the token does not scale with the channels, and the system's "
                "overlap hides it only while the PIM banks are busy.")
    what_if = diag.get("what_if") or []
    if len(what_if) == 3 and (clock is not None or scaling is not None):
        width, cost, gain = what_if
        reached = not str(width.archsim).startswith(">")
        gaps.append(
            f"What-if on the ASIC's width (not published; the shipped config keeps its assumed "
            f"one): {'at' if reached else 'even at'} {str(width.archsim).lstrip('> ')}"
            + (f", where {XL_PROXY}'s non-VMM share falls to the paper's {NON_VMM_PCT:g}%,"
               if reached else f" {XL_PROXY}'s non-VMM share stays above the paper's "
               f"{NON_VMM_PCT:g}% ({width.note.split(':')[0].removeprefix('still ')}),")
            + f" the clock ÷10 would cost {cost.archsim:.0f}% and doubling the channels would "
            f"give {gain.archsim:.2f}×"
            + ("." if reached else "; the paper's ASIC must also overlap its non-VMM work with "
               "the PIM banks' or keep it off the DRAM, which this config does not model."))
    return gaps
