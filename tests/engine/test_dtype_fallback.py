"""No silent fallbacks: a unit asked to compute in a dtype it has no rate for, or an op run on a unit
that does not list its kind, is a result note naming the ops, the unit, their time and what to
change."""
from __future__ import annotations

import pytest

import archsim


def _notes(r, prefix):
    return [n for n in r.notes if n.startswith(prefix)]


def test_int4_on_a_bf16_only_pim_is_noted():
    r = archsim.simulate("gpt2-small", "pim-gpt", phase="decode", context=64, dtype="int4")
    macs = sum(1 for op in r.ops if op.unit == "pim_mac")
    seconds = sum(op.latency_s for op in r.ops if op.unit == "pim_mac")
    note = next(n for n in r.notes if n.startswith("dtype fallback: pim_mac has no int4 rate: "))
    assert f"pim_mac has no int4 rate: {macs} op(s) with int4 operands timed at its bf16 rate " \
           f"({seconds * 1e6:.3g} µs, {seconds / r.latency_s:.1%} of the run)" in note
    assert "run --dtype with a dtype it lists (bf16) or give it a rate for int4 in hwconfigs/pim-gpt.yaml" in note


def test_int8_note_names_int8_and_the_rate_actually_used():
    """Was: 'vector has no fp8 rate … timed at its fp8 rate' for --dtype int8."""
    r = archsim.simulate("gpt2-small", "edge-npu", phase="decode", context=64, dtype="int8")
    assert not any("fp8" in n for n in r.notes)
    assert any(n.startswith("dtype fallback: vector has no int8 rate: ") and "timed at its fp16 rate" in n
               for n in r.notes)


@pytest.mark.parametrize("hw, unit, used", [("edge-npu", "pe_array", "int16"), ("tpu-v1", "mxu", "int16"),
                                            ("eyeriss", "pe_array", "int16")])
def test_bf16_on_an_int_only_array_is_noted(hw, unit, used):
    r = archsim.simulate("gpt2-small", hw, phase="decode", context=64, dtype="bf16")
    assert any(n.startswith(f"dtype fallback: {unit} has no bf16 rate: ") and f"timed at its {used} rate" in n
               for n in r.notes), r.notes


@pytest.mark.parametrize("hw, dtype", [("pim-gpt", "bf16"), ("a100-80gb", "int8"),
                                       ("a100-80gb", "bf16")])
def test_native_dtypes_add_no_note(hw, dtype):
    r = archsim.simulate("gpt2-small", hw, phase="decode", context=64, dtype=dtype)
    assert not _notes(r, "dtype fallback") and not _notes(r, "fallback")


def test_an_op_kind_no_unit_lists_is_noted():
    ops = ["softmax", "gelu", "add", "mul", "embedding", "kv_append"]        # layernorm left out
    r = archsim.simulate("gpt2-small", "edge-npu", phase="decode", context=64, dtype="int8",
                         hw_overrides={"compute.vector.ops": ops})
    norms = [op for op in r.ops if op.kind == "layernorm"]
    assert norms and all(op.unit == "vector" for op in norms)
    note = next(n for n in r.notes if n.startswith("fallback: "))
    assert note.startswith(f"fallback: {len(norms)} layernorm op(s) ran on vector, which does not list "
                           f"layernorm (")
    assert "add 'layernorm' to the 'ops' of the unit meant to run it" in note
    assert "`archsim hw show edge-npu`" in note
