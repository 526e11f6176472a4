"""Bundled default networks, their model cards, and the tools that made them.

The engine never imports this package: front ends ask :func:`default_net` for a
path and hand it to the engine.
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent

#: file name of the bundled net per game (and go board size)
DEFAULT_FILES = {
    "chess": "chess-default.onnx",
    "shogi": "shogi-default.onnx",
    "go9": "go9-default.onnx",
    "go19": "go19-default.onnx",
}


def default_net(game: str) -> str | None:
    """Path of the bundled net for ``game`` (``chess``, ``shogi``, ``go9``, ``go19``), if shipped."""
    name = DEFAULT_FILES.get(game)
    if name is None:
        return None
    path = HERE / name
    return str(path) if path.is_file() else None
