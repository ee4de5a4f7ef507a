"""Mutants proven unable to change any observable result, each with the reason: listed, not scored."""
from __future__ import annotations

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
}
