"""The rules contract every game module fulfils.

A :class:`GameState` is one mutable position *with its history* (the codec needs
past boards, the draw rules need repetitions). The search walks the tree by
``push``-ing moves from the root and ``pop``-ing them back, so no per-node
position object is ever stored.

Moves are plain ``int`` codes chosen by each game (chess: from/to/promotion bits,
shogi: cshogi's move int, go: point index with pass = N*N), so the search tree can
store them in a numpy array. Text notation (UCI, USI, GTP vertices) is parsed and
printed only here, at the protocol boundary.

>>> from tabula.engine.games.chess_game import ChessState
>>> s = ChessState()
>>> s.push(s.parse_move("e2e4")); s.move_to_text(s.legal_moves()[0])
'g8h6'
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar, Sequence

#: Terminal values, from the point of view of the side to move.
WIN: float = 1.0
DRAW: float = 0.0
LOSS: float = -1.0

#: Earlier positions in a chess eval-cache key by default (UCI ``CacheHistoryLength``; see
#: :meth:`GameState.set_cache_history`).
CACHE_HISTORY: int = 1


class IllegalMoveError(ValueError):
    """A move that is malformed or not legal in the position; the message quotes both."""


class InvalidPositionError(ValueError):
    """A FEN/SFEN/board description that cannot be parsed or is not a legal position."""


class GameState(ABC):
    """A position plus the history its rules and codec need."""

    #: Short game name, as written in net metadata (``tabula.game``).
    game: ClassVar[str]

    @abstractmethod
    def legal_moves(self) -> Sequence[int]:
        """Legal moves of the side to move, in a deterministic order."""

    @abstractmethod
    def push(self, move: int) -> None:
        """Play ``move`` (assumed legal: checking is :meth:`parse_move`'s job)."""

    @abstractmethod
    def pop(self) -> int:
        """Take back the last move and return it."""

    def push_moves(self, moves: Sequence[int]) -> None:
        """Play ``moves`` in order (a search's path to its leaf); :meth:`push` for each here,
        a game may do it in one step."""
        for move in moves:
            self.push(move)

    def pop_moves(self, count: int) -> None:
        """Take back the last ``count`` moves (:meth:`pop` for each here)."""
        for _ in range(count):
            self.pop()

    @abstractmethod
    def copy(self) -> "GameState":
        """An independent copy with the full history."""

    @abstractmethod
    def terminal(self) -> float | None:
        """The game result for the side to move if the game is over here, else ``None``.

        Draws by repetition as lc0's two-fold rule: a position that occurred twice before
        anywhere, or once before at or after the search root (see :meth:`set_search_root`).
        """

    def set_search_root(self) -> None:
        """Mark the current position as the search's root: from here on, one earlier
        occurrence of a position inside the tree is enough for a repetition draw, while an
        occurrence before the root (game history) is not. Games without the rule ignore it."""

    def set_cache_history(self, plies: int) -> None:
        """How many earlier positions :meth:`key` includes (lc0's ``CacheHistoryLength``): with
        fewer than the net sees, a transposition reached by another path reuses an evaluation
        made with a different history. Games whose key covers no history ignore it."""

    @abstractmethod
    def key(self) -> int:
        """A 64-bit hash of everything the network sees (used by the eval cache)."""

    @property
    @abstractmethod
    def turn(self) -> int:
        """0 for the first player (white / black in shogi and go), 1 for the second."""

    @property
    @abstractmethod
    def ply(self) -> int:
        """Number of moves played since the game's start position (history length)."""

    @abstractmethod
    def move_to_text(self, move: int) -> str:
        """The move in the protocol's notation (UCI, USI, GTP vertex)."""

    @abstractmethod
    def parse_move(self, text: str) -> int:
        """Parse a move in protocol notation; raise :class:`IllegalMoveError` if not legal."""

    def final_score(self) -> float | None:
        """At a terminal position, the exact score for the side to move (go: points), else None.

        Searches with a score head average it beside the value; the default has none.
        """
        return None

    def quick_win(self) -> int | None:
        """Plies to a forced win for the side to move found by a cheap rules-level check, or None.

        The search calls this at every new leaf that is not terminal (shogi: a short
        mate search); a result makes the leaf a proven win without a network call.
        The default finds nothing.
        """
        return None

    def is_legal(self, move: int) -> bool:
        """Whether ``move`` is legal here (default: membership in :meth:`legal_moves`)."""
        return move in self.legal_moves()
