"""Conformance: every zoo model × one library chip of each kind simulates at analytic fidelity (or
reports "does not fit" with the shortfall), and at least ten model × chip pairs at cycle fidelity.
Every result must satisfy the report invariants the JSON documents."""
from __future__ import annotations

import json
import math

import pytest

from .pipeline import field, one_hardware_per_kind, require_pipeline, zoo_models

BUDGET = 200   # mapping-search evaluations per op: enough for a legal, sensible mapping; keeps CI fast
CYCLE_PAIRS = (  # small enough for the cycle engine inside the test budget
    ("gpt2-small", "decode"), ("bert-base", "encode"), ("vit-ti16", "encode"), ("deit-tiny", "encode"),
)


def _check(result) -> None:
    from archsim.reports.json_report import dumps
    d = json.loads(dumps(result))
    if not result.fits:
        assert result.does_not_fit, f"{result.model} on {result.hw}: no shortfall given"
        return
    assert result.latency_s > 0 and result.cycles > 0, (result.model, result.hw)
    assert math.isclose(d["energy_j"], sum(d["energy_breakdown_j"].values()), rel_tol=1e-9, abs_tol=1e-15)
    assert result.ops and all(op.latency_s >= 0 and op.energy_j >= 0 for op in result.ops)
    assert all(lv.capacity_bytes > 0 for lv in result.levels)


def _phase(row) -> str:
    phases = tuple(field(row, "phases"))
    return "decode" if "decode" in phases else phases[0]


def test_every_zoo_model_on_every_kind_analytic():
    require_pipeline()
    from archsim import api
    from archsim.hardware import load_hardware
    chips = {kind: load_hardware(name) for kind, name in one_hardware_per_kind().items()}
    assert chips, "the hardware library is empty"
    failures, simulated = [], 0
    for row in zoo_models():
        name, phase = field(row, "name"), _phase(row)
        graph = api.build_graph(name, phase=phase, context=128 if phase == "decode" else None)
        for kind, hw in chips.items():
            try:
                _check(api.simulate_graph(graph, hw, fidelity="analytic", budget=BUDGET))
                simulated += 1
            except Exception as exc:        # collect every failure, then report them all
                failures.append(f"{name} {phase} on {hw.name} ({kind}): {type(exc).__name__}: {exc}")
    assert not failures, "\n".join(failures)
    assert simulated >= len(chips)


def test_ten_pairs_at_cycle_fidelity():
    require_pipeline()
    from archsim import api
    from archsim.hardware import load_hardware
    known = {field(r, "name") for r in zoo_models()}
    models = [(m, p) for m, p in CYCLE_PAIRS if m in known]
    chips = [load_hardware(n) for n in one_hardware_per_kind().values()]
    pairs = [(m, p, hw) for m, p in models for hw in chips]
    assert len(pairs) >= 10, f"only {len(pairs)} cycle pairs available"
    ran = fitted = 0
    for model, phase, hw in pairs:
        graph = api.build_graph(model, phase=phase, context=64 if phase == "decode" else None)
        result = api.simulate_graph(graph, hw, fidelity="cycle", budget=BUDGET)
        _check(result)
        assert result.fidelity == "cycle"
        if result.fits:
            fitted += 1
            assert result.analytic_vs_cycle_gap is not None, (model, hw.name)
        ran += 1
    assert ran >= 10 and fitted >= 10, f"{fitted} of {ran} cycle pairs fit"
