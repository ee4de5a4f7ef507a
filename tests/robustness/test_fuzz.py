"""Fuzzing the boundaries (issue 21): hardware YAML fields, HF configs, CLI arguments and space files.
Whatever the input, archsim answers — a result, or one clear error (ArchsimError; exit 2 from the
CLI) — never an internal error (exit 1), and within a time bound. In-process calls, so a few hundred
examples run in well under a minute. ONNX graphs are fuzzed with the ONNX importer's own tests."""
from __future__ import annotations

import json
import os

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from archsim.cli import main
from archsim.cosearch import space_from_dict
from archsim.errors import ArchsimError
from archsim.hardware import load_hardware
from archsim.mapper import map_op
from archsim.mapper.export import gemm_op
from archsim.workloads import build_graph

from .bounded import within

#: CI runs a fixed 40 examples per target; ARCHSIM_FUZZ_EXAMPLES=2000 explores afresh (random seed).
_LONG = int(os.environ.get("ARCHSIM_FUZZ_EXAMPLES", "0"))
FUZZ = settings(max_examples=_LONG or 40, deadline=None, derandomize=not _LONG,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

_UNITS = ["", " B", " KiB", " GB", " TB/s", " GHz", " Hz", " ns", " s", " pJ", " pJ/bit", " W", " mm2",
          " nm", " bit", " furlongs"]
magnitudes = st.one_of(
    st.integers(min_value=-3, max_value=4096),
    st.integers(min_value=-2 ** 70, max_value=2 ** 70),
    st.sampled_from([0, 1, 2 ** 31, 2 ** 63, 10 ** 18, 10 ** 23, 10 ** 300]),
    st.floats(allow_nan=True, allow_infinity=True),
)
quantities = st.builds(lambda x, u: f"{x}{u}", st.one_of(magnitudes, st.sampled_from(["1e290", "1e-300", "inf",
                                                                                    "nan", "-0", "1_000"])),
                       st.sampled_from(_UNITS))
scalars = st.one_of(magnitudes, quantities, st.booleans(), st.none(),
                    st.text(max_size=12), st.sampled_from(["\x1b[2J", "ws", "int8", "gbuf", "weight"]))
values = st.one_of(scalars, st.lists(scalars, max_size=4), st.dictionaries(st.sampled_from(["int8", "fp16", "x"]),
                                                                           scalars, max_size=3))

HW_KEYS = ["clock", "technology", "memory.lpddr5.dram.channels", "memory.lpddr5.dram.rows",
           "memory.lpddr5.dram.tCK", "memory.lpddr5.dram.tREFI", "memory.lpddr5.dram.row_size",
           "memory.gbuf.size", "memory.gbuf.bytes_per_cycle", "memory.gbuf.banks", "memory.gbuf.latency",
           "memory.gbuf.read_energy", "memory.local.size", "memory.local.holds", "compute.pe_array.shape",
           "compute.pe_array.macs_per_cycle", "compute.pe_array.pipeline_depth", "compute.pe_array.count",
           "compute.pe_array.launch_overhead", "compute.pe_array.energy_per_mac", "compute.vector.lanes",
           "compute.vector.clock", "power.static", "power.tdp", "area", "name"]


@FUZZ
@given(st.dictionaries(st.sampled_from(HW_KEYS), values, min_size=1, max_size=3))
def test_hardware_fields(overrides):
    with within(30):
        try:
            hw = load_hardware("edge-npu", overrides=overrides)
        except ArchsimError:
            return
        try:                               # a description that loads must also map a small GEMM
            map_op(gemm_op(64, 64, 64, "int8"), hw, budget=8)
        except ArchsimError:
            pass


HF_BASE = {"model_type": "gpt2", "n_layer": 2, "n_embd": 64, "n_head": 2, "vocab_size": 100,
           "n_positions": 64}
HF_KEYS = list(HF_BASE) + ["n_inner", "num_key_value_heads", "num_local_experts", "num_experts_per_tok",
                           "activation_function", "rotary_pct", "sliding_window", "head_dim"]


@FUZZ
@given(st.dictionaries(st.sampled_from(HF_KEYS), values, max_size=3),
       st.sampled_from(["prefill", "decode", "encode"]), st.one_of(st.none(), magnitudes))
def test_hf_configs(tmp_path_factory, changes, phase, seq):
    path = tmp_path_factory.mktemp("hf") / "config.json"
    try:
        path.write_text(json.dumps({**HF_BASE, **changes}))
    except ValueError:                     # NaN and inf are not JSON; a file can hold them anyway
        path.write_text(json.dumps({**HF_BASE, **changes}, allow_nan=True))
    with within(30):
        try:
            build_graph(str(path), phase=phase, seq=seq if isinstance(seq, int) and phase != "decode" else None,
                        context=seq if isinstance(seq, int) and phase == "decode" else None)
        except ArchsimError:
            pass


words = st.one_of(st.sampled_from(["1", "0", "-1", "64", "1,2", "1e23", str(2 ** 63), str(10 ** 25), "",
                                   "abc", "²", "9" * 5000, "\x1b[31m", "int8", "weights=int4", "nan"]),
                  st.integers(min_value=-10, max_value=2 ** 64).map(str))


def _exit(argv) -> int:
    try:
        code = main(argv)
    except SystemExit as exc:              # argparse
        code = exc.code
    return code


@FUZZ
@given(st.lists(st.tuples(st.sampled_from(["--batch", "--seq", "--context", "--phase", "--dtype", "--set",
                                           "--limit"]), words), max_size=3))
def test_cli_graph(capsys, flags):
    argv = ["graph", "gpt2-small", "--json"] + [x for pair in flags for x in pair]
    with within(30):
        code = _exit(argv)
    err = capsys.readouterr().err
    assert code in (0, 2) and "internal error" not in err, (argv, err)


@FUZZ
@given(st.tuples(words, words, words), st.one_of(st.none(), st.sampled_from(["os", "ws", "is", "xx"])),
       st.sampled_from(["edge-npu", "tpu-v1", "stm32f746", "hbm-pim"]))
def test_cli_map_gemm(capsys, mnk, dataflow, hw):
    argv = ["map", "--gemm", ",".join(mnk), "--hw", hw, "--budget", "8"] + (["--dataflow", dataflow] if dataflow else [])
    with within(60):
        code = _exit(argv)
    err = capsys.readouterr().err
    assert code in (0, 2) and "internal error" not in err, (argv, err)


@settings(FUZZ, max_examples=8)
@given(st.lists(st.tuples(st.sampled_from(["--batch", "--context", "--dtype", "--hw-set"]),
                          st.one_of(words, st.builds(lambda k, v: f"{k}={v}", st.sampled_from(HW_KEYS), quantities))),
                max_size=2))
def test_cli_simulate(capsys, flags):
    argv = ["simulate", "--model", "gpt2-small", "--hw", "edge-npu", "--context", "8", "--quiet", "--json",
            "-", "--budget", "4"] + [x for pair in flags for x in pair]
    with within(120):
        code = _exit(argv)
    err = capsys.readouterr().err
    assert code in (0, 2) and "internal error" not in err, (argv, err)


SPACE_BASE = {"name": "s", "model": "gpt2-small", "hardware": "edge-npu",
              "model_params": {"layers": [1, 2]}, "objectives": {"latency_s": "minimize"}}
SPACE_KEYS = ["name", "batch", "seq", "context", "phase", "model_params", "hw_params", "var_params", "derived",
              "constraints", "objectives", "accuracy", "dtypes", "mapper"]
exprs = st.one_of(st.text(alphabet="0123456789+-*/()[]{}. ", max_size=40),
                  st.sampled_from(["9 ** 9 ** 9", "{var.a} ** {var.a}", "[{var.a}, 2]", "1/0", "__import__('os')",
                                   "{var.a} * 1e308 * 10", "(-1) ** 0.5"]))


@FUZZ
@given(st.dictionaries(st.sampled_from(SPACE_KEYS), st.one_of(values, st.dictionaries(
    st.sampled_from(["hw.clock", "model.layers", "var.a", "latency_s", "max", "min", "low", "high", "step",
                     "callable", "proxy", "csv"]), st.one_of(values, exprs), max_size=3)), max_size=3),
       st.one_of(st.none(), exprs))
def test_space_files(changes, derived):
    data = {**SPACE_BASE, **changes, "var_params": {"a": [1, 2, 3]}}
    if derived is not None:
        data["derived"] = {"hw.memory.gbuf.size": derived}
    with within(10):
        try:
            space = space_from_dict(data)
        except ArchsimError:
            return
        for a in (1, 2, 3):
            try:
                space.expand({"var.a": a})
            except ArchsimError:
                pass
