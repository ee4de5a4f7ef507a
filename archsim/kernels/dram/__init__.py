"""DRAM channel timing kernels (Numba), one file per concept:

- `state.py`: parameter and state-array layouts, a fresh channel state (plain Python);
- `address.py`: where a stream's bank slots land inside a channel;
- `commands.py`: the command timing of one row burst (ACT/PRE/column/refresh, tFAW, turnaround);
- `skips.py`: the two exact skips that make long streams cheap (steady state, refresh period);
- `stream.py`: `burst`, one burst task = `nrows` row bursts, calling the above (what the event loop runs);
- `controller.py`: a request-level controller over all channels of a device (address mapping,
  per-channel queues, FR-FCFS with a row-hit cap, page policy, refresh, power-down).

Numba's on-disk cache keys a function on its own file only: after editing any file here, delete
`archsim/kernels/dram/__pycache__` and `archsim/kernels/__pycache__`.
"""
from .address import all_bank_ok, slot_bank
from .stream import burst
from .commands import column_time, refresh_if_due, row_burst
from .state import *  # noqa: F401,F403  (layout constants P_*, B_*, C_*, MODE_*)

__all__ = ["burst", "row_burst", "refresh_if_due", "column_time", "slot_bank", "all_bank_ok",
           "new_state", "work_size"]
