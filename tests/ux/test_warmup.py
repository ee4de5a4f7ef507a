"""`archsim warmup` simulates one small model per chip kind at both fidelities with the mapping
cache bypassed (so the search kernels compile too), prints a progress line per step, and leaves
the environment as it found it."""
from __future__ import annotations

import os

from archsim import api
from archsim.cli import main
from archsim.cli.warmup import STEPS
from archsim.hardware import load_hardware


def test_warmup_reaches_every_chip_kind_and_fidelity(monkeypatch, capsys):
    calls = []

    def fake_simulate(model, chip, **kw):
        calls.append((model, chip, kw["fidelity"], os.environ.get("ARCHSIM_NO_CACHE")))
    monkeypatch.setattr(api, "simulate", fake_simulate)
    monkeypatch.delenv("ARCHSIM_NO_CACHE", raising=False)
    assert main(["warmup"]) == 0
    assert len(calls) == len(STEPS) and all(no_cache == "1" for *_, no_cache in calls)
    assert "ARCHSIM_NO_CACHE" not in os.environ
    kinds = {load_hardware(chip).kind for _, chip, _, _ in calls}
    assert {"gpu", "pim", "npu", "fpga", "mcu"} <= kinds
    assert {fidelity for _, _, fidelity, _ in calls} == {"analytic", "cycle"}
    err = capsys.readouterr().err
    assert err.count("archsim warmup [") == len(STEPS) and "kernels compiled" in err


def test_warmup_steps_run_for_real():
    chip, fidelity, model, phase, tokens = STEPS[0]
    r = api.simulate(model, chip, phase=phase, fidelity=fidelity, context=tokens)
    assert r.fits and r.latency_s > 0
