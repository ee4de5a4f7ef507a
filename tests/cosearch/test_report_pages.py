"""The co-search report a user opens: small pages sharing one plotly.js, each design page titled with
the design's own model, constraints and axes in readable units, templates named with their values,
metric names on the Optuna study, and every chart drawn with data in a real headless Chromium."""
from __future__ import annotations

import json

import pytest

from archsim.cosearch import load_space, space_from_dict

SPACE = {"name": "tiny-mcu", "model": "mcuformer", "phase": "encode", "hardware": "stm32f746",
         "dtypes": {"weights": "int4", "activations": "int8"},
         "model_params": {"hidden": [168, 192], "layers": {"low": 4, "high": 5}, "heads": 3,
                          "head_dim": 64, "mlp_ratio": 3.5, "rank_ratio": [0.5, 0.6], "patch": [28, 32]},
         "mapper": {"budget": 2},
         "constraints": {"flash_bytes": {"max": 1048576}, "peak_sram_bytes": {"max": 327680}},
         "objectives": {"latency_s": "minimize", "energy_j": "minimize"}}


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory):
    import yaml
    from archsim.cli import main
    folder = tmp_path_factory.mktemp("cosearch")
    space = folder / "tiny.yaml"
    space.write_text(yaml.safe_dump(SPACE))
    argv = ["cosearch", str(space), "--trials", "6", "--seed", "3", "--jobs", "1", "--cycle-check", "0",
            "--storage", f"sqlite:///{folder}/tiny.db", "--json", str(folder / "r.json"),
            "--html", str(folder / "r.html"), "--quiet"]
    assert main(argv) == 0
    return folder


def test_pages_share_one_plotly_and_stay_small(report_dir):
    data = json.loads((report_dir / "r.json").read_text())
    pages = [report_dir / "r.html"] + sorted((report_dir / "r_designs").glob("*.html"))
    assert len(pages) == 1 + len(data["pareto"]) >= 2
    assert (report_dir / "r_designs" / "plotly.min.js").stat().st_size > 1_000_000
    for page in pages:
        text = page.read_text()
        assert page.stat().st_size < 400_000, (page, page.stat().st_size)   # plotly.js alone is ~4.6 MB
        assert 'src="' in text and "plotly.min.js" in text


def test_design_pages_show_the_designs_model_and_how_to_rerun_it(report_dir):
    data = json.loads((report_dir / "r.json").read_text())
    main_page = (report_dir / "r.html").read_text()
    for trial in (t for t in data["trials"] if t["number"] in data["pareto"]):
        page = (report_dir / "r_designs" / f"trial-{trial['number']}.html").read_text()
        hidden = trial["params"]["model.hidden"]
        assert f"hidden={hidden}" in page and f"Trial {trial['number']} of tiny-mcu" in page
        assert trial["rerun"].startswith("archsim simulate --model mcuformer --hw stm32f746")
        assert f"--model-set hidden={hidden}" in trial["rerun"]
        assert trial["rerun"].replace("'", "&#x27;") in main_page     # escaped in the page


def test_constraints_and_axes_read_in_units(report_dir):
    text = (report_dir / "r.html").read_text()
    assert "flash_bytes ≤ 1 MiB (1,048,576 B)" in text and "peak_sram_bytes ≤ 320 KiB (327,680 B)" in text
    assert "1.04858e+06" not in text
    assert "energy (J) vs latency (s)" in text or "latency (s) vs energy (J)" in text


def test_a_model_template_names_its_values():
    from archsim.reports.cosearch_html import model_text
    space = space_from_dict({**SPACE, "model": "{model}", "model_params": {},
                             "var_params": {"model": ["gpt2-small", "gpt2-medium"]}})
    assert model_text(space) == "{model} (model: gpt2-small, gpt2-medium)"
    assert model_text(load_space("npu-bert")) == "bert-base"


def test_optuna_study_carries_the_metric_names(report_dir):
    import optuna
    storage = f"sqlite:///{report_dir}/tiny.db"
    (summary,) = optuna.get_all_study_summaries(storage)
    study = optuna.load_study(study_name=summary.study_name, storage=storage)
    assert sorted(study.metric_names) == ["energy_j", "latency_s"]


@pytest.mark.browser
def test_every_chart_has_data_and_labelled_axes(report_dir):
    from tests.browser import launched, open_report
    probe = ("() => [...document.querySelectorAll('.plotly-graph-div')].map(d => [d.id,"
             " (d.layout.xaxis && d.layout.xaxis.title && d.layout.xaxis.title.text) || '',"
             " (d.layout.yaxis && d.layout.yaxis.title && d.layout.yaxis.title.text) || '',"
             " d.data.map(t => [...(t.x || []), ...(t.y || []), ...((t.dimensions || []).flatMap(x => x.values))])"
             ".flat().filter(v => v !== null).map(String)])")
    pages = [report_dir / "r.html"] + sorted((report_dir / "r_designs").glob("*.html"))
    with launched() as browser:
        for page in pages:
            check = open_report(browser, page, probe_js=probe, ignore_console=("GL Driver Message",))
            assert check.problems == () and check.requests == (), page
            for fig_id, xtitle, ytitle, values in check.probe:
                assert len(set(values)) > 1, (page.name, fig_id)
                if fig_id.startswith("fig-pareto"):
                    assert "(" in xtitle and "(" in ytitle, (fig_id, xtitle, ytitle)
