"""The installed layout: one top-level package, `archsim`, holding the repository's top-level
folders as subpackages (`archsim.workloads`, `archsim.mapper`, `archsim.reports`,
`archsim.hwconfigs`), so `pip install .` puts nothing with a generic name in site-packages."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
import venv
import zipfile
from pathlib import Path

import pytest

import archsim

ROOT = Path(__file__).resolve().parents[1]


def _setuptools() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]


def _package_folders() -> dict[str, Path]:
    """Installed package name -> its folder in the checkout, for every folder with an __init__.py."""
    found = {}
    for top in ("archsim", *archsim.SUBPACKAGES):
        for init in sorted((ROOT / top).rglob("__init__.py")):
            if "__pycache__" in init.parts:
                continue
            dotted = ".".join(init.parent.relative_to(ROOT).parts)
            found[dotted if top == "archsim" else f"archsim.{dotted}"] = init.parent
    return found


def test_pyproject_lists_every_package_under_archsim():
    listed = set(_setuptools()["packages"])
    folders = set(_package_folders())
    assert not folders - listed, f"add to pyproject's [tool.setuptools] packages: {sorted(folders - listed)}"
    assert not listed - folders, f"listed in pyproject but no such package: {sorted(listed - folders)}"
    assert all(name == "archsim" or name.startswith("archsim.") for name in listed)


def test_package_dir_maps_each_top_level_folder():
    mapping = _setuptools()["package-dir"]
    assert mapping == {f"archsim.{name}": name for name in archsim.SUBPACKAGES}


def test_checkout_resolves_the_installed_names():
    import archsim.hwconfigs
    import archsim.mapper
    import archsim.reports
    import archsim.workloads
    for module, folder in ((archsim.workloads, "workloads"), (archsim.mapper, "mapper"),
                           (archsim.reports, "reports"), (archsim.hwconfigs, "hwconfigs")):
        assert Path(module.__file__).resolve().parent == ROOT / folder
    assert not {"workloads", "mapper", "reports", "hwconfigs"} & set(sys.modules)


@pytest.mark.slow
def test_wheel_installs_one_top_level_package_that_runs(tmp_path):
    """Build the wheel, check its top level, install it (no deps: they come from this environment)
    into a fresh venv and run the Quickstart's simulation from outside the checkout."""
    wheels = tmp_path / "wheels"
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(wheels), str(ROOT)], capture_output=True, text=True, cwd=tmp_path)
    assert build.returncode == 0, build.stderr[-2000:]
    (wheel,) = wheels.glob("archsim-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names}
    assert tops == {"archsim", next(t for t in tops if t.endswith(".dist-info"))}, sorted(tops)
    assert "archsim/hwconfigs/pim-gpt.yaml" in names and "archsim/mapper/map_op.py" in names

    env_dir = tmp_path / "venv"
    venv.EnvBuilder(system_site_packages=True, with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--no-deps", "--no-index", "--ignore-installed", "-q", str(wheel)],
        capture_output=True, text=True, cwd=tmp_path)
    assert install.returncode == 0, install.stderr[-2000:]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["ARCHSIM_CACHE_DIR"] = str(tmp_path / "cache")
    where = subprocess.run(
        [str(python), "-c", "import archsim.workloads, archsim.hwconfigs as h; "
         "print(archsim.workloads.__file__); print(h.__file__)"],
        capture_output=True, text=True, cwd=tmp_path, env=env)
    assert where.returncode == 0, where.stderr[-2000:]
    assert all(str(env_dir) in line for line in where.stdout.split()), where.stdout
    run = subprocess.run(
        [str(env_dir / "bin" / "archsim"), "simulate", "--model", "gpt2-xl", "--hw", "pim-gpt",
         "--json", "-"], capture_output=True, text=True, cwd=tmp_path, env=env)
    assert run.returncode == 0, run.stderr[-2000:]
    assert json.loads(run.stdout)["latency_s"] > 0
