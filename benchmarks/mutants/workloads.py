"""Mutants of the workload builders: attention and linear lowering, model families, Hugging Face configs (workloads/)."""
from __future__ import annotations

from .mutant import Mutant
from .suites import CAUSAL, MCU, WORK, HF

MUTANTS = (
    Mutant("attn-macs", "workloads/lowering.py",
           "qk_macs = batch * heads * q_len * kv_len * head_dim",
           "qk_macs = batch * kv_heads * q_len * kv_len * head_dim", WORK,
           "GQA QKᵀ MACs counted per KV head"),
    Mutant("attn-causal-flag", "workloads/lowering.py",
           '("head_dim", head_dim), ("causal", causal))', '("head_dim", head_dim), ("causal", True))',
           WORK + CAUSAL, "every attention marked causal"),
    Mutant("linear-bias-flops", "workloads/lowering.py",
           "macs, 2 * macs + (tokens * n if bias else 0), attrs)", "macs, 2 * macs, attrs)", WORK,
           "bias adds not counted"),
    Mutant("lowrank-rule", "workloads/lowering.py", "        if r * (k + n) < k * n:",
           "        if True:", WORK + MCU, "factorised even when it adds weights"),
    Mutant("gqa-k-projection", "workloads/families/decoder.py",
           'k = linear(lw, f"{p}.attn.k", h, T, d, G * hd, cfg.qkv_bias)',
           'k = linear(lw, f"{p}.attn.k", h, T, d, H * hd, cfg.qkv_bias)', WORK,
           "GQA K projection sized for every query head"),
    Mutant("decode-window", "workloads/families/decoder.py",
           "span = min(ph.context, window) if window else ph.context", "span = ph.context",
           WORK + ("tests/workloads/test_hf_config.py",), "sliding window ignored in decode"),
    Mutant("hf-kv-heads", "workloads/hf_config.py", '"kv_heads": ("num_key_value_heads", 0)',
           '"kv_heads": ("num_kv_heads", 0)', ("tests/workloads/test_hf_config.py",),
           "a config's num_key_value_heads not read (GQA lost)"),
    Mutant("hf-act-unknown", "workloads/hf_config.py",
           'else "silu" if low in ("silu", "swish") else None)', 'else "silu")', HF,
           "an unknown activation taken as silu"),
    Mutant("hf-act-case", "workloads/hf_config.py", "    low = act.lower()", "    low = act", HF,
           "an activation named in capitals rejected"),
    Mutant("hf-act-gelu-variant", "workloads/hf_config.py",
           'kind = ("gelu" if "gelu" in low else', 'kind = ("gelu" if low == "gelu" else', HF,
           "gelu_new / gelu_pytorch_tanh rejected"),
)
