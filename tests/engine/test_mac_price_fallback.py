"""A MAC whose dtype a unit has no energy for is priced at the entry its RATE falls back to (the
datapath that actually runs it), not at the cheapest entry the unit lists. Was: 16-bit MACs on a
T4 are named bf16 (Turing has no BF16 tensor cores, so the rate falls back to fp16), and the price
fell back to the T4's int4 entry, 1.43 pJ instead of fp16's 5.40 pJ: the T4's 70 W power limit then
barely throttled compute-bound runs (docs/gpu-baselines.md)."""
from __future__ import annotations

import pytest

import archsim
from archsim.engine.accounting import _price, prices
from archsim.hardware import load_hardware


def test_bf16_on_a_t4_is_priced_as_the_fp16_it_runs_as():
    hw = load_hardware("t4")
    tensor = next(c for c in hw.compute if c.name == "tensor")
    assert tensor.rate_dtype("bf16") == "fp16"
    table = prices(hw)
    assert "tensor.mac.bf16" not in table
    assert _price(table, hw, "tensor.mac.bf16") == table["tensor.mac.fp16"]
    assert _price(table, hw, "tensor.mac.bf16") > min(v for k, v in table.items() if k.startswith("tensor.mac."))


def test_an_alias_takes_its_rate_entry_and_an_unknown_dtype_the_cheapest():
    hw = load_hardware("t4")
    table = prices(hw)
    listed = [v for k, v in table.items() if k.startswith("tensor.mac.")]
    assert _price(table, hw, "tensor.mac.ternary") == table["tensor.mac.int4"]   # runs on int4 (first alias listed)
    assert _price(table, hw, "tensor.mac.nosuch") == min(listed)


def test_listed_dtypes_keep_their_own_price():
    hw = load_hardware("a100-80gb")
    table = prices(hw)
    for key in ("tensor.mac.bf16", "tensor.mac.fp16", "tensor.mac.int8"):
        assert _price(table, hw, key) == table[key]


def test_a_t4_run_charges_its_macs_at_the_fp16_price():
    r = archsim.simulate("bert-base", "t4", phase="encode", batch=8, seq=128, dtype="fp16")
    macs = {a: n for a, n in dict(r.actions).items() if ".mac." in a}
    tensor = sum(n for a, n in macs.items() if a.startswith("tensor.mac."))
    assert tensor > 0
    price = prices(load_hardware("t4"))["tensor.mac.fp16"]
    cuda = sum(n * prices(load_hardware("t4"))["cuda.mac.fp32"] for a, n in macs.items() if a.startswith("cuda.mac."))
    assert dict(r.energy_breakdown_j)["compute"] == pytest.approx((tensor * price + cuda) * 1e-12, rel=1e-9)
