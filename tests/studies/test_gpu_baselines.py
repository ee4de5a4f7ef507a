"""The out-of-sample GPU study (archsim/studies/gpu_baselines.py): every figure carries its source
setup, its archsim figure is recomputed from the simulator results it came from, and the helper
arithmetic (the FlashAttention papers' FLOP count, TFLOP/s, the MAC price actually charged) is
checked against hand-computed values."""
from __future__ import annotations

import pytest

from archsim.studies import gpu_baselines as gb
from archsim.studies.flashattention import attention_s
from archsim.studies.registry import run_study


@pytest.fixture(scope="module")
def res():
    return run_study("gpu-baselines")


def test_every_figure_has_setup_and_a_row(res):
    rows = {r.metric: r for r in res.rows}
    for name, spec in gb.FIGURES.items():
        assert len(spec) == 11 and spec[-1], name           # setup text: where the figure comes from
        row = rows[name]
        assert row.published == pytest.approx(spec[8])
        assert spec[-1].split(",")[0] in row.note
        assert row.ratio == pytest.approx(row.archsim / row.published)
        assert row.within_band == (0.75 <= row.ratio <= 1.25)


def test_attention_flop_count_is_the_papers():
    # benchmark_flash_attention.py: 4 * batch * seqlen**2 * nheads * headdim // (2 if causal else 1)
    assert gb._attention_flops(16, 128, 8, 2048, causal=False) == 4 * 8 * 2048 ** 2 * 16 * 128
    assert gb._attention_flops(16, 128, 8, 2048, causal=True) == 2 * 8 * 2048 ** 2 * 16 * 128


def test_attention_rows_recompute_from_their_results(res):
    for row in res.rows:
        if row.unit != "TFLOP/s":
            continue
        r = row.results[0]
        _, model, _, batch, seq, *_ = gb.FIGURES[row.metric]
        heads, d, causal = gb._ATTN_SHAPE[model]
        flops = 4 * batch * heads * seq * seq * d / (2 if causal else 1)
        assert row.archsim == pytest.approx(flops / attention_s(r) / 1e12)
        assert len({o.layer for o in r.ops if o.kind in ("attn_qk", "attn_av")}) == 1


def test_latency_rows_are_the_runs_latency(res):
    for row in res.rows:
        if row.metric in gb.FIGURES and row.unit in ("ms", "ms/step"):
            assert row.archsim == pytest.approx(row.results[0].latency_s * 1e3)


def test_gap_helpers(res):
    row = next(r for r in res.rows if r.metric == "t4 bert-large s384 b128")
    r = row.results[0]
    flops = sum(o.flops for o in r.ops)
    assert gb.achieved_tflops(r, 2.0) == pytest.approx(flops / 2.0 / 1e12)
    macs = sum(n for a, n in dict(r.actions).items() if ".mac." in a)
    assert gb.applied_mac_pj(r) * macs * 1e-12 == pytest.approx(dict(r.energy_breakdown_j)["compute"])
    assert res.gaps and all("not fitted" in g for g in res.gaps)


def test_energy_is_information_only(res):
    power = [r for r in res.rows if r.unit == "W"]
    assert power and all(r.within_band is None for r in power)
    assert 0 < power[0].archsim < 1000


def test_decode_split_recovers_a_known_line(res):
    rows = {r.metric: r for r in res.rows}
    fixed = rows["a100 decode b1: fixed time per step (7B/13B split)"]
    rate = rows["a100 decode b1: streaming rate (7B/13B split)"]
    assert fixed.within_band is None and rate.within_band is None
    r7, r13 = fixed.results
    assert gb.offchip_bytes(r13) > gb.offchip_bytes(r7) > 13e9        # 13B streams more than 7B's 13.5 GB
    t7, t13 = (1e-3 + gb.offchip_bytes(r) / 1.5e12 for r in (r7, r13))
    got_fixed, got_rate = gb.step_split(r7, r13, t7, t13)
    assert got_fixed == pytest.approx(1e-3) and got_rate == pytest.approx(1.5e12)
    # published side: lmdeploy's two step times through the same byte counts
    pub_fixed, pub_rate = gb.step_split(r7, r13, 1 / 100.02, 1 / 57.49)
    assert fixed.published == pytest.approx(pub_fixed * 1e3) and rate.published == pytest.approx(pub_rate / 1e12)
