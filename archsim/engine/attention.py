"""Attention as kernels run it: which (QKᵀ, softmax, PV) plans the mapper fused into one group, the
share of a causal score matrix a blocked kernel computes (blocks wholly above the diagonal are
skipped), and standard attention (FlashAttention paper, Algorithm 0) as a mapping whose attention
groups on GPU units are unfused with S and P through the off-chip level."""
from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from archsim.hardware import Hardware
from archsim.ir import OpGraph, OpKind, ops_in_order
from archsim.mapping import Mapping, OpMapping

if TYPE_CHECKING:
    from .plan import OpPlan

__all__ = ["ATTENTION_BLOCK", "causal_block_fraction", "causal_skips", "fused_attention_groups",
           "standard_attention"]


_ATTENTION_KINDS = (OpKind.ATTN_QK, OpKind.SOFTMAX, OpKind.ATTN_AV)


def standard_attention(graph: OpGraph, hw: Hardware, mapping: Mapping) -> Mapping:
    """`mapping` with the attention groups on GPU (`sm`) units unfused, as standard attention
    (FlashAttention paper, Algorithm 0) runs them: QKᵀ, softmax and PV each on its own, the
    score matrix S and the probabilities P written to the off-chip level and read back from it,
    and the whole score matrix computed (a causal mask is applied, not skipped). The graph is
    unchanged; other units keep the mapper's fusion."""
    units = {u.name: u for u in hw.compute}
    ops = {op.name: op for op in ops_in_order(graph)}
    off = hw.levels[0].name

    def on_gpu(m: OpMapping) -> bool:
        u, op = units.get(m.unit), ops.get(m.op)
        return u is not None and u.type == "sm" and op is not None and op.kind in _ATTENTION_KINDS

    spilled = {o.tensor.name for m in mapping.ops if on_gpu(m)
               for o in ops[m.op].operands if o.is_output and ops[m.op].kind is not OpKind.ATTN_AV}
    if not spilled:
        return mapping
    out = []
    for m in mapping.ops:
        if on_gpu(m):
            own = [(k, v) for k, v in (m.attr("placement") or ()) if k not in spilled]
            own += [(o.tensor.name, off) for o in ops[m.op].operands if o.tensor.name in spilled]
            attrs = tuple((k, v) for k, v in m.attrs if k != "placement") + \
                (("placement", tuple(sorted(own))),)
            m = replace(m, fused_into=None, attrs=attrs)
        out.append(m)
    attrs = tuple((k, tuple(t for t in v if t not in spilled) if k == "streamed" else v)
                  for k, v in mapping.attrs)
    return replace(mapping, ops=tuple(out), attrs=attrs)


#: key/value rows per block of a fused (FlashAttention-style) attention group off the GPU; the
#: mapper's fusion pass tiles with the same block (assumption; FlashAttention uses 64–128)
ATTENTION_BLOCK = 64


def causal_block_fraction(q_len: int, kv_len: int, block: int) -> float:
    """Share of the q_len × kv_len score matrix a blocked causal kernel computes: the queries are
    the last q_len of kv_len positions (a prefill, or a chunk after cached ones); a query block
    stops after the key block holding its last row's position, so blocks wholly above the
    diagonal are skipped and diagonal blocks are computed whole."""
    if q_len <= 1 or kv_len <= 0:
        return 1.0
    past = max(0, kv_len - q_len)
    computed = 0
    for start in range(0, q_len, block):
        rows = min(block, q_len - start)
        last = past + start + rows            # positions 0 … last-1 are seen by this block
        computed += rows * min(kv_len, -(-last // block) * block)
    return computed / (q_len * kv_len)


def fused_attention_groups(plans: list[OpPlan]) -> list[tuple[OpPlan, OpPlan, OpPlan]]:
    """(QKᵀ, softmax, PV) plans of every attention block the mapper fused into one group (rooted
    at its QKᵀ, the softmax and PV `fused_into` it); unfused attention forms no group."""
    groups: dict[str, list[OpPlan]] = {}
    for p in plans:
        if p.op.kind in (OpKind.ATTN_QK, OpKind.SOFTMAX, OpKind.ATTN_AV):
            root = (p.mapping.fused_into if p.mapping is not None else None) or p.op.name
            groups.setdefault(root, []).append(p)
    out = []
    for root, members in groups.items():
        by_kind = {p.op.kind: p for p in members}
        if len(members) == 3 and len(by_kind) == 3 and by_kind[OpKind.ATTN_QK].op.name == root:
            out.append((by_kind[OpKind.ATTN_QK], by_kind[OpKind.SOFTMAX], by_kind[OpKind.ATTN_AV]))
    return out


def causal_skips(groups, hw: Hardware) -> dict[int, float]:
    """Plan index → share of its work done, for the causal ones of fused attention `groups`
    (`fused_attention_groups`): a fused kernel walks key blocks and skips those the mask removes
    whole (FlashAttention-2's causal mode), while unfused attention computes the full score
    matrix and masks it."""
    out: dict[int, float] = {}
    for group in groups:
        qk = group[0]
        if not qk.op.attr("causal"):
            continue
        sizes = qk.op.dim_sizes
        block = ATTENTION_BLOCK
        if qk.unit.type == "sm":
            from .timing.sm import gpu_calibration
            block = gpu_calibration(hw).attn_tile_q
        fraction = causal_block_fraction(sizes.get("q", 1), sizes.get("s", 1), block)
        if fraction < 1.0:
            out.update((p.index, fraction) for p in group)
    return out
