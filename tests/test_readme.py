"""The README's examples run, its tables match the model zoo and the hardware library, and CI runs
exactly its test command.

    python tests/test_readme.py --write     # regenerate the model and hardware tables in README.md
"""
from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
sys.path.insert(0, str(ROOT))

from tests.reports.pipeline import field, require_pipeline  # noqa: E402

INSTALL_AND_RUN = "pip install . && archsim simulate --model gpt2-xl --hw pim-gpt"
INSTALL_AND_TEST = "pip install '.[test]' && pytest -n auto"


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)


def _format_params(n) -> str:
    n = float(n)
    for scale, unit in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{n:.0f}"


def models_table() -> str:
    from archsim import workloads
    rows = ["| model | family | parameters | phases |", "|---|---|---|---|"]
    for row in workloads.list_models():
        rows.append(f"| `{field(row, 'name')}` | {field(row, 'family')} | "
                    f"{_format_params(field(row, 'params'))} | {', '.join(field(row, 'phases'))} |")
    return "\n".join(rows)


def hardware_table() -> str:
    from archsim.hardware import list_hardware, load_hardware
    from archsim.reports.table import format_bytes, si
    rows = ["| hardware | kind | clock | technology | memory levels (outermost first) | description |",
            "|---|---|---|---|---|---|"]
    for name in list_hardware():
        hw = load_hardware(name)
        levels = ", ".join(f"{lv.name} {format_bytes(lv.size_bytes)}" for lv in hw.levels)
        tech = f"{hw.tech_node_nm:g} nm" if hw.tech_node_nm else "–"
        desc = hw.description.replace("|", "/")
        rows.append(f"| `{hw.name}` | {hw.kind} | {si(hw.freq_hz, 'Hz')} | {tech} | {levels} | {desc} |")
    return "\n".join(rows)


def _block_between(text: str, tag: str) -> tuple[int, int]:
    start = text.index(f"<!-- {tag}:begin")
    start = text.index("-->", start) + len("-->\n")
    return start, text.index(f"<!-- {tag}:end -->")


def write_tables() -> None:
    text = README.read_text(encoding="utf-8")
    for tag, table in (("models", models_table()), ("hardware", hardware_table())):
        a, b = _block_between(text, tag)
        text = text[:a] + table + "\n" + text[b:]
    README.write_text(text, encoding="utf-8")


def test_quickstart_commands_and_ci():
    text = README.read_text(encoding="utf-8")
    assert INSTALL_AND_RUN in text and INSTALL_AND_TEST in text
    ci = (ROOT / ".ci" / "run").read_text()
    commands = [line.strip() for line in ci.splitlines() if "pytest" in line and not line.startswith("#")]
    normalised = [re.sub(r"\s+-q\b", "", c) for c in commands]
    assert INSTALL_AND_TEST in normalised, commands


def test_tables_match_zoo_and_library():
    text = README.read_text(encoding="utf-8")
    for tag, table in (("models", models_table()), ("hardware", hardware_table())):
        a, b = _block_between(text, tag)
        assert text[a:b].strip() == table, \
            f"README {tag} table is stale: run python tests/test_readme.py --write"


def test_screenshot_is_committed():
    shot = ROOT / "docs" / "screenshot.png"
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
    assert "](docs/screenshot.png)" in README.read_text(encoding="utf-8")


def test_screenshot_shows_what_the_quickstart_gives_today():
    """docs/screenshot.json holds the numbers the README's picture shows; a fresh run of the
    Quickstart command must give the same, else the picture is stale."""
    import json
    import archsim
    from tests.reports.screenshot import QUICKSTART, shown_numbers
    shown = json.loads((ROOT / "docs" / "screenshot.json").read_text())
    assert shown["command"] in README.read_text(encoding="utf-8")
    fresh = shown_numbers(archsim.simulate(QUICKSTART["model"], QUICKSTART["hw"]))
    assert fresh == shown, "docs/screenshot.png is stale: run python -m tests.reports.screenshot"


def _cli_lines() -> list[str]:
    lines = []
    for block in _blocks("bash"):
        for line in block.splitlines():
            for part in line.split("&&"):
                part = part.strip()
                if part.startswith("archsim "):
                    lines.append(part)
    return lines


@pytest.mark.parametrize("line", _cli_lines())
def test_cli_example_runs(line, tmp_path, monkeypatch, capsys):
    from archsim.cli import main
    argv = shlex.split(line)[1:]
    hws = argv[argv.index("--hw") + 1:] if "--hw" in argv else []
    hws = [h for h in hws[: next((i for i, h in enumerate(hws) if h.startswith("-")), len(hws))]]
    require_pipeline(*hws)
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 0, capsys.readouterr().err


def test_python_snippet_runs(capsys):
    require_pipeline("pim-gpt", "h200-sxm")
    (snippet,) = _blocks("python")
    exec(compile(snippet, "README.md", "exec"), {})
    out = capsys.readouterr().out
    assert "ms/token" in out and "pim-gpt" in out


def test_hardware_yaml_example(tmp_path, monkeypatch, capsys):
    from archsim.hardware import load_hardware
    (yaml_text,) = _blocks("yaml")
    path = tmp_path / "my-npu.yaml"
    path.write_text(yaml_text)
    hw = load_hardware(str(path))
    assert hw.name == "my-npu" and hw.kind == "npu" and [lv.name for lv in hw.levels] == ["lpddr5", "gbuf"]
    require_pipeline()
    from archsim.cli import main
    monkeypatch.chdir(tmp_path)
    assert main(["simulate", "--model", "gpt2-small", "--hw", "my-npu.yaml", "--json", "out.json",
                 "--quiet"]) == 0, capsys.readouterr().err


if __name__ == "__main__":
    if "--write" in sys.argv:
        write_tables()
        print("README.md tables regenerated")
