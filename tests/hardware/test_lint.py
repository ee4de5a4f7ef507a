"""`archsim hw lint` (archsim.hardware.lint): passes on every shipped description; fails, naming the
file, line and key, on a copy with an inconsistent tCCD, a missing op kind or a power budget the chip
exceeds; the loader warns on the same problems."""
from __future__ import annotations

import warnings

import pytest

from archsim.cli import main
from archsim.hardware import hardware_path, list_hardware, load_hardware
from archsim.hardware.lint import HardwareLintWarning, lint
from archsim.hardware.load import read_hardware


@pytest.mark.parametrize("name", list_hardware())
def test_every_shipped_description_lints_clean(name):
    hw, data = read_hardware(name)
    problems = [str(f) for f in lint(hw, data) if not f.ok]
    assert problems == []
    with warnings.catch_warnings():
        warnings.simplefilter("error", HardwareLintWarning)
        load_hardware(name)


def _copy(tmp_path, name, old, new):
    text = hardware_path(name).read_text()
    assert text.count(old) == 1, old
    path = tmp_path / f"{name}-copy.yaml"
    path.write_text(text.replace(old, new))
    return path


def _line_of(path, needle):
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


def test_inconsistent_tccd_fails(tmp_path, capsys):
    # LPDDR5 with 4-tCK tCCD_S against a 2-tCK BL16 burst: the preset-convention mistake of issue 14
    path = _copy(tmp_path, "edge-npu", "      tCCD_S: 2 ", "      tCCD_S: 4 ")
    assert main(["hw", "lint", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}:{_line_of(path, 'tCCD_S: 4')}: memory.lpddr5.dram.tCCD_S: tCCD_S is 4 tCK but one BL16 " \
           f"burst takes 2 tCK" in err
    assert "memory.lpddr5: sustained sequential read" in err and "outside the 70%-100% band" in err
    with pytest.warns(HardwareLintWarning, match="tCCD_S is 4 tCK"):
        load_hardware(path)


def test_missing_op_kind_fails(tmp_path, capsys):
    path = _copy(tmp_path, "edge-npu", "layernorm, rmsnorm, gelu", "layernorm, gelu")
    assert main(["hw", "lint", str(path)]) == 2
    err = capsys.readouterr().err
    assert "ops.rmsnorm: no compute unit runs op kind 'rmsnorm' as described; it falls back to vector " \
           "(fallback); add 'rmsnorm' to the 'ops' list" in err
    assert f"{path}:{_line_of(path, 'compute:')}:" in err


def test_power_budget_exceeded_fails(tmp_path, capsys):
    import re
    path = _copy(tmp_path, "edge-npu", "  tdp: 2 W ", "  tdp: 0.12 W ")
    assert main(["hw", "lint", str(path)]) == 2
    err = capsys.readouterr().err
    m = re.search(rf"{re.escape(str(path))}:{_line_of(path, 'tdp: 0.12 W')}: power.tdp: peak ([\d.]+) W = "
                  r"compute ([\d.]+) W \+ off-chip memory ([\d.]+) W \+ static ([\d.]+) W "
                  r"\(lpddr5 is external lpddr, outside the tdp\) exceeds the tdp 0.12 W by (\d+)%", err)
    assert m, err
    peak, compute, memory, static, over = map(float, m.groups())
    assert memory == 0 and static == 0.1 and compute > 0          # the LPDDR5 package is outside the NPU's tdp
    assert peak == pytest.approx(compute + memory + static, rel=1e-3)
    assert over == pytest.approx(100 * (peak / 0.12 - 1), abs=1)


def test_unsourced_entry_fails(tmp_path, capsys):
    path = _copy(tmp_path, "edge-npu", "    source: edge-assumed\n  - name: vector", "  - name: vector")
    assert main(["hw", "lint", str(path)]) == 2
    assert "compute.pe_array: cites no source" in capsys.readouterr().err


def test_lint_prints_sustained_bandwidth_and_passes_the_library(capsys):
    assert main(["hw", "lint"]) == 0
    out = capsys.readouterr().out
    assert "aim-gddr6: ok" in out and "memory.gddr6: sustained sequential read 59.96 GB/s = 93.7%" in out


def test_show_lists_the_unit_of_every_op_kind(capsys):
    assert main(["hw", "show", "hbm3-pim"]) == 0
    out = capsys.readouterr().out
    assert "    lm_head          pim\n" in out and "    rmsnorm          softmax\n" in out
