"""Hugging Face `config.json` → `ModelConfig` (local files only; no network, no weights).

Supported `model_type`s: llama, mistral, mixtral, qwen2, phi3, gemma, gpt2, gpt_neox, opt, bert,
roberta, distilbert, vit, deit, t5, mamba. Honoured: GQA (`num_key_value_heads`), explicit
`head_dim`, tied embeddings, MoE expert counts, `rotary_pct` / `partial_rotary_factor`, parallel
residual, sliding window, biases. Every problem is a ModelError naming the file.
"""
from __future__ import annotations

from math import ceil
from pathlib import Path

from archsim.errors import ModelError, did_you_mean
from archsim.strict_json import JsonProblem, loads_strict
from .config import ModelConfig, validate_config

__all__ = ["load_hf_config", "config_from_dict", "SUPPORTED_TYPES"]

_REQ = object()  # marks a required key


def _llama_like(model_type: str):
    spec = {
        "layers": ("num_hidden_layers", _REQ), "hidden": ("hidden_size", _REQ),
        "heads": ("num_attention_heads", _REQ), "kv_heads": ("num_key_value_heads", 0),
        "head_dim": ("head_dim", 0), "ffn": ("intermediate_size", _REQ), "vocab": ("vocab_size", _REQ),
        "tied_embeddings": ("tie_word_embeddings", model_type == "gemma"),
        "qkv_bias": ("attention_bias", model_type == "qwen2"), "out_bias": ("attention_bias", False),
        "mlp_bias": ("mlp_bias", False), "rotary_pct": ("partial_rotary_factor", 1.0),
    }
    fixed = dict(family="decoder", position="rope", norm="rmsnorm", norm_bias=False, gated_mlp=True,
                 activation="silu")
    if model_type == "mixtral":
        spec.update(experts=("num_local_experts", _REQ), top_k=("num_experts_per_tok", _REQ))
    if model_type in ("mistral", "mixtral", "qwen2", "phi3"):
        spec["sliding_window"] = ("sliding_window", 0)
    return spec, fixed


_SPECS = {
    "gpt2": ({"layers": ("n_layer", _REQ), "hidden": ("n_embd", _REQ), "heads": ("n_head", _REQ),
              "ffn": ("n_inner", 0), "vocab": ("vocab_size", _REQ), "max_positions": ("n_positions", _REQ),
              "tied_embeddings": ("tie_word_embeddings", True)},
             dict(family="decoder", qkv_bias=True, out_bias=True, mlp_bias=True)),
    "gpt_neox": ({"layers": ("num_hidden_layers", _REQ), "hidden": ("hidden_size", _REQ),
                  "heads": ("num_attention_heads", _REQ), "ffn": ("intermediate_size", _REQ),
                  "vocab": ("vocab_size", _REQ), "rotary_pct": ("rotary_pct", 0.25),
                  "parallel_residual": ("use_parallel_residual", True),
                  "tied_embeddings": ("tie_word_embeddings", False)},
                 dict(family="decoder", position="rope", qkv_bias=True, out_bias=True, mlp_bias=True)),
    "opt": ({"layers": ("num_hidden_layers", _REQ), "hidden": ("hidden_size", _REQ),
             "heads": ("num_attention_heads", _REQ), "ffn": ("ffn_dim", _REQ), "vocab": ("vocab_size", _REQ),
             "max_positions": ("max_position_embeddings", _REQ),
             "tied_embeddings": ("tie_word_embeddings", True), "qkv_bias": ("enable_bias", True),
             "out_bias": ("enable_bias", True), "mlp_bias": ("enable_bias", True)},
            dict(family="decoder", activation="relu")),
    "bert": ({"layers": ("num_hidden_layers", _REQ), "hidden": ("hidden_size", _REQ),
              "heads": ("num_attention_heads", _REQ), "ffn": ("intermediate_size", _REQ),
              "vocab": ("vocab_size", _REQ), "max_positions": ("max_position_embeddings", _REQ),
              "type_vocab": ("type_vocab_size", 2)},
             dict(family="encoder", pooler=True, qkv_bias=True, out_bias=True, mlp_bias=True)),
    "distilbert": ({"layers": ("n_layers", _REQ), "hidden": ("dim", _REQ), "heads": ("n_heads", _REQ),
                    "ffn": ("hidden_dim", _REQ), "vocab": ("vocab_size", _REQ),
                    "max_positions": ("max_position_embeddings", _REQ)},
                   dict(family="encoder", qkv_bias=True, out_bias=True, mlp_bias=True)),
    "vit": ({"layers": ("num_hidden_layers", _REQ), "hidden": ("hidden_size", _REQ),
             "heads": ("num_attention_heads", _REQ), "ffn": ("intermediate_size", _REQ),
             "image": ("image_size", _REQ), "patch": ("patch_size", _REQ), "channels": ("num_channels", 3),
             "qkv_bias": ("qkv_bias", True)},
            dict(family="vit", out_bias=True, mlp_bias=True)),
    "t5": ({"layers": ("num_layers", _REQ), "hidden": ("d_model", _REQ), "heads": ("num_heads", _REQ),
            "head_dim": ("d_kv", _REQ), "ffn": ("d_ff", _REQ), "vocab": ("vocab_size", _REQ),
            "decoder_layers": ("num_decoder_layers", 0), "relative_buckets": ("relative_attention_num_buckets", 32),
            "tied_embeddings": ("tie_word_embeddings", True)},
           dict(family="t5", position="relative", norm="rmsnorm", norm_bias=False, activation="relu")),
    "mamba": ({"layers": ("num_hidden_layers", _REQ), "hidden": ("hidden_size", _REQ),
               "vocab": ("vocab_size", _REQ), "d_state": ("state_size", 16), "d_conv": ("conv_kernel", 4),
               "expand": ("expand", 2), "dt_rank": ("time_step_rank", "auto")},
              dict(family="mamba", position="none", norm="rmsnorm", norm_bias=False, tied_embeddings=True)),
}
for _t in ("llama", "mistral", "mixtral", "qwen2", "phi3", "gemma"):
    _SPECS[_t] = _llama_like(_t)
#: RoBERTa is BERT's architecture (its position table counts the padding offset in
#: max_position_embeddings); DeiT is ViT with a distillation token
_SPECS["roberta"] = _SPECS["bert"]
_SPECS["deit"] = (_SPECS["vit"][0], dict(_SPECS["vit"][1], dist_token=True))
SUPPORTED_TYPES = tuple(sorted(_SPECS))
#: alternative key spellings (state-spaces Mamba configs use d_model / n_layer)
_ALIASES = {"hidden_size": ("d_model",), "num_hidden_layers": ("n_layer",), "n_positions": ("n_ctx",)}


def _lookup(raw: dict, key: str):
    for k in (key,) + _ALIASES.get(key, ()):
        if k in raw and raw[k] is not None:
            return True, raw[k]
    return False, None


def config_from_dict(raw: dict, source: str, name: str | None = None) -> ModelConfig:
    if not isinstance(raw, dict):
        raise ModelError(f"{source}: expected a JSON object at the top level (got {type(raw).__name__})")
    model_type = raw.get("model_type")
    if model_type is None:
        raise ModelError(f"{source}: missing key 'model_type'; supported types: {', '.join(SUPPORTED_TYPES)}")
    if not isinstance(model_type, str):
        raise ModelError(f"{source}: model_type must be text such as 'llama' (got a "
                         f"{type(model_type).__name__}); supported types: {', '.join(SUPPORTED_TYPES)}")
    if model_type not in _SPECS:
        hint = did_you_mean(model_type, SUPPORTED_TYPES) or "supported types: " + ", ".join(SUPPORTED_TYPES)
        raise ModelError(f"{source}: model_type {model_type!r} is not supported; {hint}")
    spec, fixed = _SPECS[model_type]
    missing = [key for _, (key, default) in spec.items() if default is _REQ and not _lookup(raw, key)[0]]
    if missing:
        raise ModelError(f"{source}: missing required key{'s' if len(missing) > 1 else ''} "
                         f"{', '.join(repr(m) for m in missing)} for model_type {model_type!r}")
    values: dict[str, object] = dict(fixed)
    for field, (key, default) in spec.items():
        found, value = _lookup(raw, key)
        value = value if found else default
        values[field] = _check_type(value, field, key, source)
    _finish(values, raw, model_type, source)
    cfg = ModelConfig(name=name or source, **values)
    return validate_config(cfg, source)


def _check_type(value, field: str, key: str, source: str):
    if field in ("tied_embeddings", "qkv_bias", "out_bias", "mlp_bias", "parallel_residual"):
        if not isinstance(value, bool):
            raise ModelError(f"{source}: {key} must be true or false (got {value!r})")
        return value
    if field == "rotary_pct":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ModelError(f"{source}: {key} must be a number (got {value!r})")
        return float(value)
    if field == "image":
        if isinstance(value, int) and not isinstance(value, bool):
            return (value, value)
        if isinstance(value, list) and len(value) == 2 and all(isinstance(v, int) for v in value):
            return tuple(value)
        raise ModelError(f"{source}: {key} must be an integer or [height, width] (got {value!r})")
    if field == "dt_rank" and value == "auto":
        return value
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ModelError(f"{source}: {key} must be an integer (got {value!r})")
    return value


def _finish(values: dict, raw: dict, model_type: str, source: str) -> None:
    """Derived and model-type-specific fields."""
    hidden = values["hidden"]
    if model_type == "gpt2":
        values["ffn"] = values["ffn"] or 4 * hidden
    if model_type == "opt":
        values["max_positions"] += 2  # OPT's learned positions carry an offset of 2
        if not raw.get("do_layer_norm_before", True):
            values["final_norm"] = False
        proj = raw.get("word_embed_proj_dim", hidden)
        if proj != hidden:
            raise ModelError(f"{source}: word_embed_proj_dim {proj} ≠ hidden_size {hidden} "
                             "(OPT-350m style projections) is not supported")
    if model_type == "t5":
        values["decoder_layers"] = values["decoder_layers"] or values["layers"]
        proj = raw.get("feed_forward_proj", "relu")
        if "gated" in str(proj):
            values["gated_mlp"] = True
            values["activation"] = "gelu"
    if model_type == "gemma":
        values["activation"] = "gelu"
    if model_type == "mamba":
        if values["dt_rank"] == "auto":
            values["dt_rank"] = ceil(hidden / 16)
        multiple = raw.get("pad_vocab_size_multiple", 1)
        if isinstance(multiple, int) and multiple > 1:
            values["vocab"] = -(-values["vocab"] // multiple) * multiple
    if model_type in ("vit", "deit"):
        labels = raw.get("id2label") or {}
        values["num_classes"] = len(labels) if isinstance(labels, dict) else 0
    if model_type not in ("mamba", "t5"):
        _activation(raw, values, source)
    if values.get("sliding_window") and model_type == "qwen2" and not raw.get("use_sliding_window", False):
        values["sliding_window"] = 0
    zero = [key for field, (key, _) in _SPECS[model_type][0].items()
            if field in ("kv_heads", "experts", "top_k", "head_dim") and _lookup(raw, key)[0]
            and _lookup(raw, key)[1] is not None and values.get(field) == 0]
    if zero:                               # given as 0: not "absent" (MHA, dense, hidden/heads)
        raise ModelError(f"{source}: {', '.join(zero)} must be ≥ 1 (got 0); leave the key out (or null) "
                         "for the default")
    if values.get("sliding_window") and values["sliding_window"] < 0:
        raise ModelError(f"{source}: sliding_window must be positive (got {values['sliding_window']})")


ACTIVATION_KEYS = ("hidden_act", "hidden_activation", "activation_function")


def _activation(raw: dict, values: dict, source: str) -> None:
    """The FFN activation from the first activation key present: any GELU variant (gelu_new,
    gelu_pytorch_tanh, quick_gelu, ...) costs as gelu, any ReLU variant as relu, silu/swish as silu;
    a value that is not text, or text naming none of them, is an error (it was once taken silently
    as the family's default)."""
    key = next((k for k in ACTIVATION_KEYS if raw.get(k) is not None), None)
    if key is None:
        return
    act = raw[key]
    if not isinstance(act, str):
        raise ModelError(f"{source}: {key} must be text such as 'gelu' (got {act!r})")
    low = act.lower()
    kind = ("gelu" if "gelu" in low else "relu" if "relu" in low
            else "silu" if low in ("silu", "swish") else None)
    if kind is None:
        raise ModelError(f"{source}: {key} {act!r} is not an activation archsim models; it models "
                         f"GELU variants (gelu, gelu_new, gelu_pytorch_tanh, quick_gelu), ReLU "
                         f"variants and silu/swish")
    values["activation"] = kind


def load_hf_config(path: str | Path) -> ModelConfig:
    p = Path(path)
    if not p.is_file():
        raise ModelError(f"{p}: no such config file")
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ModelError(f"{p}: cannot read ({exc})") from None
    if not text.strip():
        raise ModelError(f"{p}: file is empty")
    try:
        raw = loads_strict(text)
    except JsonProblem as exc:
        where = f"{p}:{exc.line}" if exc.line else str(p)
        hint = " (truncated or edited file?)" if exc.line else ""
        raise ModelError(f"{where}: {exc.problem}{hint}") from None
    return config_from_dict(raw, str(p), name=str(p))
