"""The accesses a systolic dataflow really makes, derived by hand from one GEMM's shapes: the buffer
traffic of the array's folds (SCALE-Sim's SRAM counts) per dataflow, and, when the unit has its own
register file, the RF reads and writes per MAC (Chen, Emer, Sze, ISCA 2016) with the MAC priced
without operand delivery."""
from __future__ import annotations

from pathlib import Path
import warnings

import pytest

from archsim.energy import mac_energy_pj, register_file, rf_bytes_per_mac
from archsim.engine import simulate
from archsim.hardware import load_hardware
from archsim.hardware.lint import HardwareLintWarning
from archsim.ir import Op, OpKind, Operand, Role, Tensor, add_op, new_graph

TINY = Path("tests/hardware/data/tiny.yaml")     # 16x16 systolic array attached to gbuf, 28 nm
M, N, K = 64, 128, 1024                          # int8: one byte per element
X, W, Y = M * K, K * N, M * N
PSUM = M * N * 4 * (K // 16 - 1)                 # 32-bit partial sums between the 64 k-folds


def _gemm():
    g = new_graph(name="one-gemm")
    x, w, y = Tensor("x", (M, K), 8), Tensor("w", (K, N), 8, Role.WEIGHT), Tensor("y", (M, N), 8)
    add_op(g, Op("g", OpKind.MATMUL, (("m", M), ("n", N), ("k", K)),
                 (Operand(x, ("m", "k")), Operand(w, ("k", "n")), Operand(y, ("m", "n"), True)),
                 macs=M * N * K, flops=2 * M * N * K))
    return g


def _load(path, overrides=None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HardwareLintWarning)
        return load_hardware(str(path), overrides)


@pytest.mark.parametrize("dataflow, reads, writes", [
    # rows k, cols n: x re-read per n-fold (8), w stationary, psums between k-folds
    ("ws", X * 8 + W + PSUM, W + Y + PSUM),
    # rows m, cols n: x per n-fold (8), w per m-fold (4), k in time: no psums leave the array
    ("os", X * 8 + W * 4, W + Y),
    # rows k, cols m: x stationary, w per m-fold (4), psums between k-folds
    ("is", X + W * 4 + PSUM, W + Y + PSUM),
])
def test_buffer_traffic_of_the_folds(dataflow, reads, writes):
    r = simulate(_gemm(), _load(TINY, {"compute.pe.dataflows": [dataflow]}))
    gbuf = next(lv for lv in r.levels if lv.level == "gbuf")
    assert (gbuf.reads_bytes, gbuf.writes_bytes) == (reads, writes)


def _with_rf(tmp_path, dataflow):
    text = TINY.read_text().replace("compute:\n", "  - name: rf\n    kind: register\n    size: 512 B\n"
                                    "    instances: 256\n    bytes_per_cycle: 1024\ncompute:\n", 1)
    path = tmp_path / "tiny-rf.yaml"
    path.write_text(text)
    return _load(path, {"compute.pe.dataflows": [dataflow]})


@pytest.mark.parametrize("dataflow, rf_reads, rf_writes", [("rs", 3, 1), ("ws", 1, 0), ("os", 1, 1),
                                                            ("is", 1, 0)])
def test_register_file_accesses_per_mac(tmp_path, dataflow, rf_reads, rf_writes):
    hw = _with_rf(tmp_path, dataflow)
    assert register_file(hw.levels, "systolic", "gbuf").name == "rf"
    assert register_file(hw.levels, "vector", "gbuf") is None
    assert rf_bytes_per_mac(dataflow, "int8") == (rf_reads, rf_writes)
    r = simulate(_gemm(), hw)
    acts = dict(r.actions)
    assert acts["rf.read"] == rf_reads * M * N * K and acts.get("rf.write", 0) == rf_writes * M * N * K
    gbuf = next(lv for lv in r.levels if lv.level == "gbuf")
    assert (gbuf.reads_bytes, gbuf.writes_bytes) == (X + W, W + Y)    # the RF holds the reuse
    # the RF carries operand delivery: the MAC's default is the arithmetic alone
    assert dict(hw.compute[0].energy_pj_per_mac)["int8"] == pytest.approx(mac_energy_pj("int8", 28, False))
    assert dict(_load(TINY).compute[0].energy_pj_per_mac)["int8"] == pytest.approx(mac_energy_pj("int8", 28))
