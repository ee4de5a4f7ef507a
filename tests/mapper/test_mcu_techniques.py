"""`map_graph(..., mcu_techniques=...)` switches MCUFormer's memory techniques on and off one by
one; the fit verdict and the reported peak SRAM follow (STM32F746: 320 KiB SRAM, 1 MiB flash). The
expected bytes are hand arithmetic from the model's shapes, not the planner's output."""
from __future__ import annotations

import pytest

from archsim import workloads  # noqa: E402
import archsim.hardware as config  # noqa: E402

from archsim.errors import MappingError  # noqa: E402
from archsim.mapper import MCU_TECHNIQUES, map_graph  # noqa: E402

from tests.mapper.vit_sizes import mcuformer, tokens, vit_params  # noqa: E402

# 16-px patches → 225 patches + the class token: attention scores dominate the arena; 2-bit
# weights fit the flash
POINT = "mcuformer:embed=168,depth=12,heads=3,mlp=3.5,rank=0.4,patch=16"
DTYPES = {"weights": "int2", "activations": "int8"}
# Hand arithmetic (int8 activations, one byte per element; tests/mapper/vit_sizes.py): T tokens of
# width D = 168; Q, K, V are 3 heads × 64 = 192 wide; 3 heads' T × T scores.
T, D, QKV, RANK = tokens(240, 16), 168, 192, round(0.4 * 168)
SRAM = (64 + 240 + 16) * 1024
# no technique: at the softmax the residual stream, V, the scores and the probabilities are live
PLAIN = T * D + T * QKV + 2 * 3 * T * T
# operator integration shrinks scores to blocks: the patch embedding (the 3 × 240² image and its
# T × D output) is the peak
INTEGRATED = 3 * 240 * 240 + T * D
# all three: at V's second factor the residual stream, Q, K, V and V's rank-67 intermediate
ALL = T * D + 3 * T * QKV + T * RANK
FLASH = vit_params(**mcuformer(16)) // 4     # 2-bit weights, four per byte


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
        (): (PLAIN, False),
        ("operator_integration",): (INTEGRATED, True),
        ("patch_decomposition",): (PLAIN, False),
        ("token_overwriting",): (PLAIN, False),
        MCU_TECHNIQUES: (ALL, True),
    }
    for techniques, (peak, fits) in expected.items():
        mcu, problem = _mcu(map_graph(graph, stm32, mcu_techniques=techniques))
        assert mcu["peak_sram_bytes"] == peak, techniques
        assert mcu["peak_sram_bytes_without_techniques"] == PLAIN
        assert mcu["flash_bytes"] == FLASH and mcu["sram_bytes"] == SRAM
        assert mcu["techniques_requested"] == tuple(techniques)
        assert (problem is None) == fits, (techniques, problem)
        if not fits:
            assert problem.level == "sram" and problem.shortfall_bytes == peak - SRAM


def test_default_is_all_techniques_and_names_are_validated(stm32, graph):
    default, _ = _mcu(map_graph(graph, stm32))
    assert default["techniques_requested"] == MCU_TECHNIQUES
    assert default["peak_sram_bytes"] == ALL
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
    assert data["mcu"]["peak_sram_bytes"] == PLAIN and "does_not_fit" in data
    assert main(base + ["operator_integration, token_overwriting"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["mcu"]["techniques_requested"] == ["operator_integration", "token_overwriting"]
    assert main(base + ["token_overwrite"]) == 2
    assert "did you mean 'token_overwriting'" in capsys.readouterr().err


def test_operator_integration_blocks_by_hand(graph):
    """Integrated attention and MLP keep one block of 8 query rows / tokens (mcu.ROW_BLOCK, an
    assumption): one head's 8 × T scores and probabilities, 8 × 588 of the MLP hidden."""
    from archsim.mapper.passes.mcu import mcu_buffers
    sizes = {b.name: b.size_bytes for b in mcu_buffers(graph, ("operator_integration",))}
    assert sizes["L0.attn.qk"] == sizes["L0.attn.softmax"] == 8 * T
    assert sizes["L0.mlp.act"] == 8 * 588


def test_token_overwriting_never_overwrites_a_tensor_still_needed():
    """x and y (S bytes each, gathered from tables) → z = x + y → w = x · z. x is read again after
    the add, so z may take only y's buffer: x, z and w are live together at the multiply (3 S).
    Writing z over x would claim 2 S and lose x."""
    from archsim.ir import Op, OpKind, Operand, Role, Tensor, add_op, new_graph
    from archsim.mapper.passes.buffer_plan import arena_plan
    from archsim.mapper.passes.mcu import mcu_buffers
    T, n = 16, 64
    S = T * n
    g = new_graph(name="reuse")
    mn = (("m", T), ("n", n))

    def op(name, kind, inputs, after=()):
        y = Tensor(name, (T, n), 8)
        add_op(g, Op(name, kind, mn, tuple(Operand(t, ("m", "n")) for t in inputs)
                     + (Operand(y, ("m", "n"), True),), macs=0, flops=S), after)
        return y

    x = op("x", OpKind.EMBEDDING, (Tensor("tx", (T, n), 8, Role.WEIGHT),))
    y = op("y", OpKind.EMBEDDING, (Tensor("ty", (T, n), 8, Role.WEIGHT),))
    z = op("z", OpKind.ADD, (x, y), (("x", x), ("y", y)))
    op("w", OpKind.MUL, (x, z), (("x", x), ("z", z)))
    assert arena_plan(mcu_buffers(g, ("token_overwriting",))).arena_bytes == 3 * S
