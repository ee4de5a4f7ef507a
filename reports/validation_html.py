"""The validation report as one self-contained, offline HTML page: a summary of every reproduction
study, a plotly chart of archsim ÷ published per checked row against its band (log scale), and the
full tables with assumptions and gaps. Input is the JSON form of the study results (a list of dicts
as `archsim.studies.study.as_dict` writes them), so this module depends on nothing but plotly."""
from __future__ import annotations

import html
import math
from pathlib import Path

import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

__all__ = ["render_validation_html", "write_validation_html", "ratio_figure"]

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px auto;max-width:1200px;
color:#222;padding:0 16px} h1{font-size:1.5em} h2{font-size:1.15em;margin-top:28px}
table{border-collapse:collapse;margin:8px 0 16px;font-size:.9em} th,td{border:1px solid #ddd;
padding:3px 7px;text-align:left} td.num{text-align:right} th{background:#f4f6f8}
.ok{color:#1b7f3b;font-weight:600} .bad{color:#b00020;font-weight:600} .wait{color:#8a6d00;font-weight:600}
ul{margin-top:2px} footer{color:#777;font-size:.85em;margin-top:32px}
"""
_STATUS_CLASS = {"ok": "ok", "partial": "wait", "not-run": "wait", "out-of-band": "bad", "error": "bad"}


def _esc(text) -> str:
    return html.escape(str(text), quote=True)


def _fmt(x) -> str:
    if x is None:
        return "—"
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, str):
        return x
    if float(x).is_integer() and abs(x) < 1e15:
        return f"{int(x):,}"
    if x != 0 and (abs(x) >= 1e7 or abs(x) < 1e-3):
        return f"{x:.4g}"
    return f"{x:,.4g}" if abs(x) < 1000 else f"{x:,.0f}"


def ratio_figure(studies: list[dict]) -> go.Figure:
    """archsim ÷ published for every checked numeric row, one marker per row, with its band as an
    error bar; green inside, red outside."""
    fig = go.Figure()
    symbols = ("circle", "square", "diamond", "triangle-up", "cross", "x", "star", "hexagon")
    for i, s in enumerate(studies):
        rows = [r for r in s["rows"] if r["band"] and isinstance(r["ratio"], (int, float))
                and math.isfinite(r["ratio"]) and r["ratio"] > 0]
        if not rows:
            continue
        ratios = [r["ratio"] for r in rows]
        lo = [r["band"][0] for r in rows]
        hi = [r["band"][1] for r in rows]
        fig.add_trace(go.Scatter(
            x=[f"{s['name']}: {r['metric']}" for r in rows], y=ratios, mode="markers",
            name=s["name"],
            marker=dict(size=9, symbol=symbols[i % len(symbols)],
                        color=["#1b7f3b" if r["within_band"] else "#b00020" for r in rows],
                        line=dict(width=1, color="#333")),
            error_y=dict(type="data", symmetric=False,
                         array=[max(h - v, 0) for h, v in zip(hi, ratios)],
                         arrayminus=[max(v - low, 0) for low, v in zip(lo, ratios)],
                         color="#999", thickness=1),
            hovertemplate="%{x}<br>archsim ÷ published = %{y:.3f}<extra></extra>"))
    fig.add_hline(y=1.0, line_dash="dot", line_color="#555")
    fig.update_layout(title="archsim ÷ published per checked row — green inside its band, red "
                            "outside; whiskers reach the band edges; one symbol per study",
                      yaxis=dict(type="log", title="ratio"), xaxis=dict(showticklabels=False),
                      height=420, margin=dict(l=60, r=20, t=50, b=30), legend_title="study")
    return fig


def _rows_table(rows: list[dict]) -> str:
    head = "".join(f"<th>{h}</th>" for h in
                   ("metric", "published", "archsim", "ratio", "band", "in band", "note"))
    body = []
    for r in rows:
        mark = {True: '<span class="ok">yes</span>', False: '<span class="bad">NO</span>',
                None: "—"}[r["within_band"]]
        unit = f" {_esc(r['unit'])}" if r.get("unit") else ""
        ratio = "—" if not isinstance(r["ratio"], (int, float)) else f"{r['ratio']:.3f}"
        body.append(
            f"<tr><td>{_esc(r['metric'])}</td><td class=\"num\">{_esc(_fmt(r['published']))}</td>"
            f"<td class=\"num\">{_esc(_fmt(r['archsim']))}{unit}</td><td class=\"num\">{ratio}</td>"
            f"<td>{_esc(r['band_text'])}</td><td>{mark}</td><td>{_esc(r['note'])}</td></tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _list(title: str, items) -> str:
    if not items:
        return ""
    return f"<p><b>{title}</b></p><ul>" + "".join(f"<li>{_esc(i)}</li>" for i in items) + "</ul>"


def render_validation_html(studies: list[dict], title: str = "archsim validation report") -> str:
    summary = ["<table id=\"summary\"><thead><tr><th>study</th><th>status</th><th>checked</th>"
               "<th>outside band</th></tr></thead><tbody>"]
    for s in studies:
        checked = sum(r["within_band"] is not None for r in s["rows"])
        failed = sum(r["within_band"] is False for r in s["rows"])
        cls = _STATUS_CLASS.get(s["status"], "")
        summary.append(f"<tr><td><a href=\"#study-{_esc(s['name'])}\">{_esc(s['name'])}</a></td>"
                       f"<td class=\"{cls}\">{_esc(s['status'])}</td><td class=\"num\">{checked}</td>"
                       f"<td class=\"num\">{failed}</td></tr>")
    summary.append("</tbody></table>")
    fig = ratio_figure(studies)
    chart = fig.to_html(full_html=False, include_plotlyjs=False, div_id="ratio-chart",
                        config={"responsive": True, "displaylogo": False})
    sections = []
    for s in studies:
        cls = _STATUS_CLASS.get(s["status"], "")
        parts = [f"<section id=\"study-{_esc(s['name'])}\" class=\"study\">",
                 f"<h2>{_esc(s['name'])}: {_esc(s['title'])} — <span class=\"{cls}\">"
                 f"{_esc(s['status'])}</span></h2>", f"<p>Source: {_esc(s['source'])}</p>"]
        if s.get("reason"):
            parts.append(f"<p class=\"{cls}\">{_esc(s['reason'])}</p>")
        if s["rows"]:
            parts.append(_rows_table(s["rows"]))
        parts += [_list("Not run yet", s.get("missing", ())), _list("Gaps", s.get("gaps", ())),
                  _list("Assumptions", s.get("assumptions", ())), "</section>"]
        sections.append("\n".join(p for p in parts if p))
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<title>{_esc(title)}</title>\n<style>{_CSS}</style>\n"
        f"<script type=\"text/javascript\">{get_plotlyjs()}</script>\n</head>\n<body>\n"
        f"<h1>{_esc(title)}</h1>\n<p>Published vs archsim for every reproduction study; ratio = "
        "archsim ÷ published; a row outside its band is shown, never tuned away.</p>\n"
        + "".join(summary) + "\n" + chart + "\n" + "\n".join(sections)
        + "\n<footer>archsim · self-contained report, works offline</footer>\n</body>\n</html>\n")


def write_validation_html(studies: list[dict], path) -> Path:
    path = Path(path)
    path.write_text(render_validation_html(studies), encoding="utf-8")
    return path
