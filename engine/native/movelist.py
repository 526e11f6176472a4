"""The legal-move list of a compiled game state: generated into a buffer once per position."""

from __future__ import annotations

from typing import Sequence

import numpy as np


class CompiledMoves:
    """``legal_moves`` / ``legal_moves_array`` over a compiled move generator, cached until the
    state changes. A state gives ``_buf`` (int32, room for every move), sets ``_n = -1`` and
    ``_moves = None`` when it changes, and generates with :meth:`_generate`."""

    _buf: np.ndarray
    _n: int
    _moves: list[int] | None

    def _generate(self, buf: np.ndarray) -> int:
        """Write the legal moves into ``buf``; their number."""
        raise NotImplementedError

    def _count(self) -> int:
        if self._n < 0:
            self._n = self._generate(self._buf)
        return self._n

    def legal_moves(self) -> Sequence[int]:
        """The legal moves in the generator's order (cached; don't mutate)."""
        if self._moves is None:
            self._moves = self._buf[:self._count()].tolist()
        return self._moves

    def legal_moves_array(self) -> np.ndarray:
        """The legal moves as an int32 view (valid until the state changes)."""
        return self._buf[:self._count()]
