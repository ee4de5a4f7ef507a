"""Inference phases and their sizes.

- prefill(batch, seq): `seq` prompt tokens per sequence are processed at once; the KV cache of `seq`
  positions is written. Only the last position of each sequence goes through the LM head.
- prefill(batch, seq, past): one chunk of a chunked prefill — `seq` new tokens after `past` positions
  already in the KV cache; they attend (causally) to all `past + seq` positions and append their
  K/V to the cache.
- decode(batch, context): one new token per sequence; it attends to `context` positions (the cache
  holds `context` positions, the new token's K/V appended into it).
- encode(batch, seq | image): a bidirectional encoder (BERT, ViT, T5 encoder); no cache.
"""
from __future__ import annotations

from dataclasses import dataclass

from archsim.errors import ModelError, did_you_mean
from archsim.limits import MAX_BATCH, MAX_TOKENS

__all__ = ["Phase", "resolve_phase", "PHASES", "DEFAULT_SEQ", "DEFAULT_CONTEXT"]

PHASES = ("prefill", "decode", "encode")
DEFAULT_SEQ = 512
DEFAULT_CONTEXT = 1024


@dataclass(frozen=True, slots=True)
class Phase:
    """`seq`: tokens processed per sequence in this pass; `context`: positions attended to;
    `source_len`: encoder length an encoder-decoder's cross-attention reads (decode: the `seq`
    argument, else `context`)."""
    name: str
    batch: int
    seq: int
    context: int
    source_len: int = 0
    past: int = 0          # prefill chunk: positions already in the KV cache (context = past + seq)

    @property
    def tokens(self) -> int:
        return self.batch * self.seq


def _positive(value, key: str, model: str, maximum: int = MAX_TOKENS) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ModelError(f"{model}: {key} must be a positive integer (got {value!r})")
    if value > maximum:
        raise ModelError(f"{model}: {key} {value} is more than {maximum:,}, past any real "
                         f"workload (archsim.limits); check the digits")
    return value


def resolve_phase(model: str, phases: tuple[str, ...], phase: str, batch, seq, context,
                  max_positions: int = 0, past: int = 0) -> Phase:
    """Check the phase is one the model supports and fill in default sizes. `past` > 0 makes a
    prefill pass one chunk of a chunked prefill (`past` positions already cached)."""
    if phase not in PHASES:
        hint = did_you_mean(phase, PHASES) or "choose one of " + ", ".join(PHASES)
        raise ModelError(f"{model}: unknown phase {phase!r}; {hint}")
    if phase not in phases:
        raise ModelError(f"{model}: phase {phase!r} is not supported; this model supports "
                         + ", ".join(phases))
    batch = _positive(batch, "batch", model, MAX_BATCH)
    if seq is not None:
        seq = _positive(seq, "seq", model)
    if context is not None:
        context = _positive(context, "context", model)
    if past:
        past = _positive(past, "past", model)
        if phase != "prefill":
            raise ModelError(f"{model}: past {past} applies to a prefill chunk only (got phase "
                             f"{phase!r}); decode's cache length is its context")
    if phase == "decode":
        context = context or seq or DEFAULT_CONTEXT
        if max_positions and context > max_positions:
            raise ModelError(f"{model}: context {context} exceeds the model's {max_positions} "
                             "learned positions")
        return Phase("decode", batch, 1, context, seq or context)
    seq = seq or (min(DEFAULT_SEQ, max_positions) if max_positions else DEFAULT_SEQ)
    if context is not None and context != seq + past:
        raise ModelError(f"{model}: {phase} attends to its own {seq} tokens"
                         + (f" after {past} cached ones" if past else "")
                         + f", so context {context} does not apply; context sets the cache length "
                         "in decode")
    if max_positions and seq + past > max_positions:
        raise ModelError(f"{model}: {'past + ' if past else ''}seq {past + seq} exceeds the model's "
                         f"{max_positions} learned positions")
    return Phase(phase, batch, seq, past + seq, seq, past)
