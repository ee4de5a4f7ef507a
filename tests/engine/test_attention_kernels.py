"""The attention-kernel variants of the GPU software stacks (`archsim/engine/stack.py`):
`+standard-attention` runs the paper's Algorithm 0 (three kernels, S and P through HBM) and its
HBM traffic is exactly Algorithm 0's count; `+fa2-decode` times decode attention without a KV
split. The graph never changes, only the lowering."""
from __future__ import annotations

import pytest

import archsim
from archsim.engine.stack import ATTENTION_VARIANTS, BASE_STACK_NAMES, STACKS, software_stack
from archsim.engine.timing import gpu
from archsim.errors import ArchsimError
from archsim.studies.attention_io import flash_attention_io, standard_accesses_formula

HEAD_DIM, HEADS = 64, 12                      # gpt2-small
KINDS = ("attn_qk", "softmax", "attn_av")


def _attention(r, layer: int = 0):
    return [o for o in r.ops if o.layer == layer and o.kind in KINDS and ".attn." in o.name]


def _hbm(ops) -> int:
    return sum(dict(o.bytes_by_level).get("hbm", 0) for o in ops)


def test_every_base_stack_has_each_attention_variant():
    for base in BASE_STACK_NAMES:
        for suffix, (kernel, _) in ATTENTION_VARIANTS.items():
            st = software_stack(f"{base}+{suffix}")
            assert st.attention == kernel
            assert (st.host_issued, st.fused_elementwise) == (STACKS[base].host_issued,
                                                             STACKS[base].fused_elementwise)
    with pytest.raises(ArchsimError, match="did you mean"):
        software_stack("eager+standard-atention")


@pytest.mark.parametrize("batch, seq", [(1, 256), (2, 512)])
def test_standard_attention_moves_algorithm_0s_bytes(batch, seq):
    r = archsim.simulate("gpt2-small", "a100-80gb", phase="prefill", batch=batch, seq=seq,
                         stack="eager+standard-attention")
    ops = _attention(r)
    assert len(ops) == 3 and all(o.latency_s > 0 for o in ops)     # three kernels, softmax too
    # S written, S read + P written, P read: Algorithm 0's 4N² elements per head, exactly; its
    # 4Nd (Q, K, V, O) goes to HBM only for the tensors the mapper does not keep in the 40 MB L2
    scores = 4 * seq * seq * HEADS * batch * 2                       # bf16
    by_kind = {o.kind: dict(o.bytes_by_level).get("hbm", 0) for o in ops}
    assert by_kind["softmax"] == scores // 2
    assert scores <= _hbm(ops) <= standard_accesses_formula(seq, HEAD_DIM) * HEADS * batch * 2
    assert {o.macs for o in ops if o.kind != "softmax"} == {batch * HEADS * seq * seq * HEAD_DIM}


def test_flash_attention_reads_q_k_v_and_writes_o_once():
    seq = 512
    flash = archsim.simulate("gpt2-small", "a100-80gb", phase="prefill", seq=seq, stack="eager")
    std = archsim.simulate("gpt2-small", "a100-80gb", phase="prefill", seq=seq,
                           stack="eager+standard-attention")
    fl, st = _attention(flash), _attention(std)
    assert _hbm(fl) <= 4 * seq * HEAD_DIM * HEADS * 2                 # at most Q, K, V, O once
    # Algorithm 1's own count at a 192 KB SRAM re-reads O and the statistics per key block; the
    # engine's fused kernel keeps O on chip for its query block (FlashAttention-2's loop order)
    assert _hbm(fl) <= flash_attention_io(seq, HEAD_DIM, 98304).accesses_elems * HEADS * 2
    assert _hbm(fl) < _hbm(st)
    assert sum(o.latency_s for o in fl) < sum(o.latency_s for o in st)
    assert [o.name for o in flash.ops] == [o.name for o in std.ops]   # same graph


def test_other_chips_ignore_the_attention_variant():
    a = archsim.simulate("gpt2-small", "edge-npu", phase="prefill", seq=128, stack="graph")
    b = archsim.simulate("gpt2-small", "edge-npu", phase="prefill", seq=128,
                         stack="graph+standard-attention")
    assert a.latency_s == b.latency_s


def _decode_attention_s(stack: str, batch: int, context: int = 65_536) -> float:
    r = archsim.simulate("llama2-7b", "a100-80gb", phase="decode", batch=batch, context=context,
                         stack=stack, overrides={"layers": 1})
    return sum(o.latency_s for o in _attention(r))


def test_fa2_decode_leaves_sms_idle_at_small_batch_only():
    # 32 heads × batch 1 = 32 CTAs on 108 SMs: the split kernel fills the SMs, FA2 does not
    assert _decode_attention_s("graph+fa2-decode", 1) > 3 * _decode_attention_s("graph", 1)
    # 32 × 4 = 128 CTAs ≥ 0.8 × 108: neither splits, the same kernel
    assert _decode_attention_s("graph+fa2-decode", 4) == pytest.approx(_decode_attention_s("graph", 4))


def test_decode_without_split_is_the_batched_kernel_on_its_ctas():
    spec = gpu.GpuSpec(sms=100, tensor_flops_per_s=3e14, mem_bytes_per_s=2e12, launch_s=2e-6)
    cal = gpu.load_gpu_calibration("h200-sxm")
    nbytes, ctas = 1e9, 25
    t = gpu.decode_work_seconds(nbytes, ctas, spec, cal=cal, kv_len=100_000, split_kv=False)
    expected = spec.launch_s + cal.decode_ramp_s + \
        nbytes / (spec.mem_bytes_per_s * cal.decode_batched_stream_eff * ctas / spec.sms)
    assert t == pytest.approx(expected)
    assert t > gpu.decode_work_seconds(nbytes, ctas, spec, cal=cal, kv_len=100_000)
