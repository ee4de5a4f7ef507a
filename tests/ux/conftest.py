"""Fixtures for the first-user (UX) tests: files a careless user might hand archsim."""
from __future__ import annotations

from pathlib import Path

import pytest

from archsim.hardware import dump_hardware, load_hardware


@pytest.fixture
def junk(tmp_path: Path) -> dict[str, Path]:
    """A binary file under several names, an empty file, a directory, a file with NUL bytes."""
    binary = bytes(range(256)) * 4
    files = {}
    for name in ("bin.yaml", "bin.json", "bin.onnx"):
        files[name] = tmp_path / name
        files[name].write_bytes(binary)
    files["empty.yaml"] = tmp_path / "empty.yaml"
    files["empty.yaml"].write_text("")
    files["nul.yaml"] = tmp_path / "nul.yaml"
    files["nul.yaml"].write_text("version: 1\x00\n")
    files["dir"] = tmp_path / "a-folder"
    files["dir"].mkdir()
    files["file"] = tmp_path / "plain-file"
    files["file"].write_text("x")
    return files


@pytest.fixture
def edge_variant(tmp_path: Path) -> Path:
    """edge-npu with half the global buffer, saved under another file name but the same `name:`."""
    text = dump_hardware(load_hardware("edge-npu")).replace("size: 2 MiB", "size: 1 MiB", 1)
    path = tmp_path / "edge-npu-1mib.yaml"
    path.write_text(text)
    return path
