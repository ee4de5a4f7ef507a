"""The model zoo: published hyperparameters of every named model, plus the MCUFormer search space.

Sources (hyperparameters): GPT-2 — Radford et al. 2019 / HF configs; GPT-3 — Brown et al. 2020 Table
2.1; OPT — Zhang et al. 2022 Table 1; LLaMA-2 — Touvron et al. 2023; Llama-3 — Meta 2024 model card;
Mistral / Mixtral — Jiang et al. 2023/2024; BERT — Devlin et al. 2019; DistilBERT — Sanh et al. 2019;
ViT — Dosovitskiy et al. 2021 (Ti/S from Steiner et al. 2021); DeiT — Touvron et al. 2021; Swin —
Liu et al. 2021; EfficientFormer — Li et al. 2022; T5 — Raffel et al. 2020; Mamba — Gu & Dao 2023;
GLA — Yang et al. 2023; MatMul-free — Zhu et al. 2024; MCUFormer — Liang et al. 2023; M³ViT — Liang
et al. 2022 / Edge-MoE (Sarkar et al. 2023); llama-34b-gqa — CodeLlama-34B (Rozière et al. 2023);
Llama-3.2-1B — Meta 2024 model card / HF config.json; TinyLlama-1.1B — Zhang et al. 2024 (HF
TinyLlama-1.1B-Chat-v1.0 config.json); LFM2-1.2B — Liquid AI, "LFM2 Technical Report"
(arXiv 2511.23404) and the HF LiquidAI/LFM2-1.2B config.json; MobileNetV5-300M — Gemma 3n's vision
encoder as timm `mobilenetv5_300m_enc` (the AutoNeural backbones, Chen et al. 2025, arXiv 2512.02924).
"""
from __future__ import annotations

from dataclasses import replace

from archsim.errors import ModelError, did_you_mean
from .config import ModelConfig, validate_config

__all__ = ["ZOO", "zoo_config", "parse_mcuformer", "MCUFORMER_SPACE", "MCUFORMER_DEFAULT"]


def _gpt2(name, layers, d, heads, ctx=1024):
    return ModelConfig(name, "decoder", layers, d, heads, ffn=4 * d, vocab=50257, max_positions=ctx,
                       qkv_bias=True, out_bias=True, mlp_bias=True, tied_embeddings=True)


def _llama(name, layers, d, heads, kv, ffn, vocab=32000, **kw):
    return ModelConfig(name, "decoder", layers, d, heads, kv_heads=kv, ffn=ffn, vocab=vocab, position="rope",
                       norm="rmsnorm", norm_bias=False, activation="silu", gated_mlp=True, **kw)


def _vit(name, layers, d, heads, classes=1000, image=224, patch=16, **kw):
    return ModelConfig(name, "vit", layers, d, heads, ffn=4 * d, image=(image, image), patch=patch,
                       num_classes=classes, qkv_bias=True, out_bias=True, mlp_bias=True, **kw)


def _mamba(name, layers, d):
    return ModelConfig(name, "mamba", layers, d, vocab=50280, position="none", norm="rmsnorm",
                       norm_bias=False, tied_embeddings=True, d_state=16, d_conv=4, expand=2,
                       dt_rank=-(-d // 16))


_MODELS = [
    _gpt2("gpt2-small", 12, 768, 12), _gpt2("gpt2-medium", 24, 1024, 16),
    _gpt2("gpt2-large", 36, 1280, 20), _gpt2("gpt2-xl", 48, 1600, 25),
    _gpt2("gpt3-125m", 12, 768, 12, 2048), _gpt2("gpt3-350m", 24, 1024, 16, 2048),
    _gpt2("gpt3-760m", 24, 1536, 16, 2048),
    # Table 2.1 lists 24 heads of 128 for GPT-3 XL, i.e. 3072 ≠ d_model 2048; we keep d_model and
    # d_head 128 (16 heads), which is what matches the table's 1.3B parameter count
    _gpt2("gpt3-1.3b", 24, 2048, 16, 2048),
    replace(_gpt2("opt-1.3b", 24, 2048, 32, 2048), vocab=50272, activation="relu", max_positions=2050),
    _llama("llama2-7b", 32, 4096, 32, 32, 11008),
    _llama("llama2-13b", 40, 5120, 40, 40, 13824),
    _llama("llama2-70b", 80, 8192, 64, 8, 28672),
    _llama("llama3-8b", 32, 4096, 32, 8, 14336, vocab=128256),
    _llama("mistral-7b", 32, 4096, 32, 8, 14336, sliding_window=4096),
    _llama("mixtral-8x7b", 32, 4096, 32, 8, 14336, experts=8, top_k=2),
    _llama("llama-34b-gqa", 48, 8192, 64, 8, 22016),
    _llama("llama3.2-1b", 16, 2048, 32, 8, 8192, vocab=128256, tied_embeddings=True),
    _llama("tinyllama-1.1b", 22, 2048, 32, 4, 5632),
    # LFM2-1.2B: 16 layers of which 10 mix tokens by a gated short convolution (width 3: conv_L_cache)
    # and 6 by GQA attention (32 q / 8 kv heads, per-head q/k RMSNorm, RoPE) at layers 2, 5, 8, 10,
    # 12, 14 (config.json layer_types); SwiGLU 8192 (block_ff_dim 12288 auto-adjusted by 2/3 to a
    # multiple of 256), vocab 65,536, tied embeddings: 1.17B parameters as published
    ModelConfig("lfm2-1.2b", "hybrid", 16, 2048, 32, kv_heads=8, ffn=8192, vocab=65536, position="rope",
                norm="rmsnorm", norm_bias=False, activation="silu", gated_mlp=True, tied_embeddings=True,
                d_conv=3, conv_layers=(0, 1, 3, 4, 6, 7, 9, 11, 13, 15), qk_norm=True),
    ModelConfig("bert-base", "encoder", 12, 768, 12, ffn=3072, vocab=30522, max_positions=512, type_vocab=2,
                pooler=True, qkv_bias=True, out_bias=True, mlp_bias=True),
    ModelConfig("bert-large", "encoder", 24, 1024, 16, ffn=4096, vocab=30522, max_positions=512, type_vocab=2,
                pooler=True, qkv_bias=True, out_bias=True, mlp_bias=True),
    ModelConfig("distilbert", "encoder", 6, 768, 12, ffn=3072, vocab=30522, max_positions=512,
                qkv_bias=True, out_bias=True, mlp_bias=True),
    _vit("vit-ti16", 12, 192, 3), _vit("vit-s16", 12, 384, 6), _vit("vit-b16", 12, 768, 12),
    _vit("vit-l16", 24, 1024, 16),
    _vit("deit-tiny", 12, 192, 3), _vit("deit-small", 12, 384, 6), _vit("deit-base", 12, 768, 12),
    replace(_vit("m3vit", 12, 192, 3, classes=0), image=(256, 128), experts=16, top_k=2, moe_every=2,
            expert_ffn=384),
    ModelConfig("swin-t", "swin", 12, 96, 3, image=(224, 224), patch=4, num_classes=1000, depths=(2, 2, 6, 2),
                dims=(96, 192, 384, 768), stage_heads=(3, 6, 12, 24), window=7),
    ModelConfig("efficientformer-l1", "efficientformer", 1, 48, image=(224, 224), num_classes=1000,
                depths=(3, 2, 6, 4), dims=(48, 96, 224, 448)),
    # MobileNetV5-300M at its 768×768 input; `layers` counts its blocks (the list is fixed in
    # workloads/families/mobilenet.py), `hidden` is the 2048-channel fused output
    ModelConfig("mobilenetv5-300m", "mobilenetv5", 82, 2048, image=(768, 768)),
    ModelConfig("t5-small", "t5", 6, 512, 8, head_dim=64, ffn=2048, vocab=32128, position="relative",
                norm="rmsnorm", norm_bias=False, activation="relu", tied_embeddings=True, decoder_layers=6,
                relative_buckets=32),
    ModelConfig("t5-base", "t5", 12, 768, 12, head_dim=64, ffn=3072, vocab=32128, position="relative",
                norm="rmsnorm", norm_bias=False, activation="relu", tied_embeddings=True, decoder_layers=12,
                relative_buckets=32),
    _mamba("mamba-130m", 24, 768), _mamba("mamba-1.4b", 48, 2048), _mamba("mamba-2.8b", 64, 2560),
    # GLA 340M: hidden 1024, 24 layers, 4 heads, key expansion 0.5, gate rank 16, SwiGLU 2816,
    # vocab 32000 (fla defaults; assumption: tied embeddings, which gives the published 340M)
    ModelConfig("gla-340m", "gla", 24, 1024, 4, ffn=2816, vocab=32000, position="none", norm="rmsnorm",
                norm_bias=False, activation="silu", gated_mlp=True, tied_embeddings=True, expand_k=0.5,
                expand_v=1.0, gate_rank=16),
    # MatMul-free 370M: hidden 1024, 24 layers, GLU 2816, vocab 32000, untied (assumption from the
    # released MMfreeLM-370M configuration); every block projection ternary
    ModelConfig("matmulfree-370m", "matmulfree", 24, 1024, 1, ffn=2816, vocab=32000, position="none",
                norm="rmsnorm", norm_bias=False, activation="silu", gated_mlp=True,
                matmul_weight_dtype="ternary"),
    # MatMul-free 1.3B / 2.7B (Zhu et al. 2024, the sizes the paper scales to): hidden 2048 x 24
    # layers and 2560 x 32 layers, GLU width 256·⌈8·hidden/3 / 256⌉ (the rule that gives the
    # 370M's 2816), vocab 32000 untied: assumption from the released MMfreeLM configurations
    ModelConfig("matmulfree-1.3b", "matmulfree", 24, 2048, 1, ffn=5632, vocab=32000, position="none",
                norm="rmsnorm", norm_bias=False, activation="silu", gated_mlp=True,
                matmul_weight_dtype="ternary"),
    ModelConfig("matmulfree-2.7b", "matmulfree", 32, 2560, 1, ffn=6912, vocab=32000, position="none",
                norm="rmsnorm", norm_bias=False, activation="silu", gated_mlp=True,
                matmul_weight_dtype="ternary"),
]

ZOO: dict[str, ModelConfig] = {m.name: validate_config(m, m.name) for m in _MODELS}

#: MCUFormer search space (Liang et al. 2023): DeiT-tiny supernet at 240×240 input. Depth is
#: 12–14 in MCUFormer's supernets; it is accepted from 4, as the built-in co-search space
#: `mcuformer-stm32f746` searches it (shallower designs fit 1 MB of flash), so that every design
#: that space prints can be run again by name.
MCUFORMER_DEPTHS = tuple(range(4, 15))
MCUFORMER_SPACE: dict[str, tuple] = {
    "embed": (168, 192, 216), "depth": MCUFORMER_DEPTHS, "heads": (3, 4), "mlp": (3.5, 4.0),
    "rank": (0.40, 0.95), "patch": (16, 20, 24, 28, 32),
}
MCUFORMER_DEFAULT = {"embed": 192, "depth": 12, "heads": 3, "mlp": 4.0, "rank": 1.0, "patch": 16}


def parse_mcuformer(spec: str) -> ModelConfig:
    """`mcuformer` or `mcuformer:embed=192,depth=12,heads=3,mlp=3.5,rank=0.6,patch=20`."""
    values = dict(MCUFORMER_DEFAULT)
    _, _, body = spec.partition(":")
    for item in filter(None, (s.strip() for s in body.split(","))):
        key, eq, raw = item.partition("=")
        key = key.strip()
        if key not in MCUFORMER_SPACE or not eq:
            hint = did_you_mean(key, MCUFORMER_SPACE) or "keys: " + ", ".join(MCUFORMER_SPACE)
            raise ModelError(f"{spec}: bad MCUFormer setting {item!r}; {hint}")
        try:
            number = float(raw)
        except ValueError:
            raise ModelError(f"{spec}: {key} must be a number (got {raw!r})") from None
        allowed = MCUFORMER_SPACE[key]
        if key == "rank":
            if not (allowed[0] <= number <= allowed[1] or number == 1.0):
                raise ModelError(f"{spec}: rank must be in {allowed[0]}..{allowed[1]} or 1 (got {raw})")
        elif number not in allowed:
            shown = (f"a whole number {allowed[0]}..{allowed[-1]}" if allowed is MCUFORMER_DEPTHS
                     else "one of " + ", ".join(str(a) for a in allowed))
            raise ModelError(f"{spec}: {key} must be {shown} (got {raw})")
        values[key] = number
    d, heads = int(values["embed"]), int(values["heads"])
    # assumption: as in AutoFormer (MCUFormer's supernet), every head is 64 wide
    name = "mcuformer:" + ",".join(f"{k}={_fmt(values[k])}" for k in MCUFORMER_SPACE)
    return validate_config(ModelConfig(
        name, "vit", int(values["depth"]), d, heads, head_dim=64, ffn=int(round(d * values["mlp"])),
        image=(240, 240), patch=int(values["patch"]), num_classes=1000, qkv_bias=True, out_bias=True,
        mlp_bias=True, rank_ratio=float(values["rank"])), name)


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def zoo_config(name: str) -> ModelConfig:
    if name == "mcuformer" or name.startswith("mcuformer:"):
        return parse_mcuformer(name)
    try:
        return ZOO[name]
    except KeyError:
        hint = did_you_mean(name, list(ZOO) + ["mcuformer"]) or "run `archsim models` for the list"
        raise ModelError(f"unknown model {name!r}; {hint}") from None
