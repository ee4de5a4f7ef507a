"""Accuracy proxies: published points reproduced, monotone where they should be, CSV and callables."""
from __future__ import annotations

import math

import pytest

from archsim.cosearch import space_from_dict
from archsim.cosearch.accuracy import (PUBLISHED_TOP1, chinchilla_loss, load_accuracy, register_accuracy,
                                       vit_imagenet_top1)
from archsim.errors import ConfigError


def test_vit_proxy_passes_through_its_published_points():
    for p in PUBLISHED_TOP1:
        if p.in_curve:
            assert vit_imagenet_top1(p.macs) == pytest.approx(p.top1)
    mcuformer = next(p for p in PUBLISHED_TOP1 if p.model.startswith("MCUFormer"))
    assert mcuformer.top1 == 0.7362 and not mcuformer.in_curve


def test_vit_proxy_is_monotone_in_macs():
    values = [vit_imagenet_top1(m) for m in (1e8, 3e8, 1e9, 3e9, 1e10, 5e10)]
    assert values == sorted(values) and 0 < values[0] < values[-1] <= 0.818


def test_chinchilla_loss_matches_the_paper_fit():
    # Chinchilla (70B params, 1.4T tokens): L = 1.69 + 406.4/N^0.34 + 410.7/D^0.28 ≈ 1.94
    assert chinchilla_loss(70e9, 1.4e12) == pytest.approx(1.937, abs=0.01)
    proxy = load_accuracy({"proxy": "lm-scaling"})
    assert proxy.kind == "proxy" and proxy.unit == "neg_nats_per_token"
    assert proxy({}, {"params": 7e9}) > proxy({}, {"params": 1e9})


def test_csv_accuracies_are_measured_and_never_guessed(tmp_path):
    csv = tmp_path / "acc.csv"
    csv.write_text("hidden,patch,accuracy\n192,16,0.71\n192,32,0.65\n")
    proxy = load_accuracy({"csv": str(csv)})
    assert proxy.kind == "measured"
    assert proxy({"model.hidden": 192, "model.patch": 32}, {}) == 0.65
    assert proxy({"model.hidden": 192, "model.patch": 20}, {}) is None


def test_csv_path_is_relative_to_the_space_file(tmp_path):
    (tmp_path / "acc.csv").write_text("patch,accuracy\n16,0.7\n")
    from archsim.cosearch import load_space
    (tmp_path / "s.yaml").write_text("name: s\nmodel: m\nhardware: h\nmodel_params: {patch: [16]}\n"
                                     "objectives: {accuracy: maximize}\naccuracy: {csv: acc.csv}\n")
    space = load_space(tmp_path / "s.yaml")
    assert load_accuracy(space.accuracy)({"model.patch": 16}, {}) == 0.7


def test_callable_proxy():
    register_accuracy("fake-measured", fake_measured)
    proxy = load_accuracy({"callable": "fake-measured"})
    assert proxy.kind == "measured" and proxy({"model.x": 2}, {"macs": 5}) == 7


def fake_measured(params, facts):
    return params["model.x"] + facts["macs"]


def test_bad_accuracy_blocks():
    base = {"name": "s", "model": "m", "hardware": "h", "objectives": {"accuracy": "maximize"}}
    with pytest.raises(ConfigError, match="no such CSV file"):
        space_from_dict({**base, "accuracy": {"csv": "/nonexistent/acc.csv"}})
    with pytest.raises(ConfigError, match="give exactly one of proxy, csv, callable"):
        space_from_dict({**base, "accuracy": {"proxy": "lm-scaling", "csv": "x"}})
    with pytest.raises(ConfigError, match="no accuracy function registered"):
        space_from_dict({**base, "accuracy": {"callable": "nocolon"}})
    with pytest.raises(ConfigError, match="no accuracy function registered"):
        load_accuracy({"callable": "no_such_module_xyz:f"})
    assert math.isnan(vit_imagenet_top1(0))
