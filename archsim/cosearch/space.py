"""A co-search space: which model-shape and hardware parameters vary, over what values, under which
constraints, toward which objectives. Loaded from YAML and validated with the same precise
`file:line: key: problem (got X); did you mean Y?` errors as hardware files.

    name: mcuformer-stm32f746
    model: mcuformer            # a zoo name, config.json or .onnx (handed to workloads.build_graph)
    phase: encode
    hardware: stm32f746         # base config; hw_params are dotted overrides of it
    dtypes: {activations: int8}  # fixed dtypes (or one name for all tensor classes)
    model_params:               # list = categorical; {low, high[, step][, log]} = range; scalar = fixed
      hidden: [168, 192, 216]   # any workloads override: layers, heads, mlp_ratio, patch, ...
      rank_ratio: {low: 0.4, high: 0.95, step: 0.05}
      attention: [softmax, linear, gated-linear]
      dtypes.weights: [int8, int4]           # dtypes.weights | dtypes.activations | dtypes.kv
    hw_params:
      clock: [108 MHz, 216 MHz]
    var_params:                 # feed only `derived:` and `{name}` templates
      rows: [64, 128]
    derived:                    # arithmetic over {target.name} placeholders, evaluated per trial
      hw.compute.mxu.shape: "[{var.rows}, {var.rows}]"
    constraints:                # metric: {max: X} and/or {min: Y}
      peak_sram_bytes: {max: 327680}
    objectives:                 # metric: minimize | maximize
      latency_s: minimize
    accuracy: {proxy: vit-imagenet}

`model:` may be a template filled from model or var params, e.g. `"{model}"` with `var_params:
{model: [gpt2-xl, llama2-7b]}`. The search itself knows nothing of models: a trial is a flat dict `{"model.hidden": 192, ...}` handed
to an injected evaluator that returns metrics named in `METRICS`.
"""
from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

from archsim.errors import ConfigError, Problem, did_you_mean
from archsim.limits import MAX_BATCH, MAX_TOKENS

from .accuracy import accuracy_problems
from .expressions import derived_pairs, evaluate_expression
from archsim.hardware.yaml_lines import plain, read_yaml

__all__ = [
    "METRICS", "Param", "Constraint", "Objective", "SearchSpace", "load_space", "list_spaces",
    "space_from_dict",
]

#: Metrics an evaluator may report: name → (unit, what it is).
METRICS: dict[str, tuple[str, str]] = {
    "latency_s": ("s", "latency of one inference / one phase"),
    "energy_j": ("J", "energy of one inference / one phase"),
    "area_mm2": ("mm^2", "chip area from the hardware's area table"),
    "power_w": ("W", "average power = energy / latency"),
    "peak_sram_bytes": ("B", "peak on-chip buffer use (all on-chip levels)"),
    "flash_bytes": ("B", "bytes stored in flash / off-chip non-volatile memory (weights)"),
    "weight_bytes": ("B", "total weight bytes"),
    "params": ("", "parameter count"),
    "macs": ("", "multiply-accumulates of one inference / one phase"),
    "tokens_per_s": ("1/s", "tokens or inferences per second"),
    "tokens_per_j": ("1/J", "tokens or inferences per joule (= tokens/s/W)"),
    "accuracy": ("", "accuracy proxy (see the space's accuracy block for what it is)"),
}
DIRECTIONS = ("minimize", "maximize")
TARGETS = ("model", "hw", "var")      # var: only feeds `derived:` expressions and model templates
_TOP_KEYS = ("name", "description", "model", "phase", "batch", "seq", "context", "dtypes", "hardware",
             "mapper", "model_params", "hw_params", "var_params", "derived", "constraints", "objectives", "accuracy")
_REQUIRED = ("name", "model", "hardware", "objectives")
_RANGE_KEYS = ("low", "high", "step", "log", "choices")
BUILTIN_DIR = Path(__file__).with_name("spaces")


@dataclass(frozen=True, slots=True)
class Param:
    """One searched (or fixed) parameter. `choices` non-empty = categorical; else a range."""
    name: str
    target: str                       # "model" | "hw" | "var"
    choices: tuple = ()
    low: float | None = None
    high: float | None = None
    step: float | None = None
    log: bool = False
    is_int: bool = False

    @property
    def key(self) -> str:
        """Name in the study and in the trial's params dict."""
        return f"{self.target}.{self.name}"


@dataclass(frozen=True, slots=True)
class Constraint:
    metric: str
    max_value: float | None = None
    min_value: float | None = None

    def violation(self, value: float | None) -> float:
        """≤ 0 when satisfied; else how far outside, relative to the bound (so metrics of different
        scales compare). A missing metric is a violation of 1."""
        if value is None or value != value:
            return 1.0
        worst = 0.0
        if self.max_value is not None and value > self.max_value:
            worst = max(worst, (value - self.max_value) / max(abs(self.max_value), 1e-30))
        if self.min_value is not None and value < self.min_value:
            worst = max(worst, (self.min_value - value) / max(abs(self.min_value), 1e-30))
        return worst

    def __str__(self) -> str:
        return self.describe()

    def describe(self, bound=lambda value: f"{value:g}", at_least: str = ">=", at_most: str = "<=") -> str:
        """`latency_s <= 0.01`; `bound` formats a bound (reports give it units)."""
        parts = []
        if self.min_value is not None:
            parts.append(f"{self.metric} {at_least} {bound(self.min_value)}")
        if self.max_value is not None:
            parts.append(f"{self.metric} {at_most} {bound(self.max_value)}")
        return " and ".join(parts)


@dataclass(frozen=True, slots=True)
class Objective:
    metric: str
    direction: str                    # "minimize" | "maximize"


@dataclass(frozen=True, slots=True)
class SearchSpace:
    name: str
    model: str
    hardware: str
    params: tuple[Param, ...]
    objectives: tuple[Objective, ...]
    constraints: tuple[Constraint, ...] = ()
    phase: str = "prefill"
    batch: int = 1
    seq: int | None = None
    context: int | None = None
    dtypes: tuple[tuple[str, str], ...] = ()
    mapper: tuple[tuple[str, object], ...] = ()
    accuracy: tuple[tuple[str, object], ...] = ()
    derived: tuple[tuple[str, str], ...] = ()      # key → arithmetic over {param.key} placeholders
    description: str = ""
    file: str = ""
    digest: str = ""                  # hash of the definition: a changed space never resumes a study

    def params_for(self, target: str) -> tuple[Param, ...]:
        return tuple(p for p in self.params if p.target == target)

    def expand(self, params: dict) -> dict:
        """`params` plus the derived values (e.g. a PIM MAC count = channels × banks)."""
        out = dict(params)
        for key, expr in self.derived:
            out[key] = evaluate_expression(expr, out)
        return out

    def check(self, metrics: dict) -> dict[str, float]:
        """Constraint violations (> 0 = violated) keyed by constraint text."""
        return {str(c): c.violation(metrics.get(c.metric)) for c in self.constraints}


def list_spaces() -> list[str]:
    """Names of the built-in example spaces."""
    return sorted(p.stem for p in BUILTIN_DIR.glob("*.yaml"))


def load_space(name_or_path: str | Path) -> SearchSpace:
    """Load a search space from a YAML path or a built-in name (see `list_spaces()`)."""
    path = Path(name_or_path)
    if not path.exists():
        if str(name_or_path) in list_spaces():
            path = BUILTIN_DIR / f"{name_or_path}.yaml"
        elif path.suffix in (".yaml", ".yml") or "/" in str(name_or_path):
            raise ConfigError([Problem(str(name_or_path), None, "", "no such file")])
        else:
            hint = did_you_mean(str(name_or_path), list_spaces()) or \
                f"built-in spaces: {', '.join(list_spaces())}"
            raise ConfigError([Problem("<cosearch>", None, "space",
                                       "not a file nor a built-in space", repr(str(name_or_path)), hint)])
    data, lines = _read_space_file(path)
    return space_from_dict(data, file=str(path), lines=lines)


_SPACE_START = ("a search space starts with 'name:', 'model:' and 'hardware:' "
                "(the built-in spaces are examples: archsim cosearch --list)")


def _read_space_file(path: Path) -> tuple[dict, dict[str, int]]:
    """Parse a space file with the hardware loader's YAML reader (duplicate keys, tags, alias bombs
    and tabs refused, every key's line kept); return (plain data, {dotted.key: line})."""
    if path.is_dir():
        raise ConfigError([Problem(str(path), None, "", "is a directory, expected a search-space YAML file")])
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError([Problem(str(path), None, "", f"not a text (UTF-8) file: undecodable byte at offset "
                                   f"{exc.start}", hint="a search space is a YAML text file")]) from None
    except OSError as exc:
        reason = (exc.strerror or str(exc)).lower()
        raise ConfigError([Problem(str(path), None, "", f"cannot read ({reason})")]) from None
    if "\x00" in text:
        raise ConfigError([Problem(str(path), None, "", "not a text file (it contains NUL bytes)",
                                   hint="a search space is a YAML text file")])
    data, problems = read_yaml(text, str(path), start_hint=_SPACE_START)
    if problems:
        raise ConfigError(problems)
    return plain(data)


def space_from_dict(data, file: str = "<dict>", lines: dict[str, int] | None = None) -> SearchSpace:
    """Validate a parsed space; collect every problem, then raise one ConfigError."""
    lines = lines or {}
    problems: list[Problem] = []

    def bad(key, problem, got=None, hint=None):
        problems.append(Problem(file, lines.get(key), key, problem,
                                None if got is None else repr(got), hint))

    if not isinstance(data, dict):
        raise ConfigError([Problem(file, 1, "", "a search space must be a mapping of keys",
                                   type(data).__name__)])
    if {"version", "kind", "memory", "compute"} <= set(data):
        raise ConfigError([Problem(file, 1, "", "this is a hardware description, not a search space",
                                   hint="name it under `hardware:` in a search space (see `archsim "
                                        "cosearch --list` and archsim/cosearch/spaces/)")])
    for key in data:
        if key not in _TOP_KEYS:
            bad(key, "unknown key", hint=did_you_mean(key, _TOP_KEYS) or f"allowed: {', '.join(_TOP_KEYS)}")
    for key in _REQUIRED:
        if key not in data:
            problems.append(Problem(file, None, key, "missing required key"))
    for key in ("name", "model", "hardware", "phase", "description"):
        if key in data and not isinstance(data[key], str):
            bad(key, "must be a string", data[key])
    for key in ("batch", "seq", "context"):
        value = data.get(key)
        limit = MAX_BATCH if key == "batch" else MAX_TOKENS
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            bad(key, "must be a positive integer", value)
        elif value is not None and value > limit:
            bad(key, f"must be at most {limit:,} (archsim.limits)", value)

    params: list[Param] = []
    for target in TARGETS:
        block = data.get(f"{target}_params") or {}
        if not isinstance(block, dict):
            bad(f"{target}_params", "must be a mapping of parameter: values", block)
            continue
        for name, spec in block.items():
            param = _param(str(name), target, spec, f"{target}_params.{name}", bad)
            if param is not None:
                params.append(param)

    objectives = _objectives(data.get("objectives"), bad)
    constraints = _constraints(data.get("constraints"), bad)
    accuracy = data.get("accuracy") or {}
    if not isinstance(accuracy, dict):
        bad("accuracy", "must be a mapping (proxy: NAME | csv: PATH | callable: REGISTERED-NAME)", accuracy)
        accuracy = {}
    if accuracy.get("csv") is not None and file not in ("<dict>",):
        csv_path = Path(str(accuracy["csv"]))
        if not csv_path.is_absolute():
            accuracy = {**accuracy, "csv": str(Path(file).parent / csv_path)}
    if accuracy:
        problems.extend(accuracy_problems(accuracy, file, lines))
    uses_accuracy = any(o.metric == "accuracy" for o in objectives) or \
        any(c.metric == "accuracy" for c in constraints)
    if uses_accuracy and not accuracy:
        problems.append(Problem(file, lines.get("objectives"), "accuracy",
                                "objectives or constraints use 'accuracy' but no accuracy block says "
                                "where it comes from", hint="add accuracy: {proxy: vit-imagenet} or {csv: FILE}"))
    derived = derived_pairs(data.get("derived"), {p.key for p in params}, bad)
    if isinstance(data.get("dtypes"), str):      # one dtype for every tensor class
        data = {**data, "dtypes": {c: data["dtypes"] for c in ("weights", "activations", "kv")}}
    for key in ("dtypes", "mapper"):
        if data.get(key) is not None and not isinstance(data[key], dict):
            bad(key, "must be a mapping", data[key])
    if problems:
        raise ConfigError(problems)

    canonical = json.dumps({k: v for k, v in data.items() if k != "description"}, sort_keys=True, default=str)
    return SearchSpace(
        name=data["name"], model=data["model"], hardware=data["hardware"], params=tuple(params),
        objectives=objectives, constraints=constraints, phase=data.get("phase") or "prefill",
        batch=data.get("batch") or 1, seq=data.get("seq"), context=data.get("context"),
        dtypes=tuple(sorted((str(k), str(v)) for k, v in (data.get("dtypes") or {}).items())),
        mapper=tuple(sorted((str(k), v) for k, v in (data.get("mapper") or {}).items())),
        accuracy=tuple(sorted((str(k), v) for k, v in accuracy.items())), derived=derived,
        description=data.get("description") or "", file=file,
        digest=hashlib.sha256(canonical.encode()).hexdigest()[:10],
    )


def _is_number(x) -> bool:
    """A finite int or float (NaN and ±inf are not bounds or values anyone means)."""
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return False
    return math.isfinite(x) and abs(x) <= MAX_SPACE_NUMBER


#: largest number a space may give (bounds, choices, range ends): 2^64, past every archsim limit
MAX_SPACE_NUMBER = 2.0 ** 64
_NUMERAL = re.compile(r"[+-]?(\d[\d_]*(\.\d*)?|\.\d+)([eE][+-]?\d{1,3})?")


def _number(x):
    """YAML 1.1 reads `216e6` as a string; accept it as the number it plainly is (only numerals:
    'nan', 'inf' and 'infinity' stay strings)."""
    if isinstance(x, str) and _NUMERAL.fullmatch(x.strip()):
        value = float(x)
        if not math.isfinite(value):
            return x
        return int(value) if value.is_integer() and "." not in x.split("e")[0].split("E")[0] else value
    return x


def _param(name, target, spec, key, bad) -> Param | None:
    if isinstance(spec, list):
        spec = [_number(c) for c in spec]
        spec = {"choices": spec}
    if not isinstance(spec, dict):
        if isinstance(spec, (int, float, str, bool)):
            return Param(name, target, choices=(_number(spec),))
        bad(key, "must be a list of choices, {low, high[, step][, log]} or a fixed value", spec)
        return None
    for k in spec:
        if k not in _RANGE_KEYS:
            bad(f"{key}.{k}", "unknown key", hint=did_you_mean(k, _RANGE_KEYS) or f"allowed: {', '.join(_RANGE_KEYS)}")
            return None
    if "choices" in spec:
        choices = spec["choices"]
        if isinstance(choices, list):
            choices = [_number(c) for c in choices]
        if not isinstance(choices, list) or not choices:
            bad(f"{key}.choices", "must be a non-empty list", choices)
            return None
        if any(not isinstance(c, (int, float, str, bool)) for c in choices):
            bad(f"{key}.choices", "choices must be numbers, strings or booleans", choices)
            return None
        if any(isinstance(c, (int, float)) and not isinstance(c, bool) and not _is_number(c) for c in choices):
            bad(f"{key}.choices", f"numeric choices must be finite (at most {MAX_SPACE_NUMBER:g})", choices)
            return None
        if len(set(map(repr, choices))) != len(choices):
            bad(f"{key}.choices", "choices repeat a value", choices)
            return None
        if len(spec) > 1:
            bad(key, "give either choices or low/high, not both")
            return None
        return Param(name, target, choices=tuple(choices))
    low, high, step = (_number(spec.get(k)) for k in ("low", "high", "step"))
    log = spec.get("log", False)
    if not _is_number(low) or not _is_number(high):
        bad(key, f"a range needs finite numeric low and high (at most {MAX_SPACE_NUMBER:g})",
            {k: spec.get(k) for k in ("low", "high")})
        return None
    if low >= high:
        bad(key, "low must be below high", f"low={low}, high={high}")
        return None
    if step is not None and (not _is_number(step) or step <= 0):
        bad(f"{key}.step", "must be a positive number", step)
        return None
    if not isinstance(log, bool):
        bad(f"{key}.log", "must be true or false", log)
        return None
    if log and (low <= 0 or step is not None):
        bad(f"{key}.log", "a log range needs low > 0 and no step", f"low={low}, step={step}")
        return None
    is_int = all(isinstance(v, int) for v in (low, high)) and (step is None or isinstance(step, int))
    return Param(name, target, low=low, high=high, step=step, log=log, is_int=is_int)


def _objectives(block, bad) -> tuple[Objective, ...]:
    if block is None:
        return ()
    if not isinstance(block, dict) or not block:
        bad("objectives", "must be a non-empty mapping of metric: minimize|maximize", block)
        return ()
    out = []
    for metric, direction in block.items():
        key = f"objectives.{metric}"
        if metric not in METRICS:
            bad(key, "unknown metric", metric, did_you_mean(metric, METRICS) or f"known: {', '.join(METRICS)}")
        elif direction not in DIRECTIONS:
            bad(key, "must be minimize or maximize", direction, did_you_mean(str(direction), DIRECTIONS))
        else:
            out.append(Objective(metric, direction))
    return tuple(out)


def _constraints(block, bad) -> tuple[Constraint, ...]:
    if block is None:
        return ()
    if not isinstance(block, dict):
        bad("constraints", "must be a mapping of metric: {max: X, min: Y}", block)
        return ()
    out = []
    for metric, bounds in block.items():
        key = f"constraints.{metric}"
        if metric not in METRICS:
            bad(key, "unknown metric", metric, did_you_mean(metric, METRICS) or f"known: {', '.join(METRICS)}")
            continue
        if not isinstance(bounds, dict) or not bounds:
            bad(key, "must be {max: X} and/or {min: Y}", bounds)
            continue
        unknown = [k for k in bounds if k not in ("max", "min")]
        if unknown:
            bad(f"{key}.{unknown[0]}", "unknown bound", hint=did_you_mean(unknown[0], ("max", "min")) or "use max or min")
            continue
        bounds = {k: _number(v) for k, v in bounds.items()}
        if any(not _is_number(v) for v in bounds.values()):
            bad(key, f"bounds must be finite numbers (at most {MAX_SPACE_NUMBER:g})", bounds,
                "a NaN or infinite bound would make every design feasible")
            continue
        out.append(Constraint(metric, max_value=bounds.get("max"), min_value=bounds.get("min")))
    return tuple(out)

