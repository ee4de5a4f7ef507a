"""Magnitude limits at every boundary (issue 21): a size, rate or time past any real design is one
clear error (exit 2) or "does not fit" — never a hang, an overflow to inf or an internal error."""
from __future__ import annotations

import pytest

from archsim import api
from archsim.cli import main
from archsim.errors import ArchsimError, ConfigError, ModelError
from archsim.hardware import load_hardware
from archsim.mapper.mapspace import _tile_values
from archsim.workloads import build_graph

from .bounded import within


def _run(capsys, argv) -> tuple[int, str, str]:
    with within(60):
        code = main(argv)
    out, err = capsys.readouterr()
    assert "internal error" not in err and "Traceback" not in err
    return code, out, err


@pytest.mark.parametrize("flags, word", [
    (["--context", str(2 ** 63)], "context"),
    (["--batch", str(10 ** 23)], "batch"),
    (["--seq", str(2 ** 62)], "seq"),
])
def test_cli_sizes_past_any_workload_are_refused(capsys, flags, word):
    code, _, err = _run(capsys, ["simulate", "--model", "llama2-7b", "--hw", "a100-80gb", "--quiet",
                                 "--json", "-"] + flags)
    assert code == 2 and f"{word} " in err and "past any real workload" in err


def test_gemm_past_the_limit_is_refused_and_a_huge_one_does_not_fit(capsys):
    code, _, err = _run(capsys, ["map", "--gemm", f"{10 ** 25},64,64", "--hw", "a100-80gb"])
    assert code == 2 and "at most" in err
    code, out, _ = _run(capsys, ["map", "--gemm", f"{10 ** 15},64,64", "--hw", "a100-80gb"])
    assert code == 0 and out.startswith("does not fit")


def test_tile_values_of_a_huge_prime_are_bounded():
    with within(10):                       # 2^61 − 1 is prime: trial division to √n never ends
        vals = _tile_values(2 ** 61 - 1)
    assert vals[0] == 1 and vals[-1] == 2 ** 61 - 1


def test_python_api_and_model_configs_have_the_same_limits():
    with pytest.raises(ModelError, match="past any real workload"):
        build_graph("llama2-7b", "decode", batch=10 ** 23, context=16)
    with pytest.raises(ModelError, match="hidden .* past any real model"):
        build_graph("gpt2-small", overrides={"hidden": 2 ** 40, "heads": 1})
    with pytest.raises(ArchsimError):
        api.simulate("llama2-7b", "a100-80gb", context=2 ** 63)


@pytest.mark.parametrize("hw, key, value", [
    ("a100-80gb", "memory.hbm.latency", "1e290 s"),
    ("a100-80gb", "compute.tensor.launch_overhead", "1e300 s"),
    ("a100-80gb", "clock", "1e300 Hz"),
    ("a100-80gb", "clock", "1e-300 Hz"),
    ("a100-80gb", "memory.l2.bytes_per_cycle", 1e300),          # × clock = infinite bandwidth
    ("zcu102", "compute.dsp.pipeline_depth", 10 ** 18),
    ("a100-80gb", "power.static", "1e300 W"),
    ("edge-npu", "memory.lpddr5.read_energy", "1e300 pJ/B"),
    ("a100-80gb", "interconnect.nvlink.latency", "1e290 s"),
    ("a100-80gb", "memory.hbm.size", "1e30 B"),
])
def test_hardware_magnitudes_past_any_chip_are_refused(hw, key, value):
    overrides = {key: value}
    if key.endswith("bytes_per_cycle"):
        overrides["memory.l2.bandwidth"] = None
    with pytest.raises(ConfigError) as exc:
        load_hardware(hw, overrides=overrides)
    line = str(exc.value)
    assert key.split(".")[-1] in line and ("must be" in line or "too large" in line)


def test_pipeline_depth_at_its_limit_runs_the_cycle_engine_quickly():
    with within(120):
        res = api.simulate("gpt2-small", "zcu102", context=16, fidelity="cycle",
                           hw_overrides={"compute.dsp.pipeline_depth": 2 ** 16})
    assert res.latency_s > 0


def test_static_power_and_energies_at_their_limits_leave_latency_alone():
    """Latency was 550× (17,000× on other chips) with 1e300 W or pJ: EDP overflowed to inf, every
    mapping looked illegal and the mapper fell back to the smallest tiles. In range, EDP stays
    finite: the latency moves by at most the EDP/latency trade-off, not by orders of magnitude."""
    base = api.simulate("gpt2-small", "edge-npu", context=128).latency_s
    for overrides in ({"power.static": "1e7 W"}, {"memory.lpddr5.read_energy": "1e9 pJ/B"}):
        assert api.simulate("gpt2-small", "edge-npu", context=128,
                            hw_overrides=overrides).latency_s == pytest.approx(base, rel=0.02)
