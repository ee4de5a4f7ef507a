"""Sub-batches split the batch into near-equal parts that add up to it: with one device, no
overlap and no weight reuse, the system's latency is the sum of the chip's latency at each part's
batch size (the first `batch % parts` parts one larger)."""
from __future__ import annotations

import functools

import pytest

import archsim
from archsim.system import simulate_system

from .test_system import ONE_DEVICE

MODEL = dict(phase="decode", context=64, overrides={"layers": 1})


@functools.lru_cache(maxsize=None)
def _chip(batch: int) -> float:
    return archsim.simulate("gpt2-small", "edge-npu", batch=batch, **MODEL).latency_s


@pytest.mark.parametrize("batch, parts, sizes", [(3, 2, (2, 1)), (4, 2, (2, 2)), (5, 3, (2, 2, 1)),
                                                 (2, 2, (1, 1))])
def test_serial_sub_batches_cost_their_sizes(tmp_path, batch, parts, sizes):
    path = tmp_path / "solo.yaml"
    path.write_text(ONE_DEVICE)
    r = simulate_system("gpt2-small", str(path), batch=batch, sub_batches=parts, overlap=False,
                        weight_reuse=False, **MODEL)
    assert r.tokens == batch
    assert sorted({s.sub_batch for s in r.spans}) == list(range(parts))
    assert r.latency_s == pytest.approx(sum(_chip(b) for b in sizes), rel=1e-9)


SIMBA = ONE_DEVICE.replace("name: solo", "name: solo-simba").replace("chip: edge-npu", "chip: simba")


def test_a_replicated_weight_buffer_holds_weights_in_all_its_instances(tmp_path):
    """Simba's weight buffers are 16 PE-local 32 KiB SRAMs: together they keep a 256 KiB FC weight
    on chip from one sub-batch to the next (one instance alone would not)."""
    from archsim import api
    from archsim.hardware import load_hardware
    path = tmp_path / "simba.yaml"
    path.write_text(SIMBA)
    model = dict(phase="decode", batch=4, context=64, overrides={"hidden": 256, "heads": 4, "layers": 1})
    kw = dict(model, dtype="int8")
    shared = simulate_system("gpt2-small", str(path), sub_batches=2, **kw)
    again = simulate_system("gpt2-small", str(path), sub_batches=2, weight_reuse=False, **kw)
    hw = load_hardware("simba")
    held = [lv for lv in hw.levels if not lv.off_chip and (not lv.holds or "weight" in lv.holds)]
    room = max(lv.size_bytes * lv.instances for lv in held)
    assert room > max(lv.size_bytes for lv in held)
    graph = api.build_graph("gpt2-small", **model, dtypes="int8")
    weights = [sum(o.tensor.size_bytes for o in d["op"].inputs if o.tensor.role.value == "weight")
               for _, d in graph.nodes(data=True) if d["op"].kind.value == "matmul"]
    resident = [w for w in weights if 0 < w <= room]
    assert any(w > max(lv.size_bytes for lv in held) for w in resident)
    assert any(f"{len(resident)} FC ops read their weight once" in n for n in shared.notes), shared.notes
    saved = again.devices[0].offchip_bytes - shared.devices[0].offchip_bytes
    assert saved == pytest.approx(sum(resident), rel=0.05)


def test_a_slower_link_latency_delays_a_serial_run_by_whole_latencies(tmp_path):
    """Run back to back (no overlap), the devices do the same work whatever the link's latency, and
    the token is later by a whole number of the extra latency (each transfer on the chain pays it
    once in flight)."""
    from .conftest import TWO_DEVICES
    runs = {}
    for lat_us in (1, 11):
        path = tmp_path / f"two-{lat_us}.yaml"
        path.write_text(TWO_DEVICES.format(bandwidth="64 GB/s").replace("latency: 1 us", f"latency: {lat_us} us"))
        runs[lat_us] = simulate_system("gpt2-small", str(path), phase="decode", batch=1, context=64,
                                       overrides={"layers": 1}, overlap=False)
    fast, slow = runs[1], runs[11]
    assert [d.busy_s for d in fast.devices] == pytest.approx([d.busy_s for d in slow.devices])
    transfers = sum(lk.transfers for lk in fast.links)
    steps = (slow.latency_s - fast.latency_s) / 10e-6
    assert 1 <= round(steps) <= transfers and steps == pytest.approx(round(steps), abs=1e-6)
