"""`build_graph`, `list_models`, `model_config`: the workloads stage's public entry points."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
import os

from archsim.errors import ModelError
from archsim.ir import OpGraph, new_graph
from .config import ModelConfig, apply_overrides
from .dtypes import Dtypes, resolve_dtypes
from .families.decoder import lower_decoder
from .families.efficientformer import lower_efficientformer
from .families.encoder import lower_encoder
from .families.mamba import lower_mamba
from .families.mobilenet import lower_mobilenetv5
from .families.recurrent import lower_gla, lower_matmulfree
from .families.t5 import lower_t5
from .families.vision import lower_swin, lower_vit, vit_tokens
from .lowering import Lowering
from .phases import Phase, resolve_phase
from .zoo import ZOO, zoo_config

__all__ = ["build_graph", "list_models", "model_config", "ModelRow", "lower_config"]

_LOWER = {
    "decoder": lower_decoder, "hybrid": lower_decoder, "encoder": lower_encoder, "vit": lower_vit,
    "swin": lower_swin, "efficientformer": lower_efficientformer, "t5": lower_t5, "mamba": lower_mamba,
    "gla": lower_gla, "matmulfree": lower_matmulfree, "mobilenetv5": lower_mobilenetv5,
}
#: the phase that touches every weight of a family (T5's encode and decode each skip a stack)
_FULL_PHASE = {"t5": "prefill"}


@dataclass(frozen=True, slots=True)
class ModelRow:
    name: str
    family: str
    params: int
    active_params: int
    phases: tuple[str, ...]


def model_config(model: str) -> ModelConfig:
    """The hyperparameters of a zoo name (incl. `mcuformer:...`) or a config.json path."""
    if model.endswith(".onnx"):
        raise ModelError(f"{model}: an ONNX graph has no ModelConfig; use build_graph")
    path = Path(model)
    if path.is_dir() and (path / "config.json").is_file():
        path = path / "config.json"
    elif path.is_dir():
        raise ModelError(f"{model}: is a directory without a config.json; give a Hugging Face "
                         "config.json, an .onnx file or a zoo name (see `archsim models`)")
    if path.suffix == ".json":
        from .hf_config import load_hf_config
        return load_hf_config(path)
    if path.is_file():
        raise ModelError(f"{model}: not a model file; give a Hugging Face config.json or an .onnx file")
    return zoo_config(model)


def _phase_for(cfg: ModelConfig, phase: str, batch, seq, context, past: int = 0) -> Phase:
    if past and (cfg.family != "decoder" or cfg.attention != "softmax"):
        kind = cfg.family if cfg.family != "decoder" else f"{cfg.attention}-attention decoder"
        raise ModelError(f"{cfg.name}: a prefill chunk after cached positions (past {past}) is "
                         f"modelled for softmax-attention decoders; this model is a {kind} — "
                         "prefill it in one pass (no chunk)")
    if phase == "decode" and cfg.family != "t5" and seq is not None and context is not None \
            and seq != context:    # only an encoder-decoder's decode reads a source of seq tokens
        raise ModelError(f"{cfg.name}: decode makes one token per sequence that attends to context "
                         f"{context} positions; seq {seq} does not apply (give context only, or "
                         "prefill for a prompt of seq tokens)")
    if cfg.family in ("vit", "swin", "efficientformer", "mobilenetv5") and phase == "encode":
        tokens = vit_tokens(cfg) if cfg.family == "vit" else 0
        if seq is not None and tokens and seq != tokens:
            raise ModelError(f"{cfg.name}: seq {seq} does not match the {tokens} tokens of a "
                             f"{cfg.image[0]}×{cfg.image[1]} image with {cfg.patch}-pixel patches; "
                             "leave seq unset or change image/patch")
        seq = tokens or 1
    return resolve_phase(cfg.name, cfg.phases, phase, batch, seq, context, cfg.max_positions, past)


def lower_config(cfg: ModelConfig, ph: Phase, dtypes: Dtypes) -> tuple[OpGraph, Lowering]:
    """Trace `cfg` at phase `ph` into a fresh graph (no meta beyond the basics)."""
    graph = new_graph(model=cfg.name, family=cfg.family, phase=ph.name, batch=ph.batch, seq=ph.seq,
                      context=ph.context, **({"past": ph.past} if ph.past else {}))
    lw = Lowering(graph, dtypes, cfg.matmul_weight_dtype)
    _LOWER[cfg.family](lw, cfg, ph)
    for name, data in graph.nodes(data=True):     # a zero size from the config: an empty loop
        op = data.get("op")
        empty = [d for d, n in op.dims if n <= 0] if op is not None else []
        if empty:
            raise ModelError(f"{cfg.name}: op {name} has an empty loop ({', '.join(f'{d}={op.dim_sizes[d]}' for d in empty)}); "
                             "a size in the model configuration is 0 or negative")
    return graph, lw


@lru_cache(maxsize=256)
def _param_counts(cfg: ModelConfig) -> tuple[int, int, tuple[tuple[str, int], ...]]:
    """(params, active params, params by usage) from a minimal trace of the weight-complete phase."""
    phase = _FULL_PHASE.get(cfg.family, cfg.phases[0])
    ph = _phase_for(cfg, phase, 1, None if phase == "encode" else 1, None)
    _, lw = lower_config(cfg, ph, Dtypes())
    total, active = lw.params()
    return total, active, tuple(lw.params_by_usage().items())


def build_graph(model: str, phase: str = "prefill", batch: int = 1, seq: int | None = None,
                context: int | None = None, dtypes: dict | str | None = None,
                overrides: dict | None = None, past: int = 0) -> OpGraph:
    """Lower `model` (zoo name, config.json path or .onnx path) at one inference phase.

    Encoder-only models (BERT, ViT, Swin, ...) run `encode`; asking them for `prefill` is taken as
    `encode`. Graph meta: model, family, phase, batch, seq, context, params, active_params, dtypes,
    params_by_usage, weight_bytes_total (all weights incl. idle experts), idle_weight_bytes (weights
    idle per token: params − active) and unread_weight_bytes (weights this graph's ops never read:
    MoE experts no token is routed to; the mapper and the engine count them as resident).
    `past` > 0 (prefill of a softmax-attention decoder only) builds one chunk of a chunked prefill:
    `seq` new tokens after `past` cached positions (meta `past`; context = past + seq).
    """
    if isinstance(model, os.PathLike):
        model = os.fspath(model)
    if not isinstance(model, str) or not model:
        raise ModelError(f"model must be a zoo name or a file path (got {model!r})")
    kinds = resolve_dtypes(dtypes)
    if model.endswith(".onnx"):
        if past:
            raise ModelError(f"{model}: an ONNX graph has fixed shapes; a prefill chunk after "
                             f"cached positions (past {past}) needs a zoo model or a config.json")
        if phase == "decode" or context is not None:
            raise ModelError(f"{model}: an ONNX graph is one fixed-shape pass with no KV cache (run "
                             f"as encode); phase decode / a context needs a zoo model or a config.json")
        from .onnx import import_onnx
        return import_onnx(model, batch=batch, seq=seq, dtypes=kinds, overrides=overrides)
    cfg = apply_overrides(model_config(model), overrides, f"{model}: overrides")
    if phase == "prefill" and cfg.phases == ("encode",):
        phase = "encode"
    ph = _phase_for(cfg, phase, batch, seq, context, past)
    graph, lw = lower_config(cfg, ph, kinds)
    params, active, by_usage = _param_counts(cfg)
    unread = lw.unread_weight_bytes()
    full = _FULL_PHASE.get(cfg.family)
    if full and full != ph.name:  # this phase skips some weights; size storage from a full trace
        _, lw = lower_config(cfg, _phase_for(cfg, full, 1, 1, None), kinds)
    total_bytes, idle_bytes = lw.weight_storage_bytes()
    graph.graph.update(
        params=params, active_params=active, dtypes=kinds.as_meta(), params_by_usage=dict(by_usage),
        weight_bytes_total=total_bytes, idle_weight_bytes=idle_bytes, unread_weight_bytes=unread,
    )
    return graph


@lru_cache(maxsize=1)
def list_models() -> tuple[ModelRow, ...]:
    """Every zoo model (and the MCUFormer default point) with its parameter counts."""
    rows = []
    for name in list(ZOO) + ["mcuformer"]:
        cfg = zoo_config(name)
        params, active, _ = _param_counts(cfg)
        rows.append(ModelRow(name, cfg.family, params, active, cfg.phases))
    return tuple(rows)
