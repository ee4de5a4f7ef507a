"""Software-stack presets: how a framework turns a model's graph (one op per mathematical
operation) into GPU kernels. Chosen per run (`archsim simulate --stack`, `archsim.api.simulate(stack=)`);
the graph never changes, only the engine's lowering (`gpu_kernels.gpu_kernels` groups ops into kernels,
`timing.sm.kernel_seconds` times each kernel).

- `eager`: one kernel per framework op (separate Q, K, V and gate/up GEMMs; PyTorch's eager
  elementwise ops, e.g. RMSNorm as ~10 small kernels), each issued by the host: no kernel takes less
  than the host's per-kernel time (the description's `host_overhead`, else `EAGER_HOST_S`).
- `graph` (default): the same framework kernels replayed from a CUDA graph (no host time), with the
  Q, K and V projections as one GEMM and gate/up as one GEMM, as the model's own modules have them
  (HF GPT-2's `c_attn`; the H200 kernel and whole-model calibration were measured so). Fusion rule:
  GEMMs of one layer that read the same activation with the same K run as one GEMM with N summed.
- `serving`: what vLLM/TensorRT-LLM-class engines run: `graph`'s GEMM fusion, plus hand-written
  fused kernels (one launch, each tensor read or written once): residual add + norm (vLLM
  `fused_add_rms_norm`), rotary embedding of Q and K together, the K and V cache writes together
  (`reshape_and_cache`), activations as the producing GEMM's epilogue; FlashAttention /
  flash-decoding attention; the vocabulary padded to a multiple of 64 (vLLM's
  `ParallelLMHead` pads it, so the LM head GEMM is aligned).

Attention fused by the mapper is one FlashAttention kernel in every base preset (PyTorch's SDPA is
one kernel in eager mode too). Each base preset also comes with another attention kernel, named
`<base>+<variant>` (`ATTENTION_VARIANTS`), for comparing attention implementations on one stack:

- `+standard-attention`: the paper's Algorithm 0 (Dao et al., FlashAttention, 2022), as PyTorch
  models ran attention before SDPA (HuggingFace GPT-2 and BERT in 2022): QKᵀ, softmax and PV as
  three kernels, the score and probability matrices written to and read back from HBM, the full
  (masked) score matrix computed.
- `+fa2-decode`: FlashAttention-2's kernel in decode as well, one CTA per (sequence, query head)
  streaming that head's whole KV cache (no split of the KV length: FlashAttention-2's own
  scheduling, the baseline of Lean Attention, Sanovar et al. 2024), instead of flash-decoding's
  split-KV kernel (the default in every base preset).

Only `sm` units (GPUs) have a stack; other chips ignore it.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

__all__ = ["SoftwareStack", "STACKS", "STACK_NAMES", "BASE_STACK_NAMES", "DEFAULT_STACK", "EAGER_HOST_S",
           "ATTENTION_KERNELS", "ATTENTION_VARIANTS", "software_stack"]

#: Host time to issue one kernel from an eager framework when the description gives none.
#: ASSUMPTION: PyTorch's per-op CPU-side time is about 5-25 µs (jiahuanglin.xyz, "From PyTorch op
#: to kernel launch", a secondary source; see archsim/studies/pim_gpt_eager.py); 10 µs is taken.
EAGER_HOST_S = 10e-6


@dataclass(frozen=True, slots=True)
class SoftwareStack:
    name: str
    host_issued: bool            # kernels issued one by one by the host (eager), not replayed
    fuse_shared_input_gemms: bool  # GEMMs of one layer reading the same activation: one GEMM
    fused_elementwise: bool      # hand-written one-launch kernels, residual+norm, epilogues
    vocab_pad: int = 1           # the LM head's N padded to a multiple of this
    summary: str = ""
    attention: str = "flash"     # one of ATTENTION_KERNELS


#: attention kernels a stack can run: `flash` (FlashAttention-2 in prefill, flash-decoding's
#: split-KV kernel in decode), `standard` (Algorithm 0: three kernels, S and P through HBM), `fa2`
#: (FlashAttention-2 without a KV split in decode too)
ATTENTION_KERNELS = ("flash", "standard", "fa2")
#: name suffix → (attention kernel, summary) of the variants of every base preset
ATTENTION_VARIANTS = {
    "standard-attention": ("standard", "attention as three kernels (QKᵀ, softmax, PV), S and P in HBM"),
    "fa2-decode": ("fa2", "decode attention as FlashAttention-2: one CTA per (sequence, head), no KV split"),
}

_BASE: dict[str, SoftwareStack] = {s.name: s for s in (
    SoftwareStack("eager", host_issued=True, fuse_shared_input_gemms=False, fused_elementwise=False,
                  summary="one kernel per framework op, host time per kernel"),
    SoftwareStack("graph", host_issued=False, fuse_shared_input_gemms=True, fused_elementwise=False,
                  summary="CUDA-graph replay, fused QKV and gate/up GEMMs, eager elementwise ops"),
    SoftwareStack("serving", host_issued=False, fuse_shared_input_gemms=True, fused_elementwise=True,
                  vocab_pad=64,
                  summary="graph + fused residual/norm, rope, KV write, activation epilogues, padded vocab"),
)}
BASE_STACK_NAMES = tuple(_BASE)
STACKS: dict[str, SoftwareStack] = dict(_BASE) | {
    f"{base.name}+{suffix}": replace(base, name=f"{base.name}+{suffix}", attention=kernel,
                                     summary=f"{base.summary}; {summary}")
    for base in _BASE.values() for suffix, (kernel, summary) in ATTENTION_VARIANTS.items()}
STACK_NAMES = tuple(STACKS)
DEFAULT_STACK = "graph"


def software_stack(name: str | SoftwareStack | None) -> SoftwareStack:
    """The preset called `name` (None: the default); an unknown name is a one-line error."""
    if isinstance(name, SoftwareStack):
        return name
    if name is None:
        return STACKS[DEFAULT_STACK]
    if name not in STACKS:
        from archsim.errors import ArchsimError, did_you_mean
        hint = did_you_mean(str(name), STACK_NAMES) or "choose one of " + ", ".join(STACK_NAMES)
        raise ArchsimError(f"unknown software stack {name!r}; {hint}")
    return STACKS[name]
