"""Where a study row's archsim figure comes from, checked: an `engine` (or `by-construction`) row
carries the `archsim.simulate`/`compare` results it was computed from, and recomputing the figure
from them gives the row's value; a `mapper` row carries the mapper's reports; an `arithmetic` row
says why the simulator is not asked. Used by test_study_bands on every study's real rows."""
from __future__ import annotations

from archsim.comparison import Comparison
from archsim.result import SimResult
from archsim.studies.study import BASES, Row
from archsim.system.result import SystemResult

_SIM = (SimResult, Comparison, SystemResult)


def _as_row_value(value):
    if isinstance(value, bool):
        return "fits" if value else "does not fit"
    if isinstance(value, (int, float)):
        return float(value)
    return value


def check_row(row: Row, study: str) -> None:
    where = f"{study}: {row.metric!r}"
    if row.archsim is None:
        return
    assert row.basis in BASES, f"{where}: says nowhere where its figure comes from (basis {row.basis!r})"
    if row.basis == "arithmetic":
        assert row.why and not row.results, f"{where}: an arithmetic row must say why, and carry no results"
        return
    assert row.results and row.derive is not None, f"{where}: carries no results to recompute from"
    if row.basis == "mapper":
        assert all(type(r).__module__.startswith("archsim.mapper") for r in row.results), where
    else:
        assert all(isinstance(r, _SIM) for r in row.results), \
            f"{where}: results are not archsim.simulate/compare results"
        assert all(r.ops or not r.fits for r in row.results if isinstance(r, SimResult)), where
    again = _as_row_value(row.derive(*row.results))
    assert again == row.archsim, f"{where}: recomputed {again!r} from its results, row says {row.archsim!r}"


def check_study(res) -> None:
    for row in res.rows:
        check_row(row, res.name)
