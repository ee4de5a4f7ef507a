"""Work the engine shares within an estimate or keeps on a frozen value must equal the work done
afresh: GPU kernels alike timed once, a GPU's calibration kept on its `Hardware`, a mapping's
placement read through a dict."""
import dataclasses

import pytest

from archsim import mapper, workloads
from archsim.engine.gpu_kernels import gpu_kernels
from archsim.engine.plan import plan_ops
from archsim.engine.stack import software_stack
from archsim.engine.timing.sm import gpu_calibration, gpu_spec, kernel_seconds
from archsim.hardware import load_hardware
from archsim.mapping import Mapping


@pytest.mark.parametrize("stack", ["graph", "serving", "eager", "serving+fa2-decode"])
@pytest.mark.parametrize("phase, kw", [("decode", {"context": 256}), ("prefill", {"seq": 128})])
def test_each_gpu_kernel_timed_alone_gives_its_plans_times(stack, phase, kw):
    hw = load_hardware("h200-sxm")
    g = workloads.build_graph("gpt2-small", phase=phase, **kw)
    st = software_stack(stack)
    plans = plan_ops(g, hw, mapper.map_graph(g, hw), st)
    kernels = gpu_kernels(plans, st)
    assert len(kernels) > 12 * 4                    # 12 layers: many kernels alike
    for k in kernels:
        alone = kernel_seconds([k], plans, hw, st)
        assert alone == {i: plans[i].kernel_s for i in k.members}


def test_gpu_calibration_kept_per_description_and_dropped_by_replace():
    hw = load_hardware("a100-80gb")
    unit = next(u for u in hw.compute if u.type == "sm")
    assert gpu_calibration(hw) is gpu_calibration(hw)
    assert gpu_spec(unit, hw, "bf16") is gpu_spec(unit, hw, "bf16")
    slower = dataclasses.replace(hw, compute=tuple(dataclasses.replace(u, freq_hz=u.freq_hz / 2)
                                                   for u in hw.compute))
    assert gpu_calibration(slower) != gpu_calibration(hw)        # computed for the copy, not kept
    half = next(u for u in slower.compute if u.type == "sm")
    assert gpu_spec(half, slower, "bf16").tensor_flops_per_s == \
        pytest.approx(gpu_spec(unit, hw, "bf16").tensor_flops_per_s / 2)
    assert dataclasses.replace(hw) == hw and hash(dataclasses.replace(hw)) == hash(hw)


def test_mapping_placed_first_entry_wins_and_a_copy_reads_its_own():
    m = Mapping(hw="x", ops=(), placement=(("a", "sram"), ("a", "dram"), ("weight", "dram")))
    assert (m.placed("a"), m.placed("weight"), m.placed("b"), m.placed("b", "hbm")) == \
        ("sram", "dram", None, "hbm")
    moved = dataclasses.replace(m, placement=(("a", "hbm"),))
    assert moved.placed("a") == "hbm" and moved.placed("weight") is None
    assert m == Mapping(hw="x", ops=(), placement=m.placement) and "_where" not in repr(m)
