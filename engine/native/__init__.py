"""Compiled (numba) game-rules cores for the search: plain numpy arrays, no Python objects.

:mod:`engine.native.chess_rules` holds the chess rules (Chess960 included). Importing does
not compile; each function compiles on its first call and is cached on disk
(``__pycache__``, or ``NUMBA_CACHE_DIR``). numba freezes the lookup tables of
:mod:`engine.native.bitboards` into the callers' cached code without tracking that file:
after editing a table, delete the ``*.nbi`` / ``*.nbc`` cache files.
"""
