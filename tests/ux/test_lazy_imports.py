"""What a process imports: `import archsim` pulls in nothing heavy, and a JSON-only simulation
never imports plotly (it is imported only when an HTML page is written)."""
from __future__ import annotations

import subprocess
import sys

HEAVY = ("numpy", "numba", "networkx", "plotly", "scipy", "yaml", "workloads", "mapper", "reports")


def _modules_after(code: str) -> set[str]:
    probe = code + "\nimport sys\nprint(' '.join(sorted(m.split('.')[0] for m in sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return set(out.stdout.strip().splitlines()[-1].split())


def test_import_archsim_is_light():
    loaded = _modules_after("import archsim, archsim.api, archsim.cli")
    assert not loaded & set(HEAVY), loaded & set(HEAVY)


def test_json_only_simulation_does_not_import_plotly():
    code = ("import io, contextlib\nfrom archsim.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    assert main(['simulate', '--model', 'gpt2-small', '--hw', 'h200-sxm', '--phase',"
            " 'decode', '--context', '64', '--json', '-', '--quiet']) == 0")
    loaded = _modules_after(code)
    assert "archsim" in loaded and "mapper" in loaded
    assert "plotly" not in loaded
