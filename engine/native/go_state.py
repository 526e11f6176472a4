"""``NativeGoState``: the :class:`~engine.games.base.GameState` of go on the compiled rules.

Same move codes, move order, legality (suicide, positional superko), terminal verdicts and
scores as :class:`~engine.games.go.GoState` (the reference, which the protocol layer keeps),
but the position and its history live in :class:`~engine.native.go_rules.GoArrays`, so push
/ legal moves / terminal / key are single compiled calls and the 17/18 go planes are written
straight from the arrays (:meth:`NativeGoState.encode_planes`). It also offers what the Python
go codecs read (``size``, ``turn``, ``board_history``), so they encode it as they encode a
GoState.

>>> s = NativeGoState.from_state(GoState(9, 7.0))
>>> s.push(s.parse_move("E5")); s.move_to_text(s.legal_moves()[0]), s.turn
('A1', 1)
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from ..games.base import DRAW, LOSS, WIN, GameState, IllegalMoveError
from ..games.go import BLACK, GoState, _parse_color, parse_vertex, vertex
from . import go_encoder
from . import go_rules as gr
from .movelist import CompiledMoves

__all__ = ["NativeGoState"]

_DEFAULT_ROOM = 256
_WHY = {gr.OCCUPIED: "point occupied", gr.SUICIDE: "suicide", gr.SUPERKO: "superko",
        gr.OFF_BOARD: "off the board"}


class NativeGoState(CompiledMoves, GameState):
    """A go game (start position plus moves) in compiled arrays (``self.g``)."""

    game: ClassVar[str] = "go"

    def __init__(self, size: int = 19, komi: float = 7.5) -> None:
        """An empty board, Black to move (set-up positions: :meth:`from_state`)."""
        self._adopt(GoState(size, komi), _DEFAULT_ROOM)

    # -- construction ---------------------------------------------------------------------
    def _adopt(self, state: GoState, room: int) -> None:
        n = state.size
        g = gr.new_go(n, state.komi, capacity=state.ply + max(int(room), 8))
        black, white, turn0 = state.setup_position()
        stones = np.zeros(n * n, np.int8)
        stones[list(black)] = gr.BLACK_STONE
        stones[list(white)] = gr.WHITE_STONE
        gr.set_position(g, stones, turn0)
        for rec in state.undo_records():
            g.meta[gr.M_TURN] = rec[2]
            g.hturn[g.meta[gr.M_PLY]] = rec[2]
            gr.play(g, rec[0], rec[1])
        self._set_turn(state.turn, g)
        self.g = g
        self.size, self.nn, self.PASS = n, n * n, n * n
        self._buf = np.empty(gr.MAX_POINTS + 1, np.int32)
        self._n = -1
        self._moves: list[int] | None = None

    @staticmethod
    def _set_turn(turn: int, g: gr.GoArrays) -> None:
        g.meta[gr.M_TURN] = turn
        g.hturn[g.meta[gr.M_PLY]] = turn

    @classmethod
    def from_state(cls, state: GoState, room: int = _DEFAULT_ROOM) -> "NativeGoState":
        """The same game as a GoState (its set-up, its moves and who is to move), with room for
        ``room`` more moves before the arrays grow."""
        if not isinstance(state, GoState):
            raise TypeError(f"expected a GoState, not {type(state).__name__}")
        new = object.__new__(cls)
        new._adopt(state, room)
        return new

    def to_state(self) -> GoState:
        """The reference GoState of the same game."""
        g = self.g
        first = g.hboard[0]
        s = GoState(self.size, self.komi, black=np.flatnonzero(first == 1).tolist(),
                    white=np.flatnonzero(first == 2).tolist(), to_move=int(g.hturn[0]))
        for k in range(1, self.ply + 1):
            s.set_turn(int(g.hturn[k - 1]))
            s.play_color(int(g.hcolour[k]) - 1, int(g.hmove[k]))
        s.set_turn(self.turn)
        return s

    def ensure_room(self, room: int) -> None:
        """Make room for ``room`` more moves in the history."""
        if int(self.g.meta[gr.M_CAP]) - self.ply < room:
            self.g = gr.grown(self.g, self.ply + max(room, 2 * int(self.g.meta[gr.M_CAP])))

    # -- GameState ------------------------------------------------------------------------
    @property
    def turn(self) -> int:
        return int(self.g.meta[gr.M_TURN])

    @property
    def ply(self) -> int:
        return int(self.g.meta[gr.M_PLY])

    @property
    def komi(self) -> float:
        return float(self.g.komi[0])

    @komi.setter
    def komi(self, value: float) -> None:
        self.g.komi[0] = float(value)

    def _generate(self, buf: np.ndarray) -> int:
        return gr.legal_moves(self.g, buf)

    def _changed(self) -> None:
        self._n = -1
        self._moves = None

    def push(self, move: int) -> None:
        """Play ``move`` for the side to move (assumed legal)."""
        if self.ply >= int(self.g.meta[gr.M_CAP]):
            self.ensure_room(64)
        gr.play(self.g, int(move), self.turn + 1)
        self._changed()

    def play_color(self, color: int | str, move: int) -> None:
        """Play ``move`` for ``color`` even out of turn, checked (IllegalMoveError)."""
        col = _parse_color(color)
        why = gr.why(self.g, int(move), col + 1)
        if why != gr.LEGAL:
            raise IllegalMoveError(f"illegal move {move!r} for {'black' if col == BLACK else 'white'}: "
                                   f"{_WHY[why]}")
        if self.ply >= int(self.g.meta[gr.M_CAP]):
            self.ensure_room(64)
        gr.play(self.g, int(move), col + 1)
        self._changed()

    def set_turn(self, color: int | str) -> None:
        """Give the move to ``color`` without playing."""
        self._set_turn(_parse_color(color), self.g)
        self._changed()

    def pop(self) -> int:
        if self.ply == 0:
            raise IndexError("pop from a NativeGoState with no moves played")
        move = int(gr.pop(self.g))
        self._changed()
        return move

    def copy(self) -> "NativeGoState":
        new = object.__new__(type(self))
        new.g = gr.copy_go(self.g)
        new.size, new.nn, new.PASS = self.size, self.nn, self.PASS
        new._buf = np.empty(gr.MAX_POINTS + 1, np.int32)
        new._n = -1
        new._moves = None
        return new

    def terminal(self) -> float | None:
        """After two consecutive passes: WIN/LOSS/DRAW for the side to move by area score."""
        ended, result, _ = gr.terminal(self.g)
        if not ended:
            return None
        return WIN if result > 0 else (LOSS if result < 0 else DRAW)

    def final_score(self) -> float | None:
        """After two passes, the area score (komi included) for the side to move, else None."""
        ended, _, s = gr.terminal(self.g)
        return float(s) if ended else None

    def set_search_root(self) -> None:
        self.g.meta[gr.M_ROOT] = self.ply

    def key(self) -> int:
        self._count()  # the superko bans of this position
        return int(gr.position_key(self.g))

    def is_legal(self, move: int) -> bool:
        return gr.why(self.g, int(move), self.turn + 1) == gr.LEGAL

    def move_to_text(self, move: int) -> str:
        return vertex(move, self.size)

    def parse_move(self, text: str) -> int:
        move = parse_vertex(text, self.size)
        why = gr.why(self.g, move, self.turn + 1)
        if why != gr.LEGAL:
            who = "black" if self.turn == BLACK else "white"
            raise IllegalMoveError(f"illegal move {text!r} for {who}: {_WHY[why]}")
        return move

    # -- go specifics ------------------------------------------------------------------------
    @property
    def consecutive_passes(self) -> int:
        return int(self.g.meta[gr.M_PASSES])

    @property
    def position_hash(self) -> int:
        """Zobrist hash of the stones (go.py's keys: equal to GoState.position_hash)."""
        return int(self.g.hhash[self.ply])

    def move_history(self) -> list[tuple[int, int]]:
        g = self.g
        return [(int(g.hcolour[k]) - 1, int(g.hmove[k])) for k in range(1, self.ply + 1)]

    def last_move(self) -> int | None:
        return int(self.g.hmove[self.ply]) if self.ply else None

    def board_list(self) -> list[int]:
        return self.g.hboard[self.ply].tolist()

    def stones(self) -> np.ndarray:
        return self.g.hboard[self.ply].reshape(self.size, self.size).copy()

    def board_history(self, k: int = 8) -> list[np.ndarray]:
        """The last ``k`` boards, most recent first (as GoState.board_history)."""
        ply = self.ply
        return [self.g.hboard[ply - i].copy() for i in range(min(k, ply + 1))]

    def area_ownership(self) -> np.ndarray:
        own = np.empty(self.nn, np.int8)
        gr.ownership(self.g, own)
        return own

    def area(self) -> int:
        return int(gr.area(self.g))

    def score(self) -> float:
        return float(gr.score(self.g))

    # -- codecs ---------------------------------------------------------------------------------
    def encode_planes(self, out_row: np.ndarray, colour_planes: int = 1) -> None:
        """Write the go planes (float32 [16 + colour_planes, N, N]) as the go codecs would."""
        go_encoder.write_planes(self.g, out_row, colour_planes)

    def __repr__(self) -> str:
        return f"<NativeGoState {self.size}x{self.size} komi={self.komi:g} ply={self.ply} turn={self.turn}>"
