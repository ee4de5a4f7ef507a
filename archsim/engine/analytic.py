"""Closed-form time per op (the analytic fidelity) and its roofline bound, in engine ticks
(1 / hw.freq_hz). Uses the same timing functions and DRAM closed forms as the cycle engine."""
from __future__ import annotations

from math import ceil

from archsim.hardware import Hardware, MemoryLevel

from .dram import (dram_params, PARAM_NAMES, refresh_fraction, stream_refresh_fraction,
                   streaming_bandwidth_bytes_per_s)
from .dram_layout import pim_issue_cycles, pim_layout
from .plan import OpPlan, in_bank, offchip_traffic
from .timing.sm import sm_plan_seconds
from .timing.units import unit_cycles, work_units

__all__ = ["analytic_ticks", "host_link_s", "in_place", "roofline_ticks",
           "offchip_bandwidth_bytes_per_s", "link_bandwidth"]


def offchip_bandwidth_bytes_per_s(lv: MemoryLevel) -> float:
    """The physical ceiling across the pins: DRAM pin bandwidth, else the level's bandwidth."""
    if lv.dram is not None:
        return lv.dram.peak_bandwidth_bytes_per_s
    return max(lv.bandwidth_bytes_per_s, 1.0)


def link_bandwidth(hw: Hardware) -> float:
    return hw.interconnect[0].bandwidth_bytes_per_s if hw.interconnect else offchip_bandwidth_bytes_per_s(hw.levels[0])


def _stream_s(lv: MemoryLevel, nbytes: int) -> float:
    if not nbytes:
        return 0.0
    if lv.dram is None:
        return nbytes / max(lv.bandwidth_bytes_per_s, 1.0) + lv.latency_s
    t = lv.dram
    bw = streaming_bandwidth_bytes_per_s(t) * t.channels * (1.0 - stream_refresh_fraction(t))
    return nbytes / bw + (t.trcd + t.cl) * t.tck_s


def roofline_ticks(p: OpPlan, hw: Hardware) -> int:
    """max(compute at the unit's peak, off-chip bytes at pin bandwidth): no engine may beat it."""
    tick = 1.0 / hw.freq_hz
    rate = p.unit.count * max(p.unit.macs_per_cycle_for(p.dtype), 1e-9) * p.unit.freq_hz
    comp = work_units(p.op) / rate
    if p.unit.type == "pim_bank" and p.pim_bytes:
        mem = (p.offchip_read_bytes + p.offchip_write_bytes) / link_bandwidth(hw)
    else:       # each off-chip level's bytes across its own pins
        mem = sum((r + w) / offchip_bandwidth_bytes_per_s(hw.level(lv)) for lv, r, w in offchip_traffic(p))
        mem = max(mem, host_link_s(p, hw))
    return int(max(comp, mem) / tick * (1 - 1e-9))


def _pim_s(p: OpPlan, hw: Hardware) -> float:
    t = p.buffer.dram
    d = dict(zip(PARAM_NAMES, dram_params(t)))
    nb, rows, cols = pim_layout(p)
    tccd_ab = max(d["tccd_ab"], pim_issue_cycles(hw, p.buffer))
    act_spread = max((nb - 1) * d["trrd_s"], (nb // 4 - 1) * d["tfaw"] if nb >= 4 else 0)
    if d["act_ab"] and nb > 1:          # one all-bank ACT opens every bank of the row burst
        act_spread = 0
    per_row = d["trtp"] + d["trp"] + act_spread + d["trcd"]
    # consecutive row bursts open the next `nb` banks of the channel (the lowering's slots), so
    # with fewer PIM units than banks a burst's precharge and activation overlap the bursts
    # before it: a set of banks comes round every `sets` bursts, and a burst takes its columns,
    # that round's share of its banks' row cycle, or the channel's ACT rate, whichever is longest
    # (the cycle engine's in-order command timing; one set = bank-level PIM: no overlap)
    sets = max(1, t.banks_per_channel // nb)
    burst = cols / rows * tccd_ab
    if sets == 1:
        cyc = cols * tccd_ab + rows * per_row
    else:
        act_rate = d["trrd_l"] if d["act_ab"] and nb > 1 else max(nb * d["trrd_s"], nb * d["tfaw"] / 4)
        cyc = rows * max(burst, (burst + per_row) / sets, act_rate) + d["trcd"]
    cyc /= 1.0 - refresh_fraction(t)
    link = link_bandwidth(hw)
    return cyc * t.tck_s + (p.offchip_read_bytes + p.offchip_write_bytes) / link


def analytic_ticks(p: OpPlan, hw: Hardware, ports: bool = True, fill: bool = True,
                   noc: bool = True) -> int:
    """The op's closed-form time in hw cycles; `ports=False`: without the on-chip port bound (the
    counterfactual `attribution.port_share_ticks` compares against); `fill=False`: without the
    allowance for load/compute pipeline fill (`min(compute, load) / 8`; `attribution.fill_ticks`);
    `noc=False`: without the NoC phases (`attribution.noc_share_ticks`)."""
    tick = 1.0 / hw.freq_hz
    if p.unit.type == "sm" and p.kernel_s == 0.0:
        return 0          # runs inside another op's kernel (an epilogue, a fused softmax): timed there
    if p.unit.type == "sm":
        s = sm_plan_seconds(p, hw)
    elif in_bank(p):
        from .ports import port_seconds
        s = max(_pim_s(p, hw), port_seconds(p, hw) if ports else 0.0)   # inputs from, results to SRAM
    else:
        comp = unit_cycles(p.unit, p.op, p.dataflow, weight_bytes=p.flash_weight_bytes,
                           wait_states=p.flash_wait_states,
                           streamed=p.streamed, mapping=p.mapping) / p.unit.freq_hz
        from .ports import port_seconds
        if ports:
            comp = max(comp, port_seconds(p, hw))      # on-chip bytes at the levels' port rate
        load = store = 0.0
        for lv, r, w in offchip_traffic(p):
            level = hw.level(lv)
            if not in_place(p, level):   # a core's reads from a flash with wait states: stalls in `comp`
                load += _stream_s(level, r)
            store += _stream_s(level, w)
        if p.noc is not None and noc:    # inputs over the NoC overlap the compute; the reduction follows
            from .noc import phase_seconds
            comp = max(comp, phase_seconds(p.noc.distribute, hw.noc))
            store += phase_seconds(p.noc.collect, hw.noc)
        store += host_link_s(p, hw)      # "@pipeline" tensors to / from the host, as `lower_stream`
        if p.unit.type == "scalar_core":
            s = comp + load + store      # an in-order core loads the bytes itself: no overlap
        else:
            s = max(comp, load) + (min(comp, load) / 8 if fill else 0.0) + store
    return max(int(ceil(s / tick)), roofline_ticks(p, hw))


def host_link_s(p: OpPlan, hw: Hardware) -> float:
    """Time a PIM op streamed from the DRAM moves its "@pipeline" tensors over the host link to and
    from the host buffer (`pim_host.pipeline_at_host`): the inputs before its first tile, the outputs
    after its last, at the link's bandwidth (the cycle engine's two link tasks)."""
    n = p.host_read_bytes + p.host_write_bytes
    return n / link_bandwidth(hw) if n else 0.0


def in_place(p: OpPlan, level: MemoryLevel) -> bool:
    """An MCU core reads this level in place and its cost is the core's wait-state stalls
    (`timing.units.scalar_core_cycles`): the internal flash. A flash without wait states (a
    board's QSPI flash) or a DRAM is timed as a stream the core waits for."""
    return p.unit.type == "scalar_core" and level.dram is None and level.wait_states > 0
