"""Compiled lc0 112-plane encoder and policy-index mapping for native chess positions.

Bit-identical to :mod:`engine.codecs.lc0` on a :class:`~engine.games.chess_game.ChessState`
with the same game: 8 history boards × 13 planes (the side to move's P N B R Q K, the
opponent's, a repetition plane; ranks mirrored when black is to move), castling planes
(our a-side, our h-side, their a-side, their h-side; Chess960 by rook side), black-to-move,
rule-50 (raw counter), a zero plane and an all-ones plane. Missing history follows lc0's
HistoryFill ``fen_only``: zeros after the standard start position, else copies of the
first position with its en-passant pawn put back on its start square.

The history is the rules' undo stack: entry ``k`` saves the piece bitboards, counters and
hash of the game's k-th position (see :mod:`engine.native.chess_rules`). Two facts about
the game's first position that the rules do not keep live in spare words of the position
array and are set by :func:`set_root` (a position from :func:`from_board` has them):

* ``P_ROOT`` (word 17): bit 0 = the game started at lc0's start board (HistoryFill),
  bits 1-4 = lc0's en-passant flag as read from the FEN (file + 1, or 0);
* ``P_ROOT_FIX`` (word 18): XOR that turns the first position's Zobrist hash into one that
  counts that FEN flag (ChessState's repetition key does; the rules' hash counts an
  en-passant square only when a capturer stands beside the pushed pawn).

Repetitions are recomputed per history board from the stack's hashes (ChessState's rule:
same position 4, 6, … plies back, not past the last irreversible move).

>>> import chess
>>> pos = from_board(chess.Board())
>>> out = np.empty((112, 8, 8), np.float32); encode(pos, out); float(out[111].sum())
64.0
"""

from __future__ import annotations

from typing import Sequence

import chess
import numpy as np
from numba import njit

from ..codecs.lc0 import AUX_BASE, HISTORY, MOVES, NUM_PLANES, PLANES_PER_BOARD, RULE50_PLANE
from ..games.chess_game import _is_lc0_startpos, _lc0_fen_ep_flag
from . import chess_rules as cr
from .bitboards import SQ_BB, U0, U1, lsb
from .chess_rules import (P_960, P_CASTLE, P_HALFMOVE, P_HASH, P_OCC, P_PIECES, P_PLY,
                          P_STACK, P_TURN, UNDO, Z_EP)

__all__ = ["P_ROOT", "P_ROOT_FIX", "set_root", "from_board", "encode", "repeated",
           "policy_indices", "policy_indices_into", "rep_hash", "repeat_at"]

P_ROOT = cr.P_EXTRA          #: bit 0 start board, bits 1-4 FEN en-passant flag (file + 1)
P_ROOT_FIX = cr.P_EXTRA + 1  #: hash correction of the first position (see module doc)
assert P_ROOT_FIX < cr.P_BOARD

_RANK1 = np.uint64(0xFF)
_RANK8 = np.uint64(0xFF << 56)


# -- the game's first position ------------------------------------------------------------
def set_root(pos: np.ndarray, root: chess.Board, *, startpos: bool | None = None,
             ep_flag: int | None = None) -> None:
    """Record the facts about the game's first position ``root`` (the board at the bottom of
    ``pos``'s undo stack). ``startpos`` / ``ep_flag`` default to ChessState's own reading
    (``from_startpos``, ``ep_flags[0]``) of ``root``."""
    if startpos is None:
        startpos = _is_lc0_startpos(root)
    if ep_flag is None:
        ep_flag = _lc0_fen_ep_flag(root)
    native = cr.from_board(root.copy(stack=False), capacity=0)
    fix = int(cr._ep_term(native)) ^ (int(Z_EP[ep_flag - 1]) if ep_flag else 0)
    pos[P_ROOT] = np.uint64(int(bool(startpos)) | (ep_flag << 1))
    pos[P_ROOT_FIX] = np.uint64(fix)


def from_board(board: chess.Board, capacity: int = 256) -> np.ndarray:
    """:func:`engine.native.chess_rules.from_board` plus :func:`set_root` for ``board.root()``."""
    pos = cr.from_board(board, capacity)
    set_root(pos, board.root() if board.move_stack else board)
    return pos


# -- history access -----------------------------------------------------------------------
@njit(cache=True, nogil=True, inline="always")
def _base(k: int, ply: int) -> int:
    """Offset of the saved words of the game's k-th position (the live words when k == ply)."""
    return 0 if k == ply else P_STACK + k * UNDO


@njit(cache=True, nogil=True)
def rep_hash(pos: np.ndarray, k: int) -> np.uint64:
    """Repetition hash of the game's k-th position (0 = first, ``pos[P_PLY]`` = current):
    exact up to Zobrist collisions to ChessState's repetition key."""
    h = pos[_base(k, np.int64(pos[P_PLY])) + P_HASH]
    if k == 0:
        h ^= pos[P_ROOT_FIX]
    return h


@njit(cache=True, nogil=True)
def repeated(pos: np.ndarray, k: int) -> bool:
    """Whether the game's k-th position repeats an earlier one (ChessState's
    ``repetitions[k] > 0``: same key 4, 6, … plies back, within its halfmove clock)."""
    ply = np.int64(pos[P_PLY])
    h = rep_hash(pos, k)
    limit = np.int64(pos[_base(k, ply) + P_HALFMOVE])
    i = 4
    while i <= limit and k - i >= 0:
        if rep_hash(pos, k - i) == h:
            return True
        i += 2
    return False


@njit(cache=True, nogil=True)
def repeat_at(pos: np.ndarray, k: int) -> int:
    """The index of the latest earlier occurrence of the game's k-th position (4, 6, … plies
    back within its halfmove clock, as :func:`repeated`), or −1 (ChessState's ``repeated_at``)."""
    ply = np.int64(pos[P_PLY])
    h = rep_hash(pos, k)
    limit = np.int64(pos[_base(k, ply) + P_HALFMOVE])
    i = 4
    while i <= limit and k - i >= 0:
        if rep_hash(pos, k - i) == h:
            return k - i
        i += 2
    return -1


# -- planes -------------------------------------------------------------------------------
@njit(cache=True, nogil=True, inline="always")
def _put_mask(out: np.ndarray, p: int, mask: np.uint64, flip: int) -> None:
    """Set plane ``p``'s squares in ``mask`` to 1 (ranks mirrored when ``flip`` is 56)."""
    while mask:
        s = lsb(mask) ^ flip
        mask &= mask - U1
        out[p, s >> 3, s & 7] = 1.0


@njit(cache=True, nogil=True, inline="always")
def _fill(out: np.ndarray, p: int, v: float) -> None:
    for r in range(8):
        for f in range(8):
            out[p, r, f] = v


@njit(cache=True, nogil=True)
def encode(pos: np.ndarray, out: np.ndarray) -> None:
    """Write the position's 112 lc0 planes into ``out`` (float32 [112, 8, 8], e.g. one row of
    the batch buffer), overwriting all of it; exactly what engine.codecs.lc0 writes."""
    for p in range(NUM_PLANES):
        _fill(out, p, 0.0)
    ply = np.int64(pos[P_PLY])
    us = np.int64(pos[P_TURN])
    them = 1 - us
    flip = 56 if us == 1 else 0
    for h in range(min(HISTORY, ply + 1)):
        k = ply - h
        b = _base(k, ply)
        own, their = pos[b + P_OCC + us], pos[b + P_OCC + them]
        p0 = h * PLANES_PER_BOARD
        for t in range(6):
            bb = pos[b + P_PIECES + t]
            _put_mask(out, p0 + t, bb & own, flip)
            _put_mask(out, p0 + 6 + t, bb & their, flip)
        if repeated(pos, k):
            _fill(out, p0 + 12, 1.0)
    root = np.int64(pos[P_ROOT])
    if ply + 1 < HISTORY and not (root & 1):
        # HistoryFill fen_only: copies of the first position, its en-passant pawn put back
        b = _base(0, ply)
        white, black = pos[b + P_OCC], pos[b + P_OCC + 1]
        pawns_w, pawns_b = pos[b + P_PIECES] & white, pos[b + P_PIECES] & black
        flag = root >> 1
        if flag:
            file = flag - 1
            if pos[b + P_TURN] == U0:   # white to move first: black's pawn went 7 → 5
                pawns_b = (pawns_b & ~SQ_BB[32 + file]) | SQ_BB[48 + file]
            else:                       # black to move first: white's pawn went 2 → 4
                pawns_w = (pawns_w & ~SQ_BB[24 + file]) | SQ_BB[8 + file]
        own_c, their_c = (white, black) if us == 0 else (black, white)
        own_p, their_p = (pawns_w, pawns_b) if us == 0 else (pawns_b, pawns_w)
        for h in range(ply + 1, HISTORY):
            p0 = h * PLANES_PER_BOARD
            _put_mask(out, p0, own_p, flip)
            _put_mask(out, p0 + 6, their_p, flip)
            for t in range(1, 6):
                bb = pos[b + P_PIECES + t]
                _put_mask(out, p0 + t, bb & own_c, flip)
                _put_mask(out, p0 + 6 + t, bb & their_c, flip)
    rights = pos[P_CASTLE]
    if rights:
        kings = pos[P_PIECES + 5]
        for i in range(2):
            c = us if i == 0 else them
            side = rights & pos[P_OCC + c]
            king = kings & pos[P_OCC + c] & (_RANK1 if c == 0 else _RANK8)
            if king:
                if side & (king - U1):
                    _fill(out, AUX_BASE + 2 * i, 1.0)
                if side & ~((king << U1) - U1):
                    _fill(out, AUX_BASE + 2 * i + 1, 1.0)
    if us == 1:
        _fill(out, AUX_BASE + 4, 1.0)
    _fill(out, RULE50_PLANE, np.float32(np.int64(pos[P_HALFMOVE])))
    _fill(out, AUX_BASE + 7, 1.0)


# -- policy indices -----------------------------------------------------------------------
def _tables() -> tuple[np.ndarray, np.ndarray]:
    """(from * 64 + to → plain index, from * 64 + to → q/r/b promotion slot), white's view,
    −1 where none; built from lc0's move list."""
    plain = np.full(4096, -1, np.int16)
    promo = np.full(4096, -1, np.int16)
    for i, uci in enumerate(MOVES):
        m = chess.Move.from_uci(uci)
        pair = m.from_square * 64 + m.to_square
        if m.promotion is None:
            plain[pair] = i
        elif m.promotion == chess.QUEEN:
            promo[pair] = i
    return plain, promo


_PLAIN, _PROMO = _tables()
#: offset of a promotion's entry after the queen's, by piece type (q, r, b; others none)
_PROMO_OFFSET = np.array([-1, -1, -1, 2, 1, 0, -1, -1], np.int16)


@njit(cache=True, nogil=True)
def policy_indices_into(pos: np.ndarray, moves: np.ndarray, n: int, out: np.ndarray) -> None:
    """``out[i]`` = lc0 policy index of ``moves[i]`` for i < n (−1 where a code has none),
    as Lc0Codec.policy_indices: black's moves mirrored, and in standard chess, with the king
    on its e-file home square, e1g1 / e1c1 sent to king-takes-rook."""
    us = np.int64(pos[P_TURN])
    flip = 56 if us == 1 else 0
    home = SQ_BB[4 + flip] & pos[P_PIECES + 5] & pos[P_OCC + us]
    castle = home != U0 and pos[P_960] == U0
    for i in range(n):
        code = np.int64(moves[i]) & 0x7FFF
        frm = (code & 63) ^ flip
        to = ((code >> 6) & 63) ^ flip
        piece = code >> 12
        if castle and frm == 4 and piece == 0:
            if to == 6:
                to = 7
            elif to == 2:
                to = 0
        if piece == 0 or piece == 2:
            out[i] = _PLAIN[frm * 64 + to]
        else:
            q, off = _PROMO[frm * 64 + to], _PROMO_OFFSET[piece]
            out[i] = -1 if q < 0 or off < 0 else q + off
    return None


def policy_indices(pos: np.ndarray, moves: Sequence[int] | np.ndarray) -> np.ndarray:
    """lc0 policy index of each move code (int64 array, same order), as Lc0Codec.policy_indices."""
    arr = moves if isinstance(moves, np.ndarray) else np.asarray(moves, dtype=np.int64)
    out = np.empty(arr.size, np.int64)
    policy_indices_into(pos, arr, arr.size, out)
    return out
