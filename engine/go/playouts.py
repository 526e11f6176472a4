"""Net-free dead stones: mean ownership over random playouts, dead groups, the score without them.

From a position, up to :data:`PLAYOUTS` random playouts (uniformly random legal moves
that do not fill a one-point eye of the mover, until both pass) are scored by area; a
group whose mean ownership is below :data:`DEAD_BELOW` from its own side is **dead**.
Random playouts misjudge some fights (semeai, nakade shapes), and seki is not detected.

>>> from tabula.engine.games.go import GoState
>>> s = GoState(5, 0.5, black=[6, 7, 8, 11, 13], white=[12])  # White C3 in Black's arms
>>> dead, alive = dead_stones(s); dead, s.score(), score_without(s, dead)
([[12]], 3.5, 24.5)
"""

from __future__ import annotations

import random
import time
from typing import Iterable, Sequence

import numpy as np

from tabula.engine.games.go import GoState

from .eyes import geometry, one_point_eye

#: playouts per estimate, and the time cap on them (seconds)
PLAYOUTS = 64
PLAYOUT_SECONDS = 2.0
#: a group whose mean ownership from its own side is below this is dead
DEAD_BELOW = -0.2


def estimate_ownership(state: GoState, playouts: int = PLAYOUTS, *, seconds: float = PLAYOUT_SECONDS,
                       seed: int = 0) -> np.ndarray:
    """Mean area ownership (+1 Black … −1 White, float [N*N]) over random playouts from ``state``.

    A playout plays uniformly random legal moves that do not fill a one-point eye
    of the mover, until both sides pass (or 3·N² moves), then scores by area.
    Stops early after ``seconds`` (at least one playout is always played).
    """
    work = state.copy()
    n, nn = work.size, work.nn
    orth, _ = geometry(n)
    rng = random.Random(seed)
    total = np.zeros(nn, np.float64)
    done = 0
    t0 = time.monotonic()
    cap = 3 * nn
    while done < playouts and (done == 0 or time.monotonic() - t0 < seconds):
        pushed, passes = 0, 0
        while passes < 2 and pushed < cap:
            legal = work.legal_moves()
            stone = work.turn + 1
            board = work.board_list()
            move = nn
            k = len(legal) - 1  # the last entry is pass
            tries = 0
            while k > 0:
                i = rng.randrange(k)
                p = legal[i]
                if not one_point_eye(board, p, stone, orth):
                    move = p
                    break
                tries += 1
                if tries >= 8:  # mostly eyes left: scan the rest in order
                    cands = [q for q in legal[:k] if not one_point_eye(board, q, stone, orth)]
                    if cands:
                        move = cands[rng.randrange(len(cands))]
                    break
            passes = passes + 1 if move == nn else 0
            work.push(move)
            pushed += 1
        total += work.area_ownership()
        for _ in range(pushed):
            work.pop()
        done += 1
    return total / done


def dead_stones(state: GoState, ownership: np.ndarray | None = None) -> tuple[list[list[int]], list[list[int]]]:
    """(dead groups, alive groups) of the board, each a sorted list of points.

    ``ownership`` (+1 Black … −1 White per point) defaults to :func:`estimate_ownership`.
    """
    own = estimate_ownership(state) if ownership is None else ownership
    board = state.board_list()
    seen: set[int] = set()
    dead, alive = [], []
    for p, v in enumerate(board):
        if not v or p in seen:
            continue
        group = state.group(p)
        seen.update(group)
        sign = 1.0 if v == 1 else -1.0
        mean = sign * float(own[group].mean())
        (dead if mean < DEAD_BELOW else alive).append(group)
    return dead, alive


def score_without(state: GoState, dead: Iterable[Sequence[int]]) -> float:
    """Area score (Black − White − komi) after taking the ``dead`` groups off the board."""
    removed = {p for g in dead for p in g}
    board = state.board_list()
    black = [p for p, v in enumerate(board) if v == 1 and p not in removed]
    white = [p for p, v in enumerate(board) if v == 2 and p not in removed]
    return GoState(state.size, state.komi, black=black, white=white).score()


__all__ = ["DEAD_BELOW", "PLAYOUTS", "PLAYOUT_SECONDS", "dead_stones", "estimate_ownership", "score_without"]
