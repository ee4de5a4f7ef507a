"""Co-search glue: one trial = lower the model → load the hardware → map → simulate (analytic), then
the final Pareto set re-simulated at cycle fidelity with the gap reported.

The search loop (`archsim.cosearch`) is model-agnostic; this module is the evaluator it is handed.

Trial parameters (see `archsim.cosearch.space`):
- `model.<key>`: a hyperparameter override for `workloads.build_graph(overrides=...)` (`layers`,
  `hidden`, `heads`, `mlp_ratio`, `patch`, `rank_ratio`, `attention`, ...). If the space's `model:`
  is a template such as `mcuformer:embed={embed},depth={depth}`, parameters named in it are
  substituted there instead. `model.dtypes.<class>` (weights | activations | kv) picks a dtype.
- `hw.<dotted.path>`: an override for `archsim.hardware.load_hardware(overrides=...)`.
"""
from __future__ import annotations

import functools
import math
import re
import time
from dataclasses import dataclass, field

from archsim.cosearch import CoSearchResult, SearchSpace, load_accuracy, load_space, run_study
from archsim.errors import ArchsimError, ConfigError, Problem

__all__ = ["TrialDesign", "FidelityGap", "CoSearchReport", "design_for", "build_trial",
           "evaluate_trial", "make_evaluator", "check_space", "resimulate_pareto", "run_cosearch",
           "trial_metrics", "report_to_dict", "pareto_table", "rerun_command"]

_TEMPLATE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True, slots=True)
class TrialDesign:
    """What one trial's parameters mean for the pipeline."""
    model: str
    overrides: tuple[tuple[str, object], ...]
    dtypes: tuple[tuple[str, str], ...]
    hw_overrides: tuple[tuple[str, object], ...]


@dataclass(frozen=True, slots=True)
class FidelityGap:
    number: int
    analytic_latency_s: float
    cycle_latency_s: float
    analytic_energy_j: float
    cycle_energy_j: float
    sim_wall_s: float
    fits: bool = True
    cycle_result: object = field(default=None, repr=False, compare=False)  # cycle SimResult, for HTML

    @property
    def latency_gap(self) -> float:
        """(cycle − analytic) / analytic."""
        return (self.cycle_latency_s - self.analytic_latency_s) / self.analytic_latency_s \
            if self.analytic_latency_s else math.nan


@dataclass(frozen=True, slots=True)
class CoSearchReport:
    result: CoSearchResult
    gaps: tuple[FidelityGap, ...] = ()
    accuracy_label: str = ""                  # what the accuracy column is (proxy/measured, unit)


def _format_value(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return f"{value:g}" if isinstance(value, float) else str(value)


def design_for(space: SearchSpace, params: dict) -> TrialDesign:
    """Split a trial's flat parameters into model name, model overrides, dtypes and hw overrides."""
    params = space.expand(params)
    model_values = {k.removeprefix("model."): v for k, v in params.items() if k.startswith("model.")}
    var_values = {k.removeprefix("var."): v for k, v in params.items() if k.startswith("var.")}
    template_values = {**var_values, **model_values}
    used = set(_TEMPLATE.findall(space.model))
    missing = used - set(template_values)
    if missing:
        raise ConfigError([Problem(space.file, None, "model",
                                   f"template names {sorted(missing)} which are not model_params or var_params")])
    model = _TEMPLATE.sub(lambda m: _format_value(template_values[m.group(1)]), space.model)
    dtypes = dict(space.dtypes)
    overrides = {}
    for name, value in model_values.items():
        if name in used:
            continue
        if name.startswith("dtypes."):
            dtypes[name.removeprefix("dtypes.")] = str(value)
        else:
            overrides[name] = value
    hw = {k.removeprefix("hw."): v for k, v in params.items() if k.startswith("hw.")}
    return TrialDesign(model, tuple(sorted(overrides.items())), tuple(sorted(dtypes.items())),
                       tuple(sorted(hw.items())))


_HW_CACHE: dict = {}


def _hardware(base: str, overrides: tuple):
    """load_hardware, cached per (base, overrides): repeated designs reuse one frozen Hardware."""
    from archsim.hardware import load_hardware
    key = (base, tuple((k, tuple(v) if isinstance(v, list) else v) for k, v in overrides))
    if key not in _HW_CACHE:
        if len(_HW_CACHE) > 256:
            _HW_CACHE.clear()
        _HW_CACHE[key] = load_hardware(base, overrides=dict(overrides) or None)
    return _HW_CACHE[key]


def build_trial(space: SearchSpace, params: dict):
    """(graph, hw, mapping) for one trial's parameters."""
    from archsim import mapper
    from archsim import workloads
    design = design_for(space, params)
    graph = workloads.build_graph(design.model, phase=space.phase, batch=space.batch, seq=space.seq,
                                  context=space.context, dtypes=dict(design.dtypes) or None,
                                  overrides=dict(design.overrides) or None)
    hw = _hardware(space.hardware, design.hw_overrides)
    options = dict(space.mapper)
    mapping = mapper.map_graph(graph, hw, strategy=options.get("strategy", "auto"),
                               objective=options.get("objective", "edp"), budget=options.get("budget"),
                               seed=int(options.get("seed", 0)))
    return graph, hw, mapping


def _on_chip_peak_bytes(hw, mapping, result) -> int:
    explicit = dict(mapping.attrs).get("mcu_peak_sram_bytes")
    if explicit is not None:
        return int(explicit)
    off = {lv.name for lv in hw.levels if lv.off_chip}
    peaks = {lu.level: lu.peak_buffer_bytes for lu in result.levels if lu.level not in off}
    if not any(peaks.values()):
        peaks = {k: v for k, v in mapping.peak_buffer_bytes if k not in off}
    return int(sum(peaks.values()))


def _flash_bytes(hw, mapping, graph_weight_bytes: int) -> int:
    explicit = dict(mapping.attrs).get("mcu_flash_bytes")
    if explicit is not None:
        return int(explicit)
    flash = {lv.name for lv in hw.levels if lv.kind == "flash"}
    if not flash:
        return 0
    planned = sum(v for k, v in mapping.peak_buffer_bytes if k in flash)
    return int(planned or graph_weight_bytes)


def _area_mm2(hw) -> float | None:
    """Chip area that responds to the searched parameters: the description's per-component areas when
    it has them, else an estimate from archsim.energy's tables — MACs (count × MACs/cycle of the
    unit's fastest dtype × MAC area) + on-chip SRAM macros at the chip's node. Not a die area (no
    I/O, control, wiring); None for FPGAs, whose fabric area does not change with a design."""
    parts = sum(lv.area_mm2 for lv in hw.levels) + sum(cu.area_mm2 * cu.count for cu in hw.compute)
    if parts:
        return parts
    if hw.kind == "fpga":
        return None
    from archsim.energy import mac_area_mm2, sram_area_mm2
    node = hw.tech_node_nm or 45.0
    area = sum(sram_area_mm2(lv.size_bytes, node) for lv in hw.levels
               if not lv.off_chip and lv.kind in ("sram", "register", "cache"))
    for cu in hw.compute:
        table = dict(cu.macs_per_cycle)
        if not table:
            continue
        dtype = max(table, key=table.get)
        try:
            area += cu.count * table[dtype] * mac_area_mm2(dtype, node)
        except KeyError:
            area += cu.count * table[dtype] * mac_area_mm2("int8", node)
    return area or None


def trial_metrics(space: SearchSpace, params: dict, graph, hw, mapping, result) -> dict:
    """The metrics dict the search records for one simulated design."""
    from archsim.ir import graph_totals
    totals = graph_totals(graph)
    params_count = int(graph.graph.get("params", totals.params))
    energy_j = result.energy_j
    metrics = {
        "latency_s": result.latency_s, "energy_j": energy_j, "power_w": result.avg_power_w,
        "area_mm2": _area_mm2(hw), "peak_sram_bytes": _on_chip_peak_bytes(hw, mapping, result),
        "flash_bytes": _flash_bytes(hw, mapping, totals.weight_bytes), "weight_bytes": totals.weight_bytes,
        "params": params_count, "macs": totals.macs, "tokens_per_s": result.throughput_per_s,
        "tokens_per_j": result.tokens / energy_j if energy_j > 0 else None,
    }
    proxy = load_accuracy(space.accuracy)
    if proxy is not None:
        facts = {"params": params_count, "macs": totals.macs, "weight_bytes": totals.weight_bytes}
        facts.update({p.name: params[p.key] for p in space.params})
        metrics["accuracy"] = proxy(params, facts)
    dnf = dict(mapping.attrs).get("does_not_fit")
    reasons = [str(dnf)] if dnf is not None else []
    if not result.fits and result.does_not_fit and result.does_not_fit not in reasons:
        reasons.append(result.does_not_fit)
    metrics["reason"] = "; ".join(reasons)
    return metrics


def evaluate_trial(space: SearchSpace, params: dict) -> dict:
    """The co-search evaluator: lower → map → simulate(analytic) → metrics. The pipeline is
    deterministic, so a design sampled again (common over categorical axes) is answered from a
    per-process cache instead of being simulated again."""
    return dict(_evaluate_design(space, tuple(sorted(params.items()))))


@functools.lru_cache(maxsize=512)
def _evaluate_design(space: SearchSpace, items: tuple) -> tuple:
    from archsim.engine import simulate
    params = dict(items)
    graph, hw, mapping = build_trial(space, params)
    result = simulate(graph, hw, mapping, fidelity="analytic")
    return tuple(trial_metrics(space, params, graph, hw, mapping, result).items())


def make_evaluator(space: SearchSpace):
    """A picklable `evaluate(params) -> metrics` for `archsim.cosearch.run_study`."""
    return functools.partial(evaluate_trial, space)


def _first_params(space: SearchSpace) -> dict:
    out = {}
    for p in space.params:
        if p.choices:
            out[p.key] = p.choices[0]
        else:
            out[p.key] = int(p.low) if p.is_int else float(p.low)
    return out


def check_space(space: SearchSpace) -> None:
    """Fail fast, before any trial: the model template, override names, dtypes and hardware overrides
    of the space's first design must be accepted by workloads and archsim.hardware."""
    from archsim import workloads
    params = _first_params(space)
    design = design_for(space, params)

    def where(hardware: bool) -> str:     # the first design's values that the failing stage used
        shown = [f"{k}={_format_value(v)}" for k, v in sorted(params.items()) if k.startswith("hw.") == hardware]
        return f"space {space.name!r}" + (f" (first design: {', '.join(shown)})" if shown else "")

    failures: list[tuple[str, ArchsimError]] = []     # the model and the hardware are both checked
    try:
        workloads.build_graph(design.model, phase=space.phase, batch=space.batch, seq=space.seq,
                              context=space.context, dtypes=dict(design.dtypes) or None,
                              overrides=dict(design.overrides) or None)
    except ArchsimError as exc:
        failures.append((where(False), exc))
    try:
        _hardware(space.hardware, design.hw_overrides)
    except ArchsimError as exc:
        failures.append((where(True), exc))
    if not failures:
        return
    if len(failures) == 1 and not isinstance(failures[0][1], ConfigError):
        context, exc = failures[0]
        raise type(exc)(f"{space.file}: {context}: {exc}") from None
    problems = []
    for context, exc in failures:
        found = exc.problems if isinstance(exc, ConfigError) else (str(exc),)
        problems += [Problem(space.file, None, "", f"{context}: {p}") for p in found]
    raise ConfigError(problems) from None


def resimulate_pareto(space: SearchSpace, result: CoSearchResult, limit: int | None = None,
                      ) -> tuple[FidelityGap, ...]:
    """Re-simulate the Pareto designs at cycle fidelity; report the analytic-vs-cycle gap."""
    from archsim.engine import simulate
    gaps = []
    for record in result.pareto_trials[:limit]:
        params = dict(record.params)
        graph, hw, mapping = build_trial(space, params)
        start = time.perf_counter()
        cycle = simulate(graph, hw, mapping, fidelity="cycle")
        gaps.append(FidelityGap(
            number=record.number, analytic_latency_s=record.metric("latency_s", math.nan),
            cycle_latency_s=cycle.latency_s, analytic_energy_j=record.metric("energy_j", math.nan),
            cycle_energy_j=cycle.energy_j, sim_wall_s=time.perf_counter() - start, fits=cycle.fits,
            cycle_result=cycle))
    return tuple(gaps)


def run_cosearch(space: SearchSpace | str, trials: int = 50, seed: int = 0, storage: str | None = None,
                 scheduler: str | None = None, jobs: int | None = None, sampler: str = "nsga2",
                 batch: int = 4, cycle_check: int | None = None, progress=None) -> CoSearchReport:
    """The whole co-search as the CLI runs it. `cycle_check`: how many Pareto designs to re-simulate at
    cycle fidelity (None = all, 0 = none)."""
    if cycle_check is not None and (isinstance(cycle_check, bool) or not isinstance(cycle_check, int)
                                    or cycle_check < 0):
        raise ConfigError([Problem("cosearch", None, "cycle_check", "must be a whole number ≥ 0 "
                                   "(0 = skip, None = every Pareto design)", repr(cycle_check))])
    if not isinstance(space, SearchSpace):
        space = load_space(space)
    check_space(space)
    result = run_study(space, make_evaluator(space), trials=trials, seed=seed, storage=storage,
                       scheduler=scheduler, jobs=jobs, sampler=sampler, batch=batch, progress=progress)
    gaps = resimulate_pareto(space, result, cycle_check) if cycle_check != 0 else ()
    proxy = load_accuracy(space.accuracy)
    label = f"{proxy.name} ({proxy.kind}, {proxy.unit})" if proxy else ""
    return CoSearchReport(result=result, gaps=gaps, accuracy_label=label)


def rerun_command(space: SearchSpace, params: dict) -> str:
    """The `archsim simulate` command that runs one design of `space` again on its own: the
    trial's model (a filled template such as `mcuformer:embed=…`), `--model-set` for its model
    overrides, `--dtype`, `--hw-set` for its hardware overrides, and the space's fixed workload."""
    import shlex
    design = design_for(space, params)

    def yaml_value(value) -> str:
        if isinstance(value, (list, tuple)):
            return "[" + ",".join(yaml_value(v) for v in value) + "]"
        return _format_value(value) if isinstance(value, float) else str(value)

    argv = ["archsim", "simulate", "--model", design.model, "--hw", space.hardware]
    for flag, value in (("--phase", space.phase), ("--batch", space.batch), ("--seq", space.seq),
                        ("--context", space.context)):
        if value is not None and not (flag == "--batch" and value == 1):
            argv += [flag, str(value)]
    dtypes = dict(design.dtypes)
    if dtypes:
        kinds = set(dtypes.values())
        argv += ["--dtype", next(iter(kinds)) if len(kinds) == 1 and len(dtypes) == 3 else
                 ",".join(f"{k}={v}" for k, v in sorted(dtypes.items()))]
    options = dict(space.mapper)
    for key in ("strategy", "seed", "budget"):
        if options.get(key) is not None:
            argv += [f"--{key}", str(options[key])]
    argv += [a for k, v in design.overrides for a in ("--model-set", f"{k}={yaml_value(v)}")]
    argv += [a for k, v in design.hw_overrides for a in ("--hw-set", f"{k}={yaml_value(v)}")]
    return " ".join(shlex.quote(a) for a in argv)


def report_to_dict(report: CoSearchReport, timing: bool = False) -> dict:
    """Deterministic JSON-ready dict (wall-clock times only with `timing=True`)."""
    res = report.result
    space = res.space

    pareto = set(res.pareto)

    def finite(v):
        return v if v is None or isinstance(v, str) or math.isfinite(v) else None

    def trial(t):
        row = {"number": t.number, "params": dict(t.params),
               "metrics": {k: finite(v) for k, v in t.metrics}, "feasible": t.feasible,
               "violations": dict(t.violations), "reason": t.reason}
        if t.number in pareto:
            row["rerun"] = rerun_command(space, dict(t.params))
        if timing:
            row["eval_wall_s"] = t.eval_wall_s
        return row
    out = {
        "space": space.name, "space_file": space.file, "space_digest": space.digest,
        "model": space.model, "hardware": space.hardware, "phase": space.phase,
        "objectives": {o.metric: o.direction for o in space.objectives},
        "constraints": [str(c) for c in space.constraints],
        "accuracy": report.accuracy_label, "study": res.study_name, "storage": res.storage,
        "seed": res.seed, "sampler": res.sampler, "trials": [trial(t) for t in res.trials],
        "pareto": list(res.pareto),
        "cycle_check": [{"number": g.number, "analytic_latency_s": g.analytic_latency_s,
                         "cycle_latency_s": g.cycle_latency_s, "latency_gap": finite(g.latency_gap),
                         "analytic_energy_j": g.analytic_energy_j, "cycle_energy_j": g.cycle_energy_j,
                         "fits": g.fits} for g in report.gaps],
    }
    if timing:
        out.update(wall_s=res.wall_s, evaluated_now=res.evaluated_now, scheduler=res.scheduler)
    return out


def pareto_table(report: CoSearchReport) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the terminal Pareto table: trial, parameters, objectives, constraints'
    metrics, cycle-fidelity gap."""
    res = report.result
    space = res.space
    gap = {g.number: g for g in report.gaps}
    searched = [p for p in space.params if len(p.choices) != 1]
    metrics = [o.metric for o in space.objectives]
    metrics += [c.metric for c in space.constraints if c.metric not in metrics]
    header = ["trial"] + [p.key.split(".", 1)[1] for p in searched] + metrics + (["cycle gap"] if gap else [])
    rows = []
    for t in res.pareto_trials:
        params = dict(t.params)
        row = [str(t.number)] + [_format_value(params[p.key]) for p in searched]
        row += [_format_metric(m, t.metric(m)) for m in metrics]
        if gap:
            g = gap.get(t.number)
            row.append("–" if g is None or not math.isfinite(g.latency_gap) else f"{g.latency_gap:+.1%}")
        rows.append(row)
    return header, rows


def _format_metric(name: str, value) -> str:
    if value is None:
        return "–"
    if name.endswith("_bytes"):
        return f"{value / 1024:.1f} KiB"
    if name == "accuracy" and 0 <= value <= 1:
        return f"{value:.1%}"
    return f"{value:.4g}"
