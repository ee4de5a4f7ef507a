"""Time to lower LLaMA-2-70B prefill (seq 4096) and GPT-2-XL decode (context 1024) to an OpGraph,
including graph totals. Prints one JSON line; target < 1 s each.

    python benchmarks/lower.py
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))   # this checkout's archsim

from archsim.ir import graph_totals  # noqa: E402
from archsim.workloads import build_graph  # noqa: E402

CASES = {
    "llama2-70b_prefill_4096": dict(model="llama2-70b", phase="prefill", batch=1, seq=4096),
    "gpt2-xl_decode_1024": dict(model="gpt2-xl", phase="decode", batch=1, context=1024),
}
TARGET_S = 1.0


def time_case(kwargs: dict, repeats: int = 3) -> tuple[float, int]:
    """Best wall time of `repeats` builds (first build included in the parameter-count cache warm-up)."""
    best = float("inf")
    ops = 0
    for _ in range(repeats):
        start = time.perf_counter()
        graph = build_graph(**kwargs)
        ops = graph_totals(graph).ops
        best = min(best, time.perf_counter() - start)
    return best, ops


def main() -> dict:
    result: dict[str, object] = {"target_s": TARGET_S}
    for name, kwargs in CASES.items():
        cold_start = time.perf_counter()
        build_graph(**kwargs)
        cold = time.perf_counter() - cold_start
        best, ops = time_case(kwargs)
        result[name] = {"cold_s": round(cold, 4), "best_s": round(best, 4), "ops": ops,
                        "under_target": cold < TARGET_S}
    print(json.dumps(result, sort_keys=True))
    return result


if __name__ == "__main__":
    main()
