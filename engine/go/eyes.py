"""Board geometry and the eye tests that the playouts and the pass rules share (net-free).

>>> b = [0] * 81; b[1] = b[9] = 1
>>> is_eye(b, 0, 1, 9), is_eye(b, 0, 2, 9)
(True, False)
"""

from __future__ import annotations

from typing import Sequence

from tabula.engine.games.go import GoState

_GEOM: dict[int, tuple[tuple[tuple[int, ...], ...], tuple[tuple[int, ...], ...]]] = {}


def geometry(n: int) -> tuple[tuple[tuple[int, ...], ...], tuple[tuple[int, ...], ...]]:
    """Orthogonal and diagonal neighbours of every point of an n×n board (cached)."""
    g = _GEOM.get(n)
    if g is None:
        orth, diag = [], []
        for p in range(n * n):
            r, c = divmod(p, n)
            orth.append(tuple((r + dr) * n + c + dc for dr, dc in ((-1, 0), (0, -1), (0, 1), (1, 0))
                              if 0 <= r + dr < n and 0 <= c + dc < n))
            diag.append(tuple((r + dr) * n + c + dc for dr, dc in ((-1, -1), (-1, 1), (1, -1), (1, 1))
                              if 0 <= r + dr < n and 0 <= c + dc < n))
        g = _GEOM[n] = (tuple(orth), tuple(diag))
    return g


def is_eye(board: Sequence[int], p: int, stone: int, n: int) -> bool:
    """Whether empty point ``p`` is a true-looking eye of ``stone`` (1 black, 2 white).

    Every orthogonal neighbour is ``stone``; of the diagonals at most one (none on
    the edge) is the opponent's.

    >>> b = [0] * 81; b[1] = b[9] = 1
    >>> is_eye(b, 0, 1, 9), is_eye(b, 0, 2, 9)
    (True, False)
    """
    orth, diag = geometry(n)
    if board[p]:
        return False
    for q in orth[p]:
        if board[q] != stone:
            return False
    opp = 3 - stone
    bad = sum(1 for q in diag[p] if board[q] == opp)
    return bad == 0 if len(diag[p]) < 4 else bad <= 1


def one_point_eye(board: Sequence[int], p: int, stone: int, orth: Sequence[Sequence[int]]) -> bool:
    """Whether every orthogonal neighbour of ``p`` (``orth`` from :func:`geometry`) is ``stone``."""
    for q in orth[p]:
        if board[q] != stone:
            return False
    return True


def useful_moves(state: GoState) -> list[int]:
    """Legal moves other than pass that fill no eye (:func:`is_eye`) of the side to move."""
    board, stone = state.board_list(), state.turn + 1
    return [m for m in state.legal_moves() if m != state.nn and not is_eye(board, m, stone, state.size)]


__all__ = ["geometry", "is_eye", "one_point_eye", "useful_moves"]
