"""Compiled chess rules: a position in one ``uint64`` array, legal moves, make/unmake, terminals.

The whole position lives in one flat ``np.uint64`` array (see the ``P_*`` offsets): piece
bitboards, the state words, a 64-square mailbox and an undo stack, so numba code can pass
it around with no Python objects. Rules follow python-chess exactly, Chess960 included.

Move codes are the engine's (engine/games/chess_game.py): ``from | to << 6 | promo << 12``,
python-chess squares (a1 = 0) and piece types (N=2 … Q=5); castling is king-takes-rook
when the position is in Chess960 mode and king-two-squares (``e1g1``) otherwise, i.e.
python-chess's own move for that mode. Code 0 is the null move. :func:`legal_moves`
yields python-chess's ``generate_legal_moves`` order, not just its set.

Two deliberate differences from a python-chess Board: a FEN en-passant square that
python-chess itself calls invalid is dropped, and the hash counts the en-passant square
only when a pawn stands beside the pushed pawn (lc0's flag, which ChessState's repetition
key uses after each move; for the root ChessState uses the FEN's square as lc0 reads it).

>>> import chess
>>> pos = from_board(chess.Board())
>>> perft(pos, 3)
8902
"""

from __future__ import annotations

import chess
import numpy as np
from numba import njit

from .bitboards import (ALL, BETWEEN, BISHOP_EMPTY, DARK_SQUARES, KING, KNIGHT, LIGHT_SQUARES,
                        LINE, PAWN_ATT, RANK_BB, ROOK_EMPTY, SQ_BB, U0, U1, bishop_attacks,
                        lsb, msb, popcount, rook_attacks)

# -- layout of the position array --------------------------------------------------------
PAWN, KNIGHT_T, BISHOP, ROOK, QUEEN, KING_T = 1, 2, 3, 4, 5, 6
WHITE, BLACK = 0, 1
P_PIECES = 0      #: words 0-5: bitboards of pawns … kings (both colours), index type - 1
P_OCC = 6         #: words 6-7: occupancy of white, black
P_CASTLE = 8      #: rooks with castling rights (python-chess ``clean_castling_rights``)
P_EP = 9          #: en-passant square as python-chess sets it (after every double push); 64 = none
P_TURN = 10       #: side to move: 0 white, 1 black
P_HALFMOVE = 11   #: halfmove clock
P_FULLMOVE = 12   #: fullmove number
P_HASH = 13       #: Zobrist hash of the position (see :func:`compute_hash`)
P_960 = 14        #: 1 if castling moves are written king-takes-rook (Chess960 mode)
P_PLY = 15        #: moves on the undo stack
P_CAP = 16        #: undo-stack capacity in moves
P_EXTRA = 17      #: words 17-23: not used by the rules (cleared on setup); lc0_encoder keeps its root facts in 17-18
P_BOARD = 24      #: words 24-87: mailbox, 0 empty else type | colour << 3
P_STACK = 88      #: undo entries of UNDO words each
SAVED = 14        #: words 0..13 are saved per move (the hash history lives there too)
UNDO = 16         #: saved words, the move, packed mailbox-restore info
MAX_MOVES = 256   #: room for any position's legal moves (the maximum is 218)
NO_SQ = 64

# terminal verdicts (:func:`terminal`)
ONGOING, CHECKMATE, STALEMATE, FIFTY_MOVES, INSUFFICIENT, REPETITION = 0, 1, 2, 3, 4, 5

# -- Zobrist keys (fixed seed: hashes are stable across runs and processes) ---------------
_rng = np.random.Generator(np.random.PCG64(0x7AB01A))
Z_PIECE = _rng.integers(0, 2**64, size=(16, 64), dtype=np.uint64, endpoint=False)
Z_PIECE[0, :] = 0
Z_PIECE[7:9, :] = 0
Z_CASTLE = _rng.integers(0, 2**64, size=64, dtype=np.uint64, endpoint=False)
Z_EP = _rng.integers(0, 2**64, size=8, dtype=np.uint64, endpoint=False)
Z_TURN = np.uint64(_rng.integers(0, 2**64, dtype=np.uint64, endpoint=False))
del _rng


# -- small helpers ------------------------------------------------------------------------
@njit(cache=True, nogil=True, inline="always")
def _occ(pos: np.ndarray) -> np.uint64:
    return pos[P_OCC] | pos[P_OCC + 1]


@njit(cache=True, nogil=True)
def attackers(pos: np.ndarray, sq: int, occ: np.uint64, by: int) -> np.uint64:
    """Pieces of colour ``by`` attacking ``sq`` when the board's occupancy is ``occ``."""
    col = pos[P_OCC + by]
    queens = pos[P_PIECES + 4]
    return ((PAWN_ATT[1 - by, sq] & pos[P_PIECES] & col)
            | (KNIGHT[sq] & pos[P_PIECES + 1] & col)
            | (KING[sq] & pos[P_PIECES + 5] & col)
            | (bishop_attacks(sq, occ) & (pos[P_PIECES + 2] | queens) & col)
            | (rook_attacks(sq, occ) & (pos[P_PIECES + 3] | queens) & col))


@njit(cache=True, nogil=True)
def king_square(pos: np.ndarray, colour: int) -> int:
    """Square of ``colour``'s king (the highest one, as python-chess), or 64 if none."""
    k = pos[P_PIECES + 5] & pos[P_OCC + colour]
    return msb(k) if k else NO_SQ


@njit(cache=True, nogil=True)
def is_check(pos: np.ndarray) -> bool:
    """Whether the side to move is in check."""
    us = np.int64(pos[P_TURN])
    k = king_square(pos, us)
    return k != NO_SQ and attackers(pos, k, _occ(pos), 1 - us) != U0


@njit(cache=True, nogil=True)
def _ep_term(pos: np.ndarray) -> np.uint64:
    """Hash term of the en-passant square: only when a pawn of the side to move stands beside
    the pushed pawn (lc0's flag, as ChessState's repetition key; pins are not checked)."""
    ep = np.int64(pos[P_EP])
    if ep == NO_SQ:
        return U0
    us = np.int64(pos[P_TURN])
    pushed = ep - 8 if us == WHITE else ep + 8
    f = pushed & 7
    mine = pos[P_PIECES] & pos[P_OCC + us]
    adj = U0
    if f > 0:
        adj |= SQ_BB[pushed - 1]
    if f < 7:
        adj |= SQ_BB[pushed + 1]
    return Z_EP[f] if adj & mine else U0


@njit(cache=True, nogil=True)
def compute_hash(pos: np.ndarray) -> np.uint64:
    """Zobrist hash from scratch: pieces, side to move, castling rooks, en-passant file
    (when a capturer stands beside the pushed pawn). :func:`make_move` keeps ``pos[P_HASH]``
    equal to this incrementally."""
    h = U0
    for sq in range(64):
        pc = np.int64(pos[P_BOARD + sq])
        if pc:
            h ^= Z_PIECE[pc, sq]
    c = pos[P_CASTLE]
    while c:
        h ^= Z_CASTLE[lsb(c)]
        c &= c - U1
    if pos[P_TURN]:
        h ^= Z_TURN
    return h ^ _ep_term(pos)


@njit(cache=True, nogil=True, inline="always")
def _put(pos: np.ndarray, pc: int, sq: int, h: np.uint64) -> np.uint64:
    b = SQ_BB[sq]
    pos[P_PIECES + (pc & 7) - 1] |= b
    pos[P_OCC + (pc >> 3)] |= b
    pos[P_BOARD + sq] = pc
    return h ^ Z_PIECE[pc, sq]


@njit(cache=True, nogil=True, inline="always")
def _remove(pos: np.ndarray, pc: int, sq: int, h: np.uint64) -> np.uint64:
    b = ~SQ_BB[sq]
    pos[P_PIECES + (pc & 7) - 1] &= b
    pos[P_OCC + (pc >> 3)] &= b
    pos[P_BOARD + sq] = 0
    return h ^ Z_PIECE[pc, sq]


# -- make / unmake ------------------------------------------------------------------------
@njit(cache=True, nogil=True)
def make_move(pos: np.ndarray, move: int) -> None:
    """Play a legal ``move`` (not checked), pushing an undo entry; 0 plays a null move."""
    ply = np.int64(pos[P_PLY])
    if ply >= np.int64(pos[P_CAP]):
        raise IndexError("native chess position: undo stack full")
    base = P_STACK + ply * UNDO
    for i in range(SAVED):
        pos[base + i] = pos[i]
    pos[base + SAVED] = move
    us = np.int64(pos[P_TURN])
    h = pos[P_HASH] ^ _ep_term(pos)
    halfmove = np.int64(pos[P_HALFMOVE]) + 1
    new_ep = NO_SQ
    castle = pos[P_CASTLE]
    info = 0
    if move != 0:
        frm = move & 63
        to = (move >> 6) & 63
        promo = move >> 12
        pc = np.int64(pos[P_BOARD + frm])
        ptype = pc & 7
        target = np.int64(pos[P_BOARD + to])
        back = 0 if us == WHITE else 56
        if ptype == KING_T and (target == (ROOK | (us << 3)) or (
                pos[P_960] == 0 and frm == back + 4 and (to == back + 6 or to == back + 2))):
            # castling: king-takes-rook (960 mode) or e1g1 / e1c1 (standard mode)
            rook_from = to
            if target != (ROOK | (us << 3)):
                rook_from = back + 7 if to > frm else back
            a_side = rook_from < frm
            king_to = back + (2 if a_side else 6)
            rook_to = back + (3 if a_side else 5)
            rook = ROOK | (us << 3)
            h = _remove(pos, pc, frm, h)
            h = _remove(pos, rook, rook_from, h)
            h = _put(pos, pc, king_to, h)
            h = _put(pos, rook, rook_to, h)
            castle &= ~RANK_BB[back >> 3]
            info = 2 | (frm << 4) | (king_to << 10) | (rook_from << 16) | (rook_to << 22)
        else:
            capsq = to
            if ptype == PAWN and to == np.int64(pos[P_EP]) and target == 0 and (to - frm) % 8 != 0:
                capsq = to - 8 if us == WHITE else to + 8
                target = np.int64(pos[P_BOARD + capsq])
                info = 1
            if target:
                h = _remove(pos, target, capsq, h)
                halfmove = 0
            h = _remove(pos, pc, frm, h)
            h = _put(pos, (promo | (us << 3)) if promo else pc, to, h)
            if ptype == PAWN:
                halfmove = 0
                if to - frm == 16 or frm - to == 16:
                    new_ep = (frm + to) >> 1
            castle &= ~(SQ_BB[frm] | SQ_BB[to])
            if ptype == KING_T:
                castle &= ~RANK_BB[back >> 3]
            info |= (pc << 4) | (target << 8) | (capsq << 12)
    changed = castle ^ pos[P_CASTLE]
    while changed:
        h ^= Z_CASTLE[lsb(changed)]
        changed &= changed - U1
    pos[P_CASTLE] = castle
    pos[P_EP] = new_ep
    pos[P_HALFMOVE] = halfmove
    if us == BLACK:
        pos[P_FULLMOVE] += U1
    pos[P_TURN] = 1 - us
    pos[P_PLY] = ply + 1
    pos[base + SAVED + 1] = info
    h ^= Z_TURN
    pos[P_HASH] = h ^ _ep_term(pos)


@njit(cache=True, nogil=True)
def unmake_move(pos: np.ndarray) -> int:
    """Take back the last move made with :func:`make_move`; returns its code."""
    ply = np.int64(pos[P_PLY]) - 1
    if ply < 0:
        raise IndexError("native chess position: nothing to unmake")
    base = P_STACK + ply * UNDO
    for i in range(SAVED):
        pos[i] = pos[base + i]
    move = np.int64(pos[base + SAVED])
    info = np.int64(pos[base + SAVED + 1])
    pos[P_PLY] = ply
    if move != 0:
        kind = info & 3
        if kind == 2:
            kfrom, kto = (info >> 4) & 63, (info >> 10) & 63
            rfrom, rto = (info >> 16) & 63, (info >> 22) & 63
            us = np.int64(pos[P_TURN])
            pos[P_BOARD + kto] = 0
            pos[P_BOARD + rto] = 0
            pos[P_BOARD + kfrom] = KING_T | (us << 3)
            pos[P_BOARD + rfrom] = ROOK | (us << 3)
        else:
            frm, to = move & 63, (move >> 6) & 63
            pc, target, capsq = (info >> 4) & 15, (info >> 8) & 15, (info >> 12) & 63
            pos[P_BOARD + to] = 0
            pos[P_BOARD + capsq] = target
            pos[P_BOARD + frm] = pc
    return move


# -- legal move generation ----------------------------------------------------------------
@njit(cache=True, nogil=True, inline="always")
def _add_pawn_moves(out: np.ndarray, n: int, frm: int, to: int) -> int:
    if to >= 56 or to < 8:
        base = frm | (to << 6)
        out[n] = base | (QUEEN << 12)
        out[n + 1] = base | (ROOK << 12)
        out[n + 2] = base | (BISHOP << 12)
        out[n + 3] = base | (KNIGHT_T << 12)
        return n + 4
    out[n] = frm | (to << 6)
    return n + 1


@njit(cache=True, nogil=True)
def _ep_is_legal(pos: np.ndarray, frm: int, ep: int, ksq: int, us: int) -> bool:
    capsq = ep - 8 if us == WHITE else ep + 8
    occ = (_occ(pos) ^ SQ_BB[frm] ^ SQ_BB[capsq]) | SQ_BB[ep]
    them = pos[P_OCC + 1 - us]
    queens = pos[P_PIECES + 4]
    return not ((PAWN_ATT[us, ksq] & pos[P_PIECES] & them & ~SQ_BB[capsq])
                | (KNIGHT[ksq] & pos[P_PIECES + 1] & them)
                | (bishop_attacks(ksq, occ) & (pos[P_PIECES + 2] | queens) & them)
                | (rook_attacks(ksq, occ) & (pos[P_PIECES + 3] | queens) & them))


@njit(cache=True, nogil=True)
def _gen_ep(pos: np.ndarray, out: np.ndarray, n: int, ksq: int, us: int) -> int:
    ep = np.int64(pos[P_EP])
    if ep == NO_SQ or ep == 0 or SQ_BB[ep] & _occ(pos):
        return n
    caps = PAWN_ATT[1 - us, ep] & pos[P_PIECES] & pos[P_OCC + us] & RANK_BB[4 if us == WHITE else 3]
    while caps:
        frm = msb(caps)
        caps ^= SQ_BB[frm]
        if _ep_is_legal(pos, frm, ep, ksq, us):
            out[n] = frm | (ep << 6)
            n += 1
    return n


@njit(cache=True, nogil=True)
def _gen_pawns(pos: np.ndarray, out: np.ndarray, n: int, ksq: int, us: int, mask: np.uint64,
               pinned: np.uint64) -> int:
    """Pawn captures, single pushes, double pushes (python-chess order), all landing in mask."""
    occ = _occ(pos)
    pawns = pos[P_PIECES] & pos[P_OCC + us]
    them = pos[P_OCC + 1 - us]
    p = pawns
    while p:
        frm = msb(p)
        p ^= SQ_BB[frm]
        t = PAWN_ATT[us, frm] & them & mask
        if pinned & SQ_BB[frm]:
            t &= LINE[ksq, frm]
        while t:
            to = msb(t)
            t ^= SQ_BB[to]
            n = _add_pawn_moves(out, n, frm, to)
    if us == WHITE:
        single = (pawns << np.uint64(8)) & ~occ
        double = (single << np.uint64(8)) & ~occ & RANK_BB[3]
        step = -8
    else:
        single = (pawns >> np.uint64(8)) & ~occ
        double = (single >> np.uint64(8)) & ~occ & RANK_BB[4]
        step = 8
    single &= mask
    double &= mask
    while single:
        to = msb(single)
        single ^= SQ_BB[to]
        frm = to + step
        if not (pinned & SQ_BB[frm]) or LINE[ksq, frm] & SQ_BB[to]:
            n = _add_pawn_moves(out, n, frm, to)
    while double:
        to = msb(double)
        double ^= SQ_BB[to]
        frm = to + 2 * step
        if not (pinned & SQ_BB[frm]) or LINE[ksq, frm] & SQ_BB[to]:
            out[n] = frm | (to << 6)
            n += 1
    return n


@njit(cache=True, nogil=True)
def _gen_castling(pos: np.ndarray, out: np.ndarray, n: int, ksq: int, us: int) -> int:
    """python-chess ``generate_castling_moves`` (Chess960-general), king not in check."""
    back = 0 if us == WHITE else 56
    rights = pos[P_CASTLE] & RANK_BB[back >> 3]
    king = SQ_BB[ksq]
    if not rights or not (king & RANK_BB[back >> 3]):
        return n
    occ = _occ(pos)
    them = 1 - us
    while rights:
        cand = msb(rights)
        rights ^= SQ_BB[cand]
        rook = SQ_BB[cand]
        a_side = cand < ksq
        king_to = back + (2 if a_side else 6)
        rook_to = back + (3 if a_side else 5)
        king_path = BETWEEN[ksq, king_to]
        rook_path = BETWEEN[cand, rook_to]
        if (occ ^ king ^ rook) & (king_path | rook_path | SQ_BB[king_to] | SQ_BB[rook_to]):
            continue
        path = king_path | king
        occ_nk = occ ^ king
        ok = True
        while path:
            s = msb(path)
            path ^= SQ_BB[s]
            if attackers(pos, s, occ_nk, them):
                ok = False
                break
        if not ok or attackers(pos, king_to, occ ^ king ^ rook ^ SQ_BB[rook_to], them):
            continue
        out[n] = ksq | ((cand if pos[P_960] else king_to) << 6)
        n += 1
    return n


@njit(cache=True, nogil=True)
def legal_moves(pos: np.ndarray, out: np.ndarray) -> int:
    """Write the legal moves into ``out`` (length >= MAX_MOVES) and return their number.

    The order is python-chess's ``generate_legal_moves``. A side without a king gets its
    pseudo-legal moves (as python-chess).
    """
    us = np.int64(pos[P_TURN])
    them = 1 - us
    own = pos[P_OCC + us]
    enemy = pos[P_OCC + them]
    occ = own | enemy
    ksq = king_square(pos, us)
    n = 0
    checkers = U0
    pinned = U0
    if ksq != NO_SQ:
        checkers = attackers(pos, ksq, occ, them)
        queens = pos[P_PIECES + 4]
        snipers = (((ROOK_EMPTY[ksq] & (pos[P_PIECES + 3] | queens))
                    | (BISHOP_EMPTY[ksq] & (pos[P_PIECES + 2] | queens))) & enemy)
        while snipers:
            s = msb(snipers)
            snipers ^= SQ_BB[s]
            b = BETWEEN[ksq, s] & occ
            if b and not (b & (b - U1)) and (b & own):
                pinned |= b
    occ_nk = occ ^ SQ_BB[ksq] if ksq != NO_SQ else occ
    mask = ALL
    non_pawns = own & ~pos[P_PIECES]
    if checkers:
        # python-chess _generate_evasions: king moves first, then block or capture
        t = KING[ksq] & ~own
        while t:
            to = msb(t)
            t ^= SQ_BB[to]
            if not attackers(pos, to, occ_nk, them):
                out[n] = ksq | (to << 6)
                n += 1
        if checkers & (checkers - U1):
            return n
        mask = BETWEEN[ksq, msb(checkers)] | checkers
        non_pawns &= ~SQ_BB[ksq]
    while non_pawns:
        frm = msb(non_pawns)
        non_pawns ^= SQ_BB[frm]
        ptype = np.int64(pos[P_BOARD + frm]) & 7
        if ptype == KNIGHT_T:
            t = KNIGHT[frm]
        elif ptype == BISHOP:
            t = bishop_attacks(frm, occ)
        elif ptype == ROOK:
            t = rook_attacks(frm, occ)
        elif ptype == QUEEN:
            t = bishop_attacks(frm, occ) | rook_attacks(frm, occ)
        else:
            t = KING[frm]
        t &= ~own & mask
        if frm == ksq:
            while t:
                to = msb(t)
                t ^= SQ_BB[to]
                if not attackers(pos, to, occ_nk, them):
                    out[n] = frm | (to << 6)
                    n += 1
            continue
        if pinned & SQ_BB[frm]:
            t &= LINE[ksq, frm]
        while t:
            to = msb(t)
            t ^= SQ_BB[to]
            out[n] = frm | (to << 6)
            n += 1
    if not checkers and ksq != NO_SQ:
        n = _gen_castling(pos, out, n, ksq, us)
    n = _gen_pawns(pos, out, n, ksq, us, mask, pinned)
    if ksq != NO_SQ:
        n = _gen_ep(pos, out, n, ksq, us)
    return n


# -- terminal rules -----------------------------------------------------------------------
@njit(cache=True, nogil=True)
def _insufficient_for(pos: np.ndarray, c: int) -> bool:
    own = pos[P_OCC + c]
    pawns, knights, bishops = pos[P_PIECES], pos[P_PIECES + 1], pos[P_PIECES + 2]
    rooks, queens, kings = pos[P_PIECES + 3], pos[P_PIECES + 4], pos[P_PIECES + 5]
    if own & (pawns | rooks | queens):
        return False
    if own & knights:
        return popcount(own) <= 2 and not (pos[P_OCC + 1 - c] & ~kings & ~queens)
    if own & bishops:
        same = not (bishops & DARK_SQUARES) or not (bishops & LIGHT_SQUARES)
        return same and not pawns and not knights
    return True


@njit(cache=True, nogil=True)
def is_insufficient_material(pos: np.ndarray) -> bool:
    """python-chess ``is_insufficient_material``: neither side can ever mate."""
    return _insufficient_for(pos, WHITE) and _insufficient_for(pos, BLACK)


@njit(cache=True, nogil=True)
def repetition_count(pos: np.ndarray) -> int:
    """Earlier occurrences of this position within the halfmove window (lc0 / ChessState rule:
    same hash 4, 6, … plies back, not past the last irreversible move or the stack's start)."""
    ply = np.int64(pos[P_PLY])
    h = pos[P_HASH]
    limit = np.int64(pos[P_HALFMOVE])
    count = 0
    i = 4
    while i <= limit and ply - i >= 0:
        if pos[P_STACK + (ply - i) * UNDO + P_HASH] == h:
            count += 1
        i += 2
    return count


@njit(cache=True, nogil=True)
def terminal_given(pos: np.ndarray, n_legal: int) -> int:
    """:func:`terminal` when the number of legal moves is already known."""
    if n_legal == 0:
        return CHECKMATE if is_check(pos) else STALEMATE
    if repetition_count(pos) >= 1:
        return REPETITION
    if pos[P_HALFMOVE] >= 100:
        return FIFTY_MOVES
    if is_insufficient_material(pos):
        return INSUFFICIENT
    return ONGOING


@njit(cache=True, nogil=True)
def terminal(pos: np.ndarray) -> int:
    """Game-end verdict in ChessState.terminal's order: CHECKMATE (side to move lost) or
    STALEMATE, then REPETITION (one earlier occurrence) / FIFTY_MOVES, then INSUFFICIENT;
    ONGOING (0) otherwise."""
    buf = np.empty(MAX_MOVES, dtype=np.int32)
    return terminal_given(pos, legal_moves(pos, buf))


# -- perft ----------------------------------------------------------------------------------
@njit(cache=True, nogil=True)
def _perft(pos: np.ndarray, depth: int, buf: np.ndarray) -> int:
    n = legal_moves(pos, buf[depth])
    if depth == 1:
        return n
    total = 0
    for i in range(n):
        make_move(pos, buf[depth, i])
        total += _perft(pos, depth - 1, buf)
        unmake_move(pos)
    return total


@njit(cache=True, nogil=True)
def perft(pos: np.ndarray, depth: int) -> int:
    """Leaf count of the legal-move tree ``depth`` plies deep (bulk-counted at the last ply)."""
    if depth <= 0:
        return 1
    buf = np.empty((depth + 1, MAX_MOVES), dtype=np.int32)
    return _perft(pos, depth, buf)


# -- conversion to and from python-chess -------------------------------------------------------
def new_position(capacity: int = 256) -> np.ndarray:
    """An empty position array with room for ``capacity`` moves on its undo stack."""
    pos = np.zeros(P_STACK + capacity * UNDO, dtype=np.uint64)
    pos[P_CAP] = capacity
    pos[P_EP] = NO_SQ
    return pos


def _valid_ep(board: chess.Board) -> int:
    """The FEN's en-passant square if python-chess would consider it valid, else 64."""
    ep = board.ep_square
    if ep is None:
        return NO_SQ
    white = board.turn == chess.WHITE
    pushed = ep - 8 if white else ep + 8
    origin = ep + 8 if white else ep - 8
    if (chess.square_rank(ep) != (5 if white else 2)
            or board.piece_at(pushed) != chess.Piece(chess.PAWN, not board.turn)
            or board.piece_at(ep) is not None or board.piece_at(origin) is not None):
        return NO_SQ
    return ep


def _set_from(pos: np.ndarray, board: chess.Board) -> None:
    cap = pos[P_CAP]
    pos[:P_STACK] = 0
    pos[P_CAP] = cap
    for sq, piece in board.piece_map().items():
        colour = WHITE if piece.color == chess.WHITE else BLACK
        pc = piece.piece_type | (colour << 3)
        pos[P_BOARD + sq] = pc
        pos[P_PIECES + piece.piece_type - 1] |= SQ_BB[sq]
        pos[P_OCC + colour] |= SQ_BB[sq]
    pos[P_CASTLE] = board.clean_castling_rights()
    pos[P_EP] = _valid_ep(board)
    pos[P_TURN] = WHITE if board.turn == chess.WHITE else BLACK
    pos[P_HALFMOVE] = board.halfmove_clock
    pos[P_FULLMOVE] = board.fullmove_number
    pos[P_960] = 1 if board.chess960 else 0
    pos[P_HASH] = compute_hash(pos)


def from_board(board: chess.Board, capacity: int = 256) -> np.ndarray:
    """A position array for ``board``, its move stack replayed from ``board.root()`` so that
    repetition detection sees the game; ``capacity`` moves of room beyond that."""
    moves = board.move_stack
    pos = new_position(len(moves) + capacity)
    _set_from(pos, board.root() if moves else board)
    for m in moves:
        make_move(pos, m.from_square | (m.to_square << 6) | ((m.promotion or 0) << 12)
                  if m else 0)
    return pos


def from_fen(fen: str = chess.STARTING_FEN, chess960: bool = False,
             capacity: int = 256) -> np.ndarray:
    """A position array for a FEN (X-FEN / Shredder-FEN castling accepted in 960 mode)."""
    return from_board(chess.Board(fen, chess960=chess960), capacity)


def to_board(pos: np.ndarray) -> chess.Board:
    """The current position as a python-chess Board (no move stack)."""
    board = chess.Board(None, chess960=bool(pos[P_960]))
    for sq in range(64):
        pc = int(pos[P_BOARD + sq])
        if pc:
            board.set_piece_at(sq, chess.Piece(pc & 7, chess.WHITE if pc >> 3 == 0 else chess.BLACK))
    board.turn = chess.WHITE if pos[P_TURN] == WHITE else chess.BLACK
    board.castling_rights = int(pos[P_CASTLE])
    board.ep_square = None if pos[P_EP] == NO_SQ else int(pos[P_EP])
    board.halfmove_clock = int(pos[P_HALFMOVE])
    board.fullmove_number = int(pos[P_FULLMOVE])
    return board


def legal_move_list(pos: np.ndarray) -> list[int]:
    """The legal move codes as a Python list (python-chess order)."""
    buf = np.empty(MAX_MOVES, dtype=np.int32)
    return buf[:legal_moves(pos, buf)].tolist()


def zobrist(pos: np.ndarray) -> int:
    """The position's Zobrist hash as a Python int."""
    return int(pos[P_HASH])
