"""Compiled (numba) game-rules cores for the search: plain numpy arrays, no Python objects.

:mod:`engine.native.chess_rules` holds the chess rules (Chess960 included). Importing does
not compile; each function compiles on its first call and is cached on disk
(``__pycache__``, or ``NUMBA_CACHE_DIR``). numba checks a cached function against its own
file only, while the cores read tables (:mod:`engine.native.bitboards`) and call each other
across files: :mod:`engine.native.cachestamp` empties the cache when any of those sources
changes (checked once per process, on import).
"""

from .cachestamp import refresh as _refresh

_refresh()
