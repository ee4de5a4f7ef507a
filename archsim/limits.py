"""Physically sensible ranges for every magnitude a user hands archsim, checked where it enters
(CLI, hardware YAML, model configs, the Python API, co-search spaces).

Why ranges at all: archsim computes with Python ints and float64. A batch of 1e23 or a clock of
1e-300 Hz is not a design anyone builds, yet it reaches loops (divisor searches, task lists) and
products (energy × delay) that then run for hours or overflow to inf. Each bound below is far past
any published chip or model — a margin of ≥ 1000× over today's largest — so it refuses only typos
and adversarial input, never a real design. Say why when you move one.
"""
from __future__ import annotations

__all__ = ["MAX_BATCH", "MAX_TOKENS", "MAX_WIDTH", "MAX_LOOP_DIM", "HW_RANGES", "MAX_COUNT",
           "MAX_PIPELINE_DEPTH", "MAX_NOC_NODES", "MAX_DRAM_CHANNELS", "MAX_DRAM_BANKS",
           "out_of_range"]

#: sequences in one step (serving batches are ≤ ~10^4).
MAX_BATCH = 2 ** 20
#: prompt length, context or cached positions (the longest published contexts are ~10^7 tokens).
MAX_TOKENS = 2 ** 30
#: one model width: hidden, FFN, vocabulary, heads, experts (largest published: vocab ~2.6·10^5).
MAX_WIDTH = 2 ** 24
#: one loop dimension of one op (a GEMM's M, N or K); a batch × prompt product stays below it.
MAX_LOOP_DIM = 2 ** 50

#: a count of identical things in hardware: PEs per side, lanes, banks, rows, channels, instances.
MAX_COUNT = 2 ** 32
#: pipeline stages of a compute unit (FPGA DSP chains are ~10–100 deep).
MAX_PIPELINE_DEPTH = 2 ** 16
#: nodes of an on-chip network (`noc:`): the engine lists every link and routes each array's
#: transfers (per-chip meshes of PE arrays or cores have 10–10^3 nodes; a Tenstorrent grid ~10^2).
MAX_NOC_NODES = 2 ** 12
#: channels of one DRAM level, and its banks over all channels (channels × ranks × bank groups ×
#: banks): the cycle engine keeps a queue per channel and a state row per bank. The largest shipped
#: level has 160 channels and 2,560 banks (hbm3-pim: five HBM3 stacks); an H100's HBM3 has 160
#: pseudo-channels. At 10^9 channels the engine asked for 21 GB and was killed; 2^12 channels of 16
#: banks run in ~16 s CPU (gpt2-small prefill 16, edge-npu).
MAX_DRAM_CHANNELS = 2 ** 12
MAX_DRAM_BANKS = 2 ** 16

#: per dimension of a hardware quantity (SI base units: B, bit, B/s, Hz, s, pJ, pJ/B, W, mm², nm):
#: (low, high) inclusive. Zero passes where the field allows zero (latency 0 = none).
HW_RANGES: dict[str, tuple[float, float]] = {
    "bytes": (1, 2 ** 60),                 # ≤ 1 EiB per memory level
    "bits": (1, 2 ** 20),                  # a bus up to 1 Mibit wide
    "bandwidth": (1.0, 1e18),              # ≤ 1 EB/s (an H100's registers: ~10^15 B/s)
    "frequency": (1.0, 1e12),              # 1 Hz … 1 THz
    "time": (1e-15, 1e3),                  # 1 fs … 1000 s for a latency, overhead or DRAM timing
    "energy": (1e-6, 1e9),                 # 1 aJ … 1 mJ per action (a MAC is ~0.1–10 pJ)
    "energy_per_byte": (1e-6, 1e9),        # per byte moved (DRAM: ~10–100 pJ/B)
    "power": (1e-9, 1e7),                  # 1 nW … 10 MW
    "area": (1e-9, 1e7),                   # mm² (a full wafer: ~7·10^4 mm²)
    "length": (0.1, 1e6),                  # technology node in nm
}


def out_of_range(value: float, dimension: str) -> str | None:
    """None when `value` (≥ 0, in base units) is zero or inside the range of `dimension`; else the
    problem, e.g. 'must be at most 1e+12 Hz'. Dimensions without a range pass."""
    bounds = HW_RANGES.get(dimension)
    if bounds is None or value == 0:
        return None
    low, high = bounds
    unit = _UNITS.get(dimension, "")
    if value < low:
        return f"must be 0 or at least {low:g} {unit}".rstrip()
    if value > high:
        return f"must be at most {high:g} {unit}".rstrip()
    return None


_UNITS = {"bytes": "B", "bits": "bit", "bandwidth": "B/s", "frequency": "Hz", "time": "s",
          "energy": "pJ", "energy_per_byte": "pJ/B", "power": "W", "area": "mm²", "length": "nm"}
