"""The mutation benchmark's table (benchmarks/mutants/) stays runnable: every mutant's text occurs
exactly once in its file (else `benchmarks/mutation.py` reports it as no longer applying and it drops
out of the score unnoticed), ids are unique, every test it names exists, and EQUIVALENT names only
listed mutants. Text only: nothing is mutated or run here."""
from __future__ import annotations

from pathlib import Path

from benchmarks.mutants import EQUIVALENT, MUTANTS

ROOT = Path(__file__).resolve().parents[1]


def test_every_mutant_applies_exactly_once():
    bad = []
    for m in MUTANTS:
        path = ROOT / m.file
        count = path.read_text(encoding="utf-8").count(m.old) if path.is_file() else None
        if count != 1:
            bad.append(f"{m.id}: {m.file} has the text {count} times")
        elif m.old == m.new:
            bad.append(f"{m.id}: the replacement is the text itself")
    assert not bad, "\n".join(bad)


def test_ids_unique_and_tests_exist():
    ids = [m.id for m in MUTANTS]
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})
    missing = sorted({t for m in MUTANTS for t in m.tests if not (ROOT / t.split("::")[0]).is_file()})
    assert not missing, missing
    assert set(EQUIVALENT) <= set(ids), set(EQUIVALENT) - set(ids)
