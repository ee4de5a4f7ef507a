"""Per-action energy accounting on a description whose read and write energies differ (no shipped
chip has them differ, so a swap would pass every other test): bytes moved are derived by hand from
one GEMM's shapes, and each level's energy is reads × read energy + writes × write energy."""
from __future__ import annotations

import pytest

from archsim.engine import simulate
from archsim.hardware import load_hardware
from archsim.ir import Op, OpKind, Operand, Role, Tensor, add_op, new_graph

TINY = "tests/hardware/data/tiny.yaml"
# pJ per byte; every number distinct so that any swap of read/write or of levels shows
PJ = {"dram": (10.0, 100.0), "gbuf": (1.0, 3.0)}


def _hw():
    over = {}
    for level, (read, write) in PJ.items():
        over[f"memory.{level}.read_energy"] = f"{read} pJ/B"
        over[f"memory.{level}.write_energy"] = f"{write} pJ/B"
    return load_hardware(TINY, over)


def _one_gemm(M, N, K):
    g = new_graph(name="one-gemm")
    x = Tensor("x", (M, K), 8)
    w = Tensor("w", (K, N), 8, Role.WEIGHT)
    y = Tensor("y", (M, N), 8)
    add_op(g, Op("g", OpKind.MATMUL, (("m", M), ("n", N), ("k", K)),
                 (Operand(x, ("m", "k")), Operand(w, ("k", "n")), Operand(y, ("m", "n"), True)),
                 macs=M * N * K, flops=2 * M * N * K))
    return g


def test_description_keeps_read_and_write_energy_apart():
    hw = _hw()
    for lv in hw.levels:
        assert (lv.read_energy_pj_per_byte, lv.write_energy_pj_per_byte) == PJ[lv.name]


@pytest.mark.parametrize("fidelity", ["analytic", "cycle"])
def test_one_gemm_energy_is_reads_and_writes_at_their_own_prices(fidelity):
    M, N, K = 64, 128, 1024
    x_b, w_b, y_b = M * K, K * N, M * N          # int8: one byte per element
    # the weight is read from DRAM once and written into the buffer; x and y live in the buffer.
    # The buffer hands x and w to the array (reads) and takes the array's y (write). The 16x16
    # weight-stationary array spreads k over its rows and n over its columns (SCALE-Sim's folds):
    # x is read once per n-fold (128 / 16 = 8 times) and 32-bit partial sums of y go back to the
    # buffer and are read again between the 1024 / 16 = 64 k-folds (63 times each).
    psum_b = M * N * 4 * (K // 16 - 1)
    reads, writes = x_b * (N // 16) + w_b + psum_b, w_b + y_b + psum_b
    r = simulate(_one_gemm(M, N, K), _hw(), fidelity=fidelity)
    use = {lv.level: lv for lv in r.levels}
    assert (use["dram"].reads_bytes, use["dram"].writes_bytes) == (w_b, 0)
    assert (use["gbuf"].reads_bytes, use["gbuf"].writes_bytes) == (reads, writes)
    parts = dict(r.energy_breakdown_j)
    assert parts["dram"] == pytest.approx(w_b * 10.0 * 1e-12, rel=1e-12)
    assert parts["gbuf"] == pytest.approx((reads * 1.0 + writes * 3.0) * 1e-12, rel=1e-12)


def test_decode_energy_per_level_is_reads_and_writes_at_their_own_prices():
    """A decode step writes the KV cache to DRAM, so DRAM reads and writes are both nonzero and
    the identity checks both prices on a real graph."""
    from archsim.workloads import build_graph
    g = build_graph("gpt2-small", "decode", context=64, overrides={"layers": 1})
    r = simulate(g, _hw())
    parts = dict(r.energy_breakdown_j)
    for lv in r.levels:
        read, write = PJ[lv.level]
        assert lv.reads_bytes > 0 and lv.writes_bytes > 0 and lv.reads_bytes != lv.writes_bytes
        want = (lv.reads_bytes * read + lv.writes_bytes * write) * 1e-12
        assert parts[lv.level] == pytest.approx(want, rel=1e-9), lv.level


def test_static_energy_is_at_least_idle_power_times_time():
    """A powered board draws at least its idle power: static + leakage below it is lifted to it."""
    import dataclasses

    from archsim.engine.accounting import energy_breakdown_j
    hw = _hw()
    low = dataclasses.replace(hw, static_power_w=1.0, idle_power_w=5.0)
    high = dataclasses.replace(hw, static_power_w=7.0, idle_power_w=5.0)
    assert dict(energy_breakdown_j({}, low, 2.0))["static"] == pytest.approx(10.0)    # 5 W × 2 s
    assert dict(energy_breakdown_j({}, high, 2.0))["static"] == pytest.approx(14.0)   # 7 W × 2 s


def test_each_action_lands_in_its_component():
    from archsim.engine.accounting import component_of
    hw = _hw()
    assert [component_of(a, hw) for a in ("gbuf.read", "dram.write", "pe.mac.int8", "dram.activate",
                                          "dram.refresh", "nvlink.transfer")] == \
        ["gbuf", "dram", "compute", "dram_act_pre", "dram_refresh", "interconnect"]


@pytest.mark.parametrize("M, spills", [(32, False), (96, True)])
def test_activations_over_half_the_buffer_spill_to_dram(M, spills):
    """A GEMM's activations stay in the 256 KiB buffer when they fit twice (double buffering):
    x and y of 32 × 1024 each (64 KiB) do; of 96 × 1024 each (192 KiB > 128 KiB) they spill, so x is
    read from DRAM and y written to it, next to the 1 MiB weight read once."""
    N = K = 1024
    x_b, w_b, y_b = M * K, K * N, M * N
    r = simulate(_one_gemm(M, N, K), _hw(), fidelity="analytic")
    dram = next(lv for lv in r.levels if lv.level == "dram")
    want = (w_b + x_b, y_b) if spills else (w_b, 0)
    assert (dram.reads_bytes, dram.writes_bytes) == want
