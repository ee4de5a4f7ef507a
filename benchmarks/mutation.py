"""Mutation score of the core: realistic, hand-written bugs planted one at a time in a copy of the
tree; each is "killed" when the tests relevant to it fail. mutmut and cosmic-ray were not used:
both mutate syntax blindly (thousands of mostly trivial mutants here, hours per run with the Numba
kernels recompiling) and cosmic-ray needs its own session database; a short list of bugs a person
would plausibly write gives a score that means something in minutes.

Covers archsim/units.py, archsim/energy*.py and the engine's accounting, archsim/engine,
archsim/kernels, archsim/hardware, archsim/serving, archsim/system, mapper/ and workloads/. Each
mutant names a file, an exact text that must occur once, its replacement and the test files to
run. When the code moves and the text no longer
occurs once, the mutant is reported as "mutant no longer applies" (and not scored) instead of
silently passing. Mutants proven equivalent are listed in EQUIVALENT with the reason and not
scored.

Prints one JSON line: {"benchmark": "mutation", "score": killed / scored, "killed", "scored",
"survived": [...], "not_applicable": [...], "equivalent": [...], "seconds"}.

    python benchmarks/mutation.py [--jobs 2] [--only id,id] [--list]

Run time (`--jobs 1`): the first 56 mutants 45 min wall at load average 8-12 on 2 shared cores;
the 47 of the third round plus the two retargeted ones 19 min at load 3-4 (a mutant in
archsim/kernels/ recompiles every Numba kernel, 1-3 min). Use `--only` to batch.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_SCORE = 0.90


@dataclass(frozen=True)
class Mutant:
    id: str
    file: str
    old: str
    new: str
    tests: tuple[str, ...]
    what: str


U = ("tests/hardware/test_units.py", "tests/hardware/test_every_unit.py")
ENERGY = ("tests/engine/test_energy_accounting.py", "tests/hardware/test_energy.py")
TIMING = ("tests/engine/test_timing.py", "tests/engine/test_spatial_unroll.py")
CAUSAL = ("tests/engine/test_causal_skip.py",)
KERNEL = ("tests/mapper/test_capacity.py", "tests/mapper/test_kernel_twin.py")
SCALESIM = ("tests/mapper/test_scalesim.py",)
DRAM = ("tests/engine/test_dram_closed_forms.py", "tests/engine/test_dram_burst.py",
        "tests/engine/test_all_bank_activate.py")
LONG = ("tests/engine/test_long_streams.py", "tests/engine/test_steady_state.py")
MCU = ("tests/mapper/test_mcu_techniques.py", "tests/mapper/test_pools.py", "tests/mapper/test_models.py")
PASSES = ("tests/mapper/test_passes.py", "tests/mapper/test_capacity.py")
WORK = ("tests/workloads/test_flops_kv.py", "tests/workloads/test_zoo_params.py",
        "tests/workloads/test_properties.py")
PIMHOST = ("tests/engine/test_pim_pipeline_host.py",)
REFRESH8 = ("tests/engine/test_refresh_postponement.py",)
EQUIV = ("tests/engine/test_dram_equivalence.py",)
TILES = ("tests/engine/test_tile_loads_closed.py",)
NOCG = ("tests/engine/test_noc_grouping.py", "tests/engine/test_noc.py")
GAP = ("tests/engine/test_gap_shares.py", "tests/engine/test_gap_attribution.py")
HWLOAD = ("tests/hardware/test_annotations.py", "tests/hardware/test_loader.py", "tests/hardware/test_source_refs.py",
          "tests/hardware/test_bad_yaml.py")
HF = ("tests/workloads/test_hf_config.py",)
PCACHE = ("tests/mapper/test_cache_key_fields.py", "tests/mapper/test_persistent_cache.py")
POWER = ("tests/energy/test_power.py", "tests/energy/test_validation.py", "tests/energy/test_static_power.py")
GPUK = ("tests/engine/test_gpu_calibration.py", "tests/engine/test_software_stack.py",
        "tests/engine/test_calibration_holdout.py", "tests/engine/test_gpu_kernel_epilogues.py")
SERVE = ("tests/serving/test_metrics.py", "tests/serving/test_inputs.py", "tests/serving/test_theory.py", "tests/serving/test_conservation.py")
SYSTEM = ("tests/system/test_sub_batch_sizes.py", "tests/system/test_shared_memory_hold.py", "tests/system/test_system.py", "tests/system/test_edge_pim.py")

MUTANTS = (
    # archsim/units.py
    Mutant("units-ms", "archsim/units.py", '"ms": Decimal("1e-3")', '"ms": Decimal("1e-6")', U,
           "milliseconds parsed as microseconds"),
    Mutant("units-kibi", "archsim/units.py", "_K, _KI = Decimal(1000), Decimal(1024)",
           "_K, _KI = Decimal(1000), Decimal(1000)", U, "KiB as 1000 bytes"),
    Mutant("units-per-bit", "archsim/units.py", '_PER = {"bit": Decimal(8), "b": Decimal(8)',
           '_PER = {"bit": Decimal(1), "b": Decimal(8)', U, "pJ/bit not multiplied by 8"),
    Mutant("units-ghz", "archsim/units.py", '"MHz": _K ** 2, "GHz": _K ** 3}',
           '"MHz": _K ** 2, "GHz": _K ** 2}', U, "GHz as MHz"),
    Mutant("units-gbps", "archsim/units.py", '"Gbps": _K ** 3 / 8', '"Gbps": _K ** 3', U,
           "Gbps read as gigabytes per second"),
    Mutant("units-whole", "archsim/units.py", "        if amount != amount.to_integral_value():",
           "        if False:", U, "fractional byte counts accepted"),
    Mutant("units-uw", "archsim/units.py", '_POWER = {"uW": Decimal("1e-6")',
           '_POWER = {"uW": Decimal("1e-3")', U, "microwatts as milliwatts"),
    # energy: the price table and the engine's accounting
    Mutant("energy-rw-swap", "archsim/energy/__init__.py",
           '(f"{lv.name}.read", lv.read_energy_pj_per_byte),\n'
           '                    (f"{lv.name}.write", lv.write_energy_pj_per_byte)',
           '(f"{lv.name}.read", lv.write_energy_pj_per_byte),\n'
           '                    (f"{lv.name}.write", lv.read_energy_pj_per_byte)', ENERGY,
           "read and write energies swapped"),
    Mutant("energy-build-write-default", "archsim/hardware/build.py",
           'write = _energy_per_byte(ck, m, "write_energy", path, width) if "write_energy" in m else read',
           'write = read', ENERGY, "a given write energy ignored"),
    Mutant("energy-link-bits", "archsim/energy/__init__.py",
           'entries.append((f"{link.name}.transfer", link.energy_pj_per_bit * 8))',
           'entries.append((f"{link.name}.transfer", link.energy_pj_per_bit))',
           ENERGY + ("tests/engine/test_tensor_parallel.py",), "link energy per bit used per byte"),
    Mutant("accounting-idle-floor", "archsim/energy/power.py",
           'out = {"static": max(hw.static_power_w + leak, hw.idle_power_w), "active": hw.active_power_w,',
           'out = {"static": hw.static_power_w + leak, "active": hw.active_power_w,',
           ENERGY, "the idle-power floor dropped"),
    Mutant("accounting-act-component", "archsim/engine/accounting.py",
           'if verb == "activate":\n        return "dram_act_pre"',
           'if verb == "activate":\n        return "dram_refresh"', ENERGY,
           "ACT energy booked as refresh"),
    # engine
    Mutant("causal-noncausal", "archsim/engine/attention.py",
           '        if not qk.op.attr("causal"):\n            continue\n', "", CAUSAL,
           "causal skip applied to non-causal (BERT) attention"),
    Mutant("causal-past", "archsim/engine/attention.py", "    past = max(0, kv_len - q_len)",
           "    past = 0", CAUSAL + ("tests/engine/test_chunked_prefill.py",),
           "a chunk after cached positions treated as a fresh prefill"),
    Mutant("causal-diag-block", "archsim/engine/attention.py",
           "computed += rows * min(kv_len, -(-last // block) * block)",
           "computed += rows * min(kv_len, last)", CAUSAL,
           "diagonal blocks computed partially (finer than the kernel's block)"),
    Mutant("work-fraction", "archsim/engine/timing/units.py",
           'fraction = op.attr("computed_fraction", 1.0)', "fraction = 1.0",
           CAUSAL + ("tests/engine/test_gpu_fused_attention.py",),
           "softmax of a causal fused group charged dense"),
    Mutant("peak-count", "archsim/engine/timing/units.py",
           "rate = unit.count * max(unit.macs_per_cycle_for(dtype), 1e-9)",
           "rate = max(unit.macs_per_cycle_for(dtype), 1e-9)", TIMING,
           "unit count ignored in the peak rate"),
    Mutant("vector-fill", "archsim/engine/timing/units.py",
           "return peak_cycles(unit, op, dtype) + unit.pipeline_depth",
           "return peak_cycles(unit, op, dtype)", TIMING, "vector pipeline fill dropped"),
    Mutant("dsp-ii", "archsim/engine/timing/units.py",
           "return peak_cycles(unit, op, dtype) * max(1, unit.initiation_interval) + fill",
           "return peak_cycles(unit, op, dtype) + fill", TIMING, "initiation interval ignored"),
    Mutant("mcu-art", "archsim/engine/timing/units.py",
           "stalls = lines * wait_states * (1.0 - ART_HIT_RATE)",
           "stalls = lines * wait_states * ART_HIT_RATE", TIMING, "ART hit rate inverted"),
    Mutant("systolic-os-preload", "archsim/engine/timing/units.py",
           'per_fold = systolic_fold_cycles(t, R, C, dataflow in ("ws", "is"))',
           'per_fold = systolic_fold_cycles(t, R, C, True)', TIMING,
           "the engine preloads the output-stationary array"),
    Mutant("spatial-count", "archsim/engine/timing/spatial.py",
           "return int(ceil(ceil(visits / max(1, unit.count)) * folds * per_fold - 1 + launch))",
           "return int(ceil(visits * folds * per_fold - 1 + launch))", TIMING,
           "mapped systolic timing ignores the unit count"),
    Mutant("plan-half-capacity", "archsim/engine/plan.py",
           "if buf.off_chip or acts <= buf.capacity_bytes // 2:",
           "if buf.off_chip or acts <= buf.capacity_bytes:", ("tests/engine/test_energy_accounting.py",
                                                  "tests/engine/test_planned_buffers.py"),
           "activations assumed to fit without double buffering"),
    # kernels
    Mutant("kernel-capacity", "archsim/kernels/costmodel.py",
           "        if need > cap[i] and fit_level < 0:", "        if need > 2.0 * cap[i] and fit_level < 0:",
           KERNEL, "tiles twice the buffer accepted"),
    Mutant("kernel-dbuf", "archsim/kernels/costmodel.py",
           "            if home[o] < i and dbuf[i]:\n                b *= 2.0",
           "            if home[o] < i and dbuf[i]:\n                b *= 1.0", KERNEL,
           "double buffering not counted"),
    Mutant("kernel-fold-minus-one", "archsim/kernels/costmodel.py",
           "compute = np.ceil(visits / count) * folds * per_fold - 1.0",
           "compute = np.ceil(visits / count) * folds * per_fold", KERNEL + SCALESIM,
           "the layer's last cycle counted"),
    Mutant("kernel-fold-preload", "archsim/kernels/costmodel.py",
           "return t_len + rows + cols - 2.0 + (rows if preload else 0.0)",
           "return t_len + rows + cols - 2.0 + rows", KERNEL + SCALESIM, "every dataflow preloads"),
    Mutant("kernel-write-price", "archsim/kernels/costmodel.py",
           "energy += reads[i] * rd_pj[i] + writes[i] * wr_pj[i]",
           "energy += reads[i] * rd_pj[i] + writes[i] * rd_pj[i]",
           KERNEL, "writes priced as reads in the mapper"),
    Mutant("dram-faw", "archsim/kernels/dram/commands.py", "    act = max(act, oldest + P[P_FAW])\n", "",
           DRAM, "tFAW ignored"),
    Mutant("dram-hit-rcd", "archsim/kernels/dram/commands.py",
           "        chan[C_HITS] += 1\n        return bank_st[b, B_ACT] + P[P_RCD]",
           "        chan[C_HITS] += 1\n        return bank_st[b, B_ACT]", DRAM,
           "a row hit before tRCD has passed"),
    # mapper
    Mutant("mapper-planned-capacity", "mapper/graph.py", "            if peak > lv.size_bytes:",
           "            if peak > 2 * lv.size_bytes:", PASSES, "planned buffers checked loosely"),
    Mutant("arena-overlap", "mapper/passes/buffer_plan.py",
           "        if p.last < first or last < p.first:",
           "        if p.last <= first or last <= p.first:", PASSES + MCU,
           "buffers sharing a step placed over each other"),
    Mutant("mcu-overwrite-last", "mapper/passes/mcu.py",
           "if b is not None and b.last == i and o.tensor.size_bytes >= by_name[out].size_bytes:",
           "if b is not None and b.last >= i and o.tensor.size_bytes >= by_name[out].size_bytes:", MCU,
           "a residual overwrites an input still needed later"),
    Mutant("mcu-block", "mapper/passes/mcu.py", "ROW_BLOCK = 8 ", "ROW_BLOCK = 16 ", MCU,
           "integrated blocks twice as tall"),
    Mutant("placement-innermost", "mapper/passes/placement.py",
           "order = [i for i in reversed(allowed) if i <= main_depth] or list(reversed(allowed))",
           "order = [i for i in allowed if i <= main_depth] or list(allowed)",
           ("tests/mapper/test_passes.py", "tests/mapper/test_models.py"),
           "tensors placed outermost first"),
    Mutant("objective-edp", "mapper/map_op.py",
           "return (cost.latency_s * cost.energy_pj, cost.latency_s)",
           "return (cost.latency_s, cost.energy_pj)", ("tests/mapper/test_search.py",
                                                        "tests/mapper/test_tiebreak.py"),
           "EDP objective ranks by latency"),
    # workloads
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
    # second round: the modules the first 40 left untouched (search, fusion/PIM passes, the cache
    # key, model families and HF configs, GPU timing, DRAM refresh and background power, node
    # scaling, the event loop)
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
    Mutant("ga-tournament", "archsim/kernels/genetic.py",
           "pa = min(a[i, 0], a[i, 1])",
           "pa = max(a[i, 0], a[i, 1])",
           ("tests/mapper/test_search_pins.py", "tests/mapper/test_search.py"),
           "tournament picks the worse parent"),
    Mutant("ga-elite", "archsim/kernels/genetic.py", "out[:n_elite] = pop[:n_elite]",
           "out[:n_elite] = pop[m - n_elite:]",
           ("tests/mapper/test_search_pins.py", "tests/mapper/test_search.py"),
           "elitism keeps the worst genomes"),
    Mutant("cache-key-seed", "mapper/map_op.py",
           "key = (C.op_signature(op), C.hw_key(hw), where, units, strategy, objective, budget, seed)",
           "key = (C.op_signature(op), C.hw_key(hw), where, units, strategy, objective, budget)",
           ("tests/mapper/test_persistent_cache.py", "tests/mapper/test_search_pins.py"),
           "the search seed left out of the mapping cache key"),
    Mutant("pim-per-bank", "mapper/passes/pim.py", "per_bank = ceil(n / (channels * banks))",
           "per_bank = ceil(n / channels)", ("tests/mapper/test_passes.py", "tests/engine/test_pim_asic.py"),
           "PIM rows split over channels only, not banks"),
    Mutant("staging-write", "archsim/engine/actions.py",
           '        count_action(c, f"{buf.name}.write", p.offchip_read_bytes)',
           '        count_action(c, f"{buf.name}.read", p.offchip_read_bytes)', ENERGY,
           "off-chip reads staged into the buffer counted as buffer reads"),
    Mutant("kv-append-reads-cache", "archsim/engine/plan.py",
           "        kv_write = min(kv_write, ins_act or kv_write)\n        kv_read = 0\n",
           "        kv_write = min(kv_write, ins_act or kv_write)\n",
           ENERGY + ("tests/engine/test_decode_attention.py", "tests/engine/test_placement.py"),
           "a KV append reads the whole cache"),
    Mutant("gpu-launch", "archsim/engine/timing/sm.py",
           "launch_s=min(unit.launch_overhead_s or launch, launch)", "launch_s=0.0",
           ("tests/engine/test_gpu_calibration.py", "tests/engine/test_software_stack.py",
            "tests/engine/test_host_overhead.py"), "GPU kernel launch time dropped"),
    Mutant("dram-refresh-fraction", "archsim/engine/dram.py",
           "    return t.trfc / t.trefi if t.trefi else 0.0", "    return 0.0",
           DRAM + ("tests/engine/test_refresh_when_idle.py",), "closed forms ignore refresh"),
    Mutant("dram-background-swap", "archsim/energy/dram.py",
           "ma = a * d.idd3n_ma + p * d.idd2p_ma + (1.0 - a - p) * d.idd2n_ma",
           "ma = a * d.idd2n_ma + p * d.idd2p_ma + (1.0 - a - p) * d.idd3n_ma",
           ("tests/energy/test_power.py", "tests/energy/test_validation.py"),
           "active and precharge standby currents swapped"),
    Mutant("node-scaling-vdd", "archsim/energy/scaling.py",
           "(vdd_at(node_nm) / 1.3) ** 2", "(vdd_at(node_nm) / 1.3)",
           ("tests/hardware/test_energy.py", "tests/energy/test_validation.py"),
           "dynamic energy scaled with V, not V²"),
    Mutant("eventloop-deps", "archsim/kernels/eventloop.py",
           "            if ready > s:\n                s = ready\n            e = plain_finish(",
           "            e = plain_finish(",
           ("tests/engine/test_kernel_twins.py", "tests/engine/test_simulate.py"),
           "a task on a plain resource starts before its inputs are ready"),
    # long DRAM streams (#20): refresh catch-up in closed form, the skips' shift rule
    Mutant("dram-refresh-backlog", "archsim/kernels/dram/commands.py",
           "        k = (end - nxt) // (step - P[P_RFC]) + 1", "        k = (end - nxt) // (step - P[P_RFC])",
           LONG, "a refresh backlog one refresh short"),
    Mutant("dram-skip-shifts-stale", "archsim/kernels/dram/skips.py",
           "                        if bank_st[b, f] != prev[4 * b + f - B_ACT]:   # rewritten each cycle",
           "                        if bank_st[b, f] > NEG // 2:", LONG,
           "the steady-state skip moves bank times the cycle never wrote"),
    # third round: code landed in sessions 6-7 (the PIM host buffer, at most 8 refreshes owed, the
    # closed-form coarse loads, NoC tile grouping, the burst path beside the controller, gap
    # shares, the loader's source/notes checks, HF activations, the mapping cache key, static and
    # DRAM background power, GPU kernels and calibration, serving, host + PIM systems)
    Mutant("pim-host-one-row", "archsim/engine/pim_host.py",
           "return buf is not None and 2 * ceil(shape[-1] * tensor.dtype_bits / 8) <= buf.capacity_bytes",
           "return buf is not None and ceil(shape[-1] * tensor.dtype_bits / 8) <= buf.capacity_bytes",
           PIMHOST, "the host buffer needs one score row, not two"),
    Mutant("pim-host-bits", "archsim/engine/pim_host.py",
           "2 * ceil(shape[-1] * tensor.dtype_bits / 8) <= buf.capacity_bytes",
           "2 * ceil(shape[-1] * tensor.dtype_bits) <= buf.capacity_bytes", PIMHOST,
           "a row's size in bits compared with the buffer's bytes"),
    Mutant("pim-host-kv-in-bank", "archsim/engine/pim_host.py",
           "and not any(o.tensor.role in (Role.WEIGHT, Role.KV_CACHE) for o in op.inputs))",
           "and not any(o.tensor.role in (Role.WEIGHT,) for o in op.inputs))", PIMHOST,
           "a decode's in-bank QKᵀ (KV cache in the banks) taken as streamed from the DRAM"),
    Mutant("refresh8-all-bank", "archsim/kernels/dram/commands.py",
           "    return chan[C_NEXTREF] + (MAX_POSTPONED - 1) * step",
           "    return chan[C_NEXTREF] + MAX_POSTPONED * step", REFRESH8,
           "columns go on until 9 refreshes are owed"),
    Mutant("refresh8-per-bank", "archsim/kernels/dram/commands.py",
           "return chan[C_NEXTREF] + (MAX_POSTPONED * P[P_NBANKS] - 1) * P[P_REFI]",
           "return chan[C_NEXTREF] + MAX_POSTPONED * P[P_NBANKS] * P[P_REFI]", REFRESH8,
           "per-bank refresh: one more per-bank refresh owed than allowed"),
    Mutant("refresh8-pim-columns", "archsim/kernels/dram/commands.py",
           "n = 0 if start >= limit else (limit - start + ccd - 1) // ccd",
           "n = 0 if start >= limit else (limit - start) // ccd", REFRESH8,
           "a PIM burst stops one column early before the owed refreshes"),
    Mutant("refresh8-simpy-twin", "archsim/engine/dram.py",
           "        return self.next_ref + (MAX_POSTPONED - 1) * step",
           "        return self.next_ref + MAX_POSTPONED * step", REFRESH8,
           "the SimPy reference lets 9 refreshes be owed"),
    Mutant("refresh8-controller", "archsim/kernels/dram/controller.py",
           "if queued[best] > 0 and owed < MAX_POSTPONED:",
           "if queued[best] > 0 and owed <= MAX_POSTPONED:", EQUIV + ("tests/engine/test_dram_controller.py",),
           "the controller postpones a ninth per-bank refresh"),
    # (weakening the guard to `< total` survives: in exact arithmetic a fetch of r·w/total ≥ 1
    # bytes already raises U at every fetch tile; the factor 2 is a margin against float rounding)
    Mutant("tiles-guard", "archsim/engine/tiles.py",
           "int(r) * min(w for _, w in per) < 2 * total:", "int(r) * min(w for _, w in per) < 0:",
           TILES, "closed-form loads used where a fetch may move no byte"),
    Mutant("tiles-count-side", "archsim/engine/tiles.py",
           "count = full * k + int(np.searchsorted(pattern, rest))",
           'count = full * k + int(np.searchsorted(pattern, rest, side="right"))', TILES,
           "a loading tile counted past the stream's end"),
    Mutant("tiles-upto", "archsim/engine/tiles.py",
           "acc += w * np.where(t >= 0, t // p + 1, 0)", "acc += w * np.where(t >= 0, t // p, 0)",
           TILES, "the running fetch weight misses the tile's own fetch"),
    Mutant("tiles-coarse-floor", "archsim/engine/tiles.py",
           "coarse = -(-count // max(1, cap))", "coarse = count // max(1, cap)", TILES,
           "coarsening factor rounded down: more coarse loads than the budget"),
    Mutant("noc-group-big", "archsim/engine/noc.py",
           "return ((e - s)[:, None] * d_q + big * (d_q1 - d_q)).tolist()",
           "return ((e - s)[:, None] * d_q + big * d_q1).tolist()", NOCG,
           "a group's (q + 1)-byte shares charged on top of their q-byte time"),
    Mutant("noc-group-end", "archsim/engine/noc.py",
           "e = np.append(s[1:], parts)", "e = np.append(s[1:], parts - 1)", NOCG,
           "the last group of shares one share short"),
    Mutant("noc-share-latency", "archsim/engine/noc.py",
           "ticks(q / bw + lat) if q else 0, ticks((q + 1) / bw + lat)",
           "ticks(q / bw + lat) if q else 0, ticks((q + 1) / bw)", NOCG,
           "a (q + 1)-byte share pays no hop latency"),
    Mutant("equiv-address-unit", "archsim/engine/dram_equivalence.py",
           "    return x * t.burst_bytes", "    return x", EQUIV,
           "controller addresses in bursts, not bytes"),
    Mutant("equiv-layout-column", "archsim/engine/dram_equivalence.py",
           "    return bank, slots // nb, j // k", "    return bank, slots // nb, j % k", EQUIV,
           "the engine's column index taken modulo the banks"),
    Mutant("equiv-overlap-strict", "archsim/engine/dram_equivalence.py",
           "if r in prev and ready < prev[r]:", "if r in prev and ready <= prev[r]:", EQUIV,
           "a burst ready as its channel frees counted as waiting"),
    Mutant("gap-share-analytic", "archsim/engine/attribution.py",
           "out.update({EFFECT_KEYS[name]: s - a for name, s, a in zip(names, saved, ana)})",
           "out.update({EFFECT_KEYS[name]: s for name, s, a in zip(names, saved, ana)})", GAP,
           "a DRAM effect's whole saving booked as its share of the gap"),
    Mutant("gap-not-cumulative", "archsim/engine/attribution.py",
           "        prev_total, prev_ops = total, ops\n", "", GAP,
           "each effect's saving measured from the full run, not cumulatively"),
    Mutant("gap-pim-wait-sum", "archsim/engine/attribution.py",
           "np.maximum(out, per, out=out)", "np.add(out, per, out=out)", GAP,
           "PIM issue waits summed over channel groups that run side by side"),
    Mutant("hw-source-list", "archsim/hardware/check.py",
           "refs = [value] if isinstance(value, str) else value if isinstance(value, list) else []",
           "refs = [value] if isinstance(value, str) else []", HWLOAD,
           "a list of source ids not checked"),
    Mutant("hw-notes-list", "archsim/hardware/build.py",
           '    ck.take(m, "notes", path, text)', '    ck.take(m, "notes", path, text_list)', HWLOAD,
           "a list given as notes accepted"),
    Mutant("hw-source-duplicates", "archsim/hardware/check.py",
           '    _duplicates(ck, _maps(data, "sources"), "id", "sources")\n', "", HWLOAD,
           "two sources with one id accepted"),
    Mutant("hf-act-unknown", "workloads/hf_config.py",
           'else "silu" if low in ("silu", "swish") else None)', 'else "silu")', HF,
           "an unknown activation taken as silu"),
    Mutant("hf-act-case", "workloads/hf_config.py", "    low = act.lower()", "    low = act", HF,
           "an activation named in capitals rejected"),
    Mutant("hf-act-gelu-variant", "workloads/hf_config.py",
           'kind = ("gelu" if "gelu" in low else', 'kind = ("gelu" if low == "gelu" else', HF,
           "gelu_new / gelu_pytorch_tanh rejected"),
    Mutant("cache-key-dtype", "mapper/cache.py",
           "operands = tuple([(o.dims, o.tensor.dtype_bits, o.tensor.role._value_, o.is_output)",
           "operands = tuple([(o.dims, o.tensor.role._value_, o.is_output)", PCACHE,
           "the op signature forgets the operands' dtype"),
    Mutant("cache-key-objective", "mapper/map_op.py",
           "key = (C.op_signature(op), C.hw_key(hw), where, units, strategy, objective, budget, seed)",
           "key = (C.op_signature(op), C.hw_key(hw), where, units, strategy, budget, seed)", PCACHE,
           "the search objective left out of the mapping cache key"),
    Mutant("cache-key-code", "mapper/persistent_cache.py",
           "text = repr((FORMAT, code_digest(), parts))", "text = repr((FORMAT, parts))", PCACHE,
           "the on-disk key forgets the mapper's code digest"),
    Mutant("power-leak-instances", "archsim/energy/power.py",
           "leak = sum(lv.leakage_w * max(1, lv.instances) for lv in hw.levels)",
           "leak = sum(lv.leakage_w for lv in hw.levels)", POWER,
           "leakage of a level counted once, not per instance"),
    Mutant("power-pim-busy", "archsim/energy/power.py",
           'for v in ("read", "write", "pim_read"))', 'for v in ("read", "write"))', POWER,
           "PIM in-bank reads leave the DRAM in precharge standby"),
    Mutant("power-idle-covers", "archsim/energy/power.py",
           "    if not hw.idle_covers_dram:\n", "    if True:\n", POWER,
           "DRAM background added on top of a measured board idle that includes it"),
    Mutant("power-throttle", "archsim/energy/power.py",
           "return max(latency_s, dynamic_j / (limit_w - time_w))",
           "return max(latency_s, dynamic_j / limit_w)", POWER,
           "a throttled run's time power not taken from the limit"),
    Mutant("power-dram-ranks", "archsim/energy/dram.py",
           "    return dq_bits / d.width_bits * ranks", "    return dq_bits / d.width_bits", POWER,
           "DRAM background of one rank only"),
    Mutant("gpu-cal-cv-leak", "archsim/engine/calibration.py",
           "train = [m for m in ms if (m.kind, m.group) != (kind, group)]", "train = list(ms)", GPUK,
           "cross-validation fits on the held-out family too"),
    Mutant("gpu-cal-elements", "archsim/engine/calibration.py",
           'gpu.elementwise_seconds(s["op"], s["T"] * s["d"], spec',
           'gpu.elementwise_seconds(s["op"], s["T"], spec', GPUK,
           "an elementwise kernel predicted for T elements, not T × d"),
    Mutant("gpu-cal-memo-key", "archsim/engine/calibration_fit.py",
           "key = (tuple((m.label, m.measured_s) for m in ms), tuple(names), make(prior), spec)",
           "key = (tuple(m.label for m in ms), tuple(names), make(prior), spec)", GPUK,
           "the fit's memo forgets the measured times (a refit returns the old constants)"),
    Mutant("gpu-kernels-epilogue", "archsim/engine/gpu_kernels.py",
           'if p.op.kind in _EPILOGUE_KINDS and src is not None and kernels[src][0] == "gemm":',
           "if p.op.kind in _EPILOGUE_KINDS and src is not None:", GPUK,
           "an activation fused as the epilogue of a non-GEMM kernel"),
    Mutant("serve-kv-floor", "archsim/serving/kvcache.py",
           "    return -(-tokens // block_tokens)", "    return tokens // block_tokens", SERVE,
           "a sequence's last, partly filled KV block not held"),
    Mutant("serve-can-hold", "archsim/serving/kvcache.py",
           "- self.held.get(request_id, 0) <= self.free_blocks",
           "- self.held.get(request_id, 0) < self.free_blocks", SERVE,
           "the last free KV block never handed out"),
    Mutant("serve-tpot", "archsim/serving/metrics.py",
           "/ (f.output_tokens - 1) if f.output_tokens > 1 else None",
           "/ f.output_tokens if f.output_tokens > 1 else None", SERVE,
           "TPOT divided by every token, the first included"),
    Mutant("serve-attainment", "archsim/serving/metrics.py",
           "attainment = met / run.arrived if run.arrived else 0.0",
           "attainment = met / len(done) if done else 0.0", SERVE,
           "SLO attainment over finished requests only (rejected ones drop out)"),
    Mutant("system-split", "archsim/system/run.py",
           "[batch // parts + (1 if i < batch % parts else 0) for i in range(parts)]",
           "[batch // parts + (1 if i <= batch % parts else 0) for i in range(parts)]", SYSTEM,
           "sub-batches sum to more than the batch"),
    Mutant("system-resident-instances", "archsim/system/run.py",
           "room = max((lv.capacity_bytes for lv in hw.levels",
           "room = max((lv.size_bytes for lv in hw.levels", SYSTEM,
           "weight residency checked against one instance of a replicated buffer"),
    Mutant("system-hold-refresh", "archsim/system/run.py",
           "t.channels * (1.0 - stream_refresh_fraction(t))", "t.channels", SYSTEM,
           "a shared memory's streaming rate ignores refresh"),
    Mutant("system-link-latency", "archsim/system/run.py",
           "delay_s=lk.latency_s, memory=pins", "delay_s=0.0, memory=pins", SYSTEM,
           "a transfer between devices pays no link latency"),
    # flip: the controller path as the default DRAM path at cycle fidelity
    Mutant("flip-default-burst", "archsim/engine/execute.py", 'DEFAULT_DRAM_MODEL = "controller"',
           'DEFAULT_DRAM_MODEL = "burst"',
           ("tests/engine/test_controller_path.py::test_simulate_says_which_dram_model_ran",
            "tests/engine/test_controller_path.py::test_system_devices_take_the_dram_model",
            "tests/engine/test_controller_path.py::test_cli_help_names_the_default_dram_model",
            "tests/engine/test_controller_path.py::test_cli_dram_model_default_and_burst_everywhere"),
           "the default DRAM path left at burst"),
    Mutant("flip-simpy-label", "archsim/engine/execute.py",
           "SIMPY_DRAM_MODELS = DRAM_MODELS", 'SIMPY_DRAM_MODELS = ("burst",)',
           ("tests/engine/test_controller_path.py::test_simulate_says_which_dram_model_ran",
            "tests/engine/test_controller_path.py::test_system_devices_take_the_dram_model",
            "tests/engine/test_controller_path.py::test_cli_help_names_the_default_dram_model",
            "tests/engine/test_controller_path.py::test_cli_dram_model_default_and_burst_everywhere"),
           "the SimPy engine without its twin of the default controller path"),
    Mutant("flip-system-path", "archsim/system/run.py",
           "stack,\n                                       dram_model=dram_model)",
           "stack)",
           ("tests/engine/test_controller_path.py::test_simulate_says_which_dram_model_ran",
            "tests/engine/test_controller_path.py::test_system_devices_take_the_dram_model",
            "tests/engine/test_controller_path.py::test_cli_help_names_the_default_dram_model",
            "tests/engine/test_controller_path.py::test_cli_dram_model_default_and_burst_everywhere"),
           "a system's devices ignore the DRAM path asked for"),
    Mutant("flip-cli-path", "archsim/cli/simulate.py", "                dram_model=args.dram_model)",
           "                dram_model=None)",
           ("tests/engine/test_controller_path.py::test_simulate_says_which_dram_model_ran",
            "tests/engine/test_controller_path.py::test_system_devices_take_the_dram_model",
            "tests/engine/test_controller_path.py::test_cli_help_names_the_default_dram_model",
            "tests/engine/test_controller_path.py::test_cli_dram_model_default_and_burst_everywhere"),
           "--dram-model dropped on the way to the API"),
    # gapname (session 9): the exclusive-time walk in service order, the pipeline fill and drain,
    # the label of other_s in runs that did not measure the overlap
    Mutant("excl-trace-order", "archsim/engine/exclusive.py",
           "order = np.lexsort((np.arange(n), start, res))", "order = np.lexsort((np.arange(n), res))",
           ("tests/engine/test_exclusive_time.py",),
           "the walk steps to the resource predecessor in trace order, not service order"),
    Mutant("fill-store-wait", "archsim/engine/exclusive.py",
           "if side[t] != 2 or op[t] < 0:       # a store's wait", "if True:       # a store's wait",
           ("tests/engine/test_exclusive_time.py",),
           "the wait before a store counted as pipeline drain"),
    Mutant("fill-bottleneck-smaller", "archsim/engine/exclusive.py",
           "bottleneck = group[1] if busy[1] > busy[0] else group[0]",
           "bottleneck = group[1] if busy[1] < busy[0] else group[0]",
           ("tests/engine/test_exclusive_time.py",),
           "the fill measured against the side busy for less time (the hidden one)"),
    Mutant("other-label-always-plain", "reports/table.py",
           'return GAP_LABELS["other_s"] if getattr(r, "attribute_gap", True) else OTHER_WITH_OVERLAP',
           'return GAP_LABELS["other_s"]', ("tests/engine/test_gap_report.py",),
           "a plain run's other_s shown as if the overlap were separated"),
    Mutant("fill-with-dram-effects", "archsim/engine/attribution.py",
           "exclusive_time(serial, bare, n, lw.compute_res)", "exclusive_time(serial, srun, n, lw.compute_res)",
           ("tests/engine/test_gap_shares.py",),
           "with attribute_gap the fill read off the serialised run with DRAM timing (counted twice)"),
    Mutant("fill-mem-store", "archsim/engine/exclusive.py",
           "out[hit[mem[tr.res[hit]]]] = True", "out[hit[mem[tr.res[hit]]]] = False",
           ("tests/engine/test_exclusive_time.py",),
           "a store to an off-chip level without DRAM timing (simba's) counted as pipeline drain"),
    Mutant("fill-noc-hop", "archsim/engine/exclusive.py",
           "side_a[links[tr.res]] = 2", "side_a[links[tr.res]] = 0", ("tests/engine/test_exclusive_time.py",),
           "a NoC reduction hop after the compute counted as pipeline drain (the NoC's share)"),
    Mutant("fill-under-link", "archsim/engine/exclusive.py",
           "idx = np.concatenate([bottleneck, group[2]])", "idx = bottleneck",
           ("tests/engine/test_exclusive_time.py",),
           "a load under a host-link transfer the closed form charges serially counted as fill"),
    Mutant("pim-layout-lanes", "archsim/engine/dram_layout.py",
           "cols = ceil(macs / t.channels / (nb * lanes))", "cols = ceil(macs / t.channels / nb)",
           ("tests/engine/test_pim_analytic_gap.py", "tests/engine/test_pim_asic.py"),
           "in-bank MAC commands ignore the MAC lanes per PIM unit (analytic and cycle alike)"),
    Mutant("refetch-loop-trip-one", "archsim/engine/plan.py",
           "if d in dims and trips[d] > 1), default=-1)", "if d in dims and trips[d] >= 1), default=-1)",
           ("tests/engine/test_loop_nest.py", "tests/engine/test_simulate.py",
            "tests/engine/test_tile_loads_closed.py"),
           "a loop of one trip that indexes the operand counted as its refetch loop"),
    # engine/trace.py: the array-backed TraceBuilder against its plain-list twin
    Mutant("trace-release-first-wins", "archsim/engine/trace.py",
           "tasks, first = np.unique(tasks[::-1], return_index=True)\n"
           "            release[tasks] = at[::-1][first]",
           "tasks, first = np.unique(tasks, return_index=True)\n"
           "            release[tasks] = at[first]", ("tests/engine/test_trace_builder.py",),
           "a task released twice keeps its first release, not its last"),
    Mutant("trace-mode-dtype", "archsim/engine/trace.py", '"mode": np.int8,', '"mode": np.int16,',
           ("tests/engine/test_trace_builder.py",), "the built mode array in another dtype"),
    Mutant("trace-float-round", "archsim/engine/trace.py", "rows.extend([int(v) for v in values])",
           "rows.extend([round(v) for v in values])", ("tests/engine/test_trace_builder.py",),
           "a float field rounded where the list builder truncated it"),
    # DRAM power-down on the engine's paths (ctrlpd)
    Mutant("pd-entry-at-timer", "archsim/kernels/dram/powerdown.py",
           "        if arrival > entry:", "        if arrival >= entry:",
           ("tests/engine/test_powerdown.py",),
           "a transfer arriving exactly when the idle timer expires pays the exit"),
    Mutant("pd-no-tcke", "archsim/kernels/dram/powerdown.py",
           "wake = max(arrival, entry + P[P_TCKE]) + P[P_TXP]", "wake = arrival + P[P_TXP]",
           ("tests/engine/test_powerdown.py",),
           "a power-down shorter than tCKE exits early"),
    Mutant("pd-burst-no-data-end", "archsim/kernels/dram/stream.py",
           "    note_data_end(chan, end)\n", "",
           ("tests/engine/test_powerdown.py",),
           "the burst path never records its last data: every transfer finds the channel idle"),
    Mutant("pd-request-no-data-end", "archsim/kernels/dram/shared.py",
           "        if end > chan[d, C_LASTEND]:\n            chan[d, C_LASTEND] = end\n", "",
           ("tests/engine/test_powerdown.py",),
           "request-level columns do not count as channel activity for the idle timer"),
    Mutant("pd-admit-before-wake", "archsim/kernels/dram/shared.py",
           "            if wake > ent:\n                ent = wake\n", "",
           ("tests/engine/test_powerdown.py",),
           "requests admitted after a power-down issue before the channel has woken"),
    Mutant("pd-simpy-never", "archsim/engine/reference.py",
           "                ready = ch.powerdown_exit(ready)\n", "",
           ("tests/engine/test_powerdown.py",),
           "the SimPy reference never powers a channel down"),
    Mutant("pd-tail-from-idle", "archsim/engine/execute.py",
           "return (1, makespan - entry) if", "return (1, makespan - idle_from) if",
           ("tests/engine/test_powerdown.py",),
           "the power-down at the run's end counted from the last data, not from its entry"),
    Mutant("pd-energy-ignored", "archsim/energy/power.py",
           "powerdown_fraction(lv, counts, latency_s))", "0.0)",
           ("tests/engine/test_powerdown.py",),
           "DRAM background energy ignores the simulated power-down residency"),
    Mutant("pim-row-never-yields", "archsim/kernels/dram/shared.py",
           "pim_head_yields = mode[h] == MODE_PIM_MAC and cs[d, S_PIMROW] != 0",
           "pim_head_yields = False", ("tests/engine/test_pim_host_interleave.py",),
           "pim_host_interleave: row serves a PIM burst whole, as transfer does"),
    # archsim/engine/reference_controller.py: the SimPy twin of the controller path (simpyctrl)
    Mutant("twin-round-robin", "archsim/engine/reference_controller.py",
           "pick = next((o for o in cands if o.key > self.rr), cands[0])", "pick = cands[0]",
           ("tests/engine/test_reference_controller.py",),
           "twin admits requests oldest transfer first, not round robin"),
    Mutant("twin-drain", "archsim/engine/reference_controller.py",
           "nw >= max(1, (3 * self.qmax) // 4)", "nw >= self.qmax",
           ("tests/engine/test_reference_controller.py",), "twin drains writes only when the queue is all writes"),
    Mutant("twin-cap", "archsim/engine/reference_controller.py",
           "if self.bypass > self.cap:", "if self.bypass > self.cap + 1:",
           ("tests/engine/test_reference_controller.py",), "twin's row-hit cap one bypass late"),
    Mutant("twin-entry-full", "archsim/engine/reference_controller.py",
           "ent = max(self.amax, self.prev_t) if full_before else self.amax", "ent = self.amax",
           ("tests/engine/test_reference_controller.py",),
           "twin: a request that waited outside a full queue enters at its arrival"),
    Mutant("twin-switch-at", "archsim/engine/reference_controller.py",
           "while r < h.nrows and self.plan_s[r - self.r0] < at:",
           "while r < h.nrows and self.plan_s[r - self.r0] <= at:",
           ("tests/engine/test_reference_controller.py",),
           "twin keeps a row burst whose first column comes at the arrival that switches"),
    Mutant("twin-event-order", "archsim/engine/reference_controller.py",
           "priority=2 + kind * self.nd + self.d,", "priority=2 + self.d * 3 + kind,",
           ("tests/engine/test_reference_controller.py",),
           "twin takes events at one time channel by channel, not commits first"),
    Mutant("twin-past-event", "archsim/engine/reference_controller.py",
           "self.env.schedule(ev, priority=1.5, delay=0)", "self.env.schedule(ev, priority=2, delay=0)",
           ("tests/engine/test_reference_controller.py",),
           "twin takes an event before now after other channels' events at now"),
    Mutant("twin-postpone", "archsim/engine/reference_controller.py",
           'if queued[best] > 0 and (now - due) // p["trefi"] + 1 < MAX_POSTPONED:', "if False:",
           ("tests/engine/test_reference_controller.py",),
           "twin never postpones a per-bank refresh at request level"),
    Mutant("twin-solo-cap", "archsim/engine/reference_controller.py",
           "cap_at = -(-cap_task.adm // cap_task.ncols) * cap_task.ncols",
           "cap_at = cap_task.nrows * cap_task.ncols", ("tests/engine/test_reference_controller.py",),
           "twin: a transfer left alone at request level admits to its end, not its row burst's"),
    Mutant("twin-first-column", "archsim/engine/reference_controller.py",
           "            self._begin(h, min(h.start, self.first))", "            pass",
           ("tests/engine/test_reference_controller.py",),
           "twin starts a transfer's port accesses only once it is done"),
    Mutant("timeloop-clock", "archsim/kernels/timeloop.py",
           "            if ts[h, T_END] < clock:", "            if False:",
           ("tests/engine/test_reference_controller.py",),
           "Numba: a transfer finished by an event before the latest one taken ends in the past"),
)

#: mutants that cannot change any observable result, with the reason (not scored)
EQUIVALENT: dict[str, str] = {
    "dram-hit-rcd": "a row hit only finds a row a previous burst opened, and that burst's columns "
                    "already waited ACT + tRCD; every later column command is spaced after the "
                    "channel's last column (tCCD, or tCCDab for PIM MACs), so the hit's own tRCD "
                    "floor never binds (kernels/dram/commands.py: row_burst)",
    "kv-append-reads-cache": "every KV_APPEND any builder emits (workloads/lowering.py: kv_append, "
                             "used by the decoder and T5 families, so HF configs too; ONNX import "
                             "emits none) "
                             "has the cache as its output operand only, so the KV bytes it reads "
                             "(non-output KV operands) are 0 before the line zeroes them; only a "
                             "hand-built op reading the cache as an input would differ",
    "twin-past-event": "priority 1.5 or 2 orders an event before now (taken at now, delay 0) only "
                       "against live events of priority 2 at now, i.e. channel 0's COMMIT at now "
                       "(every other channel event at now has priority >= 3; SimPy's own events "
                       "0/1 go first either way; voided events do nothing). Such a live event and a "
                       "past event are never pending together: each channel has one live event "
                       "(its token), a past event or a channel-0 commit at now is created only by "
                       "a channel's own _fire (which consumed the channel's live event: if that "
                       "fire had priority >= 3, nothing of priority <= 2 was pending, else it was "
                       "the one) or by an arrival re-arming an ALONE channel (`_alone_event`: its "
                       "new event is past or a commit at now only if the one it replaces was), so "
                       "at most one live event of priority <= 2 exists at any time and 1.5 vs 2 "
                       "never reorders two live events (engine/reference_controller.py: _arm, "
                       "_alone_event, _fire; checked on 3140 random 2-4-channel draws with PIM "
                       "bursts (tests/engine/test_reference_controller.overlap_trace): 319 past "
                       "events, none pending beside another live priority-<=2 event, every run "
                       "equal to the unmutated twin's)",
}


def _copy_tree(dest: Path) -> None:
    ignore = shutil.ignore_patterns(".git", "__pycache__", ".hypothesis", ".pytest_cache", "*.egg-info",
                                    "archsim-out", "build", "dist")
    shutil.copytree(ROOT, dest, ignore=ignore, dirs_exist_ok=True)


def _pytest(cwd: Path, tests: tuple[str, ...], timeout: float) -> tuple[int, float]:
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "HYPOTHESIS_PROFILE")}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    t0 = time.time()
    try:
        run = subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider",
                              "-o", "addopts=", *tests], cwd=cwd, env=env, capture_output=True,
                             timeout=timeout)
        return run.returncode, time.time() - t0
    except subprocess.TimeoutExpired:
        return -1, time.time() - t0


def run_mutant(m: Mutant, workdir: Path, timeout: float) -> dict:
    path = workdir / m.file
    if not path.is_file():
        return {"id": m.id, "status": "not_applicable", "note": f"mutant no longer applies: no file {m.file}"}
    original = path.read_text(encoding="utf-8")
    stat = path.stat()
    if original.count(m.old) != 1:
        return {"id": m.id, "status": "not_applicable",
                "note": f"mutant no longer applies: {m.file} has the text {original.count(m.old)} times"}
    # Numba's cache of one kernel file does not notice an edit of another it calls: a mutated
    # kernel runs with no cache at all, and the unmutated tree's cache is put back afterwards
    # (valid again: the file's text and time stamp are restored), so later mutants need not
    # compile every kernel again
    kernel = m.file.startswith("archsim/kernels/")
    cache = workdir / "archsim" / "kernels" / "__pycache__"
    kept = cache.with_name("__pycache__.unmutated")
    try:
        path.write_text(original.replace(m.old, m.new), encoding="utf-8")
        if kernel:
            shutil.rmtree(kept, ignore_errors=True)
            if cache.exists():
                cache.rename(kept)
        code, seconds = _pytest(workdir, m.tests, timeout)
    finally:
        path.write_text(original, encoding="utf-8")
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
        if kernel:
            shutil.rmtree(cache, ignore_errors=True)
            if kept.exists():
                kept.rename(cache)
    status = {0: "survived", 5: "no_tests", -1: "killed"}.get(code, "killed")
    out = {"id": m.id, "status": status, "seconds": round(seconds, 1), "what": m.what}
    if code == -1:
        out["note"] = "timed out"
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--only", default="")
    ap.add_argument("--timeout", type=float, default=900.0)
    ap.add_argument("--list", action="store_true")
    args = ap.parse_args(argv)
    todo = [m for m in MUTANTS if not args.only or m.id in args.only.split(",")]
    if args.list:
        for m in todo:
            print(f"{m.id:28s} {m.file:36s} {m.what}")
        return 0
    t0 = time.time()
    scored = [m for m in todo if m.id not in EQUIVALENT]
    with tempfile.TemporaryDirectory(prefix="archsim-mutation-") as tmp:
        dirs = [Path(tmp) / f"w{i}" for i in range(max(1, args.jobs))]
        for d in dirs:
            _copy_tree(d)
        # the unmutated tree must pass every test subset used, or no verdict means anything
        subsets = sorted({t for m in scored for t in m.tests})
        code, _ = _pytest(dirs[0], tuple(subsets), args.timeout * 4)
        if code != 0:
            print(json.dumps({"benchmark": "mutation", "error": "the unmutated tests fail",
                              "tests": subsets}))
            return 1
        free = list(dirs)
        import threading
        lock = threading.Lock()

        def job(m):
            with lock:
                d = free.pop()
            try:
                result = run_mutant(m, d, args.timeout)
                print(json.dumps(result), file=sys.stderr, flush=True)     # progress
                return result
            finally:
                with lock:
                    free.append(d)

        with ThreadPoolExecutor(max_workers=len(dirs)) as pool:
            results = list(pool.map(job, scored))
    killed = [r["id"] for r in results if r["status"] == "killed"]
    survived = [r["id"] for r in results if r["status"] in ("survived", "no_tests")]
    gone = [r for r in results if r["status"] == "not_applicable"]
    counted = len(killed) + len(survived)
    score = len(killed) / counted if counted else 0.0
    print(json.dumps({"benchmark": "mutation", "score": round(score, 4), "target": TARGET_SCORE,
                      "killed": len(killed), "scored": counted, "survived": survived,
                      "not_applicable": [f"{r['id']}: {r['note']}" for r in gone],
                      "equivalent": [f"{k}: {v}" for k, v in EQUIVALENT.items()
                                     if any(m.id == k for m in todo)],
                      "seconds": round(time.time() - t0, 1)}))
    return 0 if score >= TARGET_SCORE else 1


if __name__ == "__main__":
    sys.exit(main())
