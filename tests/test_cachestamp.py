"""numba's cache is stamped with the sources the kernels are compiled from, and only those:
an edit of a kernel module or of a module it imports empties the cache, an edit of anything
else (the search's Python side) keeps it. Edits are made on a copy of the engine package."""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest

from tabula.engine.native import cachestamp


@pytest.fixture
def engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the engine package that the digest reads instead of the real one."""
    root = tmp_path / "engine"
    shutil.copytree(cachestamp._ROOT, root, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))  # noqa: SLF001
    monkeypatch.setattr(cachestamp, "_ROOT", root)
    return root


def _edit(path: Path) -> None:
    path.write_text(path.read_text() + "\n# an edit\n")


def test_sources_are_the_kernels_and_what_they_import() -> None:
    found = set(cachestamp.sources())
    kernels = {"native/bitboards.py", "native/chess_rules.py", "native/go_rules.py", "native/kata_encoder.py",
               "search/kernels.py", "search/chess_kernels.py", "search/go_kernels.py", "search/leafpath.py"}
    imported = {"codecs/lc0.py", "codecs/go_planes.py", "games/go.py", "games/base.py",  # once listed by hand
                "search/jitopts.py"}  # the kernels' compile options
    assert kernels | imported <= found
    python_side = {"search/workers.py", "search/mcts.py", "search/native.py", "search/compile_ahead.py",
                   "search/params.py", "native/cachestamp.py", "native/go_state.py", "native/__init__.py",
                   "search/__init__.py", "controller.py", "codecs/katago.py"}
    assert not found & python_side


@pytest.mark.parametrize("edited", ["search/kernels.py", "native/go_rules.py", "games/go.py", "codecs/lc0.py",
                                    "codecs/base.py"])
def test_an_edit_the_kernels_see_changes_the_digest(engine: Path, edited: str) -> None:
    before = cachestamp.digest()
    assert before == cachestamp.digest()
    _edit(engine / edited)
    assert cachestamp.digest() != before


@pytest.mark.parametrize("edited", ["search/workers.py", "search/mcts.py", "search/native.py",
                                    "search/compile_ahead.py", "native/go_state.py", "native/cachestamp.py",
                                    "codecs/katago.py"])
def test_an_edit_no_kernel_sees_keeps_the_digest(engine: Path, edited: str) -> None:
    before = cachestamp.digest()
    _edit(engine / edited)
    assert cachestamp.digest() == before


def test_a_new_kernel_brings_its_imports(engine: Path) -> None:
    helper = engine / "search" / "helper.py"
    helper.write_text("LIMIT = 3\n")
    lazy = engine / "search" / "lazy.py"
    lazy.write_text("X = 1\n")
    (engine / "search" / "extra.py").write_text(
        '"""A kernel.\n\nfrom . import lazy\n"""\nfrom typing import TYPE_CHECKING\n\nimport numba as nb\n\n'
        "from .helper import LIMIT\n\nif TYPE_CHECKING:\n    from . import lazy\n\n\n"
        "@nb.njit(cache=True)\ndef f(x):\n    return x + LIMIT\n\n\ndef g():\n    from .lazy import X\n    return X\n")
    found = cachestamp.sources()
    assert "search/extra.py" in found and "search/helper.py" in found and "search/lazy.py" not in found
    before = cachestamp.digest()
    _edit(lazy)
    assert cachestamp.digest() == before
    _edit(helper)
    assert cachestamp.digest() != before


def test_module_imports_are_those_run_on_import() -> None:
    text = '''"""Doc.

from .prose import nothing
"""
import os, numpy as np
from .a import (b,
                c)
from ..games import go as g  # a comment
try:
    from .d import e
except ImportError:  # pragma: no cover
    import tabula.engine.f
if TYPE_CHECKING:
    from .typing_only import T
else:
    from .g import h


def k():
    from .lazy import x


class C:
    from .in_class import y
'''
    got = [ast.unparse(node) for node in cachestamp._module_imports(text)]  # noqa: SLF001
    assert got == ["import os, numpy as np", "from .a import b, c", "from ..games import go as g",
                   "from .d import e", "import tabula.engine.f", "from .g import h"]


def test_refresh_empties_a_cache_stamped_for_other_sources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import numba
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(numba.config, "CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(cachestamp, "_done", False)
    dirs = cachestamp._stamp_dirs()  # noqa: SLF001
    assert dirs
    for cache in dirs:
        cache.mkdir(parents=True, exist_ok=True)
        (cache / "k.nbi").write_text("index")
        (cache / cachestamp._STAMP).write_text("older sources\n")  # noqa: SLF001
    cachestamp.refresh()
    for cache in dirs:
        assert not (cache / "k.nbi").exists()
        assert (cache / cachestamp._STAMP).read_text().strip() == cachestamp.digest()  # noqa: SLF001
        (cache / "k.nbi").write_text("index")
    monkeypatch.setattr(cachestamp, "_done", False)
    cachestamp.refresh()  # same sources: kept
    assert all((cache / "k.nbi").exists() for cache in dirs)
