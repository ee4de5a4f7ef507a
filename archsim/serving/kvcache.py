"""A paged KV cache (vLLM's PagedAttention, Kwon et al., SOSP 2023): the cache is cut into blocks
of `block_tokens` tokens; a sequence holds ceil(tokens / block_tokens) blocks and grows one block
at a time, so memory is lost only in each sequence's last, partly filled block.

Capacity comes from the chip: the memory level that holds the KV cache, less the weights, divided
by the KV bytes of one token (`StepTable.kv_capacity_tokens`), in whole blocks. When a decode
needs a block and none is free, the scheduler preempts a sequence (the latest admitted, as vLLM
does): by recompute (its blocks are freed and its prompt and the tokens made so far are prefilled
again later) or by swap (its blocks are copied to host memory over the host link and back before
it resumes). Prefix sharing is not modelled: every sequence holds its own blocks.
"""
from __future__ import annotations

__all__ = ["PagedKVCache", "blocks_for"]


def blocks_for(tokens: int, block_tokens: int) -> int:
    return -(-tokens // block_tokens)


class PagedKVCache:
    """Free-block accounting of a paged KV cache; the simulation's one mutable ledger of memory."""

    __slots__ = ("block_tokens", "total_blocks", "free_blocks", "held")

    def __init__(self, capacity_tokens: int, block_tokens: int = 16):
        if block_tokens < 1:
            from ..api import ArgumentError
            raise ArgumentError(f"KV block size must be ≥ 1 token (got {block_tokens})")
        self.block_tokens = block_tokens
        self.total_blocks = capacity_tokens // block_tokens
        self.free_blocks = self.total_blocks
        self.held: dict[int, int] = {}           # request id → blocks

    def can_hold(self, request_id: int, tokens: int) -> bool:
        """Whether `request_id` could grow (or be admitted) to `tokens` tokens now."""
        return blocks_for(tokens, self.block_tokens) - self.held.get(request_id, 0) <= self.free_blocks

    def grow(self, request_id: int, tokens: int) -> None:
        """Hold enough blocks for `tokens` tokens of `request_id` (call `can_hold` first)."""
        need = blocks_for(tokens, self.block_tokens) - self.held.get(request_id, 0)
        if need > self.free_blocks:
            raise RuntimeError(f"KV cache: request {request_id} needs {need} blocks, "
                               f"{self.free_blocks} free")
        if need > 0:
            self.free_blocks -= need
            self.held[request_id] = self.held.get(request_id, 0) + need

    def release(self, request_id: int) -> int:
        """Free every block of `request_id`; returns how many."""
        n = self.held.pop(request_id, 0)
        self.free_blocks += n
        return n

    @property
    def used_fraction(self) -> float:
        return 1.0 - self.free_blocks / self.total_blocks if self.total_blocks else 0.0
