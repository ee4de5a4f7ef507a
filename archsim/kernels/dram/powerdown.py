"""Power-down entry and exit of one DRAM channel (Numba): the rule of `controller.run_channel`,
written once for the engine's DRAM paths.

A channel idle for `powerdown_idle` (P_PDIDLE) cycles after its last data powers down (precharge
power-down: CKE low) if P_PDIDLE > 0; the next command on it waits for max(arrival, entry + tCKE)
+ tXP (it stays down at least tCKE, then needs tXP to exit). "Idle from" is the later of the
channel's last data end (C_LASTEND) and its last wake (C_WAKE), so asking twice about one idle
period counts it once. Each power-down counts one entry (C_PDN) and its cycles from entry to wake
(C_PDCYC); a power-down still running when the run ends is added by the wrapper that knows the
makespan (`archsim.engine.execute`). Refresh is not tied to power-down here (as in
`run_channel`): a refresh due while the channel is down is issued when it wakes.

Called where a transfer starts on an idle channel: `stream.burst` (the burst path of
`eventloop.run_trace`, the time-ordered loop's IN_ORDER channels and a transfer served alone on
the controller path), `shared.replay` (the alone segment taken back), and the controller path's
request level only where its queue goes empty and waits for the next arrival (`solo` off, tests)
or starts from an idle channel: with two transfers overlapping the channel is never idle.
"""
from __future__ import annotations

from numba import njit

from .state import C_LASTEND, C_PDCYC, C_PDN, C_WAKE, P_PDIDLE, P_TCKE, P_TXP


@njit(cache=True)
def powerdown_exit(P, chan, arrival):
    """The earliest cycle a command can issue on a channel a transfer reaches at `arrival`: the
    wake from a power-down entered while it idled (counted in chan), else `arrival` (never before
    the last wake)."""
    idle = P[P_PDIDLE]
    if idle > 0:
        entry = max(chan[C_LASTEND], chan[C_WAKE]) + idle
        if arrival > entry:
            wake = max(arrival, entry + P[P_TCKE]) + P[P_TXP]
            chan[C_PDN] += 1
            chan[C_PDCYC] += wake - entry
            chan[C_WAKE] = wake
            return wake
    return max(arrival, chan[C_WAKE])


@njit(cache=True)
def note_data_end(chan, end):
    """The channel moved data until `end`: its idle time starts there."""
    if end > chan[C_LASTEND]:
        chan[C_LASTEND] = end
