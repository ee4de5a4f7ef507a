"""`archsim hw list | show | validate`."""
from __future__ import annotations

import json
from pathlib import Path

from archsim.cli import main
from archsim.hardware import list_hardware, load_hardware, parse_hardware

TINY = Path(__file__).parent / "data" / "tiny.yaml"
BAD = Path(__file__).resolve().parents[1] / "bad_yaml"


def test_list_json(capsys):
    assert main(["hw", "list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["name"] for r in rows] == list_hardware()
    t4 = next(r for r in rows if r["name"] == "t4")
    assert t4["kind"] == "gpu" and t4["off_chip_bandwidth_bytes_per_s"] == 320e9
    assert abs(t4["peak_ops_per_s"]["fp16"] / 65e12 - 1) < 0.01


def test_show_text_and_yaml(capsys):
    assert main(["hw", "show", "stm32f746"]) == 0
    out = capsys.readouterr().out
    for word in ("dtcm", "sram1", "sram2", "flash", "cortex_m7", "assumption"):
        assert word in out
    assert main(["hw", "show", str(TINY), "--yaml"]) == 0
    text = capsys.readouterr().out
    hw = load_hardware(TINY)
    assert parse_hardware(text, hw.file) == hw


def test_show_unknown_name(capsys):
    assert main(["hw", "show", "tpu-v3"]) == 2
    err = capsys.readouterr().err
    assert "archsim: error:" in err and "did you mean" in err


def test_validate_exit_codes(capsys):
    assert main(["hw", "validate", str(TINY), "hwconfigs/pim-gpt.yaml"]) == 0
    assert "ok" in capsys.readouterr().out
    assert main(["hw", "validate", str(TINY), str(BAD / "typo_key.yaml"), str(BAD / "tabs.yaml")]) == 2
    captured = capsys.readouterr()
    assert "tiny.yaml: ok" in captured.out
    assert "typo_key.yaml:14: memory.gbuf.sise: unknown key" in captured.err
    assert "tabs.yaml:13: tab character" in captured.err
    assert "Traceback" not in captured.err
