"""Fusion: which ops run inside another and which intermediate tensors are never materialised.

- Attention: QKᵀ → softmax → PV becomes one FlashAttention-style group tiled over KV blocks when the
  on-chip buffer holds a query block, a K and a V block and the score block (blocks of `BLOCK`
  rows); the score and probability tensors then stay inside the group.
- Norms and activations fuse into their producer when they are its only consumer (the producer's
  output streams into them); they still cost vector-unit cycles — fusion saves traffic, not work.
- Layer fusion (an intermediate held whole in an on-chip level) is a placement decision; see
  `placement.place`.
"""
from __future__ import annotations

from dataclasses import dataclass

from archsim.hardware import Hardware
from archsim.ir import OpGraph, OpKind, ops_in_order

__all__ = ["FusionPlan", "fuse", "BLOCK", "EPILOGUE_KINDS"]

BLOCK = 64   # FlashAttention query/KV block rows (assumption; FlashAttention uses 64–128)
EPILOGUE_KINDS = {OpKind.GELU, OpKind.SILU, OpKind.RELU, OpKind.SWIGLU, OpKind.QUANTIZE,
                  OpKind.DEQUANTIZE, OpKind.LAYERNORM, OpKind.RMSNORM, OpKind.ADD, OpKind.MUL,
                  OpKind.ROPE}


@dataclass(frozen=True, slots=True)
class FusionPlan:
    fused_into: tuple[tuple[str, str], ...] = ()     # op → op whose group it runs in
    streamed: frozenset[str] = frozenset()           # tensors never materialised

    def group_of(self, op: str) -> str | None:
        return dict(self.fused_into).get(op)


def _onchip_bytes(hw: Hardware) -> int:
    on = [lv.size_bytes for lv in hw.levels if not lv.off_chip]
    return max(on) if on else 0


def _consumers(graph: OpGraph) -> dict[tuple[str, str], list[str]]:
    """(producer, tensor name) → the ops reading that tensor from it, in edge order."""
    out: dict[tuple[str, str], list[str]] = {}
    for u, v, t in graph.edges(data="tensor"):
        out.setdefault((u, t.name), []).append(v)
    return out


def fuse(graph: OpGraph, hw: Hardware, attention: bool = True, epilogues: bool = True) -> FusionPlan:
    fused: dict[str, str] = {}
    streamed: set[str] = set()
    cap = _onchip_bytes(hw)
    ops = {op.name: op for op in ops_in_order(graph)}
    consumers = _consumers(graph)
    for name, op in ops.items():
        outs = op.outputs
        if len(outs) != 1:
            continue
        out = outs[0].tensor
        users = consumers.get((name, out.name), [])
        if len(users) != 1:
            continue
        user = ops[users[0]]
        root = fused.get(name, name)
        if attention and op.kind is OpKind.ATTN_QK and user.kind is OpKind.SOFTMAX:
            p_out = user.outputs[0].tensor
            after = consumers.get((user.name, p_out.name), [])
            if len(after) == 1 and ops[after[0]].kind is OpKind.ATTN_AV:
                sizes = op.dim_sizes
                e = op.attr("head_dim") or min(sizes.values())
                eb = out.dtype_bits / 8
                need = (BLOCK * e * 3 + BLOCK * BLOCK) * eb * 2   # Q, K, V blocks + scores, ×2 buffers
                if cap >= need:
                    fused[user.name] = root
                    fused[after[0]] = root
                    streamed.update({out.name, p_out.name})
            continue
        if epilogues and user.kind in EPILOGUE_KINDS and op.kind.is_contraction \
                and user.name not in fused and len(user.inputs) >= 1:
            fused[user.name] = root
            streamed.add(out.name)
    return FusionPlan(tuple(sorted(fused.items())), frozenset(streamed))
