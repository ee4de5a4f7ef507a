"""`archsim graph MODEL`: lower a model at one phase and print its ops and totals."""
from __future__ import annotations

import argparse
import json

from .outputs import add_model_set_flag, model_overrides


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("graph", help="lower a model to its operator graph and print per-op rows",
                       description="MODEL is a zoo name (see `archsim models`), a path to a Hugging Face "
                                   "config.json, or a path to an .onnx file.")
    p.add_argument("model", metavar="MODEL")
    p.add_argument("--phase", default=None, choices=("prefill", "decode", "encode"),
                   help="inference phase (default: decode when --context is given, else prefill; "
                        "encoder-only models always encode)")
    p.add_argument("--batch", type=int, default=1, help="sequences (or images) per batch")
    p.add_argument("--seq", type=int, default=None, help="tokens per sequence (prefill / encode)")
    p.add_argument("--context", type=int, default=None, help="positions attended to in decode")
    p.add_argument("--dtype", default=None,
                   help="one dtype for everything (fp32, bf16, fp16, int8, int4, int2/2bit) or "
                        "weights=int4,activations=int8,kv=fp16")
    add_model_set_flag(p)
    p.add_argument("--limit", type=_count, default=None, help="print at most this many op rows")
    p.add_argument("--json", action="store_true", help="print JSON (totals and every op)")
    return p


def _count(text: str) -> int:
    """argparse type: a whole number ≥ 0."""
    if not text.strip().isdigit():
        raise argparse.ArgumentTypeError(f"expected a whole number ≥ 0 (got {text!r})")
    return int(text)


def graph_json(graph) -> dict:
    """The JSON form of a graph: totals plus one row per op (deterministic order)."""
    from archsim.ir import graph_totals, ops_in_order
    t = graph_totals(graph)
    meta = graph.graph
    return {
        "model": meta.get("model"), "family": meta.get("family"), "phase": meta.get("phase"),
        "batch": meta.get("batch"), "seq": meta.get("seq"), "context": meta.get("context"),
        "dtypes": meta.get("dtypes"), "params": t.params, "active_params": t.active_params,
        "macs": t.macs, "flops": t.flops, "weight_bytes": t.weight_bytes,
        "activation_bytes": t.activation_bytes, "kv_cache_bytes": t.kv_cache_bytes,
        "ops": [{"name": op.name, "kind": op.kind.value, "layer": op.layer, "macs": op.macs,
                 "flops": op.flops, "bytes": op.total_bytes} for op in ops_in_order(graph)],
    }


def run(args) -> int:
    from archsim.api import resolve_phase
    from archsim.ir import summary_table
    from archsim.workloads import build_graph
    phase = resolve_phase(args.model, args.phase, args.seq, args.context)
    graph = build_graph(args.model, phase=phase, batch=args.batch, seq=args.seq, context=args.context,
                        dtypes=args.dtype, overrides=model_overrides(args.model_set))
    if args.json:
        print(json.dumps(graph_json(graph), indent=1, sort_keys=True))
    else:
        meta = graph.graph
        from archsim.api import dtype_label
        print(f"{meta['model']}  phase={meta['phase']} batch={meta['batch']} seq={meta['seq']} "
              f"context={meta['context']} dtype={dtype_label(meta)}")
        print(summary_table(graph, args.limit))
    return 0
