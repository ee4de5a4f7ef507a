"""How much of the analytic-vs-cycle gap stays unexplained (#18): for gpt2-small decode and
bert-base encode on a set of chips at cycle fidelity with `attribute_gap=True`, the run's gap, its
`op_overlap_s` part, Σ `other_s` over ops and Σ |`other_s`| (what no named effect explains, op by
op), in µs and as % of the run's latency, with the CPU time of each run.

    PYTHONPATH=. python benchmarks/gap_attribution.py [--hw edge-npu pim-gpt ...] [--plain]
        [--dram-model burst|controller]
"""
from __future__ import annotations

import argparse
import os
import time

import archsim

CHIPS = ("edge-npu", "pim-gpt", "hbm3-pim", "hbm-pim", "lpddr5-pim", "simba")
WORKLOADS = {"gpt2-small decode": dict(model="gpt2-small", phase="decode", context=256),
             "bert-base encode": dict(model="bert-base", phase="encode")}


def measure(hw: str, work: dict, named: bool, dram_model: str = "burst") -> dict:
    t0 = time.process_time()
    r = archsim.simulate(work["model"], hw, phase=work["phase"], context=work.get("context"),
                         fidelity="cycle", attribute_gap=named, dram_model=dram_model)
    cpu = time.process_time() - t0
    parts = dict(r.gap_attribution)
    others = [op.gap_effects.get("other_s", 0.0) for op in r.ops]
    analytic_s = sum(op.analytic_cycles for op in r.ops) / r.freq_hz
    return dict(latency_s=r.latency_s, gap_s=r.latency_s - analytic_s, overlap_s=parts.get("op_overlap_s", 0.0),
                other_s=sum(others), abs_other_s=sum(abs(v) for v in others), cpu_s=cpu,
                parts=parts)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hw", nargs="*", default=list(CHIPS))
    ap.add_argument("--work", nargs="*", default=list(WORKLOADS), choices=list(WORKLOADS))
    ap.add_argument("--plain", action="store_true", help="without attribute_gap (task-time effects only)")
    ap.add_argument("--dram-model", default="burst", choices=("burst", "controller"))
    args = ap.parse_args(argv)
    print(f"load {os.getloadavg()[0]:.2f}; attribute_gap={not args.plain}; dram_model={args.dram_model}")
    print(f"{'workload':18} {'chip':11} {'latency':>10} {'gap':>10} {'op overlap':>18} "
          f"{'Σ other':>18} {'Σ|other|':>18} {'cpu s':>6}")
    for w in args.work:
        for hw in args.hw:
            m = measure(hw, WORKLOADS[w], not args.plain, args.dram_model)
            lat = m["latency_s"]

            def cell(v):
                return f"{v * 1e6:+9.1f}µs {100 * v / lat:+5.1f}%"
            print(f"{w:18} {hw:11} {lat * 1e6:8.1f}µs {m['gap_s'] * 1e6:+8.1f}µs {cell(m['overlap_s'])} "
                  f"{cell(m['other_s'])} {cell(m['abs_other_s'])} {m['cpu_s']:6.1f}", flush=True)
            named = {k: v for k, v in m["parts"].items() if v and k not in ("op_overlap_s", "other_s")}
            print("    " + ", ".join(f"{k} {v * 1e6:+.1f}µs" for k, v in named.items()), flush=True)


if __name__ == "__main__":
    main()
