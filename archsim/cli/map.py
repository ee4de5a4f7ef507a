"""`archsim map`: how each op of a model (or one GEMM) is mapped onto a chip, and what it costs.

    archsim map --model bert-base --hw tpu-v1 --seq 128 [--op L0.attn.q] [--strategy genetic]
                [--objective latency|energy|edp] [--budget N] [--seed S] [--json]
                [--mcu-techniques operator_integration,patch_decomposition,token_overwriting|none]
    archsim map --gemm 512,768,768 --hw tpu-v1 [--dataflow os|ws|is] [--dtype int8] [--json]
"""
from __future__ import annotations

import json
import sys

from .outputs import add_cache_flag

__all__ = ["add_parser", "run"]

OBJECTIVES = ("latency", "energy", "edp")


def add_parser(subparsers):
    p = subparsers.add_parser(
        "map", help="map a model (or one GEMM) onto a chip and show the mapping",
        description="Search each op's mapping (unit, spatial unrolling, dataflow, tiling and loop "
                    "order per memory level) and report its analytic cycles, energy, reads/writes "
                    "per level and utilization. Either --model or --gemm M,N,K.")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--model", help="zoo name, Hugging Face config.json or .onnx file")
    what.add_argument("--gemm", metavar="M,N,K", help="a single GEMM Y[M,N] = X[M,K]·W[K,N]")
    p.add_argument("--hw", required=True, help="hardware library name (see `archsim hw`) or a YAML path")
    p.add_argument("--phase", help="prefill | decode | encode")
    p.add_argument("--batch", type=int, default=1, help="batch size (default 1)")
    p.add_argument("--seq", type=int, help="prompt / input length")
    p.add_argument("--context", type=int, help="positions attended to in decode")
    p.add_argument("--dtype", help="dtype, e.g. int8 (model: also weights=int4,activations=int8)")
    p.add_argument("--op", help="map only the op with this name")
    p.add_argument("--dataflow", help="systolic dataflow for --gemm: os | ws | is (default: search)")
    p.add_argument("--strategy", default="auto",
                   help="auto | exhaustive | random | genetic | local | hybrid (default auto)")
    p.add_argument("--objective", default="edp", help="latency | energy | edp (default edp)")
    p.add_argument("--budget", type=int, default=None, metavar="N",
                   help="evaluations per op and unit (default: the mapper's)")
    p.add_argument("--seed", type=int, default=0, help="search seed (default 0)")
    p.add_argument("--mcu-techniques", metavar="LIST", default=None,
                   help="MCUFormer memory techniques on an MCU, comma-separated, or 'none' "
                        "(default: operator_integration,patch_decomposition,token_overwriting)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    add_cache_flag(p)
    return p


def _gemm_dims(text: str) -> tuple[int, int, int]:
    from archsim.cli.outputs import shown
    from archsim.errors import MappingError
    from archsim.limits import MAX_LOOP_DIM
    parts = [s.strip() for s in text.split(",")]
    if len(parts) != 3 or not all(s.isascii() and s.isdigit() and len(s) <= 30 and int(s) > 0
                                  for s in parts):
        raise MappingError(f"--gemm: expected three positive integers M,N,K (got {shown(text)})")
    dims = int(parts[0]), int(parts[1]), int(parts[2])
    if max(dims) > MAX_LOOP_DIM:
        raise MappingError(f"--gemm: each of M, N, K must be at most {MAX_LOOP_DIM:,} (2^50), past any "
                           f"real GEMM (got {shown(text)})")
    return dims


def _restrict_dataflow(hw, dataflow: str):
    from dataclasses import replace

    from archsim.errors import MappingError, did_you_mean
    if dataflow not in ("os", "ws", "is"):
        raise MappingError(f"--dataflow: unknown dataflow {dataflow!r}; "
                           f"{did_you_mean(dataflow, ('os', 'ws', 'is')) or 'choose os, ws or is'}")
    systolic = [u for u in hw.compute if u.type == "systolic"]
    if not systolic:
        raise MappingError(f"--dataflow: {hw.name} has no systolic array")
    able = [u for u in systolic if not u.dataflows or dataflow in u.dataflows]
    if not able:          # the chip's declared dataflows win: no silent what-if hardware
        declared = "; ".join(f"{u.name}: {', '.join(u.dataflows)}" for u in systolic)
        raise MappingError(f"--dataflow: {hw.name} declares no {dataflow} dataflow ({declared}); "
                           f"choose one it declares, or map onto a variant: a YAML with `base: {hw.name}` "
                           f"listing {dataflow} in `compute.{systolic[0].name}.dataflows`")
    units = tuple(replace(u, dataflows=(dataflow,)) if u in able else u for u in hw.compute)
    return replace(hw, compute=units)


def _table(data: dict) -> str:
    rows = [("op", "unit", "dataflow", "cycles", "energy_j", "util", "bound", "fused_into")]
    for o in data["ops"]:
        rows.append((o["op"], o["unit"], o["dataflow"], str(o.get("cycles", "-")),
                     f"{o['energy_j']:.3g}" if "energy_j" in o else "-",
                     f"{o['utilization']:.2f}" if "utilization" in o else "-",
                     o.get("bound", o.get("does_not_fit", "-")), o["fused_into"] or ""))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)) for r in rows] if data["ops"] else []
    if lines:
        lines.append("")
    if data.get("does_not_fit"):     # no total: the numbers of a mapping that cannot run mislead
        lines.append(f"{data['does_not_fit']}; "
                     f"{data['candidates_evaluated']} candidates evaluated")
    else:
        lines.append(f"total: {data['cycles']} cycles, {data['latency_s']:.4g} s, "
                     f"{data['energy_j']:.4g} J, utilization {data['utilization']:.2f}; "
                     f"{data['candidates_evaluated']} candidates evaluated")
    return "\n".join(lines)


_COST_KEYS = ("cycles", "latency_s", "energy_j", "compute_cycles", "utilization", "bound")


def _misfit(data: dict) -> dict:
    """A result that does not fit: the totals are null (as in `archsim simulate`'s JSON), never
    numbers that read as a latency and energy of a run that cannot happen."""
    if not data.get("does_not_fit"):
        return data
    return {**data, "fits": False, **{k: None for k in _COST_KEYS if k in data}}


def _gemm_misfit(op, hw, reason, dtype: str) -> dict:
    """`--gemm` too big for the chip: a result saying so (like a model that does not fit)."""
    m, n, k = (dict(op.dims)[d] for d in ("m", "n", "k"))
    return {"hw": hw.name, "gemm": [m, n, k], "dtype": dtype, "candidates_evaluated": 0,
            **{key: None for key in _COST_KEYS}, "reads": {}, "writes": {},
            "fits": False, "does_not_fit": str(reason), "ops": []}


def run(args) -> int:
    from archsim.hardware import load_hardware
    from archsim.errors import MappingError
    from archsim import mapper
    from archsim.mapper.export import gemm_op, mapping_json, op_mapping_json

    if args.objective not in OBJECTIVES:
        from archsim.errors import did_you_mean
        raise MappingError(f"--objective: unknown objective {args.objective!r}; "
                           f"{did_you_mean(args.objective, OBJECTIVES) or 'choose latency, energy or edp'}")
    from archsim.api.arguments import check_search_options
    check_search_options(args.strategy, args.seed, args.budget)   # as the API: before any work
    hw = load_hardware(args.hw)
    if args.gemm:
        m, n, k = _gemm_dims(args.gemm)
        if args.dataflow:
            hw = _restrict_dataflow(hw, args.dataflow)
        op = gemm_op(m, n, k, args.dtype or "int8")
        from archsim.mapper.map_op import MappingNotFound, map_op_result
        try:
            res = map_op_result(op, hw, args.strategy, args.objective, args.budget, args.seed)
        except MappingNotFound as exc:     # too big for the chip: a result, not an input error
            data = _gemm_misfit(op, hw, exc.does_not_fit, args.dtype or "int8")
        else:
            data = {"hw": hw.name, "gemm": [m, n, k], "dtype": args.dtype or "int8",
                    "candidates_evaluated": res.evaluated, **res.cost.to_json(), "fits": True,
                    "ops": [op_mapping_json(res.mapping, res.cost, op.kind.value)]}
    else:
        from archsim import workloads
        from archsim.api import resolve_phase
        if args.dataflow:
            hw = _restrict_dataflow(hw, args.dataflow)
        phase = resolve_phase(args.model, args.phase, args.seq, args.context)
        graph = workloads.build_graph(args.model, phase, batch=args.batch, seq=args.seq,
                                      context=args.context, dtypes=args.dtype)
        techniques = mapper.MCU_TECHNIQUES
        if args.mcu_techniques is not None:
            text = args.mcu_techniques.strip()
            techniques = () if text.lower() in ("", "none") else \
                tuple(t.strip() for t in text.split(",") if t.strip())
        mapping = mapper.map_graph(graph, hw, strategy=args.strategy, objective=args.objective,
                                   budget=args.budget, seed=args.seed, only=args.op,
                                   mcu_techniques=techniques)
        kinds = {name: graph.nodes[name]["op"].kind.value for name in graph.nodes}
        data = {"model": graph.graph.get("model", args.model), "phase": phase,
                **mapping_json(mapping, kinds)}
    data = _misfit(data)
    if args.json:
        json.dump(data, sys.stdout, indent=1, sort_keys=False, default=str)
        sys.stdout.write("\n")
    else:
        print(_table(data))
    return 0
