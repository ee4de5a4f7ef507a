"""The registry and `archsim reproduce`: name resolution, not-run / error reporting, and the
JSON / Markdown outputs (of a stand-in study, so the CLI is tested without simulating)."""
from __future__ import annotations

import json
import types

import pytest

from archsim.cli import main
from archsim.errors import ConfigError, ModelError
from archsim.studies import registry
from archsim.studies.study import EXACT, NotReady, compare, finish


def test_resolve_all_and_unknown():
    assert registry.resolve("all") == registry.list_studies()
    assert registry.resolve(["flashattention"]) == ("flashattention",)
    assert {"pim-gpt", "flashattention", "long-context", "mcuformer", "edge-moe", "lean-attention",
            "scale-sim", "attacc", "neupims", "matmulfree-fpga", "autoneural", "melt"} \
        <= set(registry.list_studies())
    with pytest.raises(ConfigError, match="did you mean 'flashattention'"):
        registry.resolve(["flashatention"])


def _fake(monkeypatch, exc):
    def run():
        raise exc
    mod = types.SimpleNamespace(TITLE="t", SOURCE="s", ASSUMPTIONS=("a",), run=run)
    monkeypatch.setattr(registry.importlib, "import_module", lambda name: mod)


def test_not_ready_becomes_not_run(monkeypatch):
    _fake(monkeypatch, NotReady("archsim.mapper.map_graph"))
    res = registry.run_study("pim-gpt")
    assert res.status == "not-run" and res.reason == "waiting for archsim.mapper.map_graph"
    assert res.assumptions == ("a",)


def test_archsim_error_becomes_error(monkeypatch):
    _fake(monkeypatch, ModelError("unknown model 'x'"))
    res = registry.run_study("edge-moe")
    assert res.status == "error" and "unknown model" in res.reason


def _stand_in(monkeypatch):
    """`flashattention` answered by a module whose study returns fixed rows at once."""
    def run():
        return finish("flashattention", "t", "s", [compare("count", 8, 8, EXACT, unit="elements")],
                      assumptions=("a",))
    mod = types.SimpleNamespace(TITLE="t", SOURCE="s", ASSUMPTIONS=("a",), run=run)
    real = registry.importlib.import_module
    monkeypatch.setattr(registry.importlib, "import_module",
                        lambda name, *a: mod if name == "archsim.studies.flashattention" else real(name, *a))


def test_cli_reproduce_outputs(tmp_path, capsys, monkeypatch):
    _stand_in(monkeypatch)
    js, md = tmp_path / "v.json", tmp_path / "v.md"
    assert main(["reproduce", "flashattention", "--quiet", "--json", str(js), "--markdown", str(md)]) == 0
    out = capsys.readouterr().out
    assert "published" in out and "archsim" in out and "ratio" in out
    data = json.loads(js.read_text())
    (study,) = data["studies"]
    assert study["name"] == "flashattention" and study["status"] in ("ok", "partial")
    assert all(r["within_band"] is not False for r in study["rows"])
    text = md.read_text()
    assert text.startswith("# archsim validation report")
    assert "| metric | published | archsim | ratio | band | in band | note |" in text
    assert "Assumptions:" in text


def test_cli_unknown_study_exits_2(capsys):
    assert main(["reproduce", "pim-gtp"]) == 2
    assert "did you mean 'pim-gpt'" in capsys.readouterr().err


def test_cli_list(capsys):
    assert main(["reproduce", "--list"]) == 0
    assert capsys.readouterr().out.split() == list(registry.list_studies())


def test_cli_html_and_json_stdout(tmp_path, capsys, monkeypatch):
    _stand_in(monkeypatch)
    page = tmp_path / "v.html"
    assert main(["reproduce", "flashattention", "--quiet", "--json", "-", "--html", str(page)]) == 0
    data = json.loads(capsys.readouterr().out)            # tables went to stderr
    assert data["studies"][0]["name"] == "flashattention"
    assert 'id="ratio-chart"' in page.read_text(encoding="utf-8")


def test_committed_validation_report_covers_every_study():
    from pathlib import Path
    doc = Path(__file__).resolve().parents[2] / "docs" / "validation.md"
    text = doc.read_text(encoding="utf-8")
    assert text.startswith("# archsim validation report")
    for name in registry.list_studies():
        assert f"\n## {name}\n" in text, f"docs/validation.md lacks {name}; regenerate it"


def test_internal_failure_is_reported_not_raised(monkeypatch):
    _fake(monkeypatch, RuntimeError("scalesim failed"))
    res = registry.run_study("scale-sim")
    assert res.status == "error" and res.reason == "internal RuntimeError: scalesim failed"
