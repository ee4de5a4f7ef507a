"""A sweep loads one description per point and simulates with it: the loader hands back the same
object while the file (and its `base:` chain) is unchanged, re-reads an edited one, and a
`Hardware` built in Python is checked like a file once per object, never skipped."""
import dataclasses
import os
from pathlib import Path

import pytest

from archsim import api
from archsim.errors import ArchsimError
from archsim.hardware import load_hardware
from archsim.hardware.load import is_validated

TINY = Path(__file__).parent / "data" / "tiny.yaml"


def test_an_unchanged_file_gives_the_same_object_and_an_edited_one_is_read_again(tmp_path):
    base = tmp_path / "base.yaml"
    base.write_text(TINY.read_text())
    chip = tmp_path / "chip.yaml"
    chip.write_text("base: base.yaml\nname: derived\n")
    first = load_hardware(chip)
    assert load_hardware(chip) is first and is_validated(first)
    assert load_hardware(chip, {"memory.gbuf.size": "128 KiB"}) is not first    # other overrides
    text = base.read_text().replace("name: tiny", "name: tiny-edited", 1)
    assert text != base.read_text()
    base.write_text(text)                        # the base changes, the file itself does not
    st = base.stat()
    os.utime(base, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    again = load_hardware(chip)
    assert again is not first and again == load_hardware(chip)


def test_a_hardware_built_in_python_is_still_checked():
    hw = load_hardware(TINY)
    bad = dataclasses.replace(hw, freq_hz=1e300)
    assert not is_validated(bad)
    with pytest.raises(ArchsimError):
        api.simulate("gpt2-small", bad, phase="decode", context=16)
    assert not is_validated(bad)                 # a failed check is not remembered as passed
    good = dataclasses.replace(hw, freq_hz=hw.freq_hz * 2)
    api.arguments.check_built(good)
    assert is_validated(good)
