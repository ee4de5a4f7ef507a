"""The source lists that key cached results (co-search studies, serving step tables, the mapping
cache) name files that exist: a pattern matching nothing (`archsim/energy*.py` after the energy
code became the package `archsim/energy/`) silently drops that code from the key, so an edit there
reuses results computed by the old code."""
import pytest

from archsim.cosearch.fingerprint import EVALUATION_SOURCES
from archsim.fingerprint import ROOT, _files
from archsim.mapper.persistent_cache import MAPPER_SOURCES


@pytest.mark.parametrize("pattern", sorted(set(EVALUATION_SOURCES) | set(MAPPER_SOURCES)))
def test_every_source_pattern_matches_code(pattern):
    assert _files(ROOT, (pattern,)), f"{pattern!r} matches no source file under {ROOT}"


def test_the_energy_model_keys_both():
    energy = {key for key, _ in _files(ROOT, ("archsim/energy",))}
    assert "archsim/energy/power.py" in energy
    for sources in (EVALUATION_SOURCES, MAPPER_SOURCES):
        keyed = {key for key, _ in _files(ROOT, sources)}
        assert energy <= keyed
