"""Mutants of serving and systems above one device: the KV cache, serving metrics, host + device runs (archsim/serving/, archsim/system/)."""
from __future__ import annotations

from .mutant import Mutant
from .suites import SERVE, SYSTEM

MUTANTS = (
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
)
