"""Shogi rules through cshogi, with the draw, perpetual-check and entering-king rules the search needs.

Move codes are cshogi's *full* 32-bit move ints, exactly as ``cshogi.Board.legal_moves``
yields them and ``cshogi.Board.push`` takes them: bits 0-6 destination square, bits 7-13
source square (``80 + piece type`` for a drop), bit 14 promotion, bits 16-19 the moving
piece type, bits 20-23 the captured piece type. The low 16 bits (``move & 0xFFFF``) are
cshogi's ``move16``, which is all that dlshogi's policy label depends on. Always push
the full move: ``push`` trusts the piece-type bits and does not look them up.

>>> s = ShogiState()
>>> s.push(s.parse_move("7g7f")); s.move_to_text(s.legal_moves()[0]), s.turn
('1c1d', 1)
"""

from __future__ import annotations

import re
from typing import ClassVar, Sequence

import cshogi

from .base import DRAW, LOSS, WIN, GameState, IllegalMoveError, InvalidPositionError

#: The standard start position.
STARTING_SFEN: str = cshogi.STARTING_SFEN

#: ``Board.is_draw()`` codes → result for the side to move. cshogi reports a repeated
#: position with REPETITION_WIN/LOSE when one side gave check on every move of the cycle
#: (perpetual check loses for the checker), and SUPERIOR/INFERIOR when the board repeats
#: while the side to move holds more/fewer pieces in hand than before; dlshogi scores those
#: as a win/loss, and so do we.
REPETITION_RESULTS: dict[int, float] = {
    cshogi.REPETITION_DRAW: DRAW,
    cshogi.REPETITION_WIN: WIN,
    cshogi.REPETITION_LOSE: LOSS,
    cshogi.REPETITION_SUPERIOR: WIN,
    cshogi.REPETITION_INFERIOR: LOSS,
}

#: Default game length (moves played, counted from the SFEN's move number) after which the
#: game is a draw; GUIs commonly use 256 or 512. ``0``/``None`` switches the rule off.
DEFAULT_MAX_MOVES: int = 512

_USI_MOVE = re.compile(r"[1-9][a-i][1-9][a-i]\+?|[PLNSGBR]\*[1-9][a-i]")

# -- SFEN validation (cshogi's own parser accepts short ranks, missing kings, …) ---------
_PIECES = "PLNSGBRK"
_PROMOTABLE = "PLNSBR"
#: Maximum number of each piece kind in a full set (promoted and in-hand pieces included).
_MAX_COUNT = {"P": 18, "L": 4, "N": 4, "S": 4, "G": 4, "B": 2, "R": 2, "K": 2}
_HAND_TOKEN = re.compile(r"(\d*)([PLNSGBRplnsgbr])")


def _validate_sfen(sfen: str) -> str:
    """Check an SFEN for syntax and basic legality; return it normalised (move number added).

    Raises :class:`InvalidPositionError` with the reason.
    """
    def bad(reason: str) -> InvalidPositionError:
        return InvalidPositionError(f"invalid SFEN {sfen!r}: {reason}")

    fields = sfen.split()
    if len(fields) not in (3, 4):
        raise bad("expected 3 or 4 fields: board, side to move, hand, [move number]")
    board_f, turn_f, hand_f = fields[:3]
    move_f = fields[3] if len(fields) == 4 else "1"
    if turn_f not in ("b", "w"):
        raise bad(f"side to move must be 'b' or 'w', not {turn_f!r}")
    if not move_f.isdigit() or int(move_f) < 1:
        raise bad(f"move number must be a positive integer, not {move_f!r}")

    counts = dict.fromkeys(_PIECES, 0)
    kings = {"K": 0, "k": 0}
    pawn_files: set[tuple[bool, int]] = set()
    ranks = board_f.split("/")
    if len(ranks) != 9:
        raise bad(f"board must have 9 ranks separated by '/', found {len(ranks)}")
    for r, rank in enumerate(ranks):  # r = 0 is rank a (White's back rank)
        file, i = 9, 0  # files run 9 → 1 from left to right
        while i < len(rank):
            ch = rank[i]
            if ch.isdigit():
                file -= int(ch)
                i += 1
                continue
            promoted = ch == "+"
            if promoted:
                i += 1
                ch = rank[i] if i < len(rank) else ""
                if not ch or ch.upper() not in _PROMOTABLE:
                    raise bad(f"'+{ch}' in rank {r + 1} is not a promotable piece")
            if ch.upper() not in _PIECES:
                raise bad(f"unknown piece letter {ch!r} in rank {r + 1}")
            if file < 1:
                raise bad(f"rank {r + 1} ({rank!r}) has more than 9 squares")
            black = ch.isupper()
            kind = ch.upper()
            counts[kind] += 1
            if kind == "K":
                kings[ch] += 1
            if not promoted:
                # ranks from the owner's side: 0 = the farthest rank
                far = r if black else 8 - r
                if kind in "PL" and far == 0 or kind == "N" and far <= 1:
                    raise bad(f"{'Black' if black else 'White'} {kind} on {file}{'abcdefghi'[r]} can never move")
                if kind == "P":
                    if (black, file) in pawn_files:
                        raise bad(f"two unpromoted {'Black' if black else 'White'} pawns on file {file} (nifu)")
                    pawn_files.add((black, file))
            file -= 1
            i += 1
        if file != 0:
            raise bad(f"rank {r + 1} ({rank!r}) has {9 - file} squares, not 9")
    if kings["K"] != 1 or kings["k"] != 1:
        raise bad(f"need exactly one king per side (Black {kings['K']}, White {kings['k']})")

    if hand_f != "-":
        pos = 0
        for m in _HAND_TOKEN.finditer(hand_f):
            if m.start() != pos:
                break
            n = int(m.group(1)) if m.group(1) else 1
            if n < 1:
                raise bad(f"hand count {m.group(0)!r} must be at least 1")
            counts[m.group(2).upper()] += n
            pos = m.end()
        if pos != len(hand_f):
            raise bad(f"cannot read the hand {hand_f!r} (expected e.g. '-' or '2Pb')")
    for kind, limit in _MAX_COUNT.items():
        if counts[kind] > limit:
            raise bad(f"{counts[kind]} pieces of kind {kind} on board and in hand (at most {limit})")
    return f"{board_f} {turn_f} {hand_f} {int(move_f)}"


class ShogiState(GameState):
    """A ``cshogi.Board`` (which keeps its own history) plus a legal-move cache.

    ``max_moves`` ends the game as a draw once that many moves have been played
    (counting the SFEN's move number); ``repetition_plies`` limits how far back the
    repetition check looks (``None``: the whole history, as the contract asks; dlshogi
    uses 16).
    """

    game: ClassVar[str] = "shogi"

    def __init__(self, sfen: str | None = None, *, max_moves: int | None = DEFAULT_MAX_MOVES,
                 repetition_plies: int | None = None) -> None:
        if sfen is None:
            sfen = STARTING_SFEN
        if not isinstance(sfen, str):
            raise InvalidPositionError(f"invalid SFEN {sfen!r}: not a string")
        sfen = _validate_sfen(sfen)
        try:
            board = cshogi.Board(sfen)
        except RuntimeError as exc:  # pragma: no cover - the validator should catch these first
            raise InvalidPositionError(f"invalid SFEN {sfen!r}: {exc}") from None
        fields = sfen.split()
        flipped = " ".join([fields[0], "w" if fields[1] == "b" else "b", *fields[2:]])
        if cshogi.Board(flipped).is_check():
            side = "White" if fields[1] == "b" else "Black"
            raise InvalidPositionError(f"invalid SFEN {sfen!r}: {side} (not to move) is in check")
        #: The position the history starts from (normalised SFEN).
        self.start_sfen: str = sfen
        #: The underlying cshogi board; treat as read-only outside this class.
        self.board: cshogi.Board = board
        self.max_moves = max_moves or 0
        self.repetition_plies = repetition_plies
        self._ply = 0
        self._moves: list[int] | None = None

    # -- GameState --------------------------------------------------------------------
    @property
    def turn(self) -> int:
        return self.board.turn

    @property
    def ply(self) -> int:
        return self._ply

    def legal_moves(self) -> Sequence[int]:
        if self._moves is None:
            self._moves = list(self.board.legal_moves)
        return self._moves

    def push(self, move: int) -> None:
        self.board.push(move)
        self._ply += 1
        self._moves = None

    def pop(self) -> int:
        if not self._ply:
            raise IndexError("pop from a position without history")
        self._ply -= 1
        self._moves = None
        return self.board.pop()

    def push_moves(self, moves: Sequence[int]) -> None:
        push = self.board.push
        for move in moves:
            push(move)
        self._ply += len(moves)
        self._moves = None

    def pop_moves(self, count: int) -> None:
        if count > self._ply:
            raise IndexError(f"pop of {count} moves from a position with {self._ply} in its history")
        pop = self.board.pop
        for _ in range(count):
            pop()
        self._ply -= count
        self._moves = None

    def copy(self) -> "ShogiState":
        new = object.__new__(ShogiState)
        board = cshogi.Board(self.start_sfen)
        for move in self.board.history:  # replaying keeps repetition info on any cshogi version
            board.push(move)
        new.start_sfen = self.start_sfen
        new.board = board
        new.max_moves = self.max_moves
        new.repetition_plies = self.repetition_plies
        new._ply = self._ply
        new._moves = None
        return new

    def terminal(self) -> float | None:
        """LOSS when mated (or stalemated: also a loss in shogi); repetitions as dlshogi scores them.

        Any earlier occurrence of the position counts (two-fold, like dlshogi's search);
        then an entering-king declaration (27-point rule) wins for the side to move; then
        the ``max_moves`` draw.
        """
        if not self.legal_moves():
            return LOSS
        board = self.board
        rep = board.is_draw(self.repetition_plies)
        if rep:
            return REPETITION_RESULTS[rep]
        if board.is_nyugyoku():
            return WIN
        if self.max_moves and board.move_number - 1 >= self.max_moves:
            return DRAW
        return None

    def key(self) -> int:
        # dlshogi's input is a function of the current position alone (board, hands, side to
        # move), which cshogi's Zobrist key covers.
        return self.board.zobrist_hash()

    def move_to_text(self, move: int) -> str:
        return cshogi.move_to_usi(move)

    def parse_move(self, text: str) -> int:
        token = text.strip()
        if not _USI_MOVE.fullmatch(token):
            raise IllegalMoveError(
                f"illegal move {text!r} in {self.sfen()}: not USI notation (e.g. 7g7f, 8h2b+, P*5e)")
        move = self.board.move_from_usi(token)
        if move and move in self.legal_moves():
            return move
        raise IllegalMoveError(f"illegal move {text!r} in {self.sfen()}: {self._why_illegal(token)}")

    def is_legal(self, move: int) -> bool:
        return move in self.legal_moves()

    # -- shogi specifics --------------------------------------------------------------
    def sfen(self) -> str:
        """The current position as SFEN (with cshogi's move number)."""
        return self.board.sfen()

    def in_check(self) -> bool:
        """Whether the side to move is in check."""
        return self.board.is_check()

    def declaration_win(self) -> bool:
        """Whether the side to move may declare an entering-king win (27-point rule)."""
        return self.board.is_nyugyoku()

    def mate_move(self, plies: int) -> int | None:
        """A move that mates within ``plies`` (odd, ≥ 1) by cshogi's mate search, or ``None``.

        >>> ShogiState("4k4/9/4P4/9/9/9/9/9/4K4 b G 1").mate_move(1) is not None
        True
        """
        if plies < 1 or plies % 2 == 0:
            raise ValueError(f"mate search depth must be odd and at least 1, not {plies}")
        move = self.board.mate_move_in_1ply() if plies == 1 else self.board.mate_move(plies)
        return move or None

    def quick_win(self) -> int | None:
        """Plies of a short forced mate for the side to move (1 or 3), else ``None``.

        cshogi's 1-ply and 3-ply mate searches (≈1 µs and ≈2–5 µs a position here,
        100 µs at worst) run only when the side to move is not in check: in check
        ``mate_move_in_1ply`` answers with illegal moves. A 3-ply mate is skipped when
        the move limit would draw the game before it completes.

        >>> ShogiState("4k4/9/4P4/9/9/9/9/9/4K4 b G 1").quick_win()
        1
        """
        board = self.board
        if board.is_check():
            return None
        if board.mate_move_in_1ply():
            return 1
        if self.max_moves and board.move_number + 1 >= self.max_moves:
            return None  # the position before the mating move would already be a draw
        if board.mate_move(3):
            return 3
        return None

    def moves_played(self) -> list[int]:
        """The moves played since :attr:`start_sfen`, oldest first."""
        return list(self.board.history)

    # -- error messages -------------------------------------------------------------
    def _why_illegal(self, token: str) -> str:
        """A short reason why a well-formed USI move is not legal here (error path only)."""
        board = self.board
        us = board.turn
        if token[1] == "*":
            kind = token[0]
            to = (int(token[2]) - 1) * 9 + "abcdefghi".index(token[3])
            hand_index = "PLNSGBR".index(kind)
            if board.pieces_in_hand[us][hand_index] == 0:
                return f"no {kind} in hand to drop"
            if board.piece(to) != cshogi.NONE:
                return f"square {token[2:]} is occupied"
            if kind == "P":
                own_pawn = cshogi.BPAWN if us == cshogi.BLACK else cshogi.WPAWN
                file = int(token[2]) - 1
                if any(board.piece(file * 9 + r) == own_pawn for r in range(9)):
                    return f"two unpromoted pawns on file {token[2]} (nifu)"
                if (token[3] == "a") if us == cshogi.BLACK else (token[3] == "i"):
                    return "a pawn dropped on the last rank could never move"
                # hand, square and file are fine here, so the drop can be played to look
                board.push(board.drop_move(to, cshogi.PAWN))
                mated = board.is_check() and board.is_game_over()
                board.pop()
                if mated:
                    return "a pawn drop may not give checkmate (uchifuzume)"
            if board.is_check():
                return "the drop does not answer the check"
            return "not a legal drop here"
        frm = (int(token[0]) - 1) * 9 + "abcdefghi".index(token[1])
        piece = board.piece(frm)
        if piece == cshogi.NONE:
            return f"no piece on {token[:2]}"
        if (piece >= 16) != (us == cshogi.WHITE):  # cshogi: White pieces are Black's + 16
            return f"the piece on {token[:2]} belongs to the opponent"
        if board.is_check():
            return "not a legal move: it does not answer the check"
        return "not a legal move for that piece here (movement, pins, promotion rules)"
