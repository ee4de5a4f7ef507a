"""DRAM timings for the closed-form tests: the five types of hardware-facts.md §5.3 built directly
(cycles as written there), plus every hwconfigs/ description that has a dram block."""
from __future__ import annotations

from archsim.hardware import DramTiming

FACTS = {
    # DDR4-3200 8Gb x8, DRAMsim3 DDR4_8Gb_x8_3200.ini; x64 rank of x8 chips → 8 KiB page
    "ddr4-3200": DramTiming(channels=1, ranks=1, bank_groups=4, banks_per_group=4, rows=65536,
                            row_size_bytes=8192, bus_width_bits=64, burst_length=8, tck_s=0.625e-9,
                            cl=22, trcd=22, trp=22, tras=52, tccd_s=4, tccd_l=8, trrd_s=4, trrd_l=8,
                            tfaw=34, twr=24, trtp=12, trefi=12480, trfc=560, twtr_s=4, twtr_l=12),
    # HBM2 8Gb x128, DRAMsim3 HBM2_8Gb_x128.ini; 1 KiB row, BL4
    "hbm2": DramTiming(channels=8, ranks=1, bank_groups=4, banks_per_group=4, rows=32768,
                       row_size_bytes=1024, bus_width_bits=128, burst_length=4, tck_s=1e-9, cl=14,
                       trcd=14, trp=14, tras=34, tccd_s=1, tccd_l=2, trrd_s=4, trrd_l=6, tfaw=30,
                       twr=16, trtp=4, trefi=3900, trfc=260, twtr_s=6, twtr_l=8),
    # HBM3 5.2 Gbps pseudo-channel, attacc HBM3-PIM.cpp (QDR view: BL8 over 2 tCK); all-bank tRFC
    # 450 ns (16 Gb) = 585 cycles (per-bank refresh: the hwconfigs/ HBM3 and LPDDR5 entries)
    "hbm3": DramTiming(channels=32, ranks=1, bank_groups=4, banks_per_group=4, rows=32768,
                       row_size_bytes=1024, bus_width_bits=32, burst_length=8, tck_s=0.769e-9,
                       data_rate=4, cl=19, trcd=19, trp=19, tras=45, tccd_s=2, tccd_l=4, trrd_s=2,
                       trrd_l=4, tfaw=39, twr=21, trtp=6, trefi=5070, trfc=585, twtr_s=8,
                       twtr_l=11),
    # GDDR6 x16, ramulator2 GDDR6_2000 read at tCK 0.57 ns (BL16 over 8 tCK)
    "gddr6": DramTiming(channels=2, ranks=1, bank_groups=4, banks_per_group=4, rows=16384,
                        row_size_bytes=2048, bus_width_bits=16, burst_length=16, tck_s=0.57e-9,
                        cl=24, trcd=26, trp=26, tras=53, tccd_s=4, tccd_l=6, trrd_s=7, trrd_l=7,
                        tfaw=28, twr=26, trtp=4, trefi=3333, trfc=210, twtr_s=9, twtr_l=11),
    # LPDDR5-6400, ramulator2 LPDDR5_6400 at tCK 1.25 ns (BL16 over 4 tCK); tRFCab 8 Gb 210 ns
    "lpddr5": DramTiming(channels=1, ranks=1, bank_groups=4, banks_per_group=4, rows=32768,
                         row_size_bytes=2048, bus_width_bits=16, burst_length=16, tck_s=1.25e-9,
                         data_rate=4, cl=20, trcd=15, trp=17, tras=34, tccd_s=4, tccd_l=4, trrd_s=4,
                         trrd_l=4, tfaw=16, twr=28, trtp=4, trefi=3124, trfc=168, twtr_s=5,
                         twtr_l=10),
}


def all_dram_types() -> dict[str, DramTiming]:
    out = dict(FACTS)
    try:
        from archsim.hardware import list_hardware, load_hardware
    except ImportError:
        return out
    for name in list_hardware():
        hw = load_hardware(name)
        for lv in hw.levels:
            if lv.dram is not None:
                out[f"{name}:{lv.name}"] = lv.dram
    return out
