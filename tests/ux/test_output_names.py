"""Default output files never clobber each other: the name carries every flag that differs from its
default (hardware overrides as a short hash), a config path contributes only its stem, and an
earlier run's files are kept unless --force is given."""
from __future__ import annotations

import pytest

from archsim.cli import build_parser, main
from archsim.cli.outputs import run_tag, stem

BASE = ["simulate", "--model", "gpt2-small", "--hw", "edge-npu", "--quiet"]
ONE_LAYER = ["--phase", "decode", "--context", "16"]


def _tag(argv):
    return run_tag(build_parser().parse_args(argv))


def test_defaults_add_nothing():
    assert _tag(BASE) == ""


@pytest.mark.parametrize("extra, part", [
    (["--batch", "8"], "b8"), (["--seq", "64"], "s64"), (["--context", "1024"], "ctx1024"),
    (["--dtype", "int8"], "int8"), (["--fidelity", "cycle"], "cycle"), (["--seed", "3"], "seed3"),
    (["--budget", "50"], "budget50"), (["--devices", "2"], "dev2"),
    (["--prefill-chunk", "256"], "chunk256"), (["--strategy", "random"], "random"),
])
def test_each_non_default_flag_is_in_the_name(extra, part):
    assert part in _tag(BASE + extra).split("_")


def test_different_parameters_never_share_a_name():
    variants = [[], ["--batch", "8"], ["--batch", "8", "--context", "16"], ["--dtype", "int8"],
                ["--fidelity", "cycle"], ["--hw-set", "memory.gbuf.size=4MiB"],
                ["--hw-set", "memory.gbuf.size=8MiB"], ["--dtype", "weights=int4,activations=int8"]]
    tags = [_tag(BASE + v) for v in variants]
    assert len(set(tags)) == len(tags), tags


def test_hardware_overrides_are_a_stable_short_hash():
    a = _tag(BASE + ["--hw-set", "memory.gbuf.size=4MiB", "--hw-set", "dram.channels=16"])
    b = _tag(BASE + ["--hw-set", "memory.gbuf.size=4MiB", "--hw-set", "dram.channels=16"])
    assert a == b and a.startswith("_hw-") and len(a) == len("_hw-") + 8


def test_overlong_tags_become_a_hash():
    tag = _tag(BASE + ["--dtype", "weights=int4,activations=int8,kv=fp16", "--batch", "1,2,4,8,16",
                       "--context", "128,256,512,1024,2048", "--seed", "12345"])
    assert len(tag) <= 12, tag


@pytest.mark.parametrize("given, expected", [
    ("configs/qwen2-0.5b.json", "qwen2-0.5b"), ("qwen2-0.5b.json", "qwen2-0.5b"),
    ("model.onnx", "model"), ("my chip.yaml", "my-chip"), ("gpt2-xl", "gpt2-xl"),
])
def test_file_names_keep_only_the_stem(given, expected):
    assert stem(given) == expected


def test_a_second_run_keeps_the_first_runs_files(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    argv = BASE[:-1] + ONE_LAYER
    assert main(argv) == 0
    assert main(argv) == 0
    err = capsys.readouterr().err
    names = sorted(p.name for p in (tmp_path / "archsim-out").iterdir())
    assert names == ["gpt2-small_edge-npu_decode_ctx16-2.csv", "gpt2-small_edge-npu_decode_ctx16-2.html",
                     "gpt2-small_edge-npu_decode_ctx16-2.json", "gpt2-small_edge-npu_decode_ctx16.csv",
                     "gpt2-small_edge-npu_decode_ctx16.html", "gpt2-small_edge-npu_decode_ctx16.json"]
    assert "wrote archsim-out/gpt2-small_edge-npu_decode_ctx16-2.json" in err
    assert main(argv + ["--force"]) == 0      # --force reuses the plain name
    assert len(list((tmp_path / "archsim-out").iterdir())) == 6
