"""`archsim simulate`: one model on one chip → a terminal summary and JSON / HTML / CSV files.
Lists in --batch, --seq or --context (e.g. `--context 128,1024,4096`) produce a series."""
from __future__ import annotations

from .outputs import (add_cache_flag, add_hw_set_flag, add_model_set_flag, add_output_flags,
                      check_output_flags, emit, hw_overrides, int_list, model_overrides, stem)

__all__ = ["add_parser", "run"]


def add_workload_flags(p) -> None:
    p.add_argument("--model", required=True,
                   help="zoo name (see `archsim models`), a Hugging Face config.json or an .onnx file")
    p.add_argument("--phase", help="prefill | decode | encode (default: decode when --context is "
                                   "given, else the chip's default phase (`archsim hw show`), else "
                                   "prefill; encode for encoder-only models)")
    p.add_argument("--batch", default="1", help="batch size, or a list like 1,8,32 (default 1)")
    p.add_argument("--seq", help="prompt / input length for prefill or encode (list allowed)")
    p.add_argument("--context", help="positions attended to in decode, or a list like 128,1024,4096")
    p.add_argument("--dtype", help="dtype of weights, activations and KV cache (e.g. int8), or "
                                   "per class: weights=int4,activations=int8,kv=fp16 (default: the "
                                   "chip's default dtype, else bf16)")
    p.add_argument("--fidelity", default="analytic",
                   help="analytic (default): per-op closed forms, ops back to back | cycle: the "
                        "mapping's tiles as tasks in an event loop — every DRAM channel (see "
                        "--dram-model), SRAM ports and banks, NoC links, double buffers; on GPUs "
                        "the calibrated kernel model (the analytic number), on MCUs the core's "
                        "closed form per op with SRAM ports and flash wait states")
    p.add_argument("--attribute-gap", action="store_true",
                   help="cycle fidelity, one point: name each op's overlap with its neighbours and "
                        "the shares of DRAM refresh, turnaround, row activation, access latency, the "
                        "SRAM ports and the NoC in each op's analytic-vs-cycle gap (six or seven more "
                        "event-loop runs)")
    p.add_argument("--dram-model", default=None, metavar="controller|burst",
                   help="cycle fidelity: the engine's DRAM path on every channel. controller "
                        "(default): transfers that overlap on a channel go through the "
                        "request-level controller (queue, FR-FCFS with the row-hit cap, write "
                        "drain, read/write turnaround, all-bank or per-bank refresh), a transfer "
                        "alone is served by the burst closed form (equal to the command path); "
                        "burst: each channel serves its transfers in issue order, each by the burst "
                        "closed form. Both model power-down where a description sets its idle "
                        "timer. GPUs: cycle fidelity is the "
                        "calibrated kernel model (no DRAM tasks); MCUs: the core's closed form per "
                        "op, flash read in place (no DRAM tasks)")
    p.add_argument("--strategy", default="auto", help="mapping search strategy (default auto)")
    p.add_argument("--seed", type=int, default=0, help="seed of the mapping search (default 0)")
    p.add_argument("--budget", type=int, default=None, metavar="N",
                   help="mapping search budget: evaluations per op (default: the mapper's)")
    p.add_argument("--prefill-chunk", type=int, default=None, metavar="N",
                   help="prefill a prompt longer than N tokens in chunks of N (chunked prefill: "
                        "each chunk attends to the earlier ones through the KV cache)")
    p.add_argument("--stack", default="graph",
                   help="GPU software stack: eager (one kernel per framework op, host time per "
                        "kernel) | graph (default: CUDA-graph replay, fused QKV and gate/up GEMMs) | "
                        "serving (graph + fused residual/norm, rope, KV writes, activation epilogues); "
                        "each also as <stack>+standard-attention (three attention kernels, S and P "
                        "through HBM) and <stack>+fa2-decode (no KV split in decode)")
    p.add_argument("--devices", type=int, default=1, metavar="N",
                   help="run the model tensor-parallel over N chips joined by the description's "
                        "link (heads and MLP split, an all-reduce after each block; default 1)")
    add_model_set_flag(p)
    add_cache_flag(p)


def add_parser(subparsers):
    p = subparsers.add_parser(
        "simulate", help="simulate one model on one chip",
        description="Simulate a Transformer on a chip: latency, throughput, energy, power and "
                    "buffer use per memory level. Lists in --batch/--seq/--context make a sweep.")
    add_workload_flags(p)
    target = p.add_mutually_exclusive_group(required=True)
    target.add_argument("--hw", help="hardware library name (see `archsim hw`) or a YAML path")
    target.add_argument("--system", help="a system of devices and links (hwconfigs/systems/, e.g. "
                                         "attacc-dgx-h100) or a system YAML path")
    add_system_flags(p)
    add_hw_set_flag(p)
    add_output_flags(p)
    return p


def add_system_flags(p) -> None:
    g = p.add_argument_group("systems (with --system)")
    g.add_argument("--placement", help="which device runs which op group: e.g. 'attention on pim', "
                                       "'fc on gpu, rest on pim', 'all on gpu', or 'search' "
                                       "(default: the system's own policy)")
    g.add_argument("--sub-batches", type=int, default=1, metavar="N",
                   help="split the batch into N sub-batches that interleave across devices "
                        "(NeuPIMs-style; default 1)")
    g.add_argument("--no-layer-pipelining", action="store_true",
                   help="with sub-batches: no sub-batch starts a layer before all finished the last")
    g.add_argument("--no-weight-reuse", action="store_true",
                   help="with sub-batches: every sub-batch streams each FC weight again (default: "
                        "a weight that fits the device's on-chip buffer is read once for all)")
    g.add_argument("--stream-chunks", type=int, default=1, metavar="N",
                   help="run every op as N slices; an elementwise or per-head op starts on its "
                        "input's first slice (PIM-GPT-style streaming between devices; default 1)")
    g.add_argument("--no-overlap", action="store_true",
                   help="run every op and transfer back to back (devices never concurrent)")


def system_args(args) -> dict:
    """simulate_system's options from the flags (refusing the chip-only ones)."""
    from archsim.api import ArgumentError
    for flag, value in (("--devices", args.devices != 1), ("--prefill-chunk", args.prefill_chunk),
                        ("--hw-set", args.hw_set)):
        if value:
            raise ArgumentError(f"{flag} applies to a chip (--hw); a system sets its devices, shards "
                                "and chips in its YAML")
    return dict(placement=args.placement, sub_batches=args.sub_batches,
                layer_pipelining=not args.no_layer_pipelining, overlap=not args.no_overlap,
                stream_chunks=args.stream_chunks, weight_reuse=not args.no_weight_reuse)


def workload_args(args) -> dict:
    """The keyword arguments shared by api.simulate / sweep / compare, validated."""
    from archsim.api.arguments import (FIDELITIES, ArgumentError, check_dram_model, check_stack,
                                       choice, resolve_phase)
    batch = int_list(args.batch, "--batch")
    seq = int_list(args.seq, "--seq")
    context = int_list(args.context, "--context")
    choice(args.fidelity, FIDELITIES, "fidelity")
    check_stack(args.stack)
    if args.dram_model is not None:
        check_dram_model(args.dram_model)
        if args.fidelity != "cycle":
            raise ArgumentError("--dram-model applies to --fidelity cycle")
    # an unset phase stays None: the API then takes the chip's `defaults.phase` where it has one
    phase = args.phase and resolve_phase(args.model, args.phase, seq and seq[0], context and context[0])
    return dict(phase=phase, batch=batch, seq=seq, context=context, dtype=args.dtype,
                fidelity=args.fidelity, strategy=args.strategy, seed=args.seed, budget=args.budget,
                prefill_chunk=args.prefill_chunk, devices=args.devices,
                overrides=model_overrides(args.model_set), stack=args.stack,
                dram_model=args.dram_model)


def _single(values):
    return values[0] if values is not None and len(values) == 1 else values


def run(args) -> int:
    from archsim import api
    from archsim.reports.roof import roof_from_hardware
    from archsim.reports.progress import ProgressBar

    kw = workload_args(args)
    check_output_flags(args)
    if args.system:
        if args.attribute_gap:
            raise api.ArgumentError("--attribute-gap applies to one chip, not a --system")
        return _run_system(args, kw)
    if args.placement or args.sub_batches != 1 or args.no_layer_pipelining or args.no_overlap \
            or args.stream_chunks != 1 or args.no_weight_reuse:
        raise api.ArgumentError("--placement, --sub-batches, --stream-chunks, --no-layer-pipelining, "
                                "--no-weight-reuse and --no-overlap apply to a --system")
    is_sweep = any(v is not None and len(v) > 1 for v in (kw["batch"], kw["seq"], kw["context"]))
    if args.attribute_gap and (is_sweep or kw["fidelity"] != "cycle"):
        raise api.ArgumentError("--attribute-gap applies to one workload point at --fidelity cycle")
    hw = api.arguments.resolve_hardware(args.hw, hw_overrides(args.hw_set))
    with ProgressBar(quiet=args.quiet, unit=" ops") as bar:
        if is_sweep:
            obj = api.sweep(args.model, hw, progress=bar, **kw)
            first = obj.results[0]
        else:
            kw.update(batch=_single(kw["batch"]), seq=_single(kw["seq"]), context=_single(kw["context"]))
            obj = first = api.simulate(args.model, hw, progress=bar, attribute_gap=args.attribute_gap,
                                       **kw)
    name = f"{stem(first.model or args.model)}_{stem(hw.name)}_{first.phase}"
    if is_sweep:
        name += "_sweep"
    return emit(obj, args, name, roof=roof_from_hardware(hw, first.dtype))


def _run_system(args, kw) -> int:
    from archsim import api
    from archsim.system import simulate_system
    from archsim.reports.progress import ProgressBar
    options = system_args(args)
    if any(v is not None and len(v) > 1 for v in (kw["batch"], kw["seq"], kw["context"])):
        raise api.ArgumentError("a system runs one workload point: give one --batch, --seq and --context")
    with ProgressBar(quiet=args.quiet, unit=" ops") as bar:
        result = simulate_system(args.model, args.system, phase=kw["phase"], batch=kw["batch"][0],
                                 seq=_single(kw["seq"]), context=_single(kw["context"]),
                                 dtype=kw["dtype"], fidelity=kw["fidelity"], strategy=kw["strategy"],
                                 seed=kw["seed"], budget=kw["budget"], overrides=kw["overrides"],
                                 stack=kw["stack"], dram_model=kw["dram_model"], progress=bar,
                                 **options)
    return emit(result, args, f"{stem(result.model or args.model)}_{stem(result.system)}_{result.phase}")
