"""What a reproduction study returns: rows of published vs archsim numbers, each with its agreement
band, plus the assumptions the study had to make where the paper leaves a setting open.

A row's `band` bounds the ratio archsim / published. Three row shapes exist:
- a numeric comparison (`compare`): ratio and band are set, `within_band` says whether ratio ∈ band;
- a categorical check (`match`): e.g. fit / no-fit; `within_band` is published == archsim;
- an informational row (`info`): nothing published to check against; `within_band` is None.

Every row also says where its archsim figure comes from (`basis`, one of `BASES`): an `engine` row
is computed from `archsim.simulate`/`compare` results and carries them with the function that
derives the figure from them (`Measured`, made by `measured`), so a test recomputes every engine
figure from the result objects; an `arithmetic` row is a formula in the study, and its `why`
says why the simulator is not asked.
"""
from __future__ import annotations

from dataclasses import dataclass
import math
from typing import Callable

__all__ = [
    "Row", "StudyResult", "NotReady", "STATUSES", "compare", "match", "info", "finish",
    "not_run", "as_dict", "format_value", "FACTOR_1_5", "EXACT", "ONE_PERCENT", "energy_share_row",
    "BASES", "Measured", "measured", "Arithmetic", "arithmetic",
]

#: where a row's archsim figure comes from
BASES = {
    "engine": "computed from archsim.simulate/compare results (the row carries them)",
    "by-construction": "engine results, but the engine implements the reference's own formula, "
                       "so agreement is by construction, not an independent check",
    "mapper": "computed from the mapper's result objects (e.g. the MCU memory plan), not timed",
    "arithmetic": "a formula in the study, not the simulator",
}

#: ok: every checked row is inside its band; partial: those that ran are, but part of the study
#: waits for a pipeline stage; out-of-band: at least one row is outside its band (reported, never
#: hidden); not-run: a dependency has not landed; error: the pipeline raised an archsim error.
STATUSES = ("ok", "partial", "out-of-band", "not-run", "error")

FACTOR_1_5 = (1 / 1.5, 1.5)
EXACT = (1.0, 1.0)
ONE_PERCENT = (0.99, 1.01)


class NotReady(Exception):
    """A study cannot run yet because a pipeline stage (module, function, zoo model, hardware
    config) it needs does not exist. Carries what it is waiting for."""

    def __init__(self, waiting_for: str):
        self.waiting_for = waiting_for
        super().__init__(f"waiting for {waiting_for}")


@dataclass(frozen=True, slots=True)
class Measured:
    """An archsim figure and its provenance: `value` is `derive(*results)`, the `results` being the
    `SimResult`s (or `Comparison`s, or for basis `mapper` the mapper's reports) the pipeline
    returned."""
    value: float | str | bool
    results: tuple
    derive: Callable
    basis: str = "engine"


def measured(derive: Callable, *results, basis: str = "engine") -> Measured:
    """The figure `derive(*results)` computed from pipeline results, kept with them; `basis` is
    `engine`, `by-construction` or `mapper` (see BASES)."""
    if not results:
        raise ValueError("a measured figure needs the pipeline results it is computed from")
    if basis not in BASES or basis == "arithmetic":
        raise ValueError(f"basis must be one of engine, by-construction, mapper (got {basis!r})")
    return Measured(derive(*results), tuple(results), derive, basis)


@dataclass(frozen=True, slots=True)
class Arithmetic:
    """A figure a study computes by a formula of its own, and why the simulator is not asked."""
    value: float | str | bool
    why: str


def arithmetic(value, why: str) -> Arithmetic:
    if not why:
        raise ValueError("an arithmetic figure must say why the simulator is not asked")
    return Arithmetic(value, why)


def _provenance(archsim) -> tuple[object, dict]:
    """(the bare figure, the Row fields saying where it comes from)."""
    if isinstance(archsim, Measured):
        return archsim.value, {"basis": archsim.basis, "results": archsim.results,
                               "derive": archsim.derive}
    if isinstance(archsim, Arithmetic):
        return archsim.value, {"basis": "arithmetic", "why": archsim.why}
    return archsim, {}


@dataclass(frozen=True, slots=True)
class Row:
    metric: str
    published: float | str | None
    archsim: float | str | None
    ratio: float | None
    band: tuple[float, float] | None     # accepted range of archsim / published
    within_band: bool | None             # None: informational, nothing published to check
    note: str = ""
    unit: str = ""
    basis: str = ""                      # a key of BASES ("": not stated)
    why: str = ""                        # arithmetic rows: why the simulator is not asked
    results: tuple = ()                  # engine rows: the simulator results the figure comes from
    derive: Callable | None = None       # engine rows: results → the figure (`Measured`)

    @property
    def band_text(self) -> str:
        if self.band is None:
            return "match" if self.within_band is not None else "—"
        lo, hi = self.band
        if lo == hi == 1.0:
            return "exact"
        if hi >= 1.1 and math.isclose(lo * hi, 1.0, rel_tol=1e-9):
            return f"×{hi:g}"
        if math.isclose(1 - lo, hi - 1, rel_tol=1e-6):
            return f"±{(hi - 1) * 100:.3g}%"
        return f"[{lo:g}, {hi:g}]"


@dataclass(frozen=True, slots=True)
class StudyResult:
    name: str
    title: str
    source: str                       # the paper (and where its numbers were taken from)
    status: str                       # one of STATUSES
    rows: tuple[Row, ...] = ()
    assumptions: tuple[str, ...] = ()
    gaps: tuple[str, ...] = ()        # explanation of every out-of-band row (or known gap)
    reason: str = ""                  # for not-run / error
    missing: tuple[str, ...] = ()     # parts not run yet, each "part: waiting for X"
    wall_s: float = 0.0

    @property
    def checked(self) -> tuple[Row, ...]:
        return tuple(r for r in self.rows if r.within_band is not None)

    @property
    def failed(self) -> tuple[Row, ...]:
        return tuple(r for r in self.rows if r.within_band is False)


def _ratio(published, archsim) -> float | None:
    if not isinstance(published, (int, float)) or not isinstance(archsim, (int, float)):
        return None
    if published == 0:
        return 1.0 if archsim == 0 else math.inf
    return float(archsim) / float(published)


def compare(metric: str, published: float, archsim, band: tuple[float, float],
            unit: str = "", note: str = "") -> Row:
    """A numeric comparison; inside the band when lo ≤ archsim/published ≤ hi. The exact band
    (1, 1) demands equal values, not a ratio that rounds to 1. `archsim` is a number, a
    `Measured` (from simulator results) or an `Arithmetic` figure."""
    archsim, where = _provenance(archsim)
    ratio = _ratio(published, archsim)
    lo, hi = band
    if lo == hi == 1.0:
        ok = float(archsim) == float(published)
    else:
        ok = ratio is not None and lo * (1 - 1e-12) <= ratio <= hi * (1 + 1e-12)
    return Row(metric, float(published), float(archsim), ratio, band, bool(ok), note, unit, **where)


def match(metric: str, published: str | bool, archsim, note: str = "") -> Row:
    """A categorical check such as fit / no-fit."""
    archsim, where = _provenance(archsim)
    pub = _categorical(published)
    got = _categorical(archsim)
    return Row(metric, pub, got, None, None, pub == got, note, **where)


def info(metric: str, archsim, unit: str = "", note: str = "",
         published: float | str | None = None) -> Row:
    """A number archsim reports without a band (the paper gives none, or gives it only loosely)."""
    archsim, where = _provenance(archsim)
    value = float(archsim) if isinstance(archsim, (int, float)) and not isinstance(archsim, bool) \
        else archsim
    pub = float(published) if isinstance(published, (int, float)) else published
    return Row(metric, pub, value, _ratio(pub, value), None, None, note, unit, **where)


def energy_share_row(r) -> Row:
    """How much of a platform's energy is static (idle/leakage power, DRAM background), active floor
    and dynamic (per action), so a reader sees what drives an energy ratio."""
    share = r.energy_share()
    b = dict(r.energy_breakdown_j)
    top = max(((k, v) for k, v in b.items()), key=lambda kv: kv[1], default=("", 0.0))[0]
    return info(f"static share of energy on {r.hw}",
                measured(lambda x: x.energy_share()["static"] * 100, r), unit="%",
                note=f"static {share['static']:.0%} · active floor {share['active']:.0%} · dynamic "
                     f"{share['dynamic']:.0%}; largest component {top}")


def _categorical(value) -> str:
    if isinstance(value, bool):
        return "fits" if value else "does not fit"
    return str(value)


def finish(name: str, title: str, source: str, rows, assumptions=(), gaps=(),
           missing=()) -> StudyResult:
    rows = tuple(rows)
    if any(r.within_band is False for r in rows):
        status = "out-of-band"
    elif missing:
        status = "partial"
    else:
        status = "ok"
    return StudyResult(name=name, title=title, source=source, status=status, rows=rows,
                       assumptions=tuple(assumptions), gaps=tuple(gaps), missing=tuple(missing))


def not_run(name: str, title: str, source: str, status: str, reason: str,
            assumptions=()) -> StudyResult:
    return StudyResult(name=name, title=title, source=source, status=status, reason=reason,
                       assumptions=tuple(assumptions))


def _json_number(x):
    if isinstance(x, float) and not math.isfinite(x):
        return str(x)
    return x


def as_dict(result: StudyResult) -> dict:
    """A JSON-ready dict (deterministic: fixed key order, no wall time; non-finite floats as
    strings)."""
    return {
        "name": result.name, "title": result.title, "source": result.source,
        "status": result.status, "reason": result.reason, "missing": list(result.missing),
        "assumptions": list(result.assumptions), "gaps": list(result.gaps),
        "rows": [
            {"metric": r.metric, "unit": r.unit, "published": _json_number(r.published),
             "archsim": _json_number(r.archsim), "ratio": _json_number(r.ratio),
             "band": list(r.band) if r.band else None, "band_text": r.band_text,
             "within_band": r.within_band, "note": r.note, "basis": r.basis, "why": r.why}
            for r in result.rows
        ],
    }


def format_value(x) -> str:
    """Four significant digits, thousands kept readable; '—' for missing."""
    if x is None:
        return "—"
    if isinstance(x, str):
        return x
    if isinstance(x, bool):
        return "yes" if x else "no"
    if not math.isfinite(x):
        return str(x)
    if float(x).is_integer() and abs(x) < 1e15:
        return f"{int(x):,}"
    if x != 0 and (abs(x) >= 1e7 or abs(x) < 1e-3):
        return f"{x:.4g}"
    return f"{x:,.4g}" if abs(x) < 1000 else f"{x:,.0f}"
