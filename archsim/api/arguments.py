"""What a caller hands the API, checked before any work: names chosen from a list (phase,
fidelity, software stack, search strategy), sizes and counts in range, a chip given by name, path
or `Hardware`, chips compared under distinct names. Each problem is one `ArgumentError` line."""
from __future__ import annotations

from dataclasses import replace

from ..errors import ArchsimError, did_you_mean

__all__ = ["ArgumentError", "PHASES", "FIDELITIES", "choice", "check_stack", "check_dram_model", "check_chunk",
           "check_devices", "resolve_phase", "resolve_hardware", "check_built",
           "check_search_options", "check_run_options", "distinct_names"]

PHASES = ("prefill", "decode", "encode")
FIDELITIES = ("analytic", "cycle")


class ArgumentError(ValueError, ArchsimError):
    """Arguments that contradict each other or are out of range (e.g. a context for prefill)."""


def check_chunk(prefill_chunk, phase: str, seq) -> int:
    """`prefill_chunk` validated (a positive token count, for prefill with a given seq); 0 = none."""
    if prefill_chunk is None:
        return 0
    if isinstance(prefill_chunk, bool) or not isinstance(prefill_chunk, int) or prefill_chunk <= 0:
        raise ArgumentError(f"prefill chunk must be a positive number of tokens (got {prefill_chunk!r})")
    if phase != "prefill":
        raise ArgumentError(f"a prefill chunk applies to phase prefill only (got phase {phase!r})")
    if seq is None:
        raise ArgumentError("a prefill chunk needs seq, the prompt length to split into chunks")
    return prefill_chunk


def check_devices(devices, hardware) -> int:
    """`devices` validated: a positive whole number; more than one needs the chip's link."""
    if isinstance(devices, bool) or not isinstance(devices, int) or devices < 1:
        raise ArgumentError(f"devices must be a positive number of chips (got {devices!r})")
    if devices > 1 and not hardware.interconnect:
        raise ArgumentError(f"{hardware.name} has no interconnect: tensor parallelism over "
                            f"{devices} devices needs a link between them (add one under "
                            "`interconnect:` in the description)")
    return devices


def choice(value: str, choices: tuple[str, ...], what: str) -> str:
    if value not in choices:
        hint = did_you_mean(value, choices) or "choose one of " + ", ".join(choices)
        raise ArgumentError(f"unknown {what} {value!r}; {hint}")
    return value


def check_dram_model(dram_model) -> str | None:
    """`dram_model` validated: None (the engine's default, `engine.execute.DEFAULT_DRAM_MODEL`) or
    the name of one of the engine's DRAM paths (`engine.execute.DRAM_MODELS`)."""
    if dram_model is None:
        return None
    from ..engine.execute import DRAM_MODELS
    if not isinstance(dram_model, str):
        raise ArgumentError(f"dram_model must be one of {', '.join(DRAM_MODELS)} (got {dram_model!r})")
    return choice(dram_model, DRAM_MODELS, "DRAM model")


def check_stack(stack) -> str:
    """`stack` validated: the name of a software-stack preset (`archsim.engine.stack`)."""
    from ..engine.stack import STACK_NAMES
    if not isinstance(stack, str):
        raise ArgumentError(f"stack must be one of {', '.join(STACK_NAMES)} (got {stack!r})")
    return choice(stack, STACK_NAMES, "software stack")


def _model_phases(model) -> tuple[str, ...]:
    """The phases a zoo model or config.json supports; () for an ONNX graph, a built graph or a
    name that does not resolve (build_graph then says what is wrong)."""
    if not isinstance(model, str):
        return ()
    from archsim import workloads
    try:
        return tuple(workloads.model_config(model).phases)
    except ArchsimError:
        return ()


def resolve_phase(model, phase: str | None, seq, context, preferred: str = "") -> str:
    """The phase to run: as given; else decode when a context is given; else the chip's
    `preferred` phase (its description's `defaults.phase`) when the model has it and no prompt
    length asks for another; else the model's first phase among prefill/encode. A context with
    prefill or encode contradicts itself."""
    if phase is None:
        if context is not None:
            return "decode"
        phases = _model_phases(model)
        if preferred and preferred in phases and (seq is None or preferred != "decode"):
            return preferred
        return "prefill" if not phases or "prefill" in phases else phases[0]
    choice(phase, PHASES, "phase")
    if context is not None and phase != "decode":
        raise ArgumentError(f"context applies to --phase decode only (got phase {phase!r} with "
                            f"context {context}); use seq for the prompt or input length")
    return phase


def resolve_hardware(hw, overrides=None):
    """A `Hardware` from a library name, a YAML path or a `Hardware` (returned as is), with
    `overrides` ({'memory.gbuf.size': '4 MiB', ...}: dotted keys, as `config.load_hardware`) applied."""
    import os
    from ..hardware import Hardware
    if overrides is not None and not isinstance(overrides, dict):
        raise ArgumentError(f"hw_overrides must be a dict of dotted keys to values, e.g. "
                            f"{{'memory.gbuf.size': '4 MiB'}} (got {overrides!r})")
    if isinstance(hw, Hardware) and not overrides:
        check_built(hw)
        return hw
    if isinstance(hw, (str, os.PathLike, Hardware)):
        from ..hardware import load_hardware
        return load_hardware(hw, overrides=overrides or None)
    raise ArgumentError(f"hw must be a hardware library name, a YAML path or a Hardware (got {hw!r}); "
                        f"see `archsim hw list`")


def check_built(hw) -> None:
    """A `Hardware` built in Python (e.g. `dataclasses.replace(hw, freq_hz=1e300)`) meets the same
    ranges and checks as a YAML file: its YAML form goes through the loader (~10 ms), once per
    description object (one the loader built needs none)."""
    from ..hardware.load import dump_hardware, is_validated, mark_validated, parse_hardware
    if is_validated(hw):
        return
    try:
        text = dump_hardware(hw)
    except (TypeError, ValueError, AttributeError, KeyError) as exc:
        raise ArgumentError(f"hw {getattr(hw, 'name', '?')!r}: not a well-formed Hardware "
                            f"({type(exc).__name__}: {exc})") from None
    parse_hardware(text, file=f"<Hardware {hw.name}>")
    mark_validated(hw)


def check_search_options(strategy, seed, budget, progress=None) -> None:
    """Reject mapping-search options the mapper would misread: an unknown strategy (which would
    otherwise surface as a 'does not fit' result), a negative or non-integer seed, a budget that
    is not a positive number (evaluations; a float is seconds, as in `mapper`), a progress that
    cannot be called."""
    from archsim.mapper.search import STRATEGIES
    if not isinstance(strategy, str) or strategy not in STRATEGIES:
        hint = did_you_mean(strategy, STRATEGIES) or "choose one of " + ", ".join(STRATEGIES)
        raise ArgumentError(f"unknown strategy {strategy!r}; {hint}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ArgumentError(f"seed must be a whole number ≥ 0 (got {seed!r})")
    if progress is not None and not callable(progress):
        raise ArgumentError(f"progress must be a callable progress(done, total, label) or None (got {progress!r})")
    if budget is None:
        return
    if isinstance(budget, bool) or not isinstance(budget, (int, float)) or not 0 < budget < float("inf"):
        raise ArgumentError(f"budget must be a positive number of evaluations per op (got {budget!r})")


def check_run_options(fidelity, dram_model, stack, strategy, seed, budget, progress=None) -> None:
    """The options every simulation entry point shares (`simulate`, `simulate_graph`, `sweep`,
    `compare`, `system.simulate_system`), checked in this order: fidelity, DRAM path, software
    stack, then the mapping search's (`check_search_options`)."""
    choice(fidelity, FIDELITIES, "fidelity")
    check_dram_model(dram_model)
    check_stack(stack)
    check_search_options(strategy, seed, budget, progress)


def distinct_names(hardware: list, given: list) -> list:
    """Chips as compared, each under its own name. The same description twice is an error; two
    different descriptions that share a `name:` (a variant of a library chip saved under another
    file name) are told apart by the file name each was given as (its full path if that clashes)."""
    import os
    from pathlib import Path
    out = list(hardware)
    for i, hw in enumerate(hardware):
        twins = [j for j, other in enumerate(hardware) if j != i and other.name == hw.name]
        if not twins:
            continue
        if any(replace(hardware[j], file="") == replace(hw, file="") for j in twins):
            raise ArgumentError(f"hardware listed more than once: {hw.name}")
        label = os.fspath(given[i]) if isinstance(given[i], (str, os.PathLike)) else hw.name
        stem = Path(label).stem                  # 'variants/edge-npu-1mib.yaml' → 'edge-npu-1mib'
        if label != hw.name:
            taken = {h.name for h in hardware}
            out[i] = replace(hw, name=stem if stem and stem not in taken else label)
    names = [h.name for h in out]
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})
        raise ArgumentError(f"hardware listed more than once: {', '.join(dup)}; give each description "
                            "its own `name:`")
    return out
