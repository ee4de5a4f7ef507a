"""Terminal tables: a concise summary of one simulation, a sweep, or a comparison. Plain text, fixed
column widths, SI prefixes with the unit written out; nothing here prints — callers do."""
from __future__ import annotations

import re

from archsim.comparison import Comparison, Sweep
from archsim.errors import printable
from archsim.result import ADDITIVE_GAP_EFFECTS, RUN_GAP_PARTS, SimResult

__all__ = ["si", "format_bytes", "grid", "misfit_reason", "used_share", "render_summary",
           "render_sweep", "render_comparison", "render_text"]

_PREFIXES = ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"), (1.0, ""), (1e-3, "m"), (1e-6, "µ"),
             (1e-9, "n"), (1e-12, "p"))


def si(value: float | None, unit: str, digits: int = 3) -> str:
    """`si(0.0123, "s")` → '12.3 ms'. None → '–'."""
    if value is None:
        return "–"
    if value == 0:
        return f"0 {unit}"
    mag = abs(value)
    for scale, prefix in _PREFIXES:
        if mag >= scale * 0.9995:
            return f"{value / scale:.{digits}g} {prefix}{unit}"
    scale, prefix = _PREFIXES[-1]
    return f"{value / scale:.{digits}g} {prefix}{unit}"


def format_bytes(n: int | None) -> str:
    """Binary prefixes: 1536 → '1.5 KiB'."""
    if n is None:
        return "–"
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(value) < 1024 or unit == "TiB":
            return f"{value:.4g} {unit}" if unit != "B" else f"{int(value)} B"
        value /= 1024
    return f"{n} B"


def used_share(peak_bytes: int, capacity_bytes: int) -> str:
    """'42.0 %' of capacity; far over capacity as a multiple ('1.3e+05× capacity')."""
    if not capacity_bytes:
        return "–"
    share = peak_bytes / capacity_bytes
    return f"{100 * share:.1f} %" if share < 10 else f"{share:.3g}× capacity"


_RAW_BYTES = re.compile(r"\b(\d{5,}) B\b")


def misfit_reason(r: SimResult) -> str:
    """Why a result does not fit, without a leading 'does not fit:' (callers add their own). Byte
    counts of 10,000 and more are shown with binary prefixes ('13476831232 B' → '12.55 GiB')."""
    text = (r.does_not_fit or "the workload exceeds a memory level").strip()
    text = text[len("does not fit:"):].strip() if text.lower().startswith("does not fit:") else text
    return _RAW_BYTES.sub(lambda m: format_bytes(int(m.group(1))), text)


def _ratio(x: float | None) -> str:
    return "–" if x is None else f"{x:.3g}×"


def grid(header: list[str], rows: list[list[str]], right: set[int] | None = None) -> str:
    """Columns padded to their widest cell; columns in `right` are right-aligned."""
    right = right or set()
    header = [printable(str(c)) for c in header]        # names come from files: no raw escapes
    rows = [[printable(str(c)) for c in r] for r in rows]
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows)]

    def line(cells):
        out = []
        for i, (c, w) in enumerate(zip(cells, widths)):
            out.append(str(c).rjust(w) if i in right else str(c).ljust(w))
        return "  ".join(out).rstrip()

    return "\n".join([line(header), line(["-" * w for w in widths])] + [line(r) for r in rows])


def _unit_word(r: SimResult) -> str:
    return "token" if r.phase in ("prefill", "decode") else "inference"


def _workload(r: SimResult) -> str:
    parts = [r.phase, f"batch {r.batch}"]
    if r.devices > 1:
        parts.insert(0, f"{r.devices} devices, tensor parallel")
    if r.seq:
        parts.append(f"seq {r.seq}")
    if r.phase == "decode" and r.context:
        parts.append(f"context {r.context}")
    if r.dtype:
        parts.append(r.dtype)
    parts.append(fidelity_label(r))
    return " · ".join(parts)


#: short names of the gap effects (archsim.result.GAP_EFFECTS, RUN_GAP_PARTS) in tables
GAP_LABELS = {"op_overlap_s": "op overlap", "sram_port_stall_s": "SRAM port stalls",
              "load_wait_s": "load waits", "dram_refresh_s": "refresh",
              "dram_turnaround_s": "turnaround", "dram_row_activation_s": "row activation",
              "dram_access_latency_s": "DRAM access latency",
              "noc_stall_s": "NoC stalls", "pim_issue_s": "PIM issue", "noc_s": "NoC",
              "port_wait_s": "port waits on the path",
              "pipeline_fill_s": "pipeline fill/drain",
              "analytic_fill_s": "analytic fill allowance", "other_s": "other"}


#: `other_s`'s label in a run without `attribute_gap`, where it also holds the ops' overlap
OTHER_WITH_OVERLAP = "other (incl. op overlap: --attribute-gap separates it)"


def other_label(r) -> str:
    """The label of a result's `other_s`: it holds the ops' overlap unless the run measured it."""
    return GAP_LABELS["other_s"] if getattr(r, "attribute_gap", True) else OTHER_WITH_OVERLAP


def gap_parts(parts, other: str = GAP_LABELS["other_s"]) -> str:
    """'op overlap −190 µs · SRAM port stalls +104 µs · …': the non-zero parts of a gap; `other`
    labels `other_s` (`other_label`)."""
    return " · ".join(f"{other if k == 'other_s' else GAP_LABELS.get(k, k)} "
                      f"{'+' if v > 0 else '−'}{si(abs(v), 's')}" for k, v in parts if v)


def op_gap(op, freq_hz: float, other: str = GAP_LABELS["other_s"]) -> str:
    """An op's exclusive − analytic time (its share of the run's cycles, `OpResult.exclusive_cycles`;
    its span where that is unknown) and its named parts (the symptoms left out); `other` labels
    `other_s` (`other_label`)."""
    cycles = op.exclusive_cycles if op.exclusive_cycles >= 0 else op.cycles
    gap = (cycles - op.analytic_cycles) / freq_hz
    parts = [(k, v) for k, v in op.gap_effects.items()           # the parts worth a glance
             if k in ADDITIVE_GAP_EFFECTS + ("other_s",) and abs(v) >= 0.01 * abs(gap)]
    head = f"{'+' if gap >= 0 else '−'}{si(abs(gap), 's')}"
    return head + (f": {gap_parts(parts, other)}" if parts else "")


def fidelity_label(r: SimResult) -> str:
    """What the run's fidelity resolved, in a few words (README: "What each fidelity resolves")."""
    if r.fidelity != "cycle":
        return f"{r.fidelity} fidelity"
    if r.hw_kind == "gpu":
        return "cycle fidelity (the calibrated kernel model: same as analytic)"
    return "cycle fidelity (tile events: DRAM commands, SRAM ports, double buffers)"


def _levels(r: SimResult) -> str:
    rows = []
    for lv in r.levels:
        share = used_share(lv.peak_buffer_bytes, lv.capacity_bytes)
        flag = "" if lv.peak_buffer_bytes <= lv.capacity_bytes else "OVER CAPACITY"
        rows.append([lv.level, format_bytes(lv.peak_buffer_bytes), format_bytes(lv.capacity_bytes),
                     share, flag])
    return grid(["level", "peak", "capacity", "used", ""], rows, right={1, 2, 3})


def render_summary(r: SimResult, top: int = 8) -> str:
    unit = _unit_word(r)
    lines = [f"{r.model} on {r.hw} ({r.hw_kind}) · {_workload(r)}"]
    if not r.fits:
        lines.append(f"  DOES NOT FIT: {misfit_reason(r)}")
        if r.levels:
            lines += ["", _levels(r)]
        lines += [f"note: {note}" for note in r.notes]
        return "\n".join(lines) + "\n"
    per_token = r.energy_j / r.tokens if r.tokens else None
    lines += [
        f"  latency        {si(r.latency_s, 's'):>12}   ({r.cycles:,} cycles)",
        f"  throughput     {si(r.throughput_per_s, unit + 's/s'):>12}",
        f"  energy         {si(r.energy_j, 'J'):>12}   ({si(per_token, 'J')} per {unit})",
        f"  average power  {si(r.avg_power_w, 'W'):>12}   (peak {si(r.peak_power_w, 'W')}"
        + (f", {r.avg_power_w / r.power_budget_w:.0%} of the {si(r.power_budget_w, 'W')} budget)"
           if r.power_budget_w > 0 else ")"),
    ]
    share = r.energy_share()
    if r.energy_j > 0:
        lines.append(f"  energy share   static {share['static']:.0%} · active floor {share['active']:.0%} · "
                     f"dynamic {share['dynamic']:.0%}")
    if r.analytic_vs_cycle_gap is not None:
        lines.append(f"  cycle vs analytic gap {100 * r.analytic_vs_cycle_gap:+.1f} %")
        if r.gap_attribution:
            lines.append("    by effect: " + gap_parts(r.gap_attribution, other_label(r)))
    if r.energy_breakdown_j and r.energy_j > 0:
        parts = sorted(r.energy_breakdown_j, key=lambda kv: -kv[1])
        lines.append("  energy by component: " + ", ".join(
            f"{k} {100 * v / r.energy_j:.1f} %" for k, v in parts if v > 0))
    if r.levels:
        lines += ["", _levels(r)]
    if r.ops:
        ranked = sorted(r.ops, key=lambda op: (-op.latency_s, op.name))[:top]
        total = sum(op.latency_s for op in r.ops) or 1.0
        rows = [[op.name, op.kind, op.unit, si(op.latency_s, "s"), f"{100 * op.latency_s / total:.1f} %",
                 op.bound] for op in ranked]
        header = ["op", "kind", "unit", "latency", "share", "bound"]
        if r.fidelity == "cycle" and r.gap_attribution:
            header.append("gap vs analytic (named effects)")
            for row, op in zip(rows, ranked):
                row.append(op_gap(op, r.freq_hz, other_label(r)))
        lines += ["", f"top {len(ranked)} of {len(r.ops)} ops by time",
                  grid(header, rows, right={3, 4})]
    for note in r.notes:
        lines.append(f"note: {note}")
    if r.sim_wall_s > 0:
        lines.append(f"simulated in {r.sim_wall_s:.2f} s wall time")
    return "\n".join(lines) + "\n"


def render_sweep(s: Sweep) -> str:
    rows = []
    for r in s.results:
        unit = _unit_word(r)
        if r.fits:
            rows.append([str(r.batch), str(r.context or r.seq), si(r.latency_s, "s"),
                         si(r.throughput_per_s, unit + "s/s"), si(r.energy_j / r.tokens, "J"),
                         si(r.avg_power_w, "W"), "yes"])
        else:
            rows.append([str(r.batch), str(r.context or r.seq), "–", "–", "–", "–",
                         f"no: {misfit_reason(r)}"])
    first = s.results[0] if s.results else None
    head = f"{s.model} on {s.hw} · sweep over {', '.join(s.parameters)}"
    if first is not None:
        head += f" · {first.phase} · {first.fidelity} fidelity"
    per = _unit_word(first) if first is not None else "token"
    length = "context" if first is not None and first.phase == "decode" else "seq"
    return head + "\n" + grid(["batch", length, "latency", "throughput", f"energy/{per}", "power",
                               "fits"], rows, right={0, 1, 2, 3, 4, 5}) + "\n"


def signed_s(v: float) -> str:
    """'+3.60 µs', '−190 ns', '0' for a part of a gap in seconds."""
    return f"{'+' if v > 0 else '−'}{si(abs(v), 's')}" if v else "0"


def comparison_gap(c: Comparison) -> tuple[list[str], list[list[str]]]:
    """(header, rows) of the chips' analytic-vs-cycle gaps by part (`RUN_GAP_PARTS`; parts zero on
    every chip left out, `other` always shown), one row per chip that ran at cycle fidelity; no
    rows when none did."""
    ran = [row.result for row in c.rows if row.result.fits and row.result.gap_attribution]
    if not ran:
        return [], []
    parts = [k for k in RUN_GAP_PARTS
             if k == "other_s" or any(dict(r.gap_attribution).get(k, 0.0) for r in ran)]
    plain = not all(r.attribute_gap for r in ran)
    header = ["hw", "gap"] + [OTHER_WITH_OVERLAP if k == "other_s" and plain else GAP_LABELS.get(k, k)
                              for k in parts]
    rows = []
    for r in ran:
        gap = "–" if r.analytic_vs_cycle_gap is None else f"{100 * r.analytic_vs_cycle_gap:+.1f} %"
        values = dict(r.gap_attribution)
        rows.append([r.hw, gap] + [signed_s(values.get(k, 0.0)) for k in parts])
    return header, rows


def render_comparison(c: Comparison) -> str:
    rows, misfits = [], []
    for row in c.rows:
        r = row.result
        name = r.hw + (" (baseline)" if r.hw == c.baseline else "") + (" *" if row.fallbacks else "")
        if not r.fits:
            rows.append([name, r.hw_kind, "does not fit"] + ["–"] * 10)
            misfits.append(f"  {r.hw}: {misfit_reason(r)}")
            continue
        unit = _unit_word(r)
        budget = f"{r.avg_power_w / r.power_budget_w:.0%}" if r.power_budget_w > 0 else "–"
        rows.append([name, r.hw_kind, si(r.latency_s, "s"), si(r.throughput_per_s, unit + "s/s"),
                     si(r.energy_j / r.tokens if r.tokens else None, "J"), si(r.avg_power_w, "W"),
                     si(r.peak_power_w, "W"), budget, f"{r.energy_share()['static']:.0%}",
                     _ratio(row.speedup), _ratio(row.energy_efficiency),
                     _ratio(row.perf_per_w_vs_baseline), _ratio(row.perf_per_mm2_vs_baseline)])
    per = _unit_word(c.rows[0].result) if c.rows else "token"
    lines = [f"{c.model}: comparison normalised to {c.baseline}",
             grid(["hw", "kind", "latency", "throughput", f"energy/{per}", "power", "peak", "of budget",
                   "static", "speedup", "energy eff.", "perf/W", "perf/mm²"], rows, right=set(range(2, 13)))]
    if misfits:
        lines += ["", "does not fit:"] + misfits
    gap_header, gap_rows = comparison_gap(c)
    if gap_rows:
        lines += ["", "cycle vs analytic gap by part (the parts add up to cycle − analytic latency):",
                  grid(gap_header, gap_rows, right=set(range(1, len(gap_header))))]
    lines += ["", "assumptions: " + "; ".join(f"{k} {v}" for k, v in c.assumptions)]
    if any(row.fallbacks for row in c.rows):
        lines += ["* ran ops on a fallback unit or at another dtype's rate (see the notes)"]
    lines += [f"note: {n}" for n in c.notes]
    return "\n".join(lines) + "\n"


def render_text(obj) -> str:
    from archsim.system.result import SystemResult
    if isinstance(obj, SystemResult):
        from .system_report import system_text
        return system_text(obj)
    if isinstance(obj, SimResult):
        return render_summary(obj)
    if isinstance(obj, Sweep):
        return render_sweep(obj)
    if isinstance(obj, Comparison):
        return render_comparison(obj)
    raise TypeError(f"cannot render {type(obj).__name__} as a table")
