"""Every file in tests/bad_yaml/ is broken in one way; its first line says which message (with the
line number) the loader must print: `# expect: :LINE: path.to.key: problem ...`."""
from __future__ import annotations

from pathlib import Path

import pytest

from archsim.hardware import load_hardware
from archsim.errors import ConfigError

BAD = Path(__file__).resolve().parents[1] / "bad_yaml"
FILES = sorted(BAD.glob("*.yaml"))


def test_enough_cases():
    assert len(FILES) >= 15


def _expected(path: Path) -> str:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# expect: "), f"{path.name} has no '# expect:' line"
    return first.removeprefix("# expect: ")


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_bad_file_message(path: Path):
    expected = _expected(path)
    with pytest.raises(ConfigError) as info:
        load_hardware(path)
    lines = str(info.value).splitlines()
    # every line names the file and a line number, and one of them is the expected message
    assert all(f"{path.name}:" in line for line in lines), lines
    assert any(line.split(path.name, 1)[1].startswith(expected) for line in lines), (expected, lines)


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_bad_file_through_cli(path: Path, capsys):
    from archsim.cli import main
    assert main(["hw", "validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert _expected(path) in err
