"""The mapping cache never serves one search's result for another: ops that differ only in their
operands' dtype, or searches that differ only in their objective, get their own entries (in
memory and on disk); each cached answer equals the uncached search."""
from __future__ import annotations

import importlib

import pytest

import archsim.mapper.cache as C

from .hw_fixtures import gemm, npu

M = importlib.import_module("archsim.mapper.map_op")


@pytest.fixture
def fresh_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("ARCHSIM_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("ARCHSIM_NO_CACHE", raising=False)
    C.cache_clear()
    yield
    C.cache_clear()


def _same(a, b):
    assert a.mapping == b.mapping
    assert (a.cost.latency_s, a.cost.energy_pj) == (b.cost.latency_s, b.cost.energy_pj)


def test_the_objective_is_part_of_the_key(fresh_cache):
    op, hw = gemm(64, 64, 64), npu()
    first = M.map_op_result(op, hw, objective="energy")
    got = M.map_op_result(op, hw, objective="latency")
    want = M.map_op_result(op, hw, objective="latency", use_cache=False)
    assert want.mapping != first.mapping            # the two objectives pick different mappings
    _same(got, want)
    C.cache_clear()                                  # from disk alone
    _same(M.map_op_result(op, hw, objective="latency"), want)


def test_the_operands_dtype_is_part_of_the_key(fresh_cache):
    hw = npu()
    int8, bf16 = gemm(64, 64, 64, bits=8), gemm(64, 64, 64, bits=16)
    M.map_op_result(int8, hw)
    got = M.map_op_result(bf16, hw)
    want = M.map_op_result(bf16, hw, use_cache=False)
    assert want.cost.energy_pj != M.map_op_result(int8, hw, use_cache=False).cost.energy_pj
    _same(got, want)
