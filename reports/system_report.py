"""A system run (`archsim.system.SystemResult`) as a terminal table, JSON and HTML sections: per
device (busy time, utilisation, energy, off-chip bytes), per link direction (bytes, busy time,
energy), which resource bounds the token, and a timeline with one lane per device and link."""
from __future__ import annotations

from archsim.system.result import SystemResult, as_sim_result

from .table import format_bytes, grid, si

__all__ = ["system_text", "system_dict", "system_timeline_figure", "system_table_rows"]


def system_table_rows(r: SystemResult) -> tuple[list[str], list[list[str]]]:
    header = ["resource", "chip / kind", "busy", "utilisation", "energy", "bytes"]
    rows = [[d.name, d.chip, si(d.busy_s, "s"), f"{100 * d.utilization:.1f} %", si(d.energy_j, "J"),
             format_bytes(d.offchip_bytes) + " off-chip"] for d in r.devices]
    rows += [[lk.name, f"link, {lk.transfers} transfers", si(lk.busy_s, "s"),
              f"{100 * lk.utilization:.1f} %", si(lk.energy_j, "J"), format_bytes(lk.bytes)]
             for lk in r.links]
    rows += [[f"memory:{m.name}", f"shared by {', '.join(m.devices)}; {m.switches} mode changes",
              si(m.busy_s, "s"), f"{100 * m.utilization:.1f} %", "",
              f"host {si(m.host_s, 's')}, PIM {si(m.pim_s, 's')}"] for m in r.memories]
    return header, rows


def system_text(r: SystemResult) -> str:
    """The single-chip summary of the whole system, then the device and link table."""
    from .table import render_summary
    header, rows = system_table_rows(r)
    head = (f"system {r.system}: placement '{r.placement}', {r.sub_batches} sub-batch(es)"
            f"{f', ops in {r.stream_chunks} slices' if r.stream_chunks > 1 else ''}"
            f"{'' if r.layer_pipelining else ', no layer pipelining'}"
            f"{'' if r.overlap else ', no overlap'}, {r.shards} shard(s); the token is bound by "
            f"{r.bound_by}\n")
    searched = "".join(f"  tried '{p}': {si(t, 's')}\n" for p, t in r.searched)
    return render_summary(as_sim_result(r)) + "\n" + head + grid(header, rows, right={2, 3, 4, 5}) + \
        "\n" + searched


def system_dict(r: SystemResult) -> dict:
    """The `system` block of a system run's JSON (next to the single-chip fields)."""
    return {
        "name": r.system, "placement": r.placement, "sub_batches": r.sub_batches,
        "layer_pipelining": r.layer_pipelining, "overlap": r.overlap, "shards": r.shards,
        "stream_chunks": r.stream_chunks,
        "bound_by": r.bound_by,
        "devices": [{"name": d.name, "chip": d.chip, "ops": d.ops, "busy_s": d.busy_s,
                     "utilization": d.utilization, "energy_j": d.energy_j,
                     "energy_breakdown_j": dict(d.energy_breakdown_j),
                     "offchip_bytes": d.offchip_bytes,
                     "analytic_vs_cycle_gap": [res.analytic_vs_cycle_gap for res in d.results]}
                    for d in r.devices],
        "links": [{"name": lk.name, "bytes": lk.bytes, "busy_s": lk.busy_s,
                   "utilization": lk.utilization, "energy_j": lk.energy_j, "transfers": lk.transfers}
                  for lk in r.links],
        "memories": [{"name": m.name, "devices": list(m.devices), "busy_s": m.busy_s,
                      "utilization": m.utilization, "host_s": m.host_s, "pim_s": m.pim_s,
                      "switches": m.switches, "switch_s": m.switch_s} for m in r.memories],
        "searched": [{"placement": p, "latency_s": t} for p, t in r.searched],
    }


def system_timeline_figure(r: SystemResult, max_spans: int = 6000):
    """Gantt chart with one lane per device and link direction; bars coloured by op kind."""
    import plotly.graph_objects as go
    from .figures import _kind_colors, _layout, _HEIGHT, esc
    spans = sorted(r.spans, key=lambda s: (s.start_s, s.name))[:max_spans]
    kinds = sorted({s.kind for s in spans})
    lanes = [d.name for d in r.devices] + sorted({s.resource for s in spans} - {d.name for d in r.devices})
    colors = _kind_colors(kinds)
    fig = go.Figure()
    for kind in kinds:
        sel = [s for s in spans if s.kind == kind]
        fig.add_bar(base=[s.start_s for s in sel], x=[s.finish_s - s.start_s for s in sel],
                    y=[esc(s.resource) for s in sel], orientation="h", name=esc(kind),
                    marker_color=colors[kind],
                    text=[esc(f"{s.name} (sub-batch {s.sub_batch})") for s in sel], textposition="none",
                    customdata=[s.start_s for s in sel],
                    hovertemplate="%{text}<br>start %{customdata:.3g} s, %{x:.3g} s<extra></extra>")
    busy = ", ".join(f"{esc(d.name)} {100 * d.utilization:.0f} %" for d in r.devices)
    return _layout(fig, f"Devices and links over one step (busy: {busy}; bound by {esc(r.bound_by)})",
                   barmode="overlay", xaxis_title="time (s)",
                   yaxis=dict(categoryorder="array", categoryarray=[esc(x) for x in lanes][::-1],
                              title="device or link"),
                   height=max(_HEIGHT, 40 * len(lanes) + 160))
