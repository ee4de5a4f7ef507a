"""Channel groups come from a recording walk over the transfers' channel splits
(`lower.record_groups`), not from a whole lowering pass: the walk must split every transfer as
lowering does (same tensors, sizes, order, hence addresses), and the groups must be exactly the
channels whose task sequences are identical in the one-resource-per-channel trace."""
from __future__ import annotations

import pytest

from archsim import api, mapper
from archsim.engine.lower import _lower_once, channel_groups, lower, record_groups
from archsim.engine.plan import plan_ops
from archsim.workloads import build_graph

CASES = [("llama2-7b", "prefill", dict(seq=256), "hbm3-pim", {"layers": 1}),
         ("gpt2-small", "prefill", dict(seq=64), "pim-gpt", {"layers": 2}),
         ("gpt2-small", "decode", dict(context=96), "hbm-pim", {"layers": 2}),
         ("gpt2-small", "prefill", dict(seq=64), "lpddr5-pim", {"layers": 2}),
         ("distilbert", "encode", dict(seq=32), "edge-npu", None),
         ("gpt2-small", "decode", dict(context=64), "alveo-u280", {"layers": 2}),
         ("gpt2-small", "prefill", dict(seq=128), "tpu-v4", {"layers": 1})]


def _setup(model, phase, kw, chip, over):
    hw = api.arguments.resolve_hardware(chip, None)
    g = build_graph(model, phase, overrides=over, **kw)
    return g, hw, plan_ops(g, hw, mapper.map_graph(g, hw))


@pytest.mark.parametrize("model,phase,kw,chip,over", CASES)
def test_recorded_groups_are_the_lowered_ones(model, phase, kw, chip, over):
    g, hw, plans = _setup(model, phase, kw, chip, over)
    full = _lower_once(g, hw, plans, None)         # a whole pass, every channel one group
    assert record_groups(hw, plans) == channel_groups(full)
    # and the walk placed every tensor where lowering did
    from archsim.engine.lower import _Lowerer
    from archsim.engine.tile_issue import tile_cap
    walk = _Lowerer(hw, None)
    walk.tile_cap = tile_cap(plans)
    for p in plans:
        walk.record_op(p)
    assert walk.addrs == full.addrs


@pytest.mark.parametrize("model,phase,kw,chip,over", CASES[:5])
def test_groups_are_the_channels_with_identical_sequences(model, phase, kw, chip, over):
    g, hw, plans = _setup(model, phase, kw, chip, over)
    single = lower(g, hw, plans=plans, group_channels=False)
    tr = single.trace
    seqs: dict[str, list] = {}
    for lv, gs in single.channel_groups.items():
        for c in (c for grp in gs for c in grp):
            name = f"mem:{lv}.ch{c}" if sum(map(len, gs)) > 1 else f"mem:{lv}"
            r = tr.resources.index(name)
            idx = [i for i in range(tr.n_tasks) if tr.res[i] == r]
            seqs[(lv, c)] = tuple((int(tr.slot[i]), int(tr.mode[i]), int(tr.nrows[i]), int(tr.ncols[i]),
                                   int(tr.span[i]), tuple(int(d) for d in tr.deps(i))) for i in idx)
    grouped = lower(g, hw, plans=plans).channel_groups
    for lv, gs in grouped.items():
        by: dict[tuple, list[int]] = {}
        for c in range(hw.level(lv).dram.channels):
            by.setdefault(seqs[(lv, c)], []).append(c)
        assert sorted(by.values()) == gs


def test_dram_tasks_are_the_task_calls():
    """`TraceBuilder.dram_tasks` (rows appended at once, each (resource, shape, mode) checked
    once) builds exactly the tasks of that many `task` calls, and still refuses a bad shape on any
    resource, a plain resource and a later task as a dependency."""
    import numpy as np
    from archsim.engine.dram import dram_params
    from archsim.engine.trace import TraceBuilder
    from .dram_types import FACTS
    t = FACTS["hbm2"]
    a, b = TraceBuilder(), TraceBuilder()
    for x in (a, b):
        u = x.resource("u")
        lanes = x.ports("sram", 2)
        chans = [x.resource(f"ch{k}", dram_params(t)) for k in range(3)]
        x.task(u, 7)
    shapes = [(chans[0], (3, 8, 4)), (chans[2], (2, 5, 2))]
    for deps in ((), (0,), (0, 1, 2)):
        got = a.dram_tasks(shapes, deps, 4, slot=9, mode=1, level=2, nbytes=100, occ_level=1,
                           occ_bytes=50, actions=(("x.read", 100),), accesses=((lanes[1], 6),))
        want = [b.task(chans[0], 0, deps, 4, slot=9, ncols=8, span=4, nrows=3, mode=1, level=2,
                       nbytes=100, occ_level=1, occ_bytes=50, actions=(("x.read", 100),),
                       accesses=((lanes[1], 6),)),
                b.task(chans[2], 0, deps, 4, slot=9, ncols=5, span=2, nrows=2, mode=1, level=2)]
        assert got == want
    ta, tb = a.build(), b.build()
    for f in ta.__dataclass_fields__:
        va, vb = getattr(ta, f), getattr(tb, f)
        assert (np.array_equal(va, vb) if isinstance(va, np.ndarray) else va == vb), f
    with pytest.raises(ValueError, match="exceeds bank groups"):
        a.dram_tasks([(chans[0], (3, 8, 4)), (chans[1], (1, 8, 8))])
    with pytest.raises(ValueError, match="not a DRAM channel"):
        a.dram_tasks([(chans[0], (3, 8, 4)), (u, (1, 8, 2))])
    with pytest.raises(ValueError, match="not an earlier task"):
        a.dram_tasks(shapes, [a.n_tasks])
