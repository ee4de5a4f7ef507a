"""DRAM power-down on the engine's DRAM paths (`archsim.kernels.dram.powerdown`): a channel idle
`powerdown_idle` cycles after its last data powers down; the next transfer's first command waits
for max(arrival, entry + tCKE) + tXP. Closed forms on hand traces (burst path, controller path,
time-ordered in-order loop, SimPy reference), the request-level controller (`run_channel`) fed
the same requests, and the energy it saves (IDD2P for the simulated residency)."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from archsim.engine import dram_equivalence as de
from archsim.engine.dram import dram_params
from archsim.engine.dram_controller import controller_params
from archsim.engine.execute import run_numba, run_timed
from archsim.engine.lower import burst_shape
from archsim.engine.reference import run_simpy
from archsim.engine.trace import TraceBuilder

from .dram_types import FACTS
from .test_controller_path import NAMES, TYPES, _dram_finish, controller_in_order_of, trace_of
from .test_dram_equivalence import _refresh
from .test_timeloop import _same, one_at_a_time, overlapping
from .traces import powerdown_args, random_trace, trace_args

TXP, TCKE, IDLE = 8, 6, 100

ENGINES = {
    "burst": run_numba,
    "controller": run_timed,
    "in_order": lambda tr: run_timed(tr, policy="in_order"),
    "simpy": run_simpy,
}


def _pd(t, txp=TXP, tcke=TCKE, idle=IDLE):
    return dataclasses.replace(t, txp=txp, tcke=tcke, powerdown_idle=idle)


def _two_transfers(t, gap, mode=0, lead=0):
    """A transfer (after `lead` cycles of other work), `gap` cycles of other work, then a second
    transfer to the same row."""
    b = TraceBuilder()
    u = b.resource("u")
    d = b.resource("dram", dram_params(t))
    deps = (b.task(u, lead),) if lead else ()
    a = b.task(d, 0, deps, slot=0, row=0, ncols=8, span=1, mode=mode, nrows=2)
    g = b.task(u, gap, (a,))
    b.task(d, 0, (g,), slot=0, row=0, ncols=8, span=1, mode=mode, nrows=2)
    return b.build()


@pytest.mark.parametrize("engine", sorted(ENGINES))
@pytest.mark.parametrize("dram", sorted(FACTS))
@pytest.mark.parametrize("gap", [0, 50, IDLE, IDLE + 1, IDLE + TCKE - 1, IDLE + TCKE, 5000])
def test_a_transfer_after_an_idle_gap_pays_the_exit(engine, dram, gap):
    """Idle up to `powerdown_idle` after the last data: nothing. Longer: the transfer starts
    tXP late, plus what is left of tCKE when it came within tCKE of the entry."""
    t = dataclasses.replace(FACTS[dram], trefi=0)
    run = ENGINES[engine]
    off = run(_two_transfers(t, gap))
    on = run(_two_transfers(_pd(t), gap))
    first_end = int(off.finish[0])
    arrival = first_end + gap
    entry = first_end + IDLE
    late = TXP + max(0, entry + TCKE - arrival) if arrival > entry else 0
    assert np.array_equal(on.start[:2], off.start[:2]) and on.finish[0] == off.finish[0]
    assert on.start[2] == off.start[2] + late
    assert on.finish[2] == off.finish[2] + late
    c = on.counts(0)
    assert (c["pd_entries"], c["pd_cycles"]) == ((1, arrival + late - entry) if late else (0, 0))
    assert {k: v for k, v in c.items() if not k.startswith("pd_")} == \
        {k: v for k, v in off.counts(0).items() if not k.startswith("pd_")}


@pytest.mark.parametrize("engine", sorted(ENGINES))
def test_pim_bursts_and_writes_pay_it_too(engine):
    t = dataclasses.replace(FACTS["gddr6"], trefi=0)
    for mode in (1, 2):
        off = ENGINES[engine](_two_transfers(t, 1000, mode))
        on = ENGINES[engine](_two_transfers(_pd(t), 1000, mode))
        assert on.finish[2] == off.finish[2] + TXP
        assert on.counts(0)["pd_entries"] == 1


@pytest.mark.parametrize("engine", sorted(ENGINES))
def test_idle_start_and_end_of_the_run_count_as_power_down(engine):
    """A channel first used after `lead` cycles powered down at `powerdown_idle`; one idle when
    the run ends is down from its entry to the makespan (entries and cycles counted)."""
    t = dataclasses.replace(FACTS["ddr4-3200"], trefi=0)
    lead, tail = 700, 900
    b = TraceBuilder()
    u = b.resource("u")
    d = b.resource("dram", dram_params(_pd(t)))
    a = b.task(d, 0, (b.task(u, lead),), slot=0, row=0, ncols=4, span=1, mode=0, nrows=1)
    b.task(u, tail, (a,))
    run = ENGINES[engine](b.build())
    wake = lead + TXP                                  # entered at IDLE, long before tCKE ends
    assert run.start[1] >= wake
    first_down = wake - IDLE
    last_down = run.makespan - (int(run.finish[1]) + IDLE)
    assert run.makespan == run.finish[1] + tail
    assert run.counts(0)["pd_entries"] == 2
    assert run.counts(0)["pd_cycles"] == first_down + last_down


def test_a_zero_timer_never_powers_down():
    t = _pd(dataclasses.replace(FACTS["hbm2"], trefi=0), idle=0)
    base = dataclasses.replace(FACTS["hbm2"], trefi=0)
    for run in ENGINES.values():
        a, b = run(_two_transfers(t, 10**5)), run(_two_transfers(base, 10**5))
        _same_times(a, b)
        assert a.counts(0)["pd_entries"] == 0 and a.counts(0)["pd_cycles"] == 0


def _same_times(a, b):
    assert np.array_equal(a.start, b.start) and np.array_equal(a.finish, b.finish)
    assert np.array_equal(a.dram_counts, b.dram_counts) and a.makespan == b.makespan


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(args=trace_args, pd=powerdown_args)
def test_numba_and_simpy_agree_with_power_down(args, pd):
    seed, n, dram, trefi = args
    tr = random_trace(seed, n, dram, trefi, powerdown=pd)
    _same(run_numba(tr), run_simpy(tr))


def test_random_traces_exercise_power_down():
    tr = random_trace(4, 60, "ddr4-3200", 900, powerdown=(8, 6, 20))
    run = run_numba(tr)
    assert run.counts(0)["pd_entries"] > 1 and run.counts(0)["refs"] > 0
    _same(run, run_simpy(tr))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(args=trace_args, pd=powerdown_args, per_bank=st.sampled_from([0, 40]))
def test_controller_path_equals_the_burst_path_without_overlap(args, pd, per_bank):
    """Power-down on: where no two transfers overlap on a channel, the controller path and the
    time-ordered in-order loop equal `run_trace`."""
    seed, n, dram, trefi = args
    tr = random_trace(seed, n, dram, trefi, per_bank=per_bank, powerdown=pd)
    burst = run_numba(tr)
    _same(burst, run_timed(tr, policy="in_order"))
    if overlapping(tr, burst):
        tr = one_at_a_time(tr)
        burst = run_numba(tr)
    _same(burst, run_timed(tr, policy="controller"))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(draw=st.tuples(st.sampled_from(NAMES), st.sampled_from(["off", "all-bank", "per-bank"]),
                      st.integers(0, 10**6)),
       idle=st.sampled_from([1, 30, 300]), spread=st.sampled_from([500, 5000, 50000]))
def test_request_level_equals_the_controller_with_power_down(draw, idle, spread):
    """Every transfer at request level (`solo` off), arriving apart: each finish equals
    `controller.run_channel`'s with the same power-down timer, fed the same requests, and so do
    the power-down counts (those before the run's end)."""
    name, refresh, seed = draw
    t = _pd(_refresh(TYPES[name], refresh), idle=idle)
    rng = np.random.default_rng(seed)
    xs = de._packed(t, rng, (2, 6), 1 << 13)
    arrivals = np.sort(rng.integers(0, spread, len(xs)))
    tr = trace_of(t, xs, arrivals)
    log = np.zeros(1 + sum(int(np.prod(burst_shape(t, x.nbytes)[:2])) for x in xs), np.int64)
    run = run_timed(tr, controller=controller_params(t)[None, :], solo=False, log=log)
    ref, counts = controller_in_order_of(t, xs, arrivals, tr, log, powerdown_idle=idle,
                                         counts=True)
    assert np.array_equal(_dram_finish(tr, run), ref)
    tail = 1 if run.makespan > int(_dram_finish(tr, run).max()) + idle else 0
    assert run.counts(0)["pd_entries"] - tail == counts["power_downs"]
    if not tail:
        assert run.counts(0)["pd_cycles"] == counts["power_down_cycles"]


def test_energy_prices_the_simulated_residency():
    """A chip whose DRAM powers down: the run's breakdown adds up, DRAM background is IDD2P for
    the residency the engine counted (`LEVEL.powerdown_channel_s`) and lower than without it."""
    from archsim.energy import dram as edram
    from archsim.energy.power import _dq_bits, powerdown_fraction
    from archsim.engine import simulate
    from .graphs import tiny_graph
    hw, g = tiny_graph("edge-npu", "decode", 1)        # LPDDR5: IDD2P 1.3 mA against IDD2N 20.5
    lv = next(x for x in hw.levels if x.dram is not None)
    pd_lv = dataclasses.replace(lv, dram=_pd(lv.dram, idle=50))
    hw_pd = dataclasses.replace(hw, levels=tuple(pd_lv if x is lv else x for x in hw.levels))
    for model in ("burst", "controller"):
        off = simulate(g, hw, fidelity="cycle", dram_model=model)
        on = simulate(g, hw_pd, fidelity="cycle", dram_model=model)
        acts = dict(on.actions)
        down = acts[f"{lv.name}.powerdown_channel_s"]
        assert 0 < down <= lv.dram.channels * on.latency_s
        assert f"{lv.name}.powerdown_channel_s" not in dict(off.actions)
        assert on.energy_j == pytest.approx(sum(v for _, v in on.energy_breakdown_j), rel=1e-12)
        d = edram.device_for(lv.memory_type, lv.kind)
        bits, ranks = _dq_bits(lv)
        moved = sum(acts.get(f"{lv.name}.{v}", 0.0) for v in ("read", "write", "pim_read"))
        busy = moved / (lv.bandwidth_bytes_per_s * on.latency_s)
        frac = powerdown_fraction(pd_lv, acts, on.latency_s)
        assert frac == pytest.approx(down / (lv.dram.channels * on.latency_s))
        want = edram.background_w(d, edram.devices_in(d, bits, ranks), busy, frac) * on.latency_s
        got = dict(on.energy_breakdown_j)["dram_background"]
        assert got == pytest.approx(want, rel=1e-12)
        per_s_on = got / on.latency_s
        per_s_off = dict(off.energy_breakdown_j)["dram_background"] / off.latency_s
        assert per_s_on < per_s_off
        # (latency may move either way: a transfer delayed by its wake reorders what overlaps)
    ana = simulate(g, hw_pd, fidelity="analytic")
    assert f"{lv.name}.powerdown_channel_s" not in dict(ana.actions)   # analytic: no power-down


def test_shipped_descriptions_leave_power_down_off():
    """No shipped description sets a power-down timer (no controller's timeout found with a
    source: see the report); the engine's results there are those without power-down."""
    from archsim.hardware import list_hardware, load_hardware
    for name in list_hardware():
        for lv in load_hardware(name).levels:
            if lv.dram is not None:
                assert lv.dram.powerdown_idle == 0, (name, lv.name)
