"""Small Hardware descriptions built directly (independent of the YAML loader) for mapper tests.
Numbers are test assumptions shaped like the real chips (TPU-v1-like NPU, PIM-GPT-like GDDR6 PIM,
STM32F746-like MCU), not sourced presets."""
from __future__ import annotations

from archsim.hardware import ComputeUnit, DramTiming, Hardware, MemoryLevel
from archsim.ir import Op, OpKind, Operand, Role, Tensor

MB = 1 << 20
KB = 1 << 10


def npu(rows=16, cols=16, gb_bytes=256 * KB, dram_bw=16e9, dataflows=("os", "ws", "is"),
        sram_bw=1e12, freq=700e6) -> Hardware:
    return Hardware(
        name=f"test-npu-{rows}x{cols}", kind="npu", freq_hz=freq, tech_node_nm=28,
        levels=(
            MemoryLevel("dram", "dram", 8 << 30, dram_bw, 20.0, 20.0),
            MemoryLevel("gbuf", "sram", gb_bytes, sram_bw, 1.0, 1.2),
        ),
        compute=(
            ComputeUnit("mxu", "systolic", 1, freq, (rows, cols), (("int8", rows * cols),),
                        "gbuf", dataflows=dataflows, energy_pj_per_mac=(("int8", 0.2),)),
            ComputeUnit("vpu", "vector", 1, freq, (32,), (("int8", 32), ("fp16", 32), ("fp32", 16)),
                        "gbuf", energy_pj_per_mac=(("int8", 0.4), ("fp16", 1.0))),
        ),
    )


def npu_three_level(rows=8, cols=8) -> Hardware:
    return Hardware(
        name="test-npu-3lvl", kind="npu", freq_hz=1e9, tech_node_nm=16,
        levels=(
            MemoryLevel("dram", "dram", 8 << 30, 8e9, 25.0, 25.0),
            MemoryLevel("l2", "sram", 512 * KB, 64e9, 2.0, 2.2),
            MemoryLevel("l1", "sram", 16 * KB, 512e9, 0.5, 0.6),
        ),
        compute=(ComputeUnit("mxu", "systolic", 1, 1e9, (rows, cols), (("int8", rows * cols),),
                             "l1", energy_pj_per_mac=(("int8", 0.2),)),),
    )


def pim(channels=8, banks=16) -> Hardware:
    dram = DramTiming(channels=channels, ranks=1, bank_groups=4, banks_per_group=banks // 4,
                      rows=16384, row_size_bytes=2048, bus_width_bits=16, burst_length=16,
                      tck_s=1e-9, data_rate=16, trcd=18, trp=18, act_energy_pj=900.0)
    return Hardware(
        name="test-pim", kind="pim", freq_hz=1e9, tech_node_nm=28,
        levels=(
            MemoryLevel("gddr6", "gddr", dram.capacity_bytes, 256e9, 14.0, 14.0, dram=dram),
            MemoryLevel("asic_sram", "sram", 512 * KB, 256e9, 1.0, 1.2),
        ),
        compute=(
            ComputeUnit("banks", "pim_bank", channels * banks, 1e9, (16,), (("bf16", 16),),
                        "gddr6", energy_pj_per_mac=(("bf16", 1.0),)),
            ComputeUnit("asic", "vector", 1, 1e9, (64,), (("bf16", 64), ("fp32", 32)),
                        "asic_sram", energy_pj_per_mac=(("bf16", 2.0),)),
        ),
    )


def mcu(sram_bytes=320 * KB, flash_bytes=1 * MB) -> Hardware:
    return Hardware(
        name="test-mcu", kind="mcu", freq_hz=216e6, tech_node_nm=40,
        levels=(
            MemoryLevel("flash", "flash", flash_bytes, 216e6 * 8, 30.0, 300.0, holds=("weight",)),
            MemoryLevel("sram", "sram", sram_bytes, 216e6 * 8, 5.0, 5.0),
        ),
        compute=(ComputeUnit("m7", "scalar_core", 1, 216e6, (1,),
                             (("int8", 1.0), ("int16", 2.0), ("fp32", 1.0)), "sram",
                             energy_pj_per_mac=(("int8", 10.0),)),),
    )


def gemm(m, n, k, bits=8, name="gemm", weight=True) -> Op:
    x = Tensor(f"{name}.x", (m, k), bits)
    w = Tensor(f"{name}.w", (k, n), bits, Role.WEIGHT if weight else Role.ACTIVATION)
    y = Tensor(f"{name}.y", (m, n), bits)
    return Op(name, OpKind.MATMUL, (("m", m), ("n", n), ("k", k)),
              (Operand(x, ("m", "k")), Operand(w, ("k", "n")), Operand(y, ("m", "n"), True)),
              macs=m * n * k, flops=2 * m * n * k)


def conv(n, c, k, oh, ow, r, s, bits=8, name="conv") -> Op:
    """A conv written as dims with the input indexed by (n, c, oh, ow, r, s) approximately."""
    x = Tensor(f"{name}.x", (n, c, oh + r - 1, ow + s - 1), bits)
    w = Tensor(f"{name}.w", (k, c, r, s), bits, Role.WEIGHT)
    y = Tensor(f"{name}.y", (n, k, oh, ow), bits)
    dims = (("n", n), ("k", k), ("c", c), ("oh", oh), ("ow", ow), ("r", r), ("s", s))
    return Op(name, OpKind.CONV2D, dims,
              (Operand(x, ("n", "c", "oh", "ow")), Operand(w, ("k", "c", "r", "s")),
               Operand(y, ("n", "k", "oh", "ow"), True)),
              macs=n * k * c * oh * ow * r * s, flops=2 * n * k * c * oh * ow * r * s)


def softmax(rows, cols, bits=16, name="softmax") -> Op:
    x = Tensor(f"{name}.x", (rows, cols), bits)
    y = Tensor(f"{name}.y", (rows, cols), bits)
    return Op(name, OpKind.SOFTMAX, (("r", rows), ("c", cols)),
              (Operand(x, ("r", "c")), Operand(y, ("r", "c"), True)), macs=0,
              flops=5 * rows * cols)
