"""Schedulers: which sequences run in the next step.

- `static`: request-level batching (FasterTransformer, NVIDIA 2021; the baseline of Orca, Yu et al.,
  OSDI 2022): when the chip is idle, up to `max_batch` waiting requests form a batch that is prefilled
  together and decoded until its longest member ends; finished members keep their slot (padding)
  and newcomers wait for the whole batch.
- `continuous`: iteration-level scheduling (Orca, OSDI 2022) as vLLM runs it (Kwon et al., SOSP 2023):
  before each step, waiting requests are admitted first-come first-served while the batch has room
  (`max_batch`), their prompts fit the `token_budget` and the paged KV cache has blocks; a step with
  admissions is a prefill of them, otherwise every running sequence decodes one token.
- `chunked`: Sarathi-Serve's stall-free batching (Agrawal et al., OSDI 2024): every step decodes all
  running sequences and fills the rest of the `token_budget` with chunks of waiting prompts, so a long
  prompt never stalls the decodes.
- `disaggregated`: prefill and decode on separate device groups (Splitwise, Patel et al., ISCA 2024;
  DistServe, Zhong et al., OSDI 2024): the prefill group runs prompt batches up to the token budget,
  the KV cache moves over the chip's link, and the decode group runs continuous decode batches.
  The decode group admits a request only when its whole KV (prompt + output) fits, so it never
  preempts. The groups are two `StepTable`s, so they may be two chips (`decode_hw`); a full
  heterogeneous system (devices + links, the systems issue) plugs in here when it lands.

When a running sequence needs a KV block and none is free, the latest admitted sequence is
preempted (vLLM's policy): `recompute` drops its cache and prefills its prompt and generated tokens
again; `swap` moves its cache to host memory over the chip's first link and back before it resumes.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import did_you_mean

__all__ = ["Scheduler", "POLICIES", "PREEMPTIONS"]

POLICIES = ("static", "continuous", "chunked", "disaggregated")
PREEMPTIONS = ("recompute", "swap")


@dataclass(frozen=True, slots=True)
class Scheduler:
    policy: str = "continuous"
    max_batch: int = 64                # sequences in a step
    token_budget: int = 2048           # prefill tokens per step (chunked: all tokens per step)
    block_tokens: int = 16             # KV-cache block size (vLLM's default)
    preemption: str = "recompute"

    def __post_init__(self):
        from ..api import ArgumentError
        for name, choices in (("policy", POLICIES), ("preemption", PREEMPTIONS)):
            value = getattr(self, name)
            if value not in choices:
                hint = did_you_mean(str(value), choices) or "choose one of " + ", ".join(choices)
                raise ArgumentError(f"unknown scheduler {name} {value!r}; {hint}")
        for name in ("max_batch", "token_budget", "block_tokens"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ArgumentError(f"scheduler {name} must be a whole number ≥ 1 (got {value!r})")
