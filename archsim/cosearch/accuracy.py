"""Accuracy proxies for co-search, honestly labelled.

The simulator measures latency, energy and memory; it does not train models. The `accuracy` metric of a
trial therefore comes from one of:

- `csv: FILE` — **measured** accuracies you supply: columns named after trial parameters (`hidden` or
  `model.hidden`) plus `accuracy`. A trial whose parameters have no row gets no accuracy (the trial is
  then infeasible if a constraint or objective needs it) — never a guess.
- `callable: NAME` — **measured or your own model**: `function(params, facts) -> float`, registered
  in Python under NAME before the search (`register_accuracy(NAME, function)`), or by an installed
  package through the entry-point group `archsim.accuracy` (`NAME = "package.module:function"` in
  its pyproject). A space file is data: it only picks a registered NAME; a module named in the
  file is never imported (it would run whatever code sits on the path). With `--scheduler`, Dask
  workers see entry points (installed packages), not registrations made in the driver.
- `proxy: vit-imagenet` — a **proxy**: ImageNet-1k top-1 (fraction) interpolated in log(MACs) over
  published DeiT results (one training recipe), extrapolated below DeiT-Ti along the DeiT-Ti→DeiT-S
  slope. It ranks designs by compute; it does not know about distillation, NAS supernets or
  quantisation. Published points it does *not* interpolate over (ViT trained on ImageNet-1k only,
  MCUFormer) are kept in `PUBLISHED_TOP1` for reference with the reason.
- `proxy: lm-scaling` — a **proxy**: the negative of the Chinchilla parametric loss
  L(N, D) = 1.69 + 406.4 / N^0.34 + 410.7 / D^0.28 (nats/token; Hoffmann et al., "Training
  Compute-Optimal Large Language Models", 2022, Eq. 10), with N = parameters and D = training tokens
  (`train_tokens:` in the block, default 20 × N, the Chinchilla compute-optimal ratio). Higher is
  better; the unit is −nats/token, not a percentage.

`facts` handed to every proxy: `params`, `macs`, `weight_bytes` of the lowered model, plus the trial's
own parameters under their keys.
"""
from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable

from archsim.errors import ConfigError, Problem, did_you_mean

__all__ = ["AccuracyProxy", "PUBLISHED_TOP1", "BUILTIN_PROXIES", "load_accuracy",
           "accuracy_problems", "vit_imagenet_top1", "chinchilla_loss", "register_accuracy",
           "registered_accuracy", "ENTRY_POINT_GROUP"]


@dataclass(frozen=True, slots=True)
class PublishedTop1:
    model: str
    params: float
    macs: float
    top1: float                 # fraction
    resolution: int
    source: str
    in_curve: bool
    note: str = ""


#: Published ImageNet-1k top-1. MACs are the "FLOPs" column of the cited tables (which count MACs).
PUBLISHED_TOP1: tuple[PublishedTop1, ...] = (
    PublishedTop1("DeiT-Ti", 5.7e6, 1.3e9, 0.722, 224,
                  "Touvron et al., DeiT (ICML 2021) Table 1 (top-1); MACs from T2T-ViT (ICCV 2021) Table 2", True),
    PublishedTop1("DeiT-S", 22e6, 4.6e9, 0.798, 224,
                  "Touvron et al., DeiT (ICML 2021) Table 1; MACs from Swin (ICCV 2021) Table 1(a)", True),
    PublishedTop1("DeiT-B", 86e6, 17.5e9, 0.818, 224,
                  "Touvron et al., DeiT (ICML 2021) Table 1; MACs from Swin (ICCV 2021) Table 1(a)", True),
    PublishedTop1("ViT-B/16", 86e6, 55.4e9, 0.779, 384,
                  "Dosovitskiy et al., ViT (ICLR 2021), ImageNet-1k-only pre-training, as quoted in DeiT Table 1",
                  False, "different training recipe (no DeiT augmentation); not monotone with DeiT"),
    PublishedTop1("ViT-L/16", 307e6, 190.7e9, 0.765, 384,
                  "Dosovitskiy et al., ViT (ICLR 2021), ImageNet-1k-only pre-training, as quoted in DeiT Table 1",
                  False, "different training recipe (no DeiT augmentation); not monotone with DeiT"),
    PublishedTop1("MCUFormer @320KB STM32F746", float("nan"), float("nan"), 0.7362, 240,
                  "Liang et al., MCUFormer (NeurIPS 2023) abstract", False,
                  "searched architecture, params and MACs not published; a reference point only"),
)

_CURVE = sorted((p for p in PUBLISHED_TOP1 if p.in_curve), key=lambda p: p.macs)


def vit_imagenet_top1(macs: float) -> float:
    """Proxy top-1 (fraction) for a ViT/DeiT-shaped model of `macs` MACs per 1 image (see module doc)."""
    if not macs or macs <= 0:
        return float("nan")
    x = math.log(macs)
    pts = [(math.log(p.macs), p.top1) for p in _CURVE]
    if x <= pts[0][0]:
        (x0, y0), (x1, y1) = pts[0], pts[1]
    elif x >= pts[-1][0]:
        return pts[-1][1]                      # no published gain beyond DeiT-B in this recipe
    else:
        i = next(i for i in range(1, len(pts)) if x <= pts[i][0])
        (x0, y0), (x1, y1) = pts[i - 1], pts[i]
    return max(0.0, y0 + (y1 - y0) * (x - x0) / (x1 - x0))


def chinchilla_loss(params: float, train_tokens: float) -> float:
    """Chinchilla parametric loss in nats/token (Hoffmann et al. 2022, Eq. 10)."""
    return 1.69 + 406.4 / params ** 0.34 + 410.7 / train_tokens ** 0.28


@dataclass(frozen=True, slots=True)
class AccuracyProxy:
    name: str
    kind: str                                  # "measured" | "proxy"
    unit: str                                  # "top1_fraction" | "neg_nats_per_token" | user's
    description: str
    function: Callable[[dict, dict], float | None]

    def __call__(self, params: dict, facts: dict) -> float | None:
        value = self.function(params, facts)
        return None if value is None or value != value else float(value)


def _vit(options: dict) -> AccuracyProxy:
    return AccuracyProxy(
        "vit-imagenet", "proxy", "top1_fraction",
        "ImageNet-1k top-1 interpolated in log(MACs) over DeiT-Ti/S/B (a proxy, not a measurement)",
        lambda params, facts: vit_imagenet_top1(facts.get("macs", 0)))


def _lm(options: dict) -> AccuracyProxy:
    ratio = float(options.get("tokens_per_param", 20.0))
    fixed = options.get("train_tokens")

    def neg_loss(params, facts):
        n = facts.get("params", 0)
        if not n:
            return None
        return -chinchilla_loss(n, float(fixed) if fixed else ratio * n)
    return AccuracyProxy("lm-scaling", "proxy", "neg_nats_per_token",
                         "minus the Chinchilla scaling-law loss from params and tokens (a proxy)", neg_loss)


BUILTIN_PROXIES: dict[str, Callable[[dict], AccuracyProxy]] = {"vit-imagenet": _vit, "lm-scaling": _lm}
_SOURCES = ("proxy", "csv", "callable")
_OPTIONS = ("train_tokens", "tokens_per_param", "column")


def accuracy_problems(block: dict, file: str, lines: dict[str, int]) -> list[Problem]:
    """Problems in a space's `accuracy:` block (empty list = fine)."""
    out = []
    given = [k for k in _SOURCES if k in block]
    for key in block:
        if key not in _SOURCES + _OPTIONS:
            out.append(Problem(file, lines.get(f"accuracy.{key}"), f"accuracy.{key}", "unknown key",
                               hint=did_you_mean(key, _SOURCES + _OPTIONS) or f"allowed: {', '.join(_SOURCES + _OPTIONS)}"))
    if len(given) != 1:
        out.append(Problem(file, lines.get("accuracy"), "accuracy",
                           "give exactly one of proxy, csv, callable", ", ".join(given) or "none"))
        return out
    src, value = given[0], block[given[0]]
    key = f"accuracy.{src}"
    if src == "proxy" and value not in BUILTIN_PROXIES:
        out.append(Problem(file, lines.get(key), key, "unknown proxy", repr(value),
                           did_you_mean(str(value), BUILTIN_PROXIES) or f"built-in: {', '.join(BUILTIN_PROXIES)}"))
    elif src == "csv" and not Path(str(value)).is_file():
        out.append(Problem(file, lines.get(key), key, "no such CSV file", repr(value)))
    elif src == "csv" and Path(str(value)).stat().st_size > MAX_CSV_BYTES:
        out.append(Problem(file, lines.get(key), key, f"CSV larger than {MAX_CSV_BYTES:,} bytes",
                           repr(value)))
    elif src == "callable" and (not isinstance(value, str) or value not in registered_accuracy()):
        names = sorted(registered_accuracy())
        hint = (did_you_mean(str(value), names) if names else None) or (
            f"registered: {', '.join(names)}" if names else
            "register it in Python first: archsim.cosearch.register_accuracy(NAME, function), or "
            "install a package with an 'archsim.accuracy' entry point")
        out.append(Problem(file, lines.get(key), key, "no accuracy function registered under this "
                           "name (a space file never imports code)", repr(value), hint))
    return out


#: entry-point group through which installed packages offer accuracy functions
ENTRY_POINT_GROUP = "archsim.accuracy"
#: an accuracy CSV is a table of measured points, not a data set
MAX_CSV_BYTES = 16 * 2 ** 20
_REGISTERED: dict[str, Callable[[dict, dict], float | None]] = {}


def register_accuracy(name: str, function: Callable[[dict, dict], float | None]) -> None:
    """Allow a space file's `accuracy: {callable: NAME}` to use `function(params, facts)`."""
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"register_accuracy: name must be non-empty text (got {name!r})")
    if not callable(function):
        raise TypeError(f"register_accuracy: {name}: function must be callable (got {function!r})")
    _REGISTERED[name] = function
    _load.cache_clear()


def registered_accuracy() -> dict[str, object]:
    """NAME → function (registered in Python) or entry point (loaded on first use)."""
    from importlib.metadata import entry_points
    out: dict[str, object] = {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}
    out.update(_REGISTERED)
    return out


def load_accuracy(block: tuple[tuple[str, object], ...] | dict) -> AccuracyProxy | None:
    """The proxy a space's accuracy block names (None when the block is empty)."""
    return _load(tuple(sorted(dict(block).items())))


@lru_cache(maxsize=16)
def _load(block: tuple) -> AccuracyProxy | None:
    options = dict(block)
    if not options:
        return None
    if "proxy" in options:
        return BUILTIN_PROXIES[options["proxy"]](options)
    if "csv" in options:
        return _csv(Path(str(options["csv"])), str(options.get("column", "accuracy")))
    name = str(options["callable"])
    found = registered_accuracy().get(name)
    if found is None:
        raise ConfigError(accuracy_problems({"callable": name}, "<space>", {}))
    if not callable(found):                      # an installed package's entry point
        try:
            found = found.load()
        except Exception as exc:                 # the package's own import failed
            raise ConfigError([Problem("<space>", None, "accuracy.callable", "the entry point "
                                       f"{found.value!r} cannot be loaded", repr(name),
                                       f"{type(exc).__name__}: {exc}")]) from None
    return AccuracyProxy(name, "measured", "user", f"registered accuracy function {name}", found)


def _csv(path: Path, column: str) -> AccuracyProxy:
    """Errors name the file, row and column, never quote its contents (the path may point at any
    file on the machine)."""
    def bad(line, problem, hint=None):
        return ConfigError([Problem(str(path), line, "accuracy.csv", problem, hint=hint)])
    if path.stat().st_size > MAX_CSV_BYTES:
        raise bad(None, f"larger than {MAX_CSV_BYTES:,} bytes; an accuracy CSV is a table of measured points")
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise bad(None, f"not a UTF-8 CSV table ({type(exc).__name__})") from None
    if not rows or column not in rows[0]:
        raise bad(1, f"no column named {column!r}" if rows else "no rows",
                  "the first row names the columns: trial parameters and the accuracy column")
    keys = [k for k in rows[0] if k != column]
    table = []
    for i, r in enumerate(rows, start=2):
        try:
            value = float(r[column])
        except (TypeError, ValueError):
            raise bad(i, f"column {column!r} is not a number in this row") from None
        if not math.isfinite(value):
            raise bad(i, f"column {column!r} is not a finite number in this row")
        table.append(({k: r[k] for k in keys}, value))

    def lookup(params: dict, facts: dict) -> float | None:
        for cells, acc in table:
            if all(_same(cells[k], _param_value(params, k)) for k in keys):
                return acc
        return None
    return AccuracyProxy(f"csv:{path.name}", "measured", column, f"measured accuracies from {path}", lookup)


def _param_value(params: dict, key: str):
    if key in params:
        return params[key]
    for prefix in ("model.", "hw."):
        if prefix + key in params:
            return params[prefix + key]
    return None


def _same(cell: str, value) -> bool:
    if value is None:
        return False
    try:
        return math.isclose(float(cell), float(value), rel_tol=1e-9, abs_tol=1e-12)
    except (TypeError, ValueError):
        return str(cell).strip() == str(value)
