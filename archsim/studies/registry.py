"""Study name → the function that runs it. Running a study never crashes the report: a study whose
pipeline stage has not landed comes back "not-run" naming what it waits for, and one whose
pipeline raises comes back "error" with the message (an archsim error as such, anything else
marked internal), so one broken stage never hides the other studies' results."""
from __future__ import annotations

from dataclasses import replace
import importlib
import time

from archsim.errors import ArchsimError, ConfigError, Problem, did_you_mean

from .study import NotReady, StudyResult, not_run

__all__ = ["STUDIES", "list_studies", "run_study", "run_studies", "resolve"]

#: study name → module under archsim.studies (each defines TITLE, SOURCE and run() → StudyResult)
STUDIES: dict[str, str] = {
    "pim-gpt": "pim_gpt",
    "flashattention": "flashattention",
    "long-context": "long_context",
    "mcuformer": "mcuformer",
    "edge-moe": "edge_moe",
    "lean-attention": "lean_attention",
    "scale-sim": "scale_sim",
    "attacc": "attacc",
    "neupims": "neupims",
    "matmulfree-fpga": "matmulfree_fpga",
    "autoneural": "autoneural",
    "melt": "melt",
    "gpu-baselines": "gpu_baselines",
}


def list_studies() -> tuple[str, ...]:
    return tuple(STUDIES)


def resolve(names) -> tuple[str, ...]:
    """Study names from the command line ('all' or none = every study), validated."""
    if not names or names in ("all", ["all"], ("all",)):
        return list_studies()
    if isinstance(names, str):
        names = (names,)
    out = []
    for name in names:
        if name == "all":
            return list_studies()
        if name not in STUDIES:
            hint = did_you_mean(name, STUDIES) or "choose one of " + ", ".join(STUDIES) + " or all"
            raise ConfigError([Problem(file="<command line>", line=None, key="study",
                                       problem=f"unknown study {name!r}", hint=hint)])
        out.append(name)
    return tuple(out)


def run_study(name: str) -> StudyResult:
    (name,) = resolve((name,))
    module = importlib.import_module(f"archsim.studies.{STUDIES[name]}")
    start = time.perf_counter()
    try:
        result = module.run()
    except NotReady as exc:
        result = not_run(name, module.TITLE, module.SOURCE, "not-run", str(exc),
                         getattr(module, "ASSUMPTIONS", ()))
    except Exception as exc:  # noqa: BLE001 — one broken study must not hide the others' results;
        # it is reported with status "error" (and fails its test), never skipped silently
        first = str(exc).splitlines()[0] if str(exc) else ""
        kind = type(exc).__name__ if isinstance(exc, ArchsimError) else f"internal {type(exc).__name__}"
        result = not_run(name, module.TITLE, module.SOURCE, "error", f"{kind}: {first}",
                         getattr(module, "ASSUMPTIONS", ()))
    return replace(result, wall_s=time.perf_counter() - start)


def run_studies(names=None, progress=None) -> tuple[StudyResult, ...]:
    out = []
    for name in resolve(names):
        if progress is not None:
            progress(name)
        out.append(run_study(name))
    return tuple(out)
