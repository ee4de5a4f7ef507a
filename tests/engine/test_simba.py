"""The shipped Simba chiplet (hwconfigs/simba.yaml, Shao et al. MICRO 2019): a description with a
`noc:` that the engine really uses — NoC byte-hops and energy at both fidelities, link contention
named as `noc_stall_s` at cycle fidelity — and its peak against the published 4.01 TOPS."""
from __future__ import annotations

import pytest

import archsim

DECODE = dict(phase="decode", context=64, overrides={"layers": 1, "vocab": 2048})


@pytest.fixture(scope="module")
def hw():
    return archsim.load_hardware("simba")


@pytest.fixture(scope="module")
def decode():
    return {f: archsim.simulate("gpt2-small", "simba", fidelity=f, **DECODE) for f in ("analytic", "cycle")}


def test_description_matches_the_published_chiplet(hw):
    pe = hw.unit("pe")
    assert hw.noc is not None and hw.noc.topology == "mesh" and hw.noc.nodes == pe.count == 16
    peak_ops = 2 * pe.count * pe.macs_per_cycle_for("int8") * pe.freq_hz
    assert peak_ops == pytest.approx(4.01e12, rel=0.005)          # VLSI 2019: 4.01 TOPS per chip
    assert hw.area_mm2 == pytest.approx(4.01 / 1.29, rel=0.01)     # 1.29 TOPS/mm2


def test_the_noc_is_exercised_at_both_fidelities(hw, decode):
    per_byte_j = hw.noc.energy_pj_per_bit_hop * 8 * 1e-12
    for r in decode.values():
        assert r.fits
        hops = dict(r.actions)["noc.byte_hop"]
        assert hops > 0
        noc_j = dict(r.energy_breakdown_j)["noc"]
        assert noc_j > 0 and noc_j == pytest.approx(hops * per_byte_j, rel=1e-9)
        assert any(op.bound == "noc" for op in r.ops)
    assert dict(decode["cycle"].actions)["noc.byte_hop"] == dict(decode["analytic"].actions)["noc.byte_hop"]


def test_noc_stalls_are_reported(decode):
    r = decode["cycle"]
    stalls = {op.name: op.gap_effects["noc_stall_s"] for op in r.ops if op.gap_effects.get("noc_stall_s")}
    assert stalls and all(v > 0 for v in stalls.values())
    assert "noc_stall_s" not in dict(r.gap_attribution)     # a symptom: shown per op, not added
    assert any("NoC mesh [4, 4] between the pe arrays" in n for n in r.notes)
    assert any(res.startswith("noc:") for res, _ in r.utilization)


def test_the_nocs_share_of_the_gap_is_named():
    """With `attribute_gap` the NoC's share of each op's gap (`noc_s`: what a re-run without link
    time saves its exclusive time minus what dropping the NoC phases saves its analytic time) is a
    part of the gap, and the parts still add up to it."""
    r = archsim.simulate("gpt2-small", "simba", fidelity="cycle", attribute_gap=True, **DECODE)
    parts = dict(r.gap_attribution)
    assert parts["noc_s"] != 0 and any(op.gap_effects.get("noc_s") for op in r.ops)
    analytic_s = sum(op.analytic_cycles for op in r.ops) / r.freq_hz
    assert sum(parts.values()) == pytest.approx(r.latency_s - analytic_s, rel=1e-9, abs=1e-12)


def test_an_encoder_runs_on_the_noc():
    r = archsim.simulate("deit-tiny", "simba", phase="encode", overrides={"layers": 1}, fidelity="cycle")
    assert r.fits and dict(r.actions)["noc.byte_hop"] > 0 and dict(r.energy_breakdown_j)["noc"] > 0
