"""MELT (Laskaridis et al., "MELTing point: Mobile Evaluation of Language Transformers", MobiCom
2024, arXiv 2403.12844): decode speed and energy per token of 4-bit LLMs on the devices it measured
that public specs let archsim describe — an NVIDIA Jetson AGX Orin (llama.cpp / MLC on its GPU)
and a Snapdragon 8 Gen 2 phone (Galaxy S23, llama.cpp on its CPU) — and its conclusion that
on-device LLM inference is largely memory-bound.

Every archsim figure is an `archsim.api.simulate` decode result (mapper + engine) or a ratio of two;
which bound each op hit (`OpResult.bound`) is the engine's own verdict.
"""
from __future__ import annotations

from . import pipeline
from .study import finish, info, match, measured

__all__ = ["TITLE", "SOURCE", "ASSUMPTIONS", "DEVICES", "MODELS", "run"]

TITLE = "MELT: on-device LLM decode (Jetson AGX Orin, Snapdragon 8 Gen 2 phone)"
SOURCE = ("Laskaridis, Katevas, Minto, Haddadi, MELTing point: Mobile Evaluation of Language "
          "Transformers, MobiCom 2024 (arXiv 2403.12844): abstract and the stored summaries "
          "(alphaxiv.org/overview/2403.12844, sciencestack.ai/paper/2403.12844); its model list "
          "from github.com/brave-experiments/MELT-public src/configs")
#: device description → the framework MELT ran on it (what the description models)
DEVICES = {"jetson-agx-orin": "llama.cpp / MLC on the GPU",
           "snapdragon-8-gen-2": "llama.cpp on the CPU (Galaxy S23)"}
#: MELT's models that the zoo has (Zephyr-3B and Gemma are not in the zoo)
MODELS = ("tinyllama-1.1b", "llama2-7b", "mistral-7b")
DTYPE = "weights=int4,activations=fp16,kv=fp16"
CONTEXT = 512
MEMORY_BOUND = "memory-bound"

ASSUMPTIONS = (
    f"Models: zoo {', '.join(MODELS)} (MELT also ran Zephyr-3B and Gemma, not in the zoo), 4-bit "
    f"weights with fp16 activations and KV cache ({DTYPE}: llama.cpp Q4 / MLC q4f16).",
    f"Decode of one sequence at a {CONTEXT}-token context (a chat turn; MELT's prompt lengths are "
    "not in the stored material).",
    "Devices: `jetson-agx-orin` (GPU only; MAXN 60 W budget) and `snapdragon-8-gen-2` (its five "
    "performance cores; the Adreno GPU MLC uses and the Hexagon NPU are not described: no stored "
    "source gives their peaks). Apple iPhones and the other Android phones MELT measured are not "
    "described either.",
    "A run is memory-bound when most of its time is in ops the engine finds bound by the off-chip "
    "memory (`OpResult.bound` = memory:<off-chip level>).",
)

MISSING = (
    "published tokens/s and energy per token per device and model: MELT's figures are not in the "
    "stored pages (its abstract and third-party summaries only); the rows give archsim's numbers "
    "without a published value to judge them",
)


def offchip_bytes(result) -> int:
    """Bytes the run moved in and out of the off-chip memory."""
    off = result.levels[0].level
    return sum(dict(o.bytes_by_level).get(off, 0) for o in result.ops)


def offchip_gbps(result) -> float:
    """Off-chip bytes the run moved per second of its latency (GB/s)."""
    return offchip_bytes(result) / result.latency_s / 1e9 if result.latency_s > 0 else 0.0


def _memory_bound(*results) -> str:
    return MEMORY_BOUND if all(pipeline.memory_bound_share(r) > 0.5 for r in results) else "not memory-bound"


def run():
    simulate = pipeline.need("archsim.api", "simulate")
    runs = {}
    for hw in DEVICES:
        pipeline.hardware(hw)
        for model in MODELS:
            runs[(hw, model)] = simulate(model, hw, phase="decode", context=CONTEXT, dtype=DTYPE)
    rows, gaps = [], []
    for (hw, model), r in runs.items():
        if not r.fits:
            rows.append(match(f"{model} fits {hw}", True, measured(lambda x: x.fits, r),
                              note=r.does_not_fit))
            continue
        off = pipeline.hardware(hw).levels[0]
        rows.append(info(f"{model} decode on {hw}", measured(lambda x: x.throughput_per_s, r),
                         unit="tok/s", note=DEVICES[hw]))
        rows.append(info(f"{model} energy per token on {hw}",
                         measured(lambda x: x.energy_j / x.tokens * 1e3, r), unit="mJ",
                         note=f"{r.avg_power_w:.3g} W average"))
        rows.append(info(f"{model} on {hw}: off-chip traffic", measured(offchip_gbps, r),
                         unit="GB/s",
                         note=f"{pipeline.memory_bound_share(r):.0%} of op time memory-bound; the "
                              f"level streams {off.bandwidth_bytes_per_s / 1e9:.4g} GB/s"))
    fitting = [r for r in runs.values() if r.fits]
    if fitting:
        least = min(pipeline.memory_bound_share(r) for r in fitting)
        rows.append(match("on-device decode is largely memory-bound (MELT's conclusion)", MEMORY_BOUND,
                          measured(_memory_bound, *fitting),
                          note=f"least memory-bound run: {least:.0%} of its op time"))
    for hw in DEVICES:
        small, large = runs[(hw, MODELS[0])], runs[(hw, MODELS[1])]
        if small.fits and large.fits:
            rows.append(info(f"{MODELS[0]} ÷ {MODELS[1]} decode speed on {hw}",
                             measured(lambda a, b: a.throughput_per_s / b.throughput_per_s,
                                             small, large), unit="×",
                             note=f"off-chip bytes per token {MODELS[1]} ÷ {MODELS[0]}: "
                                  f"{offchip_bytes(large) / offchip_bytes(small):.2f} (a memory-bound "
                                  "decode's speed ratio tracks it)"))
    if any(r.within_band is False for r in rows):
        gaps.append("a run the engine finds mostly compute- or latency-bound contradicts MELT's "
                    "conclusion; the row's note gives the least memory-bound share.")
    return finish("melt", TITLE, SOURCE, rows, ASSUMPTIONS, gaps, missing=MISSING)
