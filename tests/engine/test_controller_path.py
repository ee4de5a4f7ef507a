"""The request-level controller as the engine's DRAM path (`archsim.kernels.dram.shared` in the
time-ordered loop) against the request-level controller itself (`controller.run_channel` via
`engine.dram_controller.run_requests`), fed the same requests (the engine's addresses,
`dram_equivalence.engine_layout`) with the same arrival cycles, on every distinct DRAM type of
tests/engine/dram_types.py, refresh off / all-bank / per-bank:

- every read/write transfer at request level (`solo=False`): each transfer's finish is the
  controller's, exactly — transfers arriving together (the controller gets their requests round
  robin, as `dram_equivalence.controller_finish` interleaves them) and transfers arriving at
  random cycles (the controller gets the requests in the order the engine's queue admitted them);
- the engine's granularity (`solo`, the default): a transfer alone on its channel runs the burst
  closed form, only overlapping transfers go to request level: each finish within
  ALONE_TOLERANCE of the controller's (measured worst 3.8 %, see below), the makespan within it.
"""
from __future__ import annotations

import dataclasses

import numpy as np
from hypothesis import HealthCheck, given, settings, strategies as st

from archsim.engine import dram_equivalence as de
from archsim.engine.dram import dram_params
from archsim.engine.dram_controller import controller_params, run_requests
from archsim.engine.execute import run_numba, run_timed
from archsim.engine.dram_layout import burst_shape
from archsim.engine.trace import TraceBuilder
from archsim.kernels.dram.controller import N_X

from .dram_types import FACTS, all_dram_types
from .test_dram_equivalence import _refresh
from .traces import random_trace, trace_args

TYPES = all_dram_types()
NAMES = de.distinct_channels(TYPES)
#: the burst closed form for a transfer alone against the controller serving it request by request:
#: FR-FCFS hides the ACT ramp, the closed form defers refreshes due inside a transfer
#: (test_dram_equivalence.py); measured worst 3.8 % on a transfer's finish over these draws
ALONE_TOLERANCE = 0.08


def trace_of(t, xs, arrivals=None):
    """One channel of timing `t` with a burst task per transfer, each behind a plain task of
    `arrivals[k]` cycles on its own resource (so it arrives then)."""
    b = TraceBuilder()
    d = b.resource("dram", dram_params(t))
    for k, x in enumerate(xs):
        nrows, ncols, span = burst_shape(t, x.nbytes)
        deps = ()
        if arrivals is not None and arrivals[k] > 0:
            deps = (b.task(b.resource(f"w{k}"), int(arrivals[k])),)
        b.task(d, 0, deps, slot=x.slot0, ncols=ncols, span=span, nrows=nrows,
               mode=1 if x.write else 0)
    return b.build()


def _dram_finish(tr, run):
    return run.finish[tr.res_dram[tr.res] >= 0]


def _layouts(t, xs):
    out = []
    for x in xs:
        nrows, ncols, span = burst_shape(t, x.nbytes)
        out.append(de.encode_addresses(t, 0, *de.engine_layout(t, x.slot0, nrows, ncols, span)))
    return out


def controller_in_order_of(t, xs, arrivals, tr, log, powerdown_idle=0, counts=False):
    """The controller fed each transfer's requests in the order `log` says the engine admitted
    them, each arriving at the latest arrival of a transfer admitted so far (its own, or later:
    then it waited outside a full queue); each transfer's finish (and with `counts`, channel 0's
    counts by `dram_controller.COUNT_NAMES`)."""
    dram_ids = np.nonzero(tr.res_dram[tr.res] >= 0)[0]
    which = {int(i): k for k, i in enumerate(dram_ids)}
    lay = _layouts(t, xs)
    seen = [0] * len(xs)
    addr, write, owner, arrival = [], [], [], []
    latest = 0
    for task in log[1:1 + log[0]]:
        k = which[int(task)]
        addr.append(lay[k][seen[k]])
        seen[k] += 1
        latest = max(latest, int(arrivals[k]))
        write.append(int(xs[k].write))
        owner.append(k)
        arrival.append(latest)
    assert seen == [a.size for a in lay]             # every request went through the queue
    run = run_requests(t, np.array(addr), np.array(write), np.array(arrival),
                       powerdown_idle=powerdown_idle)
    out = np.zeros(len(xs), dtype=np.int64)
    np.maximum.at(out, np.array(owner), run.done)
    if counts:
        from archsim.engine.dram_controller import COUNT_NAMES
        return out, dict(zip(COUNT_NAMES, (int(v) for v in run.counts[0])))
    return out


draws = st.tuples(st.sampled_from(NAMES), st.sampled_from(["off", "all-bank", "per-bank"]),
                  st.integers(0, 10**6))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(draw=draws)
def test_transfers_arriving_together_finish_as_in_the_controller(draw):
    name, refresh, seed = draw
    t = _refresh(TYPES[name], refresh)
    xs = de._packed(t, np.random.default_rng(seed), (2, 5), 1 << 15)
    tr = trace_of(t, xs)
    run = run_timed(tr, controller=controller_params(t, powerdown_idle=0)[None, :], solo=False)
    ref, _ = de.controller_finish(t, xs, powerdown_idle=0)
    assert np.array_equal(_dram_finish(tr, run), ref)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(draw=draws, spread=st.sampled_from([50, 500, 5000]))
def test_transfers_arriving_apart_finish_as_in_the_controller(draw, spread):
    name, refresh, seed = draw
    t = _refresh(TYPES[name], refresh)
    rng = np.random.default_rng(seed)
    xs = de._packed(t, rng, (2, 6), 1 << 14)
    arrivals = rng.integers(0, spread, len(xs))
    tr = trace_of(t, xs, arrivals)
    log = np.zeros(1 + sum(int(np.prod(burst_shape(t, x.nbytes)[:2])) for x in xs), np.int64)
    run = run_timed(tr, controller=controller_params(t, powerdown_idle=0)[None, :], solo=False,
                    log=log)
    assert np.array_equal(_dram_finish(tr, run), controller_in_order_of(t, xs, arrivals, tr, log))


def test_admission_is_round_robin_over_arrived_transfers():
    """Two transfers together: their requests alternate in the queue; a third arriving later joins
    the rotation once it has arrived."""
    t = TYPES["ddr4-3200"]
    xs = [de.Transfer(4096, False, 0), de.Transfer(4096, False, 8), de.Transfer(2048, True, 16)]
    tr = trace_of(t, xs, [0, 0, 300])
    ids = np.nonzero(tr.res_dram[tr.res] >= 0)[0]
    log = np.zeros(1 + 200, np.int64)
    run_timed(tr, controller=controller_params(t, powerdown_idle=0)[None, :], solo=False, log=log)
    order = log[1:1 + log[0]]
    assert list(order[:6]) == [ids[0], ids[1]] * 3
    late = np.nonzero(order == ids[2])[0]
    tail = order[late[0] - 1:late[0] + 4]
    assert set(tail) == set(ids)                  # all three in rotation


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(draw=draws)
def test_burst_form_while_alone_stays_near_the_controller(draw):
    name, refresh, seed = draw
    t = _refresh(TYPES[name], refresh)
    xs = de._packed(t, np.random.default_rng(seed), (2, 4), 1 << 18)
    tr = trace_of(t, xs)
    fin = _dram_finish(tr, run_timed(tr, controller=controller_params(t, powerdown_idle=0)[None, :]))
    ref, _ = de.controller_finish(t, xs, powerdown_idle=0)
    assert np.all(np.abs(fin / ref - 1) <= ALONE_TOLERANCE), (fin, ref)


def test_overlap_changes_the_result_and_alone_does_not():
    """Two reads of one channel at once: the controller interleaves them (the first finishes later
    than served alone first, the makespan differs from in-order service); one at a time: the
    burst path exactly."""
    t = TYPES["hbm3"]
    xs = [de.Transfer(1 << 16, False, 0), de.Transfer(1 << 16, True, 64)]
    tr = trace_of(t, xs)
    burst, ctrl = run_numba(tr), run_timed(tr)
    assert ctrl.finish[0] > burst.finish[0]
    assert ctrl.makespan != burst.makespan
    apart = trace_of(t, xs, [0, int(burst.finish[0]) + 1])
    assert np.array_equal(run_numba(apart).finish, run_timed(apart).finish)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(args=trace_args)
def test_controller_path_keeps_dependencies_and_resource_order(args):
    """On random traces (PIM bursts among reads and writes, overlapping): every task starts no
    earlier than its dependencies finish, plain resources run one task at a time in trace order,
    and DRAM counts add up to the transfers' columns."""
    seed, n, dram, trefi = args
    tr = random_trace(seed, n, dram, trefi)
    run = run_timed(tr)
    for i in range(tr.n_tasks):
        d = tr.deps(i)
        if d.size:
            assert run.start[i] >= run.finish[d].max() or tr.res_dram[tr.res[i]] >= 0
            assert run.finish[i] >= run.finish[d].max()
    for r in np.nonzero(tr.res_dram < 0)[0]:
        idx = np.nonzero(tr.res == r)[0]
        assert np.all(run.start[idx[1:]] >= run.finish[idx[:-1]])
    c = run.counts(0)
    dram = tr.res_dram[tr.res] >= 0
    rw = dram & (tr.mode != 2)
    assert c["rd_cols"] + c["wr_cols"] == int((tr.ncols[rw].astype(np.int64) * tr.nrows[rw]).sum())
    assert c["mac_cols"] == int((tr.ncols[dram & (tr.mode == 2)].astype(np.int64)
                                 * tr.nrows[dram & (tr.mode == 2)]).sum())


def test_refresh_variants_are_exercised():
    t = _refresh(TYPES["hbm3"], "per-bank")
    assert t.refresh_per_bank
    t = dataclasses.replace(t, trefi=max(1, t.trefi // 8))
    xs = de._packed(t, np.random.default_rng(0), (3, 4), 1 << 16)
    tr = trace_of(t, xs)
    run = run_timed(tr, controller=controller_params(t, powerdown_idle=0)[None, :], solo=False)
    assert run.counts(0)["pb_refs"] > 0
    ref, _ = de.controller_finish(t, xs, powerdown_idle=0)
    assert np.array_equal(_dram_finish(tr, run), ref)


def test_simulate_says_which_dram_model_ran():
    """The default DRAM path at cycle fidelity is `execute.DEFAULT_DRAM_MODEL` (controller), burst
    an explicit choice; the SimPy engine runs it too (its twin, `reference_controller`); a chip with
    no DRAM task reports no path."""
    import pytest
    from archsim.engine import simulate
    from archsim.engine.execute import DEFAULT_DRAM_MODEL
    from archsim.errors import ArchsimError
    from .graphs import tiny_graph
    assert DEFAULT_DRAM_MODEL == "controller"
    hw, g = tiny_graph("edge-npu", "decode", 1)
    default = simulate(g, hw, fidelity="cycle")
    burst = simulate(g, hw, fidelity="cycle", dram_model="burst")
    ctrl = simulate(g, hw, fidelity="cycle", dram_model="controller")
    assert (default.dram_model, burst.dram_model, ctrl.dram_model) == ("controller", "burst", "controller")
    assert default.cycles == ctrl.cycles and default.notes == ctrl.notes
    assert simulate(g, hw).dram_model == ""
    assert any("request-level controller" in n for n in ctrl.notes)
    assert any("DRAM path 'burst'" in n for n in burst.notes)
    with pytest.raises(ArchsimError, match="dram_model"):
        simulate(g, hw, fidelity="cycle", dram_model="ramulator")
    twin = simulate(g, hw, fidelity="cycle", engine="simpy", dram_model="controller")
    assert (twin.cycles, twin.dram_model) == (ctrl.cycles, "controller")   # reference_controller
    ref = simulate(g, hw, fidelity="cycle", engine="simpy")      # SimPy runs the default path too
    assert (ref.cycles, ref.dram_model) == (ctrl.cycles, "controller")
    assert not any("SimPy" in n for n in default.notes + burst.notes + ref.notes)
    gpu, gg = tiny_graph("h200-sxm", "decode", 1)
    r = simulate(gg, gpu, fidelity="cycle")
    assert r.dram_model == "" and any("no DRAM channel task" in n for n in r.notes)


def test_attribute_gap_on_the_controller_path():
    """`attribute_gap` with the controller path: every counterfactual re-run (ops serialised, each
    DRAM effect removed, no port time) takes the controller path too, and the named effects plus
    `other_s` still add up to the gap, op by op and for the run. On this trace the two paths differ
    (controller makespan 1.4x the burst one, serialised 1.1x), so shares computed on the burst
    path would not match the re-runs checked here."""
    import pytest
    from archsim.engine import simulate
    from archsim.engine.attribution import EFFECT_KEYS, EFFECTS, gap_share_cycles
    from archsim.engine.exclusive import exclusive_cycles, exclusive_time, serial_trace
    from archsim.engine.lower import lower
    from archsim.engine.plan import plan_ops
    from archsim.engine.simulate import _controller
    from archsim.result import ADDITIVE_GAP_EFFECTS
    from .graphs import tiny_graph
    hw, g = tiny_graph("edge-npu", "prefill", 1)
    r = simulate(g, hw, fidelity="cycle", attribute_gap=True, dram_model="controller")
    assert r.dram_model == "controller"
    assert r.cycles == simulate(g, hw, fidelity="cycle", dram_model="controller").cycles
    analytic_s = sum(op.analytic_cycles for op in r.ops) / r.freq_hz
    parts = dict(r.gap_attribution)
    assert sum(parts.values()) == pytest.approx(r.latency_s - analytic_s, rel=1e-9, abs=1e-12)
    assert sum(op.exclusive_cycles for op in r.ops) == r.cycles
    for op in r.ops:
        explained = sum(op.gap_effects.get(k, 0.0) for k in ADDITIVE_GAP_EFFECTS + ("other_s",))
        assert explained == pytest.approx((op.exclusive_cycles - op.analytic_cycles) / r.freq_hz,
                                          abs=1e-12)
    assert any(k.startswith("dram_") for op in r.ops for k in op.gap_effects)
    # the re-runs are the controller path's: the overlap share and the DRAM savings, by hand
    plans = plan_ops(g, hw, None)
    lw = lower(g, hw, None, plans)
    tr, sub, n = lw.trace, lw.ticks_per_cycle, len(plans)
    x = _controller(hw, lw)

    def excl(t, run):
        return exclusive_cycles(exclusive_time(t, run, n).ticks, sub)

    run = run_numba(tr, dram_model="controller", controller=x)
    serial = serial_trace(tr)
    srun = run_numba(serial, dram_model="controller", controller=x)
    assert srun.makespan != run_numba(serial).makespan          # the paths differ here
    shares = gap_share_cycles(g, hw, None, lw, run, plans, dram_model="controller", controller=x)
    assert np.array_equal(shares["op_overlap_s"], excl(tr, run) - excl(serial, srun))
    params = serial.dram_params.copy()
    from archsim.engine.dram import PARAM_NAMES
    for name, keys in EFFECTS:
        for k in keys:
            params[:, PARAM_NAMES.index(k)] = 0
    bare = run_numba(dataclasses.replace(serial, dram_params=params), dram_model="controller",
                     controller=x)
    burst = gap_share_cycles(g, hw, None, lw, run, plans)
    saved = sum(shares[EFFECT_KEYS[name]] for name, _ in EFFECTS)   # cycle saving - analytic's
    saved_burst = sum(burst[EFFECT_KEYS[name]] for name, _ in EFFECTS)
    assert np.array_equal(saved - saved_burst,
                          (excl(serial, srun) - excl(serial, bare))
                          - (excl(serial, run_numba(serial))
                             - excl(serial, run_numba(dataclasses.replace(serial, dram_params=params)))))
    for op in r.ops:
        i = next(p.index for p in plans if p.op.name == op.name)
        assert op.gap_effects.get("op_overlap_s", 0.0) == pytest.approx(
            float(shares["op_overlap_s"][i]) / r.freq_hz, abs=1e-15)


def test_cli_dram_model_flag(tmp_path, capsys):
    import json

    from archsim.cli import main
    out = tmp_path / "r.json"
    assert main(["simulate", "--model", "gpt2-small", "--context", "64", "--hw", "edge-npu",
                 "--model-set", "layers=1", "--fidelity", "cycle", "--dram-model", "controller",
                 "--json", str(out), "--quiet"]) == 0
    assert json.loads(out.read_text())["dram_model"] == "controller"
    assert main(["simulate", "--model", "gpt2-small", "--context", "64", "--hw", "edge-npu",
                 "--model-set", "layers=1", "--fidelity", "cycle", "--dram-model", "controller",
                 "--attribute-gap", "--json", str(out), "--quiet"]) == 0
    doc = json.loads(out.read_text())
    assert doc["dram_model"] == "controller"
    assert any(k.startswith("dram_") for op in doc["ops"] for k in op["gap_effects"])
    assert main(["simulate", "--model", "gpt2-small", "--context", "64", "--hw", "edge-npu",
                 "--dram-model", "controller", "--quiet"]) != 0
    assert "--dram-model applies to --fidelity cycle" in capsys.readouterr().err
    assert main(["simulate", "--model", "gpt2-small", "--context", "64", "--hw", "edge-npu",
                 "--model-set", "layers=1", "--fidelity", "cycle", "--dram-model", "ramulator",
                 "--quiet"]) != 0
    assert "unknown DRAM model 'ramulator'" in capsys.readouterr().err


def test_cli_help_names_the_default_dram_model(capsys):
    import pytest
    from archsim.cli import main
    from archsim.engine.execute import DEFAULT_DRAM_MODEL, DRAM_MODELS
    with pytest.raises(SystemExit):
        main(["simulate", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert f"{DEFAULT_DRAM_MODEL} (default)" in text
    assert all(f"{m}:" in text or f"{m} (default)" in text for m in DRAM_MODELS)


def test_cli_dram_model_default_and_burst_everywhere(tmp_path):
    """No flag: the default path (controller); `--dram-model burst` reaches a sweep's points, a
    compare's chips and a system's devices."""
    import json

    from archsim.cli import main
    one = ["--model", "gpt2-small", "--model-set", "layers=1", "--fidelity", "cycle", "--quiet"]
    out = tmp_path / "r.json"
    assert main(["simulate", *one, "--context", "64", "--hw", "edge-npu", "--json", str(out)]) == 0
    assert json.loads(out.read_text())["dram_model"] == "controller"
    assert main(["simulate", *one, "--context", "32,64", "--hw", "edge-npu", "--dram-model",
                 "burst", "--json", str(out)]) == 0
    assert [r["dram_model"] for r in json.loads(out.read_text())["results"]] == ["burst", "burst"]
    assert main(["compare", *one, "--context", "64", "--hw", "edge-npu", "hbm3-pim",
                 "--dram-model", "burst", "--json", str(out)]) == 0
    assert [r["dram_model"] for r in json.loads(out.read_text())["results"]] == ["burst"] * 2


def test_system_devices_take_the_dram_model():
    """A host+PIM system at cycle fidelity: every device runs the default DRAM path unless told
    `burst`, and the system's result says which."""
    import pytest
    from archsim.system import as_sim_result, simulate_system
    kw = dict(context=64, fidelity="cycle", overrides={"layers": 1})
    default = simulate_system("gpt2-small", "pim-gpt-system", **kw)
    burst = simulate_system("gpt2-small", "pim-gpt-system", dram_model="burst", **kw)
    models = {res.dram_model for r in (default,) for d in r.devices for res in d.results} - {""}
    assert models == {"controller"}
    assert {res.dram_model for d in burst.devices for res in d.results} - {""} == {"burst"}
    assert (as_sim_result(default).dram_model, as_sim_result(burst).dram_model) == ("controller", "burst")
    with pytest.raises(ValueError, match="DRAM model"):
        simulate_system("gpt2-small", "pim-gpt-system", dram_model="ramulator", **kw)


def _same_run(a, b):
    return (np.array_equal(a.start, b.start) and np.array_equal(a.finish, b.finish)
            and np.array_equal(a.dram_counts, b.dram_counts) and a.makespan == b.makespan)


def test_scan_speedups_change_nothing_on_real_traces():
    """The FR-FCFS scan's speed-ups (`controller._earliest` written out in `shared.decide_run`; a
    request to a (bank, row) already scanned that entered no earlier is skipped) against the scan
    that calls `_earliest` on every queued request: every task's start and finish and the DRAM
    counts equal, on lowered traces where transfers overlap at request level (checked by hand on
    gpt2-small prefill 256 on edge-npu, LLaMA-2-7B decode on pim-gpt and BERT-base on edge-npu with
    the mapper's mapping, GPT-2-small decode on edge-npu mapped and prefill on hbm3-pim)."""
    from archsim.engine.lower import lower
    from archsim.engine.simulate import _controller
    from .graphs import tiny_graph
    for chip, phase in (("edge-npu", "prefill"), ("edge-npu", "decode"), ("pim-gpt", "prefill"),
                        ("hbm3-pim", "prefill")):
        hw, g = tiny_graph(chip, phase, 2)
        lw = lower(g, hw)
        x = _controller(hw, lw)
        log = np.zeros(1 + int((lw.trace.nrows * lw.trace.ncols).sum()), np.int64)
        fast = run_timed(lw.trace, controller=x, log=log)
        assert _same_run(fast, run_timed(lw.trace, controller=x, plain=True)), (chip, phase)
        if chip == "edge-npu":
            assert log[0] > 1000               # many requests went through the queue


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10**6), dram=st.sampled_from(sorted(FACTS)),
       per_bank=st.sampled_from([0, 60]), solo=st.booleans())
def test_scan_speedups_change_nothing_on_random_traces(seed, dram, per_bank, solo):
    tr = random_trace(seed, 120, dram, 700, per_bank=per_bank, pim_share=0.1)
    x = np.zeros((1, N_X), np.int64)                # a short queue: often full, capped bypasses
    x[0, :2] = 8, 2
    assert _same_run(run_timed(tr, controller=x, solo=solo),
                     run_timed(tr, controller=x, solo=solo, plain=True))


def _channels_trace(seed, types, n):
    """Tasks over several DRAM channels of the given types (and two plain units), each depending
    on up to two earlier ones: transfers overlap on each channel, and a channel's finishes decide
    when other channels' transfers arrive."""
    import random
    rng = random.Random(seed)
    b = TraceBuilder()
    plain = [b.resource(f"u{i}") for i in range(2)]
    chans = []
    for k, name in enumerate(types):
        t = dataclasses.replace(FACTS[name], trefi=700, trfc=min(FACTS[name].trfc, 175))
        chans.append((b.resource(f"dram{k}", dram_params(t)), t))
    for i in range(n):
        deps = rng.sample(range(i), min(i, rng.randint(0, 2)))
        if rng.random() < 0.3:
            b.task(rng.choice(plain), rng.randint(0, 200), deps)
            continue
        d, t = rng.choice(chans)
        nbg = t.ranks * t.bank_groups
        b.task(d, rng.randint(0, 3), deps, slot=rng.randint(0, 3 * t.banks_per_channel),
               row=rng.randint(0, 3), ncols=rng.randint(1, 24), mode=rng.choice([0, 0, 1]),
               span=rng.choice([s for s in (1, 2, 4) if s <= nbg]), nrows=rng.randint(1, 4))
    return b.build()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10**6), types=st.lists(st.sampled_from(sorted(FACTS)), min_size=2,
                                                   max_size=4),
       closed=st.lists(st.booleans(), min_size=4, max_size=4), solo=st.booleans())
def test_written_out_serve_changes_nothing_on_several_channels(seed, types, closed, solo):
    """`shared.decide_run` serves with `controller._serve` written out and takes the channels'
    decisions in one loop (the earliest (time, kind, slot) each step): against `_serve` itself
    (`plain`), every start, finish and count equal on random traces over 2-4 channels of every
    DRAM type, open and closed page, with the channels' transfers depending on each other."""
    tr = _channels_trace(seed, types, 150)
    x = np.zeros((len(types), N_X), np.int64)
    x[:, 0] = 8                                     # a short queue: often full, capped bypasses
    x[:, 1] = 2
    x[:, 2] = closed[:len(types)]
    assert _same_run(run_timed(tr, controller=x, solo=solo),
                     run_timed(tr, controller=x, solo=solo, plain=True))
