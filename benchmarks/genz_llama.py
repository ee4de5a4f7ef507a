"""GenZ's side of `benchmarks/simulate.py`: its LLaMA-2-7B decode (context 1K) and prefill (2K)
estimates on an H200-class system (989 dense bf16 TFLOP/s, 141 GB, 4.8 TB/s, the figures
hwconfigs/h200-sxm.yaml cites), timed warm in one process (best of 5 after one untimed call).
Runs in GenZ's own venv (PyPI `genz-llm`, whose pins differ from archsim's); prints one JSON line.

    python -m venv /tmp/or-cache-dir/genz-venv && /tmp/or-cache-dir/genz-venv/bin/pip install genz-llm
    /tmp/or-cache-dir/genz-venv/bin/python benchmarks/genz_llama.py
"""
import json
import time
import warnings

from GenZ import decode_moddeling, prefill_moddeling

warnings.filterwarnings("ignore")
system = {"Flops": 989, "Memory_size": 141, "Memory_BW": 4800, "ICN": 450, "real_values": True}


def dec():
    return decode_moddeling(model="llama2_7b", batch_size=1, input_tokens=1024, output_tokens=0,
                            system_name=system, bits="bf16")


def pre():
    return prefill_moddeling(model="llama2_7b", batch_size=1, input_tokens=2048,
                             system_name=system, bits="bf16")


out = {}
for name, fn in (("decode_1k", dec), ("prefill_2k", pre)):
    r = fn()
    best_w, best_c = 1e9, 1e9
    for _ in range(5):
        w, c = time.perf_counter(), time.process_time()
        r = fn()
        best_w, best_c = min(best_w, time.perf_counter() - w), min(best_c, time.process_time() - c)
    out[name] = {"wall_s": round(best_w, 4), "cpu_s": round(best_c, 4),
                 "latency_ms": round(float(r["Latency"]), 4)}
print(json.dumps(out))
