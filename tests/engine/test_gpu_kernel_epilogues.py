"""Which kernels a GPU serving stack issues (`engine.gpu_kernels`): an activation is a GEMM's
epilogue only when its input comes from a GEMM kernel; fed by anything else (Mamba's gate after
the scan, a MobileNet block's GELU after its norm) it is a kernel of its own."""
from __future__ import annotations

import pytest

from archsim.engine.gpu_kernels import gpu_kernels
from archsim.engine.plan import plan_ops
from archsim.engine.stack import software_stack
from archsim.hardware import load_hardware
from archsim.ir import OpKind
from archsim.workloads import build_graph

EPILOGUES = (OpKind.GELU, OpKind.SILU, OpKind.RELU, OpKind.SWIGLU)


@pytest.mark.parametrize("model", ["mobilenetv5-300m", "mamba-130m", "gpt2-small"])
def test_an_activation_joins_only_a_gemm_kernel(model):
    stack = software_stack("serving")
    g = build_graph(model, "prefill", seq=16, overrides={"layers": 1})
    plans = plan_ops(g, load_hardware("h200-sxm"), None, stack)
    kernels = gpu_kernels(plans, stack)
    assert sorted(i for k in kernels for i in k.members) == [p.index for p in plans if p.unit.type == "sm"]
    joined = alone = 0
    for k in kernels:
        acts = [i for i in k.members if plans[i].op.kind in EPILOGUES]
        if acts and len(k.members) > 1:
            assert k.kind == "gemm", (k, [plans[i].op.name for i in k.members])
            joined += 1
        alone += len(acts) if len(k.members) == 1 else 0
    assert joined + alone > 0
    if model != "gpt2-small":
        assert alone > 0        # the gate after the scan, the GELU after a norm: their own kernels
    else:
        assert joined > 0       # GPT-2's GELU: fc1's epilogue
