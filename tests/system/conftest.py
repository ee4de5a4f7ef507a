"""A small two-device system for the system tests: an edge NPU host next to an HBM-PIM stack."""
from __future__ import annotations

import pytest

TWO_DEVICES = """\
version: 1
name: npu-hbmpim
kind: system
devices:
  - name: host
    chip: edge-npu
  - name: pim
    chip: hbm-pim
links:
  - name: bus
    between: [host, pim]
    bandwidth: {bandwidth}
    latency: 1 us
    energy: 5 pJ/bit
    source: [test]
placement: attention on pim
sources:
  - id: test
    text: a test system; every link figure is made up
    assumption: true
"""


@pytest.fixture
def two_devices(tmp_path):
    """Path of the two-device system YAML, with the link bandwidth as given (default 64 GB/s)."""
    def make(bandwidth: str = "64 GB/s"):
        path = tmp_path / f"sys-{bandwidth.replace(' ', '').replace('/', '')}.yaml"
        path.write_text(TWO_DEVICES.format(bandwidth=bandwidth))
        return str(path)
    return make
