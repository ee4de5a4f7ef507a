"""What a process imports: `import archsim` pulls in nothing heavy, a JSON-only simulation
never imports plotly (it is imported only when an HTML page is written), and an analytic run
whose mappings all come from the persistent cache never imports Numba (no search runs)."""
from __future__ import annotations

import os
import subprocess
import sys

HEAVY = ("numpy", "numba", "networkx", "plotly", "scipy", "yaml",
         "archsim.workloads", "archsim.mapper", "archsim.reports")


def _modules_after(code: str, env: dict | None = None) -> set[str]:
    """Every module loaded, and each of their parent packages (`archsim.mapper.cost` gives
    `archsim`, `archsim.mapper` and itself)."""
    probe = code + "\nimport sys\nprint(' '.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                         env=env)
    names = out.stdout.strip().splitlines()[-1].split()
    return {".".join(n.split(".")[:k]) for n in names for k in range(1, n.count(".") + 2)}


def test_import_archsim_is_light():
    loaded = _modules_after("import archsim, archsim.api, archsim.cli")
    assert not loaded & set(HEAVY), loaded & set(HEAVY)


def test_json_only_simulation_does_not_import_plotly():
    code = ("import io, contextlib\nfrom archsim.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    assert main(['simulate', '--model', 'gpt2-small', '--hw', 'h200-sxm', '--phase',"
            " 'decode', '--context', '64', '--json', '-', '--quiet']) == 0")
    loaded = _modules_after(code)
    assert "archsim" in loaded and "archsim.mapper" in loaded
    assert "plotly" not in loaded


def test_analytic_run_from_the_mapping_cache_does_not_import_numba(tmp_path):
    env = {**os.environ, "ARCHSIM_CACHE_DIR": str(tmp_path)}
    env.pop("ARCHSIM_NO_CACHE", None)
    run = ("from archsim import api\n"
           "api.simulate('gpt2-small', 'h200-sxm', phase='decode', context=64)")
    assert "numba" in _modules_after(run, env)          # the first run searches: kernels load
    loaded = _modules_after(run, env)                   # the second finds every mapping cached
    assert "archsim.mapper" in loaded and "numba" not in loaded
