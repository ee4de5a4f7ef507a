"""Leave-one-family-out really leaves the family out: a held-out family's predictions do not move
when its own measurements change (they would if it were in the training set), while the
in-sample fit does. Also the fit's memo (`calibration_fit._least_squares`) keys on the measured
times, not only on the labels: a refit of the same kernels with other times is a new fit."""
from __future__ import annotations

import functools
from dataclasses import replace

import pytest

from archsim.engine.calibration import cross_validate, h200_spec, load_measurements, predict_seconds
from archsim.engine.calibration_fit import fit_calibration

FAMILIES = {"llama7b o", "llama7b qkv", "gpt2-xl fc1", "prefill flash H32 D128", "decode flash H32 D128",
            "d768", "d4096"}
HELD = "llama7b o"


@functools.lru_cache(maxsize=None)
def _measurements():
    return tuple(m for m in load_measurements() if m.group in FAMILIES)


def _bent(factor: float):
    return [replace(m, measured_s=m.measured_s * factor) if m.group == HELD else m for m in _measurements()]


def test_the_fit_follows_the_measured_times():
    spec = h200_spec()
    base, bent = fit_calibration(list(_measurements()), spec), fit_calibration(_bent(3.0), spec)
    held = [m for m in _measurements() if m.group == HELD]
    assert held
    assert all(predict_seconds(m, spec, bent) > predict_seconds(m, spec, base) for m in held)


def test_a_held_out_family_never_trains_its_own_prediction():
    spec = h200_spec()
    base = {p.label: p for p in cross_validate(list(_measurements()), spec)}
    bent = {p.label: p for p in cross_validate(_bent(3.0), spec)}
    assert base.keys() == bent.keys() and len(base) == len(_measurements())
    for label, p in base.items():
        if p.group == HELD:
            assert bent[label].predicted_s == pytest.approx(p.predicted_s, rel=1e-12), label
            assert bent[label].measured_s == pytest.approx(3.0 * p.measured_s)
    # the other GEMM families were fitted with the bent family in their training set
    assert any(bent[k].predicted_s != p.predicted_s for k, p in base.items() if p.kind == "gemm" and p.group != HELD)
