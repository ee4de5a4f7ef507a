"""Numba keys a cached kernel on its own file only: the event loop compiled against an older
`dram/` would keep running. archsim.kernels drops every cached kernel when any kernel source
changed since the caches were built (a stamp of their digest)."""
from __future__ import annotations

import archsim.kernels as K


def _tree(tmp_path, monkeypatch):
    (tmp_path / "dram").mkdir()
    (tmp_path / "eventloop.py").write_text("def run(): return 1\n")
    (tmp_path / "dram" / "commands.py").write_text("T = 1\n")
    for cache in (tmp_path / "__pycache__", tmp_path / "dram" / "__pycache__"):
        cache.mkdir()
        (cache / "x.run-1.py311.nbi").write_text("index")
        (cache / "x.run-1.py311.1.nbc").write_text("code")
        (cache / "x.cpython-311.pyc").write_text("bytecode")
    monkeypatch.setattr(K, "KERNELS_DIR", tmp_path)
    monkeypatch.setattr(K, "_STAMP", tmp_path / "__pycache__" / "sources.stamp")
    return tmp_path


def _numba_files(root):
    return sorted(p.name for p in root.rglob("*.nb[ic]"))


def test_caches_without_a_stamp_are_dropped_then_kept(tmp_path, monkeypatch):
    root = _tree(tmp_path, monkeypatch)
    assert K.drop_stale_caches() is True
    assert _numba_files(root) == [] and len(list(root.rglob("*.pyc"))) == 2
    (root / "__pycache__" / "y.run-1.py311.nbi").write_text("recompiled")
    assert K.drop_stale_caches() is False            # same sources: the new cache stays
    assert _numba_files(root) == ["y.run-1.py311.nbi"]


def test_editing_a_callee_in_a_subpackage_drops_the_callers_cache(tmp_path, monkeypatch):
    root = _tree(tmp_path, monkeypatch)
    K.drop_stale_caches()
    (root / "__pycache__" / "eventloop.run-1.py311.nbi").write_text("compiled against T = 1")
    before = K.source_digest()
    (root / "dram" / "commands.py").write_text("T = 2\n")
    assert K.source_digest() != before
    assert K.drop_stale_caches() is True
    assert _numba_files(root) == []
