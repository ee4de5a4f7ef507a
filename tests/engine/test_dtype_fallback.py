"""A unit asked to compute in a dtype it has no rate for is not substituted silently: the result
says which unit, which dtype, how many ops, and what the engine assumed instead."""
from __future__ import annotations

import pytest

import archsim


def test_int4_on_a_bf16_only_pim_is_noted():
    r = archsim.simulate("gpt2-small", "pim-gpt", phase="decode", context=64, dtype="int4")
    notes = [n for n in r.notes if "has no int4 rate" in n]
    assert any(n.startswith("pim_mac has no int4 rate: ") and "timed at its bf16 rate" in n
               for n in notes)
    macs = sum(1 for op in r.ops if op.unit == "pim_mac")
    assert f"pim_mac has no int4 rate: {macs} op(s)" in " ".join(notes)


@pytest.mark.parametrize("hw, dtype", [("pim-gpt", "bf16"), ("a100-80gb", "int8"),
                                       ("a100-80gb", "bf16")])
def test_native_dtypes_add_no_note(hw, dtype):
    r = archsim.simulate("gpt2-small", hw, phase="decode", context=64, dtype=dtype)
    assert not [n for n in r.notes if " rate: " in n and "has no" in n]
