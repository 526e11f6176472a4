"""Go's disputed pass: a game ended by two passes whose Tromp–Taylor result the net disputes.

Both searches (the Python reference and the compiled one) ask this one function.
"""

from __future__ import annotations

from typing import Protocol

from ..games.base import GameState


class _Cache(Protocol):
    def get(self, key: int) -> tuple | None: ...


def disputed_end(state: GameState, cache: _Cache, result: float) -> float | None:
    """For a game just ended by a pass: the net's value of the position before that pass,
    turned to the side to move now, when it disagrees with the exact ``result``; else None
    (also when the net has not seen that position: it is not in the eval cache)."""
    last = state.pop()
    try:
        hit = cache.get(state.key())
    finally:
        state.push(last)
    if hit is None:
        return None
    v = -float(hit[1])
    return v if result == 0 or (v > 0) != (result > 0) else None
