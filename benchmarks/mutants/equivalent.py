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
