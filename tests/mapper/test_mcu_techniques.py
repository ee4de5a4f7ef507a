"""`map_graph(..., mcu_techniques=...)` switches MCUFormer's memory techniques on and off one by
one; the fit verdict and the reported peak SRAM follow (numbers from the TFLite-Micro-style arena
planner on STM32F746: 320 KiB SRAM, 1 MiB flash)."""
from __future__ import annotations

import pytest

import workloads  # noqa: E402
import archsim.hardware as config  # noqa: E402

from archsim.errors import MappingError  # noqa: E402
from mapper import MCU_TECHNIQUES, map_graph  # noqa: E402

# 16-px patches → 225 tokens: attention scores dominate the arena; 2-bit weights fit the flash
POINT = "mcuformer:embed=168,depth=12,heads=3,mlp=3.5,rank=0.4,patch=16"
DTYPES = {"weights": "int2", "activations": "int8"}


@pytest.fixture(scope="module")
def stm32():
    return config.load_hardware("stm32f746")


@pytest.fixture(scope="module")
def graph():
    return workloads.build_graph(POINT, "encode", dtypes=DTYPES)


def _mcu(m):
    attrs = dict(m.attrs)
    return dict(attrs["mcu"]), attrs.get("does_not_fit")


def test_techniques_decide_whether_the_model_fits(stm32, graph):
    expected = {  # techniques → (peak SRAM bytes, fits)
        (): (387_816, False),
        ("operator_integration",): (210_768, True),
        ("patch_decomposition",): (387_816, False),
        ("token_overwriting",): (387_816, False),
        MCU_TECHNIQUES: (183_286, True),
    }
    for techniques, (peak, fits) in expected.items():
        mcu, problem = _mcu(map_graph(graph, stm32, mcu_techniques=techniques))
        assert mcu["peak_sram_bytes"] == peak, techniques
        assert mcu["peak_sram_bytes_without_techniques"] == 387_816
        assert mcu["flash_bytes"] == 683_992 and mcu["sram_bytes"] == 327_680
        assert mcu["techniques_requested"] == tuple(techniques)
        assert (problem is None) == fits, (techniques, problem)
        if not fits:
            assert problem.level == "sram" and problem.shortfall_bytes == peak - 327_680


def test_default_is_all_techniques_and_names_are_validated(stm32, graph):
    default, _ = _mcu(map_graph(graph, stm32))
    assert default["techniques_requested"] == MCU_TECHNIQUES
    assert default["peak_sram_bytes"] == 183_286
    one, _ = _mcu(map_graph(graph, stm32, mcu_techniques="operator_integration"))
    assert one["techniques_requested"] == ("operator_integration",)
    shuffled, _ = _mcu(map_graph(graph, stm32, mcu_techniques=list(reversed(MCU_TECHNIQUES))))
    assert shuffled == default
    with pytest.raises(MappingError, match="did you mean 'token_overwriting'"):
        map_graph(graph, stm32, mcu_techniques=("token_overwrite",))


def test_techniques_are_ignored_off_mcus_but_still_validated():
    hw = config.load_hardware("tpu-v1")
    g = workloads.build_graph("bert-base", "encode", seq=16, dtypes="int8")
    assert map_graph(g, hw, mcu_techniques=()) == map_graph(g, hw)
    with pytest.raises(MappingError, match="unknown technique"):
        map_graph(g, hw, mcu_techniques=("fusion",))


def test_cli_mcu_techniques(capsys):
    import json

    from archsim.cli import main
    base = ["map", "--model", POINT, "--dtype", "weights=int2,activations=int8", "--hw",
            "stm32f746", "--phase", "encode", "--json", "--mcu-techniques"]
    assert main(base + ["none"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["mcu"]["peak_sram_bytes"] == 387_816 and "does_not_fit" in data
    assert main(base + ["operator_integration, token_overwriting"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["mcu"]["techniques_requested"] == ["operator_integration", "token_overwriting"]
    assert main(base + ["token_overwrite"]) == 2
    assert "did you mean 'token_overwriting'" in capsys.readouterr().err
