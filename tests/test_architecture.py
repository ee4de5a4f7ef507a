"""The import direction of DESIGN.md, enforced with `ast`:
workloads, mapper and reports import the archsim core and never each other; the core imports none of
them except in its composition roots (archsim/cli/, archsim/api/, archsim/studies/); numba is
imported only in archsim/kernels/ and plotly only in reports/. The repository's top-level folders
install as archsim's subpackages, so code names them `archsim.workloads`, … and never `workloads`."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("archsim", "workloads", "mapper", "reports")
SUBPACKAGES = ("workloads", "mapper", "reports", "hwconfigs")
COMPOSITION_ROOTS = ("archsim/cli/", "archsim/api/", "archsim/studies/")


def _modules(path: Path) -> set[str]:
    """Every absolute module name `path` imports (`from a import b` names `a` and `a.b`)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
    return names


def _component(module: str) -> str:
    """The layer a module belongs to: `archsim.mapper.x` is the mapper, `archsim.ir` the core."""
    parts = module.split(".")
    if parts[0] == "archsim" and len(parts) > 1 and parts[1] in SUBPACKAGES:
        return parts[1]
    return parts[0]


def _imports(path: Path) -> set[str]:
    return {_component(m) for m in _modules(path)}


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


def test_subpackages_are_imported_under_archsim():
    """`import workloads` would load a second copy of the package beside `archsim.workloads` in a
    checkout, and fail once installed (only `archsim` is installed at the top)."""
    bad = []
    for top in ("archsim", *SUBPACKAGES, "tests", "benchmarks"):
        for f in sorted((ROOT / top).rglob("*.py")):
            for module in _modules(f):
                if module.split(".")[0] in SUBPACKAGES:
                    bad.append(f"{f.relative_to(ROOT).as_posix()} imports {module}")
    assert not bad, "\n".join(bad)
