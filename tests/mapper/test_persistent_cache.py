"""The persistent mapping cache: results are byte-identical with it (cold and warm) and without it,
a warm run searches nothing, the key follows the mapper's code, the size cap holds, and processes
writing the same file at once neither fail nor lose entries."""
from __future__ import annotations

import importlib
import os
import subprocess
import sys

import pytest

import archsim.mapper.cache as C
from archsim.cli import main
from archsim.mapper import persistent_cache as P

M = importlib.import_module("archsim.mapper.map_op")     # the module (the package exports the function)

RUNS = [["simulate", "--model", "gpt2-small", "--hw", "h200-sxm", "--phase", "decode",
         "--context", "128"],
        ["simulate", "--model", "gpt2-small", "--hw", "pim-gpt", "--phase", "prefill",
         "--seq", "64"]]


def _json(capsys, argv) -> str:
    C.cache_clear()                       # each run starts with an empty in-memory cache
    assert main(argv + ["--json", "-", "--quiet"]) == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("argv", RUNS, ids=["gpu", "pim"])
def test_byte_identical_with_and_without_the_cache(argv, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("ARCHSIM_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("ARCHSIM_NO_CACHE", raising=False)
    cold = _json(capsys, argv)
    assert P.disk_info()["entries"] > 0
    searched = M.search_space

    def no_search(*a, **k):
        raise AssertionError("a warm cache must not search")
    monkeypatch.setattr(M, "search_space", no_search)
    warm = _json(capsys, argv)
    assert C.cache_info()["disk_hits"] > 0
    monkeypatch.setattr(M, "search_space", searched)
    bypassed = _json(capsys, argv + ["--no-cache"])
    assert cold == warm == bypassed


def test_the_key_follows_the_code_and_the_hardware(tmp_path, monkeypatch):
    monkeypatch.setenv("ARCHSIM_CACHE_DIR", str(tmp_path))
    parts = ("op", "hw", (), None, "auto", "edp", None, 0)
    key = P.disk_key(parts)
    P.disk_put(key, ("a value", 1.5))
    assert P.disk_get(key) == ("a value", 1.5)
    assert P.disk_key(parts[:1] + ("other hw",) + parts[2:]) != key
    monkeypatch.setitem(P._STATE, "code", "edited-mapper")
    assert P.disk_get(P.disk_key(parts)) is None


def test_size_cap_drops_the_oldest(tmp_path, monkeypatch):
    monkeypatch.setenv("ARCHSIM_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("ARCHSIM_CACHE_MAX_MB", "0.05")       # 52 kB
    for i in range(40):
        P.disk_put(f"k{i}", b"x" * 4000)
    info = P.disk_info()
    assert info["bytes"] <= 0.05 * (1 << 20) and 5 < info["entries"] < 40
    assert P.disk_get("k39") is not None and P.disk_get("k0") is None


def test_concurrent_writers(tmp_path):
    code = ("import os, sys\nos.environ['ARCHSIM_CACHE_DIR'] = sys.argv[1]\n"
            "from archsim.mapper import persistent_cache as P\n"
            "for i in range(150):\n"
            "    P.disk_put(f'{sys.argv[2]}-{i}', (sys.argv[2], i))\n"
            "    P.disk_put(f'shared-{i}', ('shared', i))\n"
            "    assert P.disk_get(f'shared-{i}') == ('shared', i)\n")
    procs = [subprocess.Popen([sys.executable, "-c", code, str(tmp_path), f"w{n}"],
                              stderr=subprocess.PIPE, text=True) for n in range(3)]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0 and "warning" not in err, err
    os.environ["ARCHSIM_CACHE_DIR"] = str(tmp_path)
    try:
        assert P.disk_info()["entries"] == 3 * 150 + 150
        assert all(P.disk_get(f"w{n}-{i}") == (f"w{n}", i) for n in range(3) for i in range(150))
    finally:
        os.environ.pop("ARCHSIM_CACHE_DIR")


def test_an_unusable_cache_folder_is_skipped_with_one_warning(tmp_path, monkeypatch, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("ARCHSIM_CACHE_DIR", str(blocker / "cache"))
    monkeypatch.setitem(P._STATE, "warned", False)
    P.disk_put("k", 1)
    assert P.disk_get("k") is None
    err = capsys.readouterr().err
    assert err.count("warning: mapping cache") == 1 and "cannot be opened" in err


def test_the_search_seed_is_part_of_the_key():
    """Two seeds may find different mappings: one must never be served the other's."""
    from tests.mapper.hw_fixtures import gemm, npu
    op, hw = gemm(64, 64, 64), npu()
    keys = {M.map_op_result(op, hw, seed=s, use_cache=False).key for s in (0, 1)}
    assert len(keys) == 2
