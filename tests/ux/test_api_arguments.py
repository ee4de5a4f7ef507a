"""The Python API with wrong argument values: each is an ArchsimError with a one-line message, never
an AttributeError deep inside, and never a silent 'does not fit' for a typo."""
from __future__ import annotations

import pytest

import archsim
from archsim.api import ArgumentError
from archsim.hardware import load_hardware
from archsim.errors import ArchsimError

SMALL = dict(seq=16, overrides={"layers": 1})        # one GPT-2 block: fast


@pytest.mark.parametrize("hw", [None, 42, ["edge-npu"]])
def test_hw_of_the_wrong_type(hw):
    with pytest.raises(ArgumentError, match="hw must be a hardware library name"):
        archsim.simulate("gpt2-small", hw, **SMALL)


@pytest.mark.parametrize("kwargs, expected", [
    (dict(strategy="foo"), "unknown strategy 'foo'; choose one of auto"),
    (dict(strategy="genetik"), "did you mean 'genetic'?"),
    (dict(seed=-1), r"seed must be a whole number ≥ 0 \(got -1\)"),
    (dict(seed="a"), "seed must be a whole number"),
    (dict(seed=1.5), "seed must be a whole number"),
    (dict(budget=0), r"budget must be a positive number of evaluations per op \(got 0\)"),
    (dict(budget=-3), "budget must be a positive"),
    (dict(budget=True), "budget must be a positive"),
    (dict(budget=float("inf")), "budget must be a positive"),
    (dict(progress=True), "progress must be a callable"),
])
def test_search_options(kwargs, expected):
    for call in (lambda: archsim.simulate("gpt2-small", "edge-npu", **SMALL, **kwargs),
                 lambda: archsim.compare("gpt2-small", ["edge-npu"], **SMALL, **kwargs)):
        with pytest.raises(ArgumentError, match=expected):
            call()


def test_an_unknown_strategy_is_not_reported_as_does_not_fit():
    """Before: strategy='foo' returned fits=False, latency 0, 'does not fit: unknown strategy'."""
    with pytest.raises(ArchsimError):
        archsim.simulate("gpt2-small", "edge-npu", strategy="foo", **SMALL)


def test_compare_takes_a_single_name_as_one_chip():
    c = archsim.compare("gpt2-small", "edge-npu", **SMALL)
    assert [row.result.hw for row in c.rows] == ["edge-npu"]


@pytest.mark.parametrize("hws", [None, 5])
def test_compare_hws_of_the_wrong_type(hws):
    with pytest.raises(ArgumentError, match="hws must be a list"):
        archsim.compare("gpt2-small", hws, **SMALL)


def test_compare_baseline_of_the_wrong_type():
    with pytest.raises(ArgumentError, match="baseline must be a hardware name"):
        archsim.compare("gpt2-small", ["edge-npu", "t4"], baseline=5, **SMALL)


def test_compare_a_variant_that_keeps_the_library_name(edge_variant):
    """A copy of a library chip with one change, saved under a new file name but keeping `name:`,
    is compared under its file name; the same chip twice is still an error."""
    c = archsim.compare("gpt2-small", ["edge-npu", str(edge_variant)], **SMALL)
    names = [row.result.hw for row in c.rows]
    assert names == ["edge-npu", "edge-npu-1mib"] and c.baseline == "edge-npu"
    c = archsim.compare("gpt2-small", [str(edge_variant), "edge-npu"], baseline=str(edge_variant), **SMALL)
    assert [row.result.hw for row in c.rows] == ["edge-npu-1mib", "edge-npu"]
    assert c.baseline == "edge-npu-1mib"
    with pytest.raises(ArgumentError, match="hardware listed more than once: edge-npu"):
        archsim.compare("gpt2-small", ["edge-npu", load_hardware("edge-npu")], **SMALL)
