"""archsim.api composition, with the mapper and the engine replaced by small stand-ins so the glue is
tested on its own: phase choice, does-not-fit results (from the mapping or a MappingError), sweeps,
compare normalisation and the filling of model / dtype / sim_wall_s. The real stages are exercised
in test_end_to_end.py and test_conformance.py."""
from __future__ import annotations

import pytest

from archsim.errors import DoesNotFit, MappingError
from archsim.ir import ops_in_order
from archsim.mapping import Mapping
from archsim.result import LevelUse, OpResult, SimResult

from archsim import mapper
from archsim import workloads  # noqa: F401  (the real lowering; mapper and engine are stood in for below)
from archsim import api, engine


def fake_map_graph(graph, hw, strategy="auto", objective="edp", budget=None, seed=0, progress=None):
    """Weights must fit the outermost level; anything else 'maps'."""
    need = graph.graph["weight_bytes_total"]
    outer = hw.levels[0]
    attrs = ()
    if need > outer.size_bytes:
        attrs = (("does_not_fit", DoesNotFit(outer.name, "weights", need, outer.size_bytes)),)
    if progress is not None:
        progress(1, 1, "mapping")
    return Mapping(hw=hw.name, ops=(), attrs=attrs)


def fake_simulate(graph, hw, mapping, fidelity="analytic", progress=None, stack=None,
                  attribute_gap=False, dram_model="burst"):
    rate = hw.peak_macs_per_s("bf16") or 1e9
    ops, t = [], 0.0
    for op in ops_in_order(graph):
        lat = max(op.macs / rate, op.total_bytes / hw.levels[0].bandwidth_bytes_per_s, 1e-9)
        ops.append(OpResult(op.name, op.kind.value, hw.compute[0].name, int(lat * hw.freq_hz), lat,
                            t, lat * 1.0, op.macs, op.flops, ((hw.levels[0].name, op.total_bytes),),
                            "memory:" + hw.levels[0].name, layer=op.layer))
        t += lat
    return SimResult(model="", hw=hw.name, hw_kind=hw.kind, phase=graph.graph["phase"],
                     batch=graph.graph["batch"], seq=graph.graph["seq"], context=graph.graph["context"],
                     fidelity=fidelity, cycles=int(t * hw.freq_hz), freq_hz=hw.freq_hz, latency_s=t,
                     energy_breakdown_j=(("compute", t),), ops=tuple(ops), tokens=graph.graph["batch"],
                     levels=tuple(LevelUse(lv.name, lv.size_bytes, 0, 0, 0) for lv in hw.levels))


@pytest.fixture(autouse=True)
def stand_ins(monkeypatch):
    monkeypatch.setattr(mapper, "map_graph", fake_map_graph, raising=False)
    monkeypatch.setattr(engine, "simulate", fake_simulate, raising=False)


def test_simulate_fills_what_the_engine_leaves_out():
    calls = []
    r = api.simulate("gpt2-small", "pim-gpt", context=128, progress=lambda *a: calls.append(a))
    assert r.fits and r.phase == "decode" and r.context == 128 and r.model == "gpt2-small"
    assert r.dtype == "bf16" and r.sim_wall_s > 0 and r.latency_s > 0
    assert calls == [(1, 1, "mapping")]
    assert api.simulate("bert-base", "pim-gpt").phase == "encode"     # encoder-only default


def test_does_not_fit_is_a_result_with_the_shortfall():
    r = api.simulate("llama2-70b", "stm32f746", phase="decode", context=128)
    assert not r.fits and "short by" in r.does_not_fit and r.ops == ()
    outer = r.levels[0]
    assert outer.peak_buffer_bytes > outer.capacity_bytes           # the need is shown per level


def test_mapping_error_becomes_a_row(monkeypatch):
    def refuse(*a, **k):
        raise MappingError("no unit of pim-gpt can run op 'x'")
    monkeypatch.setattr(mapper, "map_graph", refuse, raising=False)
    r = api.simulate("gpt2-small", "pim-gpt", context=64)
    assert not r.fits and "no unit" in r.does_not_fit


def test_sweep_grid_order():
    s = api.sweep("gpt2-small", "pim-gpt", batch=[1, 4], context=[64, 256])
    assert s.parameters == ("batch", "context")
    assert [(r.batch, r.context) for r in s.results] == [(1, 64), (1, 256), (4, 64), (4, 256)]


def test_compare_normalises_and_keeps_misfits():
    c = api.compare("gpt2-xl", ["pim-gpt", "stm32f746"], phase="decode", context=128)
    assert c.baseline == "pim-gpt" and [r.hw for r in c.rows] == ["pim-gpt", "stm32f746"]
    assert c.rows[0].speedup == 1.0 and not c.rows[1].result.fits and c.rows[1].speedup is None
    assert dict(c.assumptions)["phase"] == "decode"
    with pytest.raises(api.ArgumentError, match="more than once"):
        api.compare("gpt2-xl", ["pim-gpt", "pim-gpt"])
    with pytest.raises(api.ArgumentError, match="did you mean 'pim-gpt'"):
        api.compare("gpt2-xl", ["pim-gpt", "stm32f746"], baseline="pim-gp")


def test_cli_over_the_stand_ins(tmp_path, monkeypatch, capsys):
    import json
    from archsim.cli import main
    argv = ["simulate", "--model", "gpt2-small", "--hw", "pim-gpt", "--context", "128"]
    assert main(argv + ["--json", "-"]) == 0
    first = capsys.readouterr()
    d = json.loads(first.out)
    assert d["fits"] and d["phase"] == "decode" and "latency" in first.err
    assert main(argv + ["--json", "-"]) == 0
    assert capsys.readouterr().out == first.out                     # byte-identical
    monkeypatch.chdir(tmp_path)
    assert main(argv + ["--quiet"]) == 0
    assert sorted(p.suffix for p in (tmp_path / "archsim-out").iterdir()) == [".csv", ".html", ".json"]
    assert main(["simulate", "--model", "gpt2-small", "--hw", "pim-gpt", "--context", "64,128",
                 "--csv", "s.csv", "--quiet"]) == 0
    assert len((tmp_path / "s.csv").read_text().splitlines()) == 3
    assert main(["compare", "--model", "llama2-70b", "--hw", "pim-gpt", "stm32f746", "--context",
                 "128", "--json", "c.json"]) == 0
    out = capsys.readouterr().out
    assert "does not fit" in out and "short by" in out
    rows = json.loads((tmp_path / "c.json").read_text())["results"]
    assert [r["fits"] for r in rows] == [False, False]


def test_simulate_accepts_a_built_graph():
    graph = api.build_graph("gpt2-small", phase="decode", context=32)
    r = api.simulate(graph, "pim-gpt")
    assert r.context == 32 and r.model == "gpt2-small" and r.fits
