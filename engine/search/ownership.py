"""The mean ownership over a search's evaluations, turned to the root's side-to-move view.

Both searches (the Python reference and the compiled one) keep one :class:`OwnershipMean`.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np


class OwnershipMean:
    """Sums each evaluated position's ownership (+1: its side to move) as the root's side sees it."""

    def __init__(self) -> None:
        self._sum: np.ndarray | None = None
        self._n = 0

    def add(self, own: np.ndarray, depths: Sequence[int]) -> None:
        """Add rows ``own[i]`` of positions ``depths[i]`` plies below the root (odd: the opponent to move)."""
        signs = np.where(np.asarray(depths) % 2 == 0, 1.0, -1.0)
        total = signs @ own
        self._sum = total if self._sum is None else self._sum + total
        self._n += len(depths)

    def mean(self) -> np.ndarray | None:
        """The mean so far, per move code; None before any evaluation with ownership."""
        return None if self._sum is None else self._sum / self._n
