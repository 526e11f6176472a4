"""``NativeChessState``: the :class:`~engine.games.base.GameState` of chess on the compiled rules.

Same move codes, move order, terminal verdicts and history semantics as
:class:`~engine.games.chess_game.ChessState` (the reference), but the position and its
history live in one ``uint64`` array (:mod:`engine.native.chess_rules`), so push / pop /
legal moves / terminal / key are single compiled calls, and the lc0 planes are written
straight from that array (:meth:`NativeChessState.encode_lc0`). Text (UCI) goes through a
python-chess board rebuilt on demand: it is not on the search's hot path.

Known differences from ChessState, all from hand-written FENs only: a FEN en-passant square
that python-chess calls invalid (e.g. the pawn's start square occupied) gives no en-passant
capture here; castling rights a FEN grants without the rook or king in place are dropped
from the repetition key (ChessState keeps python-chess's raw rights in it).

>>> s = NativeChessState()
>>> s.push(s.parse_move("e2e4")); s.move_to_text(s.legal_moves()[0])
'g8h6'
"""

from __future__ import annotations

from typing import ClassVar, Iterable, Sequence

import chess
import numpy as np
from numba import njit

from ..games.base import DRAW, LOSS, GameState, IllegalMoveError
from ..games.chess_game import ChessState, decode_move, encode_move
from . import chess_rules as cr
from . import lc0_encoder as lc0
from .bitboards import U0
from .movelist import CompiledMoves

__all__ = ["NativeChessState", "native_terminal", "native_key", "P_SEARCH_ROOT"]

_DEFAULT_CAPACITY = 256
_NO_PREV = np.uint64(0x9E3779B97F4A7C15)


#: word of the position array holding the search root's ply (ChessState.root_ply): a single
#: repetition is a draw only when its earlier occurrence is at or after it (lc0's TwoFoldDraws)
P_SEARCH_ROOT = cr.P_EXTRA + 2
assert P_SEARCH_ROOT < cr.P_BOARD and P_SEARCH_ROOT not in (lc0.P_ROOT, lc0.P_ROOT_FIX)
#: word holding how many earlier positions the eval-cache key includes (ChessState.cache_history)
P_CACHE_HISTORY = cr.P_EXTRA + 3
assert P_CACHE_HISTORY < cr.P_BOARD and P_CACHE_HISTORY not in (lc0.P_ROOT, lc0.P_ROOT_FIX)


@njit(cache=True, nogil=True)
def native_terminal(pos: np.ndarray, n_legal: int) -> int:
    """ChessState.terminal's verdict as a chess_rules code (ONGOING = 0), given the number of
    legal moves; repetitions count the FEN's en-passant flag of the first position, and one
    earlier occurrence draws only at or after the search root (``pos[P_SEARCH_ROOT]``), two
    anywhere."""
    if n_legal == 0:
        return cr.CHECKMATE if cr.is_check(pos) else cr.STALEMATE
    at = lc0.repeat_at(pos, np.int64(pos[cr.P_PLY]))
    if at >= 0 and (at >= np.int64(pos[P_SEARCH_ROOT]) or lc0.repeated(pos, at)):
        return cr.REPETITION
    if pos[cr.P_HALFMOVE] >= np.uint64(100):
        return cr.FIFTY_MOVES
    if cr.is_insufficient_material(pos):
        return cr.INSUFFICIENT
    return cr.ONGOING


@njit(cache=True, nogil=True, inline="always")
def _mix(x: np.uint64) -> np.uint64:
    """splitmix64's finaliser."""
    x ^= x >> np.uint64(30)
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(27)
    x *= np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


@njit(cache=True, nogil=True)
def native_key(pos: np.ndarray) -> np.uint64:
    """ChessState.key's content hashed: this position, whether it repeats, the halfmove clock
    and the ``pos[P_CACHE_HISTORY]`` positions before it (a fixed word for each before the
    game's first)."""
    ply = np.int64(pos[cr.P_PLY])
    extra = (pos[cr.P_HALFMOVE] << np.uint64(1)) | (np.uint64(1) if lc0.repeated(pos, ply) else U0)
    earlier = U0
    for k in range(1, np.int64(pos[P_CACHE_HISTORY]) + 1):
        earlier = _mix(earlier ^ (lc0.rep_hash(pos, ply - k) if ply >= k else _NO_PREV))
    return lc0.rep_hash(pos, ply) ^ earlier ^ _mix(extra + np.uint64(0x632BE59BD9B4E019))


_VERDICT = {cr.ONGOING: None, cr.CHECKMATE: LOSS, cr.STALEMATE: DRAW, cr.FIFTY_MOVES: DRAW,
            cr.INSUFFICIENT: DRAW, cr.REPETITION: DRAW}


class NativeChessState(CompiledMoves, GameState):
    """A chess game (start position plus moves) in a native position array.

    ``pos`` is the array (see :mod:`engine.native.chess_rules`, root facts from
    :func:`engine.native.lc0_encoder.set_root`); it grows when its undo stack is full.
    """

    game: ClassVar[str] = "chess"

    def __init__(self, fen: str | None = None, *, chess960: bool = False) -> None:
        """Like ChessState(fen, chess960=...): InvalidPositionError for a bad FEN."""
        self._adopt(ChessState(fen, chess960=chess960), _DEFAULT_CAPACITY)

    # -- construction ---------------------------------------------------------------------
    def _adopt(self, state: ChessState, capacity: int) -> None:
        self.pos = cr.from_board(state.board, capacity)
        root = state.board.root() if state.board.move_stack else state.board
        lc0.set_root(self.pos, root, startpos=state.from_startpos, ep_flag=state.ep_flags[0])
        self._ply = state.ply
        self.pos[P_SEARCH_ROOT] = state.root_ply
        self.pos[P_CACHE_HISTORY] = state.cache_history
        self._cap = int(self.pos[cr.P_CAP])
        self._buf = np.empty(cr.MAX_MOVES, np.int32)
        self._n = -1
        self._moves: list[int] | None = None

    @classmethod
    def from_state(cls, state: ChessState, capacity: int = _DEFAULT_CAPACITY) -> "NativeChessState":
        """The same game as a ChessState (its start position and moves), ``capacity`` more moves
        of room before the array grows."""
        new = object.__new__(cls)
        new._adopt(state, capacity)
        return new

    @classmethod
    def from_moves(cls, fen: str | None = None, moves: Iterable[int | str] = (), *,
                   chess960: bool = False) -> "NativeChessState":
        """A game from ``fen`` (None: start position) and moves (codes or UCI, checked)."""
        state = ChessState(fen, chess960=chess960)
        for m in moves:
            code = state.parse_move(m) if isinstance(m, str) else int(m)
            if not isinstance(m, str) and code not in state.legal_moves():
                raise IllegalMoveError(f"illegal move {state.move_to_text(code)!r} in {state.fen()}")
            state.push(code)
        return cls.from_state(state)

    # -- GameState ------------------------------------------------------------------------
    @property
    def turn(self) -> int:
        return int(self.pos[cr.P_TURN])

    @property
    def ply(self) -> int:
        return self._ply

    def _generate(self, buf: np.ndarray) -> int:
        return cr.legal_moves(self.pos, buf)

    def push(self, move: int) -> None:
        if self._ply >= self._cap:
            self._grow()
        cr.make_move(self.pos, move)
        self._ply += 1
        self._n = -1
        self._moves = None

    def pop(self) -> int:
        move = cr.unmake_move(self.pos)
        self._ply -= 1
        self._n = -1
        self._moves = None
        return move

    def _grow(self) -> None:
        """Double the undo stack's room (same contents)."""
        cap = max(2 * self._cap, 64)
        pos = np.zeros(cr.P_STACK + cap * cr.UNDO, np.uint64)
        pos[:self.pos.size] = self.pos
        pos[cr.P_CAP] = cap
        self.pos, self._cap = pos, cap

    def copy(self) -> "NativeChessState":
        new = object.__new__(type(self))
        new.pos = self.pos.copy()
        new._ply, new._cap = self._ply, self._cap
        new._buf = np.empty(cr.MAX_MOVES, np.int32)
        new._n = -1
        new._moves = None
        return new

    def terminal(self) -> float | None:
        return _VERDICT[native_terminal(self.pos, self._count())]

    def set_search_root(self) -> None:
        self.pos[P_SEARCH_ROOT] = self._ply

    def set_cache_history(self, plies: int) -> None:
        self.pos[P_CACHE_HISTORY] = max(0, int(plies))

    @property
    def cache_history(self) -> int:
        """Earlier positions in :meth:`key` (see GameState.set_cache_history)."""
        return int(self.pos[P_CACHE_HISTORY])

    @property
    def root_ply(self) -> int:
        """The search root's ply (see :meth:`set_search_root`; 0 = the whole game)."""
        return int(self.pos[P_SEARCH_ROOT])

    def verdict(self) -> int:
        """The terminal verdict as a chess_rules code (ONGOING, CHECKMATE, … REPETITION)."""
        return native_terminal(self.pos, self._count())

    def key(self) -> int:
        return int(native_key(self.pos))

    def move_to_text(self, move: int) -> str:
        return cr.to_board(self.pos).uci(decode_move(move)) if move else "0000"

    def parse_move(self, text: str) -> int:
        board = cr.to_board(self.pos)
        try:
            move = board.parse_uci(text)
        except ValueError as exc:
            raise IllegalMoveError(f"illegal move {text!r} in {board.fen()}: {exc}") from None
        return encode_move(move)

    # -- chess specifics ------------------------------------------------------------------
    @property
    def chess960(self) -> bool:
        """Whether castling moves are written king-takes-rook (Chess960 mode)."""
        return bool(self.pos[cr.P_960])

    @property
    def from_startpos(self) -> bool:
        """Whether the game started at lc0's start board (HistoryFill fen_only)."""
        return bool(int(self.pos[lc0.P_ROOT]) & 1)

    def fen(self) -> str:
        """The current position as FEN, as ChessState.fen writes it."""
        return cr.to_board(self.pos).fen()

    def to_board(self) -> chess.Board:
        """A python-chess board of the game: the first position with the moves replayed."""
        moves = [int(self.pos[cr.P_STACK + k * cr.UNDO + cr.SAVED]) for k in range(self._ply)]
        for _ in range(self._ply):
            cr.unmake_move(self.pos)
        board = cr.to_board(self.pos)
        for m in moves:
            cr.make_move(self.pos, m)
            board.push(decode_move(m))
        return board

    # -- lc0 codec --------------------------------------------------------------------------
    def encode_lc0(self, out_row: np.ndarray) -> None:
        """Write the lc0 112 planes (float32 [112, 8, 8]) as Lc0Codec.encode would."""
        lc0.encode(self.pos, out_row)

    def lc0_policy_indices(self, moves: Sequence[int] | np.ndarray) -> np.ndarray:
        """Lc0Codec.policy_indices for this position: int64 array, same order as ``moves``."""
        return lc0.policy_indices(self.pos, moves)
