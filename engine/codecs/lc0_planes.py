"""lc0's newer input formats: castling plane, canonical, hectoplies, armageddon, canonical v2.

Source read: lc0 ``src/neural/encoder.cc`` (``EncodePositionForNN``, ``ChooseTransform``,
``MoveToNNIndex``) at v0.33.0-dev; ``shared/formats/lc0.md`` has the classical format this
builds on. Compared with ``INPUT_CLASSICAL_112_PLANE``:

* **castling plane** (format 2 and up): plane 104 marks the squares of the rooks that may
  still castle queenside (ours on our back rank, theirs on theirs), plane 105 the kingside
  ones; planes 106/107 are zero. Plane 108 is still "black to move".
* **canonical** (3 and up): plane 108 marks the en-passant flag's square (our view, rank 8,
  the file of the pawn that just moved two squares; lc0 sets the flag only when an enemy pawn
  stands beside it). The history boards stop early: before a board whose castling rights
  differ from now, before an older position with an en-passant flag, and after a board
  reached by a capture or pawn move (rule-50 counter 0). Missing history is filled as in
  the classical format (copies of the first position unless it is the start position), but
  that first position's en-passant flag stops the copies instead of being undone.
  When no side may castle the board is transformed so that our king stands on the e–h
  files (a horizontal **flip**), and with no pawns also on ranks 1–4 (a vertical
  **mirror**) and below the a8–h1 diagonal (a **transpose** across it; a king on that
  diagonal compares the pieces' bitboards to decide). Planes 0–108 are transformed, and
  the policy is read back through the same transform of each legal move.
* **hectoplies** (4 and up, which includes v2): plane 109 holds the rule-50 counter / 100.
* **armageddon** (132, 133): plane 110 is all ones when black is to move.
* **canonical v2** (5, 133): history boards after the first are only positions that
  occurred before (repetition count ≥ 1); the others are skipped without leaving a gap,
  and the walk stops at a skipped rule-50 reset.

Two places where this module deliberately differs from lc0 v0.33.0-dev (``bench/lc0_check.py``
measures both):

* lc0 master's ``MoveToNNIndex`` (since the ``Move`` refactor, lc0 #2126, 2025-03) maps
  squares for the transpose as a 180° rotation (rank and file both reversed) while the
  planes are transposed across the a8–h1 diagonal. Here moves are transformed exactly as
  the planes are, which is what lc0 did before that refactor and what training data
  written by those versions holds.
* canonical v2 with a FEN start whose rule-50 counter is not 0, and no repetition in the
  history: lc0 keeps skipping copies of the first position without end. Here the walk
  stops there (copies are never repetitions).

>>> from tabula.engine.games.chess_game import ChessState
>>> from tabula.engine.codecs.lc0_formats import parse_format
>>> p = encode_format(ChessState(), parse_format("castling-plane"))
>>> [chess.square_name(s) for s in np.flatnonzero(p[104].ravel())]
['a1', 'a8']
"""

from __future__ import annotations

import struct
from functools import lru_cache
from typing import Mapping, Sequence

import chess
import numpy as np

from ..games.base import GameState
from ..games.chess_game import ChessState
from .base import NetSignature
from .lc0 import (_FULL, _KING_HOME, _PIECES_PER_SIDE, _TABLES, _ZERO_BOARD, AUX_BASE, HISTORY,
                  NUM_PLANES, RULE50_PLANE, Lc0Net, _castling_masks, _code_table, _fill_snapshot)
from .lc0_formats import CLASSICAL, Lc0Format, Resolution

__all__ = ["Lc0FormatCodec", "encode_format", "choose_transform", "transform_square", "FLIP", "MIRROR",
           "TRANSPOSE"]

#: lc0's board transforms (``BoardTransform``), applied in this order when combined.
FLIP, MIRROR, TRANSPOSE = 1, 2, 4  # files a↔h; ranks 1↔8; across the a8–h1 diagonal

_EP_PLANE = AUX_BASE + 4  # 108: en-passant square (canonical) or black to move
_ARMAGEDDON_PLANE = AUX_BASE + 6  # 110
_TRANSFORMED = AUX_BASE + 5  # planes 0..108 are transformed

_QUEENSIDE_HALF = chess.BB_FILE_A | chess.BB_FILE_B | chess.BB_FILE_C | chess.BB_FILE_D
_UPPER_HALF = chess.BB_RANK_5 | chess.BB_RANK_6 | chess.BB_RANK_7 | chess.BB_RANK_8
# after flip and mirror our king is on e1..h4; above the a8–h1 diagonal there, it is transposed
_ABOVE_ANTI_DIAGONAL = chess.SquareSet(chess.parse_square(s) for s in ("h2", "g3", "h3", "f4", "g4", "h4")).mask
_ON_ANTI_DIAGONAL = chess.SquareSet(chess.parse_square(s) for s in ("h1", "g2", "f3", "e4")).mask


def transform_square(sq: int, transform: int) -> int:
    """Where square ``sq`` (in the side to move's view) lands under ``transform``.

    >>> chess.square_name(transform_square(chess.B1, TRANSPOSE))
    'h7'
    """
    if transform & FLIP:
        sq ^= 7
    if transform & MIRROR:
        sq ^= 56
    if transform & TRANSPOSE:
        rank, file = divmod(sq, 8)
        sq = (7 - file) * 8 + (7 - rank)
    return sq


def _transform_bb(bb: int, transform: int) -> int:
    if transform & FLIP:
        bb = chess.flip_horizontal(bb)
    if transform & MIRROR:
        bb = chess.flip_vertical(bb)
    if transform & TRANSPOSE:
        bb = chess.flip_anti_diagonal(bb)
    return bb


def choose_transform(board: chess.Board) -> int:
    """lc0's ``ChooseTransform`` for the position on ``board`` (canonical formats only).

    >>> choose_transform(chess.Board("8/8/8/8/8/8/1K6/4k3 w - - 0 1"))  # king b2: flip
    1
    """
    if board.clean_castling_rights():
        return 0
    us = board.turn
    view = chess.flip_vertical if us == chess.BLACK else (lambda bb: bb)
    king = view(board.kings & board.occupied_co[us])
    transform = 0
    if king & _QUEENSIDE_HALF:
        transform |= FLIP
        king = chess.flip_horizontal(king)
    if board.pawns:
        return transform
    if king & _UPPER_HALF:
        transform |= MIRROR
        king = chess.flip_vertical(king)
    if king & _ABOVE_ANTI_DIAGONAL:
        return transform | TRANSPOSE
    if king & _ON_ANTI_DIAGONAL:
        # the transpose keeps the king; the smaller of board and transposed board wins, piece
        # sets compared in lc0's order; all equal: the transpose changes nothing
        ours, theirs = board.occupied_co[us], board.occupied_co[not us]
        for bb in (ours | theirs, ours, board.kings, board.queens, board.rooks, board.knights, board.bishops):
            value = _transform_bb(view(bb), transform)
            other = chess.flip_anti_diagonal(value)
            if value != other:
                return transform | TRANSPOSE if value > other else transform
    return transform


# -- planes -----------------------------------------------------------------------------------------

_PACK = (struct.Struct(f"<{NUM_PLANES}Q").pack, struct.Struct(f">{NUM_PLANES}Q").pack)


def _earlier_rights(board: chess.Board):
    """Castling rights (python-chess ``clean_castling_rights`` masks) of the positions before
    ``board``'s, newest first, back to the last rule-50 reset (the canonical walk goes no further)."""
    depth = min(board.halfmove_clock, len(board.move_stack))
    if not depth:
        return
    back = board.copy(stack=depth)
    while back.move_stack:
        back.pop()
        yield back.clean_castling_rights()


def _castling_rook_masks(board: chess.Board) -> tuple[int, int]:
    """Planes 104/105 (format 2 and up): the rooks that may castle a-side / h-side."""
    a_side = h_side = 0
    for rook in chess.scan_forward(board.clean_castling_rights()):
        color = chess.WHITE if rook < 32 else chess.BLACK
        king = board.king(color)
        if king is None:
            continue
        if chess.square_file(rook) < chess.square_file(king):
            a_side |= chess.BB_SQUARES[rook]
        else:
            h_side |= chess.BB_SQUARES[rook]
    return a_side, h_side


def _plane_masks(state: ChessState, fmt: Lc0Format) -> list[int]:
    """All 112 planes as 64-bit masks in real square order (rule-50 plane left 0)."""
    board = state.board
    black = board.turn == chess.BLACK
    snaps, reps, eps = state.snapshots, state.repetitions, state.ep_flags
    last = len(snaps) - 1
    rule50 = board.halfmove_clock
    canonical, skip_non_repeats = fmt.canonical, fmt.repeats_only
    now_rights = board.clean_castling_rights()
    seen_rights = [now_rights]
    earlier = _earlier_rights(board) if canonical else iter(())

    def rights_at(k: int) -> int:
        # positions are read newest first; the walk stops before it runs out (rule-50 reset)
        while len(seen_rights) <= last - k:
            seen_rights.append(next(earlier, -1))
        return seen_rights[last - k]

    out: list[int] = []
    i, idx = 0, last
    while i < HISTORY:
        k = max(idx, 0)
        if canonical and idx != last:
            if rights_at(k) != now_rights or eps[k]:
                break  # castling changed, or an older en-passant position: no repetition past it
        if idx < 0 and state.from_startpos:
            break  # HistoryFill fen_only: nothing before the start position
        # the rule-50 counter here: the walk stops at the first reset, so all moves since were quiet
        r50 = rule50 - (last - k)
        if skip_non_repeats and i > 0 and reps[k] == 0:
            if r50 <= 0 or idx < 0:
                break  # (lc0 loops without end on idx < 0: copies of the start never repeat)
            idx -= 1
            continue
        snap = _fill_snapshot(state) if idx < 0 else snaps[k]
        out.extend(snap[_PIECES_PER_SIDE:] + snap[:_PIECES_PER_SIDE] if black else snap)
        out.append(_FULL if reps[k] and idx >= 0 else 0)
        i += 1
        idx -= 1
        if canonical and r50 <= 0:
            break
    out.extend(_ZERO_BOARD * (HISTORY - i))

    if fmt.castling_plane:
        a_side, h_side = _castling_rook_masks(board)
        out += [a_side, h_side, 0, 0]
    else:
        out += _castling_masks(board)
    if canonical:
        flag = eps[last]
        # our view: rank 8, the pushed pawn's file; real squares flip back for black
        out.append(0 if not flag else 1 << ((56 if not black else 0) + flag - 1))
    else:
        out.append(_FULL if black else 0)
    out += [0, _FULL if (fmt.armageddon and black) else 0, _FULL]
    return out


def encode_format(state: ChessState, fmt: Lc0Format, dst: np.ndarray | None = None) -> np.ndarray:
    """The 112 planes of ``state`` in input format ``fmt`` (written into ``dst`` if given).

    >>> from tabula.engine.codecs.lc0_formats import parse_format
    >>> s = ChessState("8/8/8/8/8/8/1K6/4k3 w - - 37 60")
    >>> round(float(encode_format(s, parse_format("hectoplies"))[109, 0, 0]), 6)
    0.37
    """
    out = np.empty((NUM_PLANES, 8, 8), np.float32) if dst is None else dst
    black = state.board.turn == chess.BLACK
    raw = _PACK[black](*_plane_masks(state, fmt))
    bits = np.unpackbits(np.frombuffer(raw, np.uint8), bitorder="little")
    out[...] = bits.reshape(out.shape)
    clock = state.board.halfmove_clock
    out[RULE50_PLANE] = np.float32(clock) / np.float32(100) if fmt.hectoplies else clock
    transform = choose_transform(state.board) if fmt.canonical else 0
    if transform:
        sub = out[:_TRANSFORMED]  # [plane, rank, file] in our view
        if transform & FLIP:
            sub = sub[:, :, ::-1]
        if transform & MIRROR:
            sub = sub[:, ::-1, :]
        if transform & TRANSPOSE:
            sub = sub[:, ::-1, ::-1].transpose(0, 2, 1)
        out[:_TRANSFORMED] = sub.copy()
    return out


# -- policy ---------------------------------------------------------------------------------------


@lru_cache(maxsize=16)
def _transformed_table(black: bool, transform: int) -> np.ndarray:
    """Move code → policy index with both squares in our view moved by ``transform``.

    Only used with no castling rights (lc0 transforms only then), so castling needs no care.
    """
    perm = np.array([transform_square(sq, transform) for sq in range(64)], np.int64)
    return _code_table(black, perm)


def policy_table(board: chess.Board, transform: int) -> np.ndarray:
    """Move code → policy index for the side to move on ``board`` under ``transform``."""
    black = board.turn == chess.BLACK
    if transform:
        return _transformed_table(black, transform)
    home = _KING_HOME[black] & board.kings & board.occupied_co[board.turn]
    return _TABLES[black][bool(home) and not board.chess960]


# -- the codec ------------------------------------------------------------------------------------


class Lc0FormatCodec(Lc0Net):
    """An lc0 net in one of the newer input formats (see the module docstring).

    Not a subclass of :class:`~engine.codecs.lc0.Lc0Codec`: code that checks for that class
    (engine/search/native.py's compiled chess path) writes classical planes only.

    >>> from tabula.engine.codecs.lc0_formats import parse_format, Resolution
    >>> sig = NetSignature("t.onnx", {"/input/planes": ("batch", 112, 8, 8)},
    ...     {"/output/policy": ("batch", 1858), "/output/value": ("batch", 1), "/output/mlh": ("batch", 1)})
    >>> c = Lc0FormatCodec(sig, Resolution(parse_format("hectoplies"), "metadata"))
    >>> c.input_format.short, c.has_moves_left, c.output_names
    ('hectoplies', True, ['/output/policy', '/output/value', '/output/mlh'])
    """

    def __init__(self, sig: NetSignature, resolution: Resolution) -> None:
        super().__init__(sig, resolution)
        self._format = resolution.format

    @property
    def input_format(self) -> Lc0Format:
        return self._format

    def encode(self, state: GameState, buffers: Mapping[str, np.ndarray], row: int) -> None:
        encode_format(state, self._format, buffers[self._input][row])  # type: ignore[arg-type]

    def transform(self, state: GameState) -> int:
        """The board transform this format applies to ``state`` (0 outside canonical formats)."""
        return choose_transform(state.board) if self._format.canonical else 0  # type: ignore[attr-defined]

    def policy_indices(self, state: GameState, moves: Sequence[int]) -> np.ndarray:
        board = state.board  # type: ignore[attr-defined]
        table = policy_table(board, self.transform(state))
        return table[np.asarray(moves, dtype=np.int64)]


assert CLASSICAL.number == 1  # Lc0Codec keeps the classical format (engine/codecs/lc0.py)
