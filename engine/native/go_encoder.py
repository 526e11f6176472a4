"""Compiled encoders of the go nets' planes, read straight from the history of a
:class:`~engine.native.go_rules.GoArrays`.

:func:`write_planes` writes what :func:`engine.codecs.go_planes.write_planes` writes, bit for
bit: Tabula's 17 planes (``colour_planes`` 1) or Leela Zero's 18 (``colour_planes`` 2) — the
side to move's stones on the boards at t … t−7, then the opponent's, zero before the start
position, then Black to move (and White to move). The policy index of a move is its code.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..codecs.go_planes import HISTORY
from .go_rules import M_NN, M_PLY, M_SIZE, M_TURN, GoArrays


@njit(cache=True, nogil=True)
def write_planes(g: GoArrays, dst: np.ndarray, colour_planes: int) -> None:
    """Fill ``dst`` (float32 [2·HISTORY + colour_planes, N, N]) with the position's planes."""
    n = g.meta[M_SIZE]
    nn = g.meta[M_NN]
    ply = g.meta[M_PLY]
    me = g.meta[M_TURN] + 1
    other = 3 - me
    k = min(HISTORY, ply + 1)
    for i in range(HISTORY):
        mine = dst[i]
        theirs = dst[HISTORY + i]
        if i < k:
            row = g.hboard[ply - i]
            for c in range(nn):
                v = row[c]
                r = c // n
                col = c - r * n
                mine[r, col] = 1.0 if v == me else 0.0
                theirs[r, col] = 1.0 if v == other else 0.0
        else:
            mine[:, :] = 0.0
            theirs[:, :] = 0.0
    black = 1.0 if me == 1 else 0.0
    dst[2 * HISTORY, :, :] = black
    if colour_planes == 2:
        dst[2 * HISTORY + 1, :, :] = 1.0 - black
