"""The issue's "Done means" for systems: a one-device system is the chip; overlap is never faster
than the slowest device's busy time; link transfers appear in time and energy; sub-batch
interleaving beats none when both devices are busy and not otherwise."""
from __future__ import annotations

import pytest

import archsim
from archsim.system import simulate_system

ONE_DEVICE = """\
version: 1
name: solo
kind: system
devices:
  - name: npu
    chip: edge-npu
sources:
  - id: test
    text: a test system
"""


@pytest.mark.parametrize("fidelity", ["analytic", "cycle"])
def test_a_one_device_system_is_the_chip(tmp_path, fidelity):
    path = tmp_path / "solo.yaml"
    path.write_text(ONE_DEVICE)
    kw = dict(phase="decode", batch=4, context=128, fidelity=fidelity)
    chip = archsim.simulate("gpt2-small", "edge-npu", **kw)
    system = simulate_system("gpt2-small", str(path), **kw)
    assert system.latency_s == pytest.approx(chip.latency_s, rel=1e-9)
    assert system.energy_j == pytest.approx(chip.energy_j, rel=1e-9)
    assert system.devices[0].results[0].ops == chip.ops
    assert system.bound_by == "npu" and not system.links


@pytest.mark.parametrize("placement,sub_batches", [("attention on pim", 1), ("attention on pim", 2),
                                                   ("fc on pim", 1), ("all on host", 2)])
def test_overlap_is_never_faster_than_the_busiest_device(two_devices, placement, sub_batches):
    r = simulate_system("gpt2-small", two_devices(), phase="decode", batch=16, context=256,
                        placement=placement, sub_batches=sub_batches)
    busiest = max(d.busy_s for d in r.devices)
    assert busiest > 0 and r.latency_s >= busiest * (1 - 1e-12)
    serial = simulate_system("gpt2-small", two_devices(), phase="decode", batch=16, context=256,
                             placement=placement, sub_batches=sub_batches, overlap=False)
    work = sum(d.busy_s for d in serial.devices) + sum(lk.busy_s for lk in serial.links)
    in_flight = 1e-6 * sum(lk.transfers for lk in serial.links)       # the link's 1 µs latency
    assert work * (1 - 1e-9) <= serial.latency_s <= (work + in_flight) * (1 + 1e-9)
    assert r.latency_s <= serial.latency_s * (1 + 1e-12)


def test_link_transfers_appear_in_time_and_energy(two_devices):
    kw = dict(phase="decode", batch=16, context=256, placement="attention on pim")
    fast = simulate_system("gpt2-small", two_devices("64 GB/s"), **kw)
    slow = simulate_system("gpt2-small", two_devices("1 GB/s"), **kw)
    assert fast.links and all(lk.bytes > 0 and lk.transfers > 0 for lk in fast.links)
    for lk in fast.links:                            # 5 pJ/bit on every byte moved
        assert lk.energy_j == pytest.approx(lk.bytes * 8 * 5e-12, rel=1e-12)
        assert dict(fast.energy_breakdown_j)[f"link:{lk.name}"] == lk.energy_j
    moved = sum(lk.bytes for lk in fast.links)
    assert [d.busy_s for d in fast.devices] == pytest.approx([d.busy_s for d in slow.devices])
    # the devices do the same work; the slower link alone makes the token later: by at least the
    # extra time of the attention outputs coming back (the host waits for each), at most by that of
    # every transfer
    back = sum(lk.bytes for lk in fast.links if lk.name.endswith("pim->host"))
    extra = 1 / 1e9 - 1 / 64e9
    assert 0.99 * back * extra <= slow.latency_s - fast.latency_s <= 1.01 * moved * extra
    together = simulate_system("gpt2-small", two_devices(), **{**kw, "placement": "all on host"})
    assert not together.links                        # nothing crosses when one device runs all


def test_sub_batch_interleaving_helps_only_when_both_devices_are_busy(two_devices):
    kw = dict(phase="decode", batch=128, context=512)
    split = {sb: simulate_system("gpt2-small", two_devices(), placement="attention on pim",
                                 sub_batches=sb, **kw) for sb in (1, 2)}
    host, pim = (split[1].device(n).busy_s for n in ("host", "pim"))
    assert min(host, pim) > 0.15 * max(host, pim)          # both devices carry real work
    assert split[2].latency_s < split[1].latency_s
    alone = {sb: simulate_system("gpt2-small", two_devices(), placement="all on host",
                                 sub_batches=sb, **kw) for sb in (1, 2)}
    assert alone[2].device("pim").busy_s == 0
    assert alone[2].latency_s >= alone[1].latency_s        # one device: splitting only re-reads weights
    barrier = simulate_system("gpt2-small", two_devices(), placement="attention on pim",
                              sub_batches=2, layer_pipelining=False, **kw)
    assert split[2].latency_s <= barrier.latency_s * (1 + 1e-12)


def test_search_finds_no_worse_than_any_fixed_policy(two_devices):
    kw = dict(phase="decode", batch=16, context=256)
    found = simulate_system("gpt2-small", two_devices(), placement="search", **kw)
    assert len(found.searched) == 8                  # 3 op groups over 2 devices
    for policy, latency in found.searched:
        assert found.latency_s <= latency * (1 + 1e-12)
    pinned = simulate_system("gpt2-small", two_devices(), placement="attention on pim", **kw)
    assert found.latency_s <= pinned.latency_s * (1 + 1e-12)


def test_streaming_overlaps_elementwise_work_and_stays_bounded(two_devices):
    kw = dict(phase="decode", batch=4, context=128, placement="fc on pim, rest on host")
    whole = simulate_system("gpt2-small", two_devices(), **kw)
    streamed = simulate_system("gpt2-small", two_devices(), stream_chunks=8, **kw)
    busiest = max(d.busy_s for d in streamed.devices)
    assert streamed.latency_s >= busiest * (1 - 1e-12)
    assert streamed.latency_s < whole.latency_s          # GELU and adds start on the first slice
    assert [d.busy_s for d in streamed.devices] == pytest.approx([d.busy_s for d in whole.devices])
    assert sum(lk.bytes for lk in streamed.links) == pytest.approx(sum(lk.bytes for lk in whole.links), abs=64)
    # same work and bytes; static power runs for a shorter token
    assert streamed.energy_j <= whole.energy_j * (1 + 1e-9)


def test_streaming_on_one_device_changes_nothing(tmp_path):
    path = tmp_path / "solo.yaml"
    path.write_text(ONE_DEVICE)
    kw = dict(phase="decode", batch=2, context=64)
    assert simulate_system("gpt2-small", str(path), stream_chunks=4, **kw).latency_s == \
        pytest.approx(simulate_system("gpt2-small", str(path), **kw).latency_s, rel=1e-9)


def test_a_device_subgraph_keeps_the_graph_order():
    """A device's ops are simulated in the model graph's order, never in a set's (whose order
    changes with the hash seed: the schedule's ties then broke differently from run to run)."""
    import networkx as nx
    from archsim.system.run import _subgraph
    g = nx.DiGraph()
    names = [f"L{i}.op{j}" for i in range(12) for j in range(6)]
    for a, b in zip(names, names[1:]):
        g.add_edge(a, b, w=1)
    g.graph["batch"] = 4
    keep = {n for n in names if n.endswith(("op1", "op4"))}           # a small subset, as a set
    sub = _subgraph(g, keep)
    assert list(sub.nodes) == [n for n in names if n in keep]
    assert sub.graph == {"batch": 4} and sub.number_of_edges() == 0
    both = {names[0], names[1]}
    assert list(_subgraph(g, both).edges(data=True)) == [(names[0], names[1], {"w": 1})]


def test_sub_batches_share_a_weight_read_when_the_host_buffer_holds_it(two_devices):
    """NeuPIMs' batching: the FC weights of a 256-wide model (256 KiB at most) stay in the NPU's
    2 MiB buffer, so two sub-batches read them once; the LM head's 12.9 MB does not fit and is
    read per sub-batch. Interleaving then costs only the LM head's second read."""
    from archsim import api
    model = dict(phase="decode", batch=64, context=256, dtype="int8",
                 overrides={"hidden": 256, "heads": 4, "layers": 2})
    kw = {**model, "placement": "attention on pim"}
    one = simulate_system("gpt2-small", two_devices(), **kw)
    shared = simulate_system("gpt2-small", two_devices(), sub_batches=2, **kw)
    again = simulate_system("gpt2-small", two_devices(), sub_batches=2, weight_reuse=False, **kw)
    graph = api.build_graph("gpt2-small", **{k: v for k, v in model.items() if k != "dtype"}, dtypes="int8")
    weights = {n: sum(o.tensor.size_bytes for o in d["op"].inputs if o.tensor.role.value == "weight")
               for n, d in graph.nodes(data=True) if d["op"].kind.value in ("matmul", "lm_head")}
    resident = sum(w for n, w in weights.items() if w <= 2 * 2**20)
    head = sum(w for n, w in weights.items() if w > 2 * 2**20)
    assert resident > 0 and head > 0 and any("read their weight once" in n for n in shared.notes)
    host = {k: r.device("host").offchip_bytes for k, r in (("one", one), ("shared", shared), ("again", again))}
    assert host["again"] - host["shared"] == pytest.approx(resident, rel=0.1)   # one read, not two
    assert host["shared"] - host["one"] <= 1.1 * head                           # only the head again
    assert shared.latency_s <= again.latency_s * (1 + 1e-12)
    assert shared.device("host").energy_j < again.device("host").energy_j
