"""Hardware descriptions as a user hands them over: binary files, folders, wrong Python types,
numbers too large to be real. Each is a ConfigError naming the file, never a traceback."""
from __future__ import annotations

import pytest

from archsim.hardware import hardware_path, load_hardware, parse_hardware
from archsim.errors import ConfigError
from archsim.units import UnitError, parse_quantity


def _message(exc_info) -> str:
    return str(exc_info.value)


def test_binary_yaml_is_a_config_error(junk):
    with pytest.raises(ConfigError) as exc:
        load_hardware(junk["bin.yaml"])
    assert f"{junk['bin.yaml'].name}: not a text (UTF-8) file" in _message(exc)


def test_nul_bytes_are_a_config_error(junk):
    with pytest.raises(ConfigError, match="contains NUL bytes"):
        load_hardware(junk["nul.yaml"])


def test_directory_is_named_with_a_hint(junk, tmp_path):
    (junk["dir"] / "chip.yaml").write_text("version: 1\n")
    with pytest.raises(ConfigError) as exc:
        load_hardware(str(junk["dir"]))
    text = _message(exc)
    assert "is a directory, expected a hardware YAML file" in text and "chip.yaml" in text


def test_library_name_wins_over_a_folder_of_the_same_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "t4").mkdir()
    assert load_hardware("t4").name == "t4"


def test_existing_file_without_yaml_suffix_loads(tmp_path):
    path = tmp_path / "my-chip.hw"
    path.write_text(hardware_path("edge-npu").read_text())
    assert load_hardware(str(path)).name == "edge-npu"


@pytest.mark.parametrize("name", [None, 42, 3.5, ["edge-npu"], ""])
def test_wrong_name_types(name):
    with pytest.raises(ConfigError, match="expected a library name or a YAML path|empty hardware name"):
        load_hardware(name)


@pytest.mark.parametrize("overrides", [[("memory.gbuf.size", "1 MiB")], "memory.gbuf.size=1 MiB"])
def test_overrides_must_be_a_mapping(overrides):
    with pytest.raises(ConfigError, match="overrides must be a mapping of dotted keys"):
        load_hardware("edge-npu", overrides)


def test_infinite_quantities_are_rejected():
    with pytest.raises(UnitError, match="too large"):
        parse_quantity("1e400 GB/s", "bandwidth")
    with pytest.raises(UnitError, match="too large"):
        parse_quantity("1e400 GiB", "bytes")
    assert parse_quantity("4.8 TB/s", "bandwidth") == 4.8e12


def test_infinite_bandwidth_in_yaml_names_file_line_and_key():
    with pytest.raises(ConfigError) as exc:
        load_hardware("edge-npu", {"memory.gbuf.bandwidth": "1e400 GB/s"})
    assert "memory.gbuf.bandwidth: too large to be a real quantity (got '1e400 GB/s')" in _message(exc)


def test_bad_list_shows_the_values_given():
    text = hardware_path("edge-npu").read_text().replace("shape: [32, 32]", "shape: [0, -4]")
    with pytest.raises(ConfigError) as exc:
        parse_hardware(text, "chip.yaml")
    assert "compute.pe_array.shape: must be a list of positive whole numbers" in _message(exc)
    assert "(got [0, -4])" in _message(exc)


def test_overriding_shape_scales_the_mac_rates():
    """Before: shape [8, 8] kept the 32x32 array's 1024 int8 MACs/cycle — a silent 16x too fast chip."""
    big = load_hardware("edge-npu", {"compute.pe_array.shape": [64, 64]}).unit("pe_array")
    small = load_hardware("edge-npu", {"compute.pe_array.shape": [8, 8]}).unit("pe_array")
    assert dict(big.macs_per_cycle) == {"int8": 4096, "int16": 1024, "int4": 8192}
    assert dict(small.macs_per_cycle) == {"int8": 64, "int16": 16, "int4": 128}
    lanes = load_hardware("edge-npu", {"compute.vector.lanes": 128}).unit("vector")
    assert dict(lanes.macs_per_cycle)["fp16"] == 128


def test_rates_given_with_the_shape_are_kept():
    unit = load_hardware("edge-npu", {"compute.pe_array.shape": [16, 16],
                                      "compute.pe_array.macs_per_cycle.int8": 256,
                                      "compute.pe_array.macs_per_cycle.int4": 512}).unit("pe_array")
    assert dict(unit.macs_per_cycle) == {"int8": 256, "int16": 256, "int4": 512}


def test_rates_far_beyond_the_shape_are_an_error(tmp_path):
    """A derived description that shrinks the array but keeps the base's rates."""
    path = tmp_path / "small.yaml"
    path.write_text("version: 1\nbase: edge-npu\nname: small\ncompute:\n  - name: pe_array\n"
                    "    shape: [8, 8]\n")
    with pytest.raises(ConfigError) as exc:
        load_hardware(path)
    assert "compute.pe_array.macs_per_cycle.int8: more than 8x the 64 PEs of shape [8, 8] (got 1024)" \
        in str(exc.value)
