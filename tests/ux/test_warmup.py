"""`archsim warmup` simulates one small model per chip kind at both fidelities with the mapping
cache bypassed (so the search kernels compile too), prints a progress line per step, and leaves
the environment as it found it; once done it is a no-op until the kernels change (`--force` runs
it again), and an interactive first simulating command runs it first."""
from __future__ import annotations

import importlib
import io
import os
import sys

import pytest

from archsim import api
from archsim.cli import main, warmup
from archsim.cli.warmup import STEPS
from archsim.hardware import load_hardware


@pytest.fixture
def stamp(monkeypatch, tmp_path):
    """The warm-up stamp in a temporary folder (not beside this tree's real Numba cache)."""
    path = tmp_path / "warmup.stamp"
    monkeypatch.setattr(warmup, "stamp_path", lambda: path)
    return path


@pytest.fixture
def calls(monkeypatch):
    seen = []

    def fake_simulate(model, chip, **kw):
        seen.append((model, chip, kw["fidelity"], kw.get("dram_model"), os.environ.get("ARCHSIM_NO_CACHE")))
    monkeypatch.setattr(api, "simulate", fake_simulate)
    return seen


def test_warmup_reaches_every_chip_kind_and_fidelity(monkeypatch, capsys, stamp, calls):
    monkeypatch.delenv("ARCHSIM_NO_CACHE", raising=False)
    assert main(["warmup"]) == 0
    assert len(calls) == len(STEPS) and all(no_cache == "1" for *_, no_cache in calls)
    assert "ARCHSIM_NO_CACHE" not in os.environ
    kinds = {load_hardware(chip).kind for _, chip, *_ in calls}
    assert {"gpu", "pim", "npu", "fpga", "mcu"} <= kinds
    assert {fidelity for _, _, fidelity, *_ in calls} == {"analytic", "cycle"}
    # both DRAM paths of the cycle engine compile: the default and burst
    assert {(fidelity, path) for _, _, fidelity, path, _ in calls} >= {("cycle", None), ("cycle", "burst")}
    err = capsys.readouterr().err
    assert err.count("archsim warmup [") == len(STEPS) and "kernels compiled" in err


def test_warmup_steps_run_for_real():
    chip, fidelity, model, phase, tokens, _ = STEPS[0]
    r = api.simulate(model, chip, phase=phase, fidelity=fidelity, context=tokens)
    assert r.fits and r.latency_s > 0


def test_warmup_is_a_no_op_once_done_until_forced_or_the_kernels_change(capsys, stamp, calls, monkeypatch):
    assert not warmup.is_warm()
    assert main(["warmup", "--quiet"]) == 0 and len(calls) == len(STEPS)
    assert warmup.is_warm() and stamp.read_text().strip() == warmup._digest()
    assert main(["warmup"]) == 0 and len(calls) == len(STEPS)          # nothing ran again
    assert "already compiled" in capsys.readouterr().err
    assert main(["warmup", "--quiet", "--force"]) == 0 and len(calls) == 2 * len(STEPS)
    stamp.write_text("digest-of-other-kernel-sources\n")                  # kernels edited since
    assert not warmup.is_warm()


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_first_interactive_simulating_command_warms_up_once(monkeypatch, stamp, calls):
    err = _Terminal()
    monkeypatch.setattr(sys, "stderr", err)
    warmup.warm_on_first_use("hw")                   # no simulation: nothing to compile
    assert calls == []
    warmup.warm_on_first_use("simulate")
    assert len(calls) == len(STEPS) and "first run: compiling" in err.getvalue()
    assert err.getvalue().count("archsim warmup [") == len(STEPS)
    warmup.warm_on_first_use("simulate")             # warm now: no second warm-up
    assert len(calls) == len(STEPS)


def test_scripts_are_not_warmed_up_behind_their_back(monkeypatch, stamp, calls):
    monkeypatch.setattr(sys, "stderr", io.StringIO())       # not a terminal (CI, a pipe)
    warmup.warm_on_first_use("simulate")
    assert calls == [] and sys.stderr.getvalue() == ""


def test_warmup_compiles_the_search_kernels(monkeypatch, stamp, calls):
    """The simulation steps run whole searches in one kernel (`kernels.search_run`); the warm-up
    also calls the ask/tell objects' kernel entry points (a progress callback's path)."""
    from archsim.kernels import genetic, search, search_run
    assert main(["warmup", "--quiet", "--force"]) == 0
    for kernel in (genetic.random_genomes, genetic.legalise, genetic.offspring,
                   genetic.restart_genome, search.select_population, search.seen_new,
                   search.seen_add, search.unseen_mask, search.fresh_neighbours,
                   search.nested_mask, search.best_row):
        assert kernel.signatures, kernel.__name__
    chip, fidelity, model, phase, tokens, _ = STEPS[0]       # the first step runs both whole searches
    map_op = importlib.import_module("archsim.mapper.map_op")
    ran = []
    for name in ("_genetic_in_kernel", "_local_in_kernel"):
        real = getattr(map_op, name)
        monkeypatch.setattr(map_op, name, lambda *a, _real=real, _n=name, **k: (
            ran.append(_n), _real(*a, **k))[1])
    from archsim.api import run as api_run            # the real one (`calls` fakes api.simulate)
    monkeypatch.setenv("ARCHSIM_NO_CACHE", "1")
    import archsim.mapper.cache as C
    C.cache_clear()
    api_run.simulate(model, chip, phase=phase, fidelity=fidelity, context=tokens)
    assert {"_genetic_in_kernel", "_local_in_kernel"} <= set(ran)
    assert search_run.genetic_run.signatures and search_run.local_run.signatures
