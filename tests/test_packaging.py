"""The installed layout: one `tabula` import name, every package folder mapped under it."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TOP = ("engine", "protocols", "nets", "bench")


def _listed_packages() -> list[str]:
    text = (ROOT / "pyproject.toml").read_text()
    block = re.search(r"^packages = \[(.*?)\]", text, re.S | re.M)
    assert block, "pyproject.toml lists no packages"
    return re.findall(r'"([\w.]+)"', block.group(1))


def test_every_package_folder_is_listed_under_tabula():
    folders = sorted("tabula." + str(p.parent.relative_to(ROOT)).replace("/", ".")
                     for top in TOP for p in (ROOT / top).rglob("__init__.py"))
    listed = _listed_packages()
    assert set(folders) <= set(listed), f"missing from pyproject packages: {sorted(set(folders) - set(listed))}"
    assert all(name == "tabula" or name.startswith("tabula.") for name in listed)


def test_the_code_imports_only_through_tabula():
    """No module of ours imports a bare top-level name (it would load a second copy of it)."""
    bare = re.compile(r"^\s*(from|import) (engine|protocols|nets|bench)\b", re.M)
    offenders = [str(p.relative_to(ROOT)) for top in (*TOP, "tests") for p in (ROOT / top).rglob("*.py")
                 if bare.search(p.read_text())]
    assert offenders == []


def _pip(*args: str) -> None:
    done = subprocess.run([sys.executable, "-m", "pip", *args], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.slow
def test_wheel_installs_only_tabula_and_runs(tmp_path):
    """Build the wheel, install it apart from the checkout, and start the engine on the bundled net."""
    pytest.importorskip("setuptools")
    src = tmp_path / "src"
    src.mkdir()
    for name in (*TOP, "tabula", "pyproject.toml", "README.md"):
        copy = shutil.copytree if (ROOT / name).is_dir() else shutil.copy
        copy(ROOT / name, src / name, **({"ignore": shutil.ignore_patterns("__pycache__")} if copy is shutil.copytree else {}))
    _pip("wheel", "-q", "--no-deps", "--no-build-isolation", str(src), "-w", str(tmp_path / "dist"))
    wheel = next((tmp_path / "dist").glob("tabula-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert {n.split("/")[0] for n in names} == {"tabula", wheel.name.split("-")[0] + "-" + wheel.name.split("-")[1]
                                                 + ".dist-info"}
    assert "tabula/nets/chess-default.onnx" in names and "tabula/bench/data/chess.txt" in names

    site = tmp_path / "site"
    _pip("install", "-q", "--no-deps", "--target", str(site), str(wheel))
    out = subprocess.run([sys.executable, "-c", "import sys; sys.path.insert(0, sys.argv[1]);"
                          "import tabula.protocols.cli as c; sys.argv = ['tabula', 'uci']; c.main()", str(site)],
                         input="uci\nisready\nposition startpos\ngo nodes 8\nquit\n", capture_output=True,
                         text=True, cwd=tmp_path, timeout=300)
    assert "uciok" in out.stdout and "readyok" in out.stdout and "bestmove" in out.stdout, out.stderr
    loaded = subprocess.run([sys.executable, "-c", "import sys; sys.path.insert(0, sys.argv[1]); import tabula.engine;"
                             "print(tabula.engine.__file__)", str(site)], capture_output=True, text=True, cwd=tmp_path)
    assert loaded.stdout.strip().startswith(str(site)), loaded.stdout + loaded.stderr
