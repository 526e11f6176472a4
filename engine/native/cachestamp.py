"""Keep numba's on-disk cache of the compiled cores honest across edits.

numba checks a cached function against its *own* source file only: when a kernel in
engine/search/chess_kernels.py calls one in engine/search/kernels.py or engine/native/, or a
core reads a table from engine/native/bitboards.py (or a constant from engine/codecs/lc0.py,
engine/codecs/go_planes.py or engine/games/go.py),
an edit of that other file leaves the caller's cached code stale. :func:`refresh` stamps each
cache directory with a digest of all those sources and empties it of numba's files (``*.nbi``,
``*.nbc``) when the digest changes, so the next call recompiles. It finds the directories as
numba does (``NUMBA_CACHE_DIR``, else ``__pycache__`` beside the sources if writable, else the
user's cache directory) and does nothing where it cannot write.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

_ROOT = Path(__file__).resolve().parent.parent           # the engine package
_DIRS = (_ROOT / "native", _ROOT / "search")
_EXTRA = (_ROOT / "codecs" / "lc0.py", _ROOT / "codecs" / "go_planes.py", _ROOT / "games" / "go.py")
_STAMP = "tabula-sources.stamp"
_WARM = "tabula-warm-{}.stamp"
_done = False


def digest() -> str:
    """A digest of every source the cached kernels are compiled from."""
    h = hashlib.sha1()
    for path in sorted(p for d in _DIRS for p in d.glob("*.py")) + list(_EXTRA):
        try:
            h.update(path.name.encode() + b"\0" + path.read_bytes())
        except OSError:
            continue
    return h.hexdigest()


def _cache_dir(src_dir: Path) -> Path | None:
    """Where numba caches the functions of the modules in ``src_dir`` (its first locator that fits)."""
    from numba.core import caching
    probe = src_dir / "__init__.py"
    for cls in caching.CacheImpl._locator_classes:  # noqa: SLF001 - numba's own search order
        try:
            loc = cls.from_function(refresh, str(probe))
        except Exception:  # noqa: BLE001 - a locator that does not apply
            loc = None
        if loc is not None:
            return Path(loc.get_cache_path())
    return None


def refresh() -> None:
    """Empty the kernels' cache directories once per process if the sources changed since."""
    global _done
    if _done:
        return
    _done = True
    stamp = digest()
    for src in _DIRS:
        try:
            cache = _cache_dir(src)
            if cache is None or not cache.is_dir():
                continue
            mark = cache / _STAMP
            if mark.is_file() and mark.read_text().strip() == stamp:
                continue
            for f in list(cache.glob("*.nbi")) + list(cache.glob("*.nbc")):
                try:
                    f.unlink()
                except FileNotFoundError:
                    pass
            tmp = cache / f"{_STAMP}.{os.getpid()}"
            tmp.write_text(stamp + "\n")
            tmp.replace(mark)
        except OSError:
            continue  # a read-only cache: an installed package, whose sources do not change


def _stamp_dirs() -> list[Path]:
    """The cache directories of the kernels' sources (created as numba would)."""
    found = []
    for src in _DIRS:
        cache = _cache_dir(src)
        if cache is None:
            return []
        found.append(cache)
    return found


def is_warm(kind: str) -> bool:
    """Whether :func:`mark_warm` recorded ``kind``'s kernels as compiled from today's sources
    in every cache directory (so loading them costs a cache read, not a compile)."""
    stamp = digest()
    for cache in _stamp_dirs() or [None]:
        mark = None if cache is None else cache / _WARM.format(kind)
        try:
            if mark is None or mark.read_text().strip() != stamp:
                return False
        except OSError:
            return False
    return True


def mark_warm(kind: str) -> bool:
    """Record that ``kind``'s kernels are in numba's cache for today's sources; False where
    the cache cannot be written (then every process compiles for itself)."""
    stamp = digest()
    dirs = _stamp_dirs()
    try:
        for cache in dirs:
            cache.mkdir(parents=True, exist_ok=True)
            tmp = cache / f"{_WARM.format(kind)}.{os.getpid()}"
            tmp.write_text(stamp + "\n")
            tmp.replace(cache / _WARM.format(kind))
    except OSError:
        return False
    return bool(dirs)


def writable() -> bool:
    """Whether numba's cache of the kernels can be written here (else each process compiles)."""
    dirs = _stamp_dirs()
    try:
        for cache in dirs:
            cache.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    return bool(dirs) and all(os.access(cache, os.W_OK) for cache in dirs)
