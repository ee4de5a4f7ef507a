"""The import direction of DESIGN.md, enforced with `ast`:
workloads, mapper and reports import the archsim core and never each other; the core imports none of
them except in its composition roots (archsim/cli/, archsim/api.py, archsim/studies/); numba is
imported only in archsim/kernels/ and plotly only in reports/."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("archsim", "workloads", "mapper", "reports")
COMPOSITION_ROOTS = ("archsim/cli/", "archsim/api.py", "archsim/studies/")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def _files(pkg: str):
    return sorted((ROOT / pkg).rglob("*.py"))


def test_import_direction():
    bad = []
    for pkg in PACKAGES:
        for f in _files(pkg):
            rel = f.relative_to(ROOT).as_posix()
            imported = _imports(f)
            if pkg == "archsim":
                if rel.startswith(COMPOSITION_ROOTS):
                    continue
                forbidden = {"workloads", "mapper", "reports"}
            else:
                forbidden = set(PACKAGES) - {pkg, "archsim"}
            for name in imported & forbidden:
                bad.append(f"{rel} imports {name}")
    assert not bad, "\n".join(bad)


def test_numba_and_plotly_stay_home():
    bad = []
    for pkg in PACKAGES:
        for f in _files(pkg):
            rel = f.relative_to(ROOT).as_posix()
            imported = _imports(f)
            if "numba" in imported and not rel.startswith("archsim/kernels/"):
                bad.append(f"{rel} imports numba")
            if "plotly" in imported and not rel.startswith("reports/"):
                bad.append(f"{rel} imports plotly")
    assert not bad, "\n".join(bad)
