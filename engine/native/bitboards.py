"""Bitboard primitives for the compiled rules: bit scans, attack tables, slider attacks.

Squares use python-chess numbering (a1 = 0, h8 = 63); colour index 0 = white, 1 = black.
Every table is a plain numpy array built once at import; numba freezes them into the
compiled code as constants.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core.extending import intrinsic

U0 = np.uint64(0)
U1 = np.uint64(1)
U8 = np.uint64(8)
ALL = np.uint64(0xFFFFFFFFFFFFFFFF)


# -- bit scans (LLVM intrinsics; undefined for 0, callers never pass 0) -------------------
@intrinsic
def _cttz(typingctx, src):
    if not isinstance(src, types.Integer):
        return None

    def codegen(context, builder, sig, args):
        return builder.cttz(args[0], ir.Constant(ir.IntType(1), 1))
    return types.uint64(types.uint64), codegen


@intrinsic
def _ctlz(typingctx, src):
    if not isinstance(src, types.Integer):
        return None

    def codegen(context, builder, sig, args):
        return builder.ctlz(args[0], ir.Constant(ir.IntType(1), 1))
    return types.uint64(types.uint64), codegen


@intrinsic
def _ctpop(typingctx, src):
    if not isinstance(src, types.Integer):
        return None

    def codegen(context, builder, sig, args):
        return builder.ctpop(args[0])
    return types.uint64(types.uint64), codegen


@njit(cache=True, nogil=True, inline="always")
def lsb(b: np.uint64) -> int:
    """Index of the lowest set bit of a non-zero bitboard."""
    return np.int64(_cttz(np.uint64(b)))


@njit(cache=True, nogil=True, inline="always")
def msb(b: np.uint64) -> int:
    """Index of the highest set bit of a non-zero bitboard."""
    return 63 - np.int64(_ctlz(np.uint64(b)))


@njit(cache=True, nogil=True, inline="always")
def popcount(b: np.uint64) -> int:
    """Number of set bits."""
    return np.int64(_ctpop(np.uint64(b)))


# -- tables -------------------------------------------------------------------------------
def _bb(squares) -> np.uint64:
    v = 0
    for s in squares:
        v |= 1 << s
    return np.uint64(v)


def _on(f: int, r: int) -> bool:
    return 0 <= f < 8 and 0 <= r < 8


#: ray directions (file step, rank step); 0-3 increase the square index, 4-7 decrease it;
#: direction d + 4 is the opposite of d
_DIRS = [(0, 1), (1, 0), (1, 1), (-1, 1), (0, -1), (-1, 0), (-1, -1), (1, -1)]

SQ_BB = np.array([np.uint64(1 << s) for s in range(64)], dtype=np.uint64)
RAYS = np.zeros((8, 64), dtype=np.uint64)
KNIGHT = np.zeros(64, dtype=np.uint64)
KING = np.zeros(64, dtype=np.uint64)
#: PAWN_ATT[c, s]: squares a pawn of colour c on s attacks
PAWN_ATT = np.zeros((2, 64), dtype=np.uint64)
BETWEEN = np.zeros((64, 64), dtype=np.uint64)   # strictly between two aligned squares
LINE = np.zeros((64, 64), dtype=np.uint64)      # full line through two aligned squares
ROOK_EMPTY = np.zeros(64, dtype=np.uint64)
BISHOP_EMPTY = np.zeros(64, dtype=np.uint64)
RANK_BB = np.array([_bb(range(8 * r, 8 * r + 8)) for r in range(8)], dtype=np.uint64)
DARK_SQUARES = _bb(s for s in range(64) if (s % 8 + s // 8) % 2 == 0)
LIGHT_SQUARES = np.uint64(~int(DARK_SQUARES) & 0xFFFFFFFFFFFFFFFF)


def _build() -> None:
    for s in range(64):
        f, r = s % 8, s // 8
        for d, (df, dr) in enumerate(_DIRS):
            sq = []
            ff, rr = f + df, r + dr
            while _on(ff, rr):
                sq.append(8 * rr + ff)
                ff, rr = ff + df, rr + dr
            RAYS[d, s] = _bb(sq)
        KNIGHT[s] = _bb(8 * (r + dr) + f + df for df, dr in
                        [(1, 2), (2, 1), (2, -1), (1, -2), (-1, -2), (-2, -1), (-2, 1), (-1, 2)]
                        if _on(f + df, r + dr))
        KING[s] = _bb(8 * (r + dr) + f + df for df in (-1, 0, 1) for dr in (-1, 0, 1)
                      if (df or dr) and _on(f + df, r + dr))
        PAWN_ATT[0, s] = _bb(8 * (r + 1) + f + df for df in (-1, 1) if _on(f + df, r + 1))
        PAWN_ATT[1, s] = _bb(8 * (r - 1) + f + df for df in (-1, 1) if _on(f + df, r - 1))
        ROOK_EMPTY[s] = RAYS[0, s] | RAYS[1, s] | RAYS[4, s] | RAYS[5, s]
        BISHOP_EMPTY[s] = RAYS[2, s] | RAYS[3, s] | RAYS[6, s] | RAYS[7, s]
    for a in range(64):
        for d in range(8):
            opposite = (d + 4) % 8
            ray = int(RAYS[d, a])
            b = 0
            while ray >> b:
                if ray >> b & 1:
                    BETWEEN[a, b] = RAYS[d, a] & RAYS[opposite, b]
                    LINE[a, b] = RAYS[d, a] | RAYS[opposite, a] | SQ_BB[a]
                b += 1


_build()


# -- slider attacks (classical rays: cut each ray at its first blocker) --------------------
@njit(cache=True, nogil=True, inline="always")
def _ray_up(d: int, s: int, occ: np.uint64) -> np.uint64:
    r = RAYS[d, s]
    b = r & occ
    if b:
        r ^= RAYS[d, lsb(b)]
    return r


@njit(cache=True, nogil=True, inline="always")
def _ray_down(d: int, s: int, occ: np.uint64) -> np.uint64:
    r = RAYS[d, s]
    b = r & occ
    if b:
        r ^= RAYS[d, msb(b)]
    return r


@njit(cache=True, nogil=True)
def rook_attacks(s: int, occ: np.uint64) -> np.uint64:
    """Squares a rook on ``s`` attacks given the occupancy ``occ``."""
    return _ray_up(0, s, occ) | _ray_up(1, s, occ) | _ray_down(4, s, occ) | _ray_down(5, s, occ)


@njit(cache=True, nogil=True)
def bishop_attacks(s: int, occ: np.uint64) -> np.uint64:
    """Squares a bishop on ``s`` attacks given the occupancy ``occ``."""
    return _ray_up(2, s, occ) | _ray_up(3, s, occ) | _ray_down(6, s, occ) | _ray_down(7, s, occ)
