"""Tabula's one installed import name.

The repository keeps the design card's folders at its top (``engine/``, ``protocols/``,
``nets/``, ``bench/``); an install maps them under this package (``package-dir`` in
``pyproject.toml``), so ``pip install tabula`` claims no generic top-level name.

Run from a checkout without installing it, this package's search path is extended to the
checkout's root, so that ``tabula.engine`` resolves to ``./engine`` there as well.
"""

from pathlib import Path as _Path

_root = _Path(__file__).resolve().parent.parent
if (_root / "pyproject.toml").is_file() and (_root / "engine" / "__init__.py").is_file():
    if str(_root) not in __path__:
        __path__.append(str(_root))
del _Path, _root
