from __future__ import annotations

"""Small real graphs (gpt2-small cut to a few layers) on named hardware, cached per process."""
import functools


@functools.lru_cache(maxsize=None)
def all_bank_refresh(hw):
    """`hw` with every DRAM refreshed all banks at once: what the SimPy twin models, so a
    Numba-vs-SimPy comparison runs on a chip with per-bank refresh too."""
    import dataclasses
    levels = tuple(dataclasses.replace(lv, dram=dataclasses.replace(lv.dram, refresh_per_bank=False))
                   if lv.dram is not None else lv for lv in hw.levels)
    return dataclasses.replace(hw, levels=levels)


def tiny_graph(hw_name: str, phase: str, layers: int):
    from archsim.hardware import load_hardware
    from workloads import build_graph
    hw = load_hardware(hw_name)
    kw = dict(context=64) if phase == "decode" else dict(seq=32)
    g = build_graph("gpt2-small", phase, overrides={"layers": layers}, **kw)
    return hw, g
