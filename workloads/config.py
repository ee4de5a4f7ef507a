"""`ModelConfig`: every hyperparameter a zoo family needs, as one frozen value.

One dataclass serves all families; a family reads only the fields it uses. Sizes are validated once
(`validate_config`) so lowering code can trust them. `apply_overrides` is how the co-search changes
model shape: short user-facing keys (layers, hidden, heads, ...) map onto fields, unknown keys get a
did-you-mean.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from archsim.errors import ModelError, did_you_mean
from archsim.limits import MAX_TOKENS, MAX_WIDTH

__all__ = ["ModelConfig", "validate_config", "apply_overrides", "OVERRIDE_KEYS", "FAMILIES"]

#: family name -> phases it supports (the first is its default)
FAMILIES: dict[str, tuple[str, ...]] = {
    "decoder": ("prefill", "decode"),
    "hybrid": ("prefill", "decode"),
    "encoder": ("encode",),
    "vit": ("encode",),
    "swin": ("encode",),
    "efficientformer": ("encode",),
    "mobilenetv5": ("encode",),
    "t5": ("prefill", "decode", "encode"),
    "mamba": ("prefill", "decode"),
    "gla": ("prefill", "decode"),
    "matmulfree": ("prefill", "decode"),
    "onnx": ("encode",),
}


@dataclass(frozen=True, slots=True)
class ModelConfig:
    """Hyperparameters of one model. Sizes in elements; `ffn` is the MLP hidden width."""
    name: str
    family: str
    layers: int
    hidden: int
    heads: int = 1
    kv_heads: int = 0                 # 0 = same as heads (multi-head attention)
    head_dim: int = 0                 # 0 = hidden // heads
    ffn: int = 0
    vocab: int = 0
    max_positions: int = 0            # learned position table size (0 = none)
    position: str = "learned"         # learned | rope | relative | none
    rotary_pct: float = 1.0
    norm: str = "layernorm"           # layernorm | rmsnorm
    norm_bias: bool = True
    activation: str = "gelu"          # gelu | relu | silu
    gated_mlp: bool = False           # SwiGLU / GeGLU (gate, up, down)
    qkv_bias: bool = False
    out_bias: bool = False
    mlp_bias: bool = False
    tied_embeddings: bool = False
    parallel_residual: bool = False
    final_norm: bool = True
    attention: str = "softmax"        # softmax | linear | gated-linear
    sliding_window: int = 0           # 0 = full attention
    experts: int = 0                  # MoE experts per MoE layer (0 = dense)
    top_k: int = 0
    moe_every: int = 1                # every n-th layer is MoE (layer i with i % n == n-1)
    expert_ffn: int = 0               # 0 = ffn
    # encoders
    type_vocab: int = 0
    pooler: bool = False
    # vision
    image: tuple[int, int] = (0, 0)   # (height, width)
    patch: int = 0
    channels: int = 3
    num_classes: int = 0
    cls_token: bool = True
    dist_token: bool = False
    rank_ratio: float = 1.0           # low-rank factorisation of linear layers (MCUFormer); 1 = dense
    depths: tuple[int, ...] = ()      # hierarchical vision models: blocks per stage
    dims: tuple[int, ...] = ()        # channels per stage
    stage_heads: tuple[int, ...] = ()
    window: int = 0
    # encoder-decoder
    decoder_layers: int = 0
    relative_buckets: int = 0
    # state-space / recurrent
    d_state: int = 0
    d_conv: int = 0
    expand: int = 0
    dt_rank: int = 0
    expand_k: float = 1.0
    expand_v: float = 1.0
    gate_rank: int = 0
    # gated-convolution / attention hybrids (LFM2): layers whose token mixer is a gated short
    # convolution of width `d_conv` instead of attention; `qk_norm`: per-head RMSNorm of q and k
    conv_layers: tuple[int, ...] = ()
    qk_norm: bool = False
    # default storage dtype of matmul weights ('' = user's choice); MatMul-free uses ternary
    matmul_weight_dtype: str = ""

    @property
    def kv_heads_eff(self) -> int:
        return self.kv_heads or self.heads

    @property
    def head_dim_eff(self) -> int:
        return self.head_dim or self.hidden // max(self.heads, 1)

    @property
    def expert_ffn_eff(self) -> int:
        return self.expert_ffn or self.ffn

    @property
    def phases(self) -> tuple[str, ...]:
        return FAMILIES[self.family]


_POSITIVE = ("layers", "hidden")
#: archsim lowers every layer's ops one by one (~16 ops a layer, ~1 ms each to lower and more to map);
#: published Transformers have at most ~128 layers, so a number past this is a typo, not a model.
MAX_LAYERS = 1024
_NON_NEGATIVE = ("heads", "kv_heads", "head_dim", "ffn", "vocab", "max_positions", "experts",
                 "top_k", "expert_ffn", "patch", "num_classes", "window", "decoder_layers",
                 "d_state", "d_conv", "expand", "dt_rank", "sliding_window", "type_vocab",
                 "gate_rank", "relative_buckets")
_CHOICES = {
    "position": ("learned", "rope", "relative", "none"),
    "norm": ("layernorm", "rmsnorm"),
    "activation": ("gelu", "relu", "silu"),
    "attention": ("softmax", "linear", "gated-linear"),
    "family": tuple(FAMILIES),
}


def validate_config(cfg: ModelConfig, source: str = "<model>") -> ModelConfig:
    """Raise one ModelError listing every bad size or choice; return `cfg` unchanged if fine."""
    problems: list[str] = []
    for key in _POSITIVE:
        value = getattr(cfg, key)
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            problems.append(f"{key} must be a positive integer (got {value!r})")
    for key in _NON_NEGATIVE:
        value = getattr(cfg, key)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            problems.append(f"{key} must be a non-negative integer (got {value!r})")
    for key in _POSITIVE + _NON_NEGATIVE:
        value = getattr(cfg, key)
        limit = MAX_TOKENS if key in ("max_positions", "window", "sliding_window") else MAX_WIDTH
        if isinstance(value, int) and value > limit:
            problems.append(f"{key} {value} is more than {limit:,}, past any real model "
                            "(archsim.limits); check the digits")
    for key in ("depths", "dims", "stage_heads", "image"):
        if any(isinstance(v, int) and v > MAX_WIDTH for v in getattr(cfg, key)):
            problems.append(f"{key} entries must be at most {MAX_WIDTH:,} (got {list(getattr(cfg, key))!r})")
    for key, choices in _CHOICES.items():
        value = getattr(cfg, key)
        if value not in choices:
            hint = did_you_mean(value, choices) or "choose one of " + ", ".join(choices)
            problems.append(f"{key} {value!r} is not known; {hint}")
    for key in ("layers", "decoder_layers"):
        value = getattr(cfg, key)
        if isinstance(value, int) and value > MAX_LAYERS:
            problems.append(f"{key} {value} is more than the {MAX_LAYERS} archsim lowers (each layer "
                            "op by op); simulate fewer layers and scale, per layer the costs repeat")
    if sum(v for v in cfg.depths if isinstance(v, int)) > MAX_LAYERS:
        problems.append(f"depths {list(cfg.depths)} add up to more than the {MAX_LAYERS} layers archsim lowers")
    for key in ("depths", "dims", "stage_heads", "image"):
        if any((not isinstance(v, int)) or v < 0 for v in getattr(cfg, key)):
            problems.append(f"{key} entries must be non-negative integers (got {getattr(cfg, key)!r})")
    if not 0.0 < cfg.rank_ratio <= 1.0:
        problems.append(f"rank_ratio must be in (0, 1] (got {cfg.rank_ratio!r})")
    if not 0.0 < cfg.rotary_pct <= 1.0:
        problems.append(f"rotary_pct must be in (0, 1] (got {cfg.rotary_pct!r})")
    if cfg.conv_layers and (cfg.family != "hybrid" or cfg.d_conv <= 0
                            or any(not isinstance(i, int) or isinstance(i, bool)
                                   or not 0 <= i < cfg.layers for i in cfg.conv_layers)):
        problems.append(f"conv_layers must be layer indices in 0..layers-1 of a hybrid model with "
                        f"d_conv > 0 (got {list(cfg.conv_layers)!r}, family {cfg.family!r}, "
                        f"d_conv {cfg.d_conv})")
    if cfg.family == "mobilenetv5" and all(isinstance(v, int) for v in cfg.image) and \
            (len(cfg.image) != 2 or min(cfg.image) < 32 or cfg.image[0] != cfg.image[1]):
        problems.append(f"a MobileNetV5 encoder takes a square image of at least 32 pixels "
                        f"(got {cfg.image})")
    if not problems and cfg.family in ("decoder", "hybrid", "encoder", "vit", "t5"):
        if cfg.heads <= 0:
            problems.append(f"heads must be a positive integer (got {cfg.heads!r})")
        elif not cfg.head_dim and cfg.hidden % cfg.heads:
            problems.append(f"hidden {cfg.hidden} is not divisible by heads {cfg.heads}")
        elif cfg.heads % cfg.kv_heads_eff:
            problems.append(f"heads {cfg.heads} is not a multiple of kv_heads {cfg.kv_heads_eff}")
        if cfg.ffn <= 0:
            problems.append(f"ffn must be a positive integer (got {cfg.ffn!r})")
    if not problems and cfg.experts:
        if not 0 < cfg.top_k <= cfg.experts:
            problems.append(f"top_k must be in 1..experts={cfg.experts} (got {cfg.top_k!r})")
        if cfg.moe_every <= 0:
            problems.append(f"moe_every must be positive (got {cfg.moe_every!r})")
    if cfg.family in ("decoder", "hybrid", "t5", "mamba", "gla", "matmulfree") and cfg.vocab <= 0:
        problems.append(f"vocab must be a positive integer (got {cfg.vocab!r})")
    if cfg.family == "mamba":              # each sizes a loop of the block: 0 would be an empty op
        zero = [k for k in ("d_state", "d_conv", "expand", "dt_rank")
                if isinstance(getattr(cfg, k), int) and getattr(cfg, k) <= 0]
        if zero:
            problems.append(f"a Mamba block needs positive {', '.join(zero)} (got "
                            f"{', '.join(str(getattr(cfg, k)) for k in zero)}); e.g. d_state 16, "
                            f"d_conv 4, expand 2, dt_rank ceil(hidden / 16)")
    if cfg.family == "vit" and (cfg.patch <= 0 or min(cfg.image) <= 0):
        problems.append(f"vision models need positive patch and image sizes "
                        f"(got patch={cfg.patch}, image={cfg.image})")
    if problems:
        raise ModelError(f"{source}: " + "; ".join(problems))
    return cfg


#: user-facing override key -> ModelConfig field
OVERRIDE_KEYS: dict[str, str] = {
    "layers": "layers", "depth": "layers", "hidden": "hidden", "embed": "hidden",
    "heads": "heads", "kv_heads": "kv_heads", "head_dim": "head_dim", "ffn": "ffn",
    "mlp_ratio": "ffn", "mlp": "ffn", "patch": "patch", "image": "image", "rank_ratio": "rank_ratio",
    "rank": "rank_ratio", "experts": "experts", "top_k": "top_k", "vocab": "vocab",
    "attention": "attention", "expert_ffn": "expert_ffn", "window": "window",
    "sliding_window": "sliding_window", "d_state": "d_state", "expand": "expand",
    "decoder_layers": "decoder_layers", "num_classes": "num_classes", "position": "position",
}
_FLOAT_FIELDS = {"rank_ratio"}


def apply_overrides(cfg: ModelConfig, overrides: dict | None, source: str = "overrides") -> ModelConfig:
    """Return `cfg` with hyperparameters changed. `mlp_ratio` scales `ffn` from the (new) hidden
    size; `image` takes an int (square) or (h, w). Unknown keys raise ModelError with a hint."""
    if not overrides:
        return cfg
    if not isinstance(overrides, dict):
        raise ModelError(f"{source}: must be a mapping of hyperparameter -> value (got {overrides!r})")
    changes: dict[str, object] = {}
    ratio = None
    for key in sorted(overrides):
        value = overrides[key]
        if key not in OVERRIDE_KEYS:
            hint = did_you_mean(key, OVERRIDE_KEYS) or "known keys: " + ", ".join(sorted(OVERRIDE_KEYS))
            raise ModelError(f"{source}: unknown hyperparameter {key!r}; {hint}")
        target = OVERRIDE_KEYS[key]
        if key in ("mlp_ratio", "mlp"):
            ratio = _number(value, key, source)
            continue
        if target == "image":
            value = (value, value) if isinstance(value, int) else tuple(value)
        elif target in ("attention", "position"):     # validate_config checks the choice
            value = str(value)
        elif target in _FLOAT_FIELDS:
            value = _number(value, key, source)
        else:
            value = _integer(value, key, source)
        changes[target] = value
    out = replace(cfg, **changes)
    if ratio is not None:
        if ratio <= 0:
            raise ModelError(f"{source}: mlp_ratio must be positive (got {ratio!r})")
        out = replace(out, ffn=int(round(out.hidden * ratio)))
    if "hidden" in changes and "head_dim" not in changes and cfg.head_dim:
        out = replace(out, head_dim=0)
    return validate_config(out, source)


def _number(value, key: str, source: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ModelError(f"{source}: {key} must be a number (got {value!r})")
    return float(value)


def _integer(value, key: str, source: str) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ModelError(f"{source}: {key} must be an integer (got {value!r})")
    return value
