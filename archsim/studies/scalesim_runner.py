"""Run the real SCALE-Sim on a GEMM suite, in a subprocess, and parse its cycles and SRAM reads.

SCALE-Sim 3.0.0 does not import on numpy ≥ 2.4 (the main environment's), so it lives in its own
virtual environment: the interpreter named by the environment variable ARCHSIM_SCALESIM_PYTHON, or
`/tmp/or-cache-dir/scalesim-venv/bin/python` (created by `.ci/run`). SCALE-Sim 3 also insists on a
layout CSV and `[layout]` / `[sparsity]` config sections even when both features are off; this module
writes all of them. Bandwidth is set high enough that no stall occurs ("unlimited bandwidth").

Its GEMM convention (topology_utils.load_arrays_gemm): M×K ifmap, K×N filter. Spatio-temporal
mapping (calc_spatio_temporal_params): OS → Sr=M, Sc=N, T=K; WS → Sr=K, Sc=N, T=M; IS → Sr=K, Sc=M, T=N.
"""
from __future__ import annotations

import csv
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ScaleSimRow", "scalesim_python", "run_scalesim", "DEFAULT_VENV_PYTHON"]

DEFAULT_VENV_PYTHON = "/tmp/or-cache-dir/scalesim-venv/bin/python"


@dataclass(frozen=True, slots=True)
class ScaleSimRow:
    """One GEMM layer as SCALE-Sim reports it."""
    m: int
    n: int
    k: int
    dataflow: str
    rows: int
    cols: int
    cycles: int              # "Total Cycles" (compute, incl. stalls; no prefetch)
    stall_cycles: int
    ifmap_sram_reads: int    # elements
    filter_sram_reads: int   # elements
    ofmap_sram_writes: int   # elements (SCALE-Sim's own count)


def scalesim_python() -> str | None:
    """The interpreter that can import scalesim, or None when there is none."""
    candidate = os.environ.get("ARCHSIM_SCALESIM_PYTHON") or DEFAULT_VENV_PYTHON
    if not Path(candidate).exists():
        return None
    probe = subprocess.run([candidate, "-c", "import scalesim.scale_sim"], capture_output=True,
                           timeout=120)
    return candidate if probe.returncode == 0 else None


_CONFIG = """[general]
run_name = {name}

[architecture_presets]
ArrayHeight = {rows}
ArrayWidth = {cols}
IfmapSramSzkB = 1048576
FilterSramSzkB = 1048576
OfmapSramSzkB = 1048576
IfmapOffset = 0
FilterOffset = 100000000
OfmapOffset = 200000000
Bandwidth = 100000
Dataflow = {dataflow}
ReadRequestBuffer = 32
WriteRequestBuffer = 32

[layout]
IfmapCustomLayout = False
IfmapSRAMBankBandwidth = 10
IfmapSRAMBankNum = 10
IfmapSRAMBankPort = 2
FilterCustomLayout = False
FilterSRAMBankBandwidth = 10
FilterSRAMBankNum = 10
FilterSRAMBankPort = 2

[sparsity]
SparsitySupport = false
SparseRep = ellpack_block
OptimizedMapping = false
BlockSize = 8
RandomNumberGeneratorSeed = 40

[run_presets]
InterfaceBandwidth = USER
UseRamulatorTrace = False
"""

_DRIVER = """
import sys
from scalesim.scale_sim import scalesim
cfg, topo, layout, out = sys.argv[1:5]
s = scalesim(save_disk_space=True, verbose=False, config=cfg, topology=topo, layout=layout,
             input_type_gemm=True)
s.run_scale(top_path=out)
"""


def _read_rows(path: Path) -> list[list[str]]:
    with open(path, newline="") as f:
        rows = [[c.strip() for c in r] for r in csv.reader(f)]
    return [r for r in rows[1:] if r and r[0]]


def run_scalesim(shapes, rows: int, cols: int, dataflow: str, python: str | None = None,
                 timeout_s: float = 600.0) -> list[ScaleSimRow]:
    """Run SCALE-Sim once for all `shapes` ((m, n, k) tuples) on a rows×cols array."""
    if dataflow not in ("os", "ws", "is"):
        raise ValueError(f"dataflow must be os, ws or is (got {dataflow!r})")
    python = python or scalesim_python()
    if python is None:
        raise RuntimeError("no Python with scalesim installed; set ARCHSIM_SCALESIM_PYTHON")
    shapes = [tuple(int(x) for x in s) for s in shapes]
    with tempfile.TemporaryDirectory(prefix="archsim-scalesim-") as tmp:
        d = Path(tmp)
        name = f"suite_{dataflow}"
        (d / "cfg.cfg").write_text(_CONFIG.format(name=name, rows=rows, cols=cols, dataflow=dataflow))
        topo = ["Layer, M, N, K,"] + [f"g{i}, {m}, {n}, {k}," for i, (m, n, k) in enumerate(shapes)]
        (d / "topo.csv").write_text("\n".join(topo) + "\n")
        ones = ", ".join(["1"] * 20)
        layout = ["Layer, " + ", ".join(f"c{i}" for i in range(20)) + ","]
        layout += [f"g{i}, {ones}," for i in range(len(shapes))]
        (d / "layout.csv").write_text("\n".join(layout) + "\n")
        proc = subprocess.run(
            [python, "-c", _DRIVER, str(d / "cfg.cfg"), str(d / "topo.csv"), str(d / "layout.csv"),
             str(d / "out")], capture_output=True, text=True, timeout=timeout_s, cwd=tmp)
        if proc.returncode != 0:
            raise RuntimeError(f"scalesim failed: {proc.stderr.strip().splitlines()[-1:]}")
        compute = _read_rows(d / "out" / name / "COMPUTE_REPORT.csv")
        access = _read_rows(d / "out" / name / "DETAILED_ACCESS_REPORT.csv")
    out = []
    for (m, n, k), c, a in zip(shapes, compute, access):
        out.append(ScaleSimRow(m=m, n=n, k=k, dataflow=dataflow, rows=rows, cols=cols,
                               cycles=int(float(c[2])), stall_cycles=int(float(c[3])),
                               ifmap_sram_reads=int(float(a[3])), filter_sram_reads=int(float(a[6])),
                               ofmap_sram_writes=int(float(a[9]))))
    return out


if __name__ == "__main__":  # python -m archsim.studies.scalesim_runner 8 8 os 20,12,30 ...
    r, c, df = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    for row in run_scalesim([tuple(map(int, s.split(","))) for s in sys.argv[4:]], r, c, df):
        print(row)
