"""Chess rules through python-chess, with the history the lc0 codec needs.

Move codes: ``from | to << 6 | promotion << 12`` (python-chess square and piece
numbers; promotion 0 = none). Castling is python-chess's own move (``e1g1`` in
standard chess, king-takes-rook in Chess960). The null move ``0000`` is code 0.

>>> s = ChessState()
>>> m = s.parse_move("e2e4"); m == chess.E2 | chess.E4 << 6
True
"""

from __future__ import annotations

from typing import ClassVar, Sequence

import chess

from .base import CACHE_HISTORY, DRAW, LOSS, GameState, IllegalMoveError, InvalidPositionError

NULL_MOVE = 0


def encode_move(move: chess.Move) -> int:
    """python-chess move → int code."""
    return move.from_square | (move.to_square << 6) | ((move.promotion or 0) << 12)


def decode_move(code: int) -> chess.Move:
    """int code → python-chess move (``0`` is the null move)."""
    if code == NULL_MOVE:
        return chess.Move.null()
    promo = code >> 12
    return chess.Move(code & 63, (code >> 6) & 63, promo or None)


def _snapshot(board: chess.Board) -> tuple[int, ...]:
    """The 12 piece bitboards: white P N B R Q K, then black P N B R Q K."""
    black, white = board.occupied_co  # indexed by colour: BLACK = 0, WHITE = 1
    return (
        board.pawns & white, board.knights & white, board.bishops & white,
        board.rooks & white, board.queens & white, board.kings & white,
        board.pawns & black, board.knights & black, board.bishops & black,
        board.rooks & black, board.queens & black, board.kings & black,
    )


def _lc0_ep_flag(board: chess.Board) -> int:
    """lc0's en-passant flag: set after a double push when an enemy pawn stands beside it.

    Returns the file + 1 of the pushed pawn, or 0. Whether the capture is legal
    (pins) is deliberately not checked, as lc0 does not check it.
    """
    ep = board.ep_square
    if ep is None:
        return 0
    # the pawn that just moved stands one rank beyond the ep square, from the mover's side
    pawn_sq = ep + 8 if board.turn == chess.BLACK else ep - 8
    enemy_pawns = board.pawns & board.occupied_co[board.turn]
    neighbours = chess.BB_SQUARES[pawn_sq]
    adj = ((neighbours << 1) & ~chess.BB_FILE_A) | ((neighbours >> 1) & ~chess.BB_FILE_H)
    return (chess.square_file(pawn_sq) + 1) if enemy_pawns & adj else 0


def _lc0_fen_ep_flag(board: chess.Board) -> int:
    """lc0's en-passant flag for a position read from FEN: the FEN's square, no adjacency test.

    lc0 keeps any FEN en-passant square whose square is empty and whose pushed pawn
    stands in front of it (it rejects other FENs; we drop the flag instead). Returns
    the file + 1 of the pushed pawn, or 0.
    """
    ep = board.ep_square
    if ep is None or chess.square_rank(ep) != (5 if board.turn == chess.WHITE else 2):
        return 0
    pawn_sq = ep - 8 if board.turn == chess.WHITE else ep + 8
    their_pawns = board.pawns & board.occupied_co[not board.turn]
    if board.occupied & chess.BB_SQUARES[ep] or not their_pawns & chess.BB_SQUARES[pawn_sq]:
        return 0
    return chess.square_file(ep) + 1


def _is_lc0_startpos(board: chess.Board) -> bool:
    """Whether lc0 would see this board as its start board (pieces, white to move, KQkq, no ep).

    Move counters do not count: lc0 compares boards, not FEN strings.
    """
    return (board.board_fen() == chess.STARTING_BOARD_FEN and board.turn == chess.WHITE
            and board.clean_castling_rights() == chess.BB_CORNERS and not _lc0_fen_ep_flag(board))


class ChessState(GameState):
    """A python-chess board plus per-ply piece snapshots and repetition counts.

    ``snapshots[i]`` / ``repetitions[i]`` describe the i-th position of the game
    (index 0 is the start position given by FEN or startpos), so
    ``snapshots[-1]`` is the current position.
    """

    game: ClassVar[str] = "chess"

    def __init__(self, fen: str | None = None, *, chess960: bool = False) -> None:
        try:
            self.board = chess.Board(fen or chess.STARTING_FEN, chess960=chess960)
        except ValueError as exc:
            raise InvalidPositionError(f"invalid FEN {fen!r}: {exc}") from None
        status = self.board.status()
        # tolerate positions python-chess flags only for being unusual, reject impossible ones
        fatal = (chess.STATUS_NO_WHITE_KING | chess.STATUS_NO_BLACK_KING | chess.STATUS_TOO_MANY_KINGS
                 | chess.STATUS_OPPOSITE_CHECK | chess.STATUS_PAWNS_ON_BACKRANK | chess.STATUS_EMPTY)
        if status & fatal:
            raise InvalidPositionError(f"illegal position {fen!r} ({chess.Status(status & fatal)!r})")
        #: whether the game started from the standard start position (lc0 HistoryFill=fen_only):
        #: lc0's board comparison, so a start FEN with other move counters counts too
        self.from_startpos = _is_lc0_startpos(self.board)
        self.snapshots: list[tuple[int, ...]] = [_snapshot(self.board)]
        #: lc0's en-passant flag per position; the first one follows lc0's FEN reading
        self.ep_flags: list[int] = [_lc0_fen_ep_flag(self.board)]
        self._poskeys: list[tuple] = [self._poskey(self.snapshots[0], self.ep_flags[0])]
        self.repetitions: list[int] = [0]
        #: ply of the position's previous occurrence (-1: none), for the two-fold rule in the tree
        self.repeated_at: list[int] = [-1]
        #: the search root's ply: a single repetition counts as a draw only if the earlier
        #: occurrence is at or after it (lc0's TwoFoldDraws); 0 = the whole game
        self.root_ply = 0
        #: earlier positions in :meth:`key` (see GameState.set_cache_history)
        self.cache_history = CACHE_HISTORY
        self._moves: list[int] | None = None

    # -- positions and hashing -------------------------------------------------------
    def _poskey(self, snap: tuple[int, ...], ep_flag: int) -> tuple:
        """The position for repetition checks, exact: Python's int hash is modulo 2**61 − 1, so a
        hashed key would take a piece on f8/g8/h8 for the same piece on a1/b1/c1."""
        return (snap, self.board.turn, self.board.castling_rights, ep_flag)

    def _repetition(self) -> tuple[int, int]:
        """lc0's rule: look back 4, 6, … plies, not past the last irreversible move.

        Returns the number of earlier occurrences and the ply of the latest one (-1 if none).
        """
        keys, reps = self._poskeys, self.repetitions
        cur = len(keys) - 1
        limit = self.board.halfmove_clock
        i = 4
        while i <= limit and cur - i >= 0:
            if keys[cur - i] == keys[cur]:
                return reps[cur - i] + 1, cur - i
            i += 2
        return 0, -1

    # -- GameState --------------------------------------------------------------------
    @property
    def turn(self) -> int:
        return 0 if self.board.turn == chess.WHITE else 1

    @property
    def ply(self) -> int:
        return len(self.snapshots) - 1

    def legal_moves(self) -> Sequence[int]:
        if self._moves is None:
            self._moves = [m.from_square | (m.to_square << 6) | ((m.promotion or 0) << 12)
                           for m in self.board.generate_legal_moves()]
        return self._moves

    def push(self, move: int) -> None:
        self.board.push(decode_move(move))
        snap = _snapshot(self.board)
        ep = _lc0_ep_flag(self.board)
        self.snapshots.append(snap)
        self.ep_flags.append(ep)
        self._poskeys.append(self._poskey(snap, ep))
        count, at = self._repetition()
        self.repetitions.append(count)
        self.repeated_at.append(at)
        self._moves = None

    def pop(self) -> int:
        move = encode_move(self.board.pop())
        self.snapshots.pop()
        self.ep_flags.pop()
        self._poskeys.pop()
        self.repetitions.pop()
        self.repeated_at.pop()
        self._moves = None
        return move

    def copy(self) -> "ChessState":
        new = object.__new__(ChessState)
        new.board = self.board.copy()
        new.from_startpos = self.from_startpos
        new.snapshots = list(self.snapshots)
        new.ep_flags = list(self.ep_flags)
        new._poskeys = list(self._poskeys)
        new.repetitions = list(self.repetitions)
        new.repeated_at = list(self.repeated_at)
        new.root_ply = self.root_ply
        new.cache_history = self.cache_history
        new._moves = None
        return new

    def terminal(self) -> float | None:
        if not self.legal_moves():
            return LOSS if self.board.is_check() else DRAW
        reps = self.repetitions[-1]
        if reps >= 2 or (reps == 1 and self.repeated_at[-1] >= self.root_ply) \
                or self.board.halfmove_clock >= 100:
            return DRAW
        if self.board.is_insufficient_material():
            return DRAW
        return None

    def set_search_root(self) -> None:
        self.root_ply = self.ply

    def set_cache_history(self, plies: int) -> None:
        self.cache_history = max(0, int(plies))

    def key(self) -> int:
        """The position, whether it repeats and the halfmove clock, and the
        :attr:`cache_history` positions before it (None before the game's first)."""
        keys = self._poskeys
        earlier = tuple(keys[-1 - k] if len(keys) > k else None for k in range(1, self.cache_history + 1))
        # the squares' top bits beside the hashed boards make the pair exact (see _poskey)
        top = tuple(bb >> 61 for bb in self.snapshots[-1])
        return hash((keys[-1], top, self.repetitions[-1] > 0, self.board.halfmove_clock, earlier))

    def move_to_text(self, move: int) -> str:
        return self.board.uci(decode_move(move)) if move != NULL_MOVE else "0000"

    def parse_move(self, text: str) -> int:
        try:
            move = self.board.parse_uci(text)
        except ValueError as exc:
            raise IllegalMoveError(f"illegal move {text!r} in {self.board.fen()}: {exc}") from None
        return encode_move(move)

    # -- chess specifics --------------------------------------------------------------
    def fen(self) -> str:
        """The current position as FEN (Shredder-FEN castling in Chess960)."""
        return self.board.fen()
