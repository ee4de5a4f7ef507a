"""Several off-chip levels on one chip: the STM32F746G-DISCO board (`stm32f746-disco`) adds a QSPI NOR
flash and an SDRAM to the F746's internal flash. The mapper places weights in the cheapest level with
room (internal flash first, tensor by tensor, the rest in QSPI flash) and an arena the SRAM cannot
hold in the SDRAM; the engine times and prices every level's own bytes.

The numbers checked are derived here from the board's sources (DISCO BSP: QUADSPI at 216 / 2 MHz,
quad I/O SDR, 24 command clocks; SDRAM 16-bit at 100 MHz, 4 banks × 4096 rows × 256 columns), not
read off the code. A one-block DeiT at 64² keeps the runs small; the internal flash is shrunk to
128 KiB so its weights (≈ 0.79 MB) straddle the two flashes."""
from __future__ import annotations

import pytest

from archsim import workloads
from archsim.engine import simulate
from archsim.hardware import load_hardware
from archsim.ir import Role, ops_in_order
from archsim.mapper import map_graph
from tests.mapper.vit_sizes import vit_params

SHAPE = dict(image=64, patch=16, d=192, depth=1, heads=3, head_dim=64, mlp=768, classes=1000)
WEIGHT_BYTES = vit_params(**SHAPE)                  # int8: one byte per parameter
SMALL_FLASH = {"memory.flash.size": "128 KiB"}
SMALL_SRAM = {**SMALL_FLASH, "memory.sram1.size": "4 KiB", "memory.sram2.size": "1 KiB",
              "memory.dtcm.size": "2 KiB"}
QSPI_BYTES_PER_S = 4 * 216e6 / 2 / 8                # 4 data lines, SDR, QUADSPI clock 216 / 2 MHz
QSPI_READ_PJ_PER_BYTE = 1200.0


@pytest.fixture(scope="module")
def graph():
    return workloads.build_graph("deit-tiny", "encode", dtypes="int8",
                                 overrides={"layers": 1, "image": [64, 64]})


@pytest.fixture(scope="module")
def board():
    return load_hardware("stm32f746-disco", SMALL_FLASH)


def _placed(graph, mapping) -> dict[str, int]:
    """Bytes of weights per level, from the mapping's per-tensor placement."""
    out: dict[str, int] = {}
    seen = set()
    for op in ops_in_order(graph):
        for o in op.operands:
            t = o.tensor
            if t.role is Role.WEIGHT and t.name not in seen:
                seen.add(t.name)
                lv = mapping.placed(t.name) or mapping.placed("weight")
                out[lv] = out.get(lv, 0) + t.size_bytes
    return out


def test_board_levels_come_from_its_sources():
    hw = load_hardware("stm32f746-disco")
    assert [lv.name for lv in hw.levels] == ["flash", "qspi_flash", "sdram", "sram1", "sram2", "dtcm"]
    assert [lv.off_chip for lv in hw.levels] == [True, True, True, False, False, False]
    qspi, sdram = hw.level("qspi_flash"), hw.level("sdram")
    assert qspi.size_bytes == 16 * 2 ** 20 and qspi.bandwidth_bytes_per_s == pytest.approx(QSPI_BYTES_PER_S)
    assert qspi.latency_s == pytest.approx((8 + 6 + 10) / 108e6, rel=1e-3)   # instruction + address + dummy
    assert sdram.size_bytes == 4 * 4096 * 256 * 2 == 8 * 2 ** 20
    assert sdram.dram.peak_bandwidth_bytes_per_s == pytest.approx(2 * 100e6)  # 16 bits × 100 MHz SDR
    # the chip's own levels are unchanged by the board
    chip = load_hardware("stm32f746")
    assert [lv for lv in hw.levels if lv.name not in ("qspi_flash", "sdram")] == list(chip.levels)


def test_weights_fill_the_internal_flash_first_then_qspi(graph, board):
    m = map_graph(graph, board)
    assert dict(m.attrs).get("does_not_fit") is None
    placed = _placed(graph, m)
    assert sum(placed.values()) == WEIGHT_BYTES
    assert set(placed) == {"flash", "qspi_flash"}
    assert 0.9 * 128 * 1024 < placed["flash"] <= 128 * 1024       # the cheap level is filled first
    r = simulate(graph, board, m)
    reads = {lv.level: lv.reads_bytes for lv in r.levels}
    assert reads["flash"] == placed["flash"] and reads["qspi_flash"] == placed["qspi_flash"]
    energy = dict(r.energy_breakdown_j)
    assert energy["qspi_flash"] == pytest.approx(placed["qspi_flash"] * QSPI_READ_PJ_PER_BYTE * 1e-12)
    assert r.fits and reads["sdram"] == 0                        # the arena fits the SRAM


def test_qspi_bytes_cost_their_stream_time(graph, board):
    """An in-order core waits for QSPI reads: doubling the QSPI bandwidth saves exactly half the
    stream time of the QSPI bytes (to a tick per op)."""
    m = map_graph(graph, board)
    qspi = _placed(graph, m)["qspi_flash"]
    slow = simulate(graph, board, m)
    fast_hw = load_hardware("stm32f746-disco", {**SMALL_FLASH, "memory.qspi_flash.bandwidth": "108 MB/s"})
    fast = simulate(graph, fast_hw, m)
    saved = slow.latency_s - fast.latency_s
    assert saved == pytest.approx(qspi / (2 * QSPI_BYTES_PER_S), abs=len(slow.ops) / board.freq_hz)
    # with every weight in the internal flash (1 MiB) the QSPI time is gone altogether
    roomy = load_hardware("stm32f746-disco")
    whole = simulate(graph, roomy, map_graph(graph, roomy))
    assert {lv.level: lv.reads_bytes for lv in whole.levels}["qspi_flash"] == 0
    assert slow.latency_s - whole.latency_s >= 0.9 * qspi / QSPI_BYTES_PER_S


def test_an_arena_the_sram_cannot_hold_lives_in_sdram(graph):
    tiny = load_hardware("stm32f746-disco", SMALL_SRAM)
    m = map_graph(graph, tiny)
    assert dict(m.attrs).get("does_not_fit") is None
    assert m.placed("activation") == "sdram"
    ana = simulate(graph, tiny, m)
    assert ana.fits
    use = {lv.level: lv for lv in ana.levels}
    assert use["sdram"].reads_bytes > 0 and use["sdram"].writes_bytes > 0
    # the same chip without the board's SDRAM does not fit
    chip = load_hardware("stm32f746", SMALL_SRAM)
    assert dict(map_graph(graph, chip).attrs).get("does_not_fit") is not None
    # the cycle engine runs the SDRAM's commands (rows, refresh) and lands near the closed form
    cyc = simulate(graph, tiny, m, fidelity="cycle")
    assert abs(cyc.analytic_vs_cycle_gap) < 0.1
    assert dict(cyc.actions).get("sdram.activate", 0) > 0
