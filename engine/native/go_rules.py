"""Compiled go rules: a position in a few flat arrays, legal moves, play, pop, area score.

The same rules and conventions as :mod:`engine.games.go` (the reference): move codes
``row * N + col`` (row 0 = GTP row 1), ``PASS = N * N``; captures, suicide illegal,
**positional superko** (a move may not recreate any earlier arrangement of stones of the
game, whoever is to move); passes always legal, two in a row end the game; Tromp–Taylor area
scoring minus komi. The Zobrist keys are go.py's own, so :func:`position_hash` equals
``GoState.position_hash``.

Layout (:class:`GoArrays`): the board is padded with an edge of ``EDGE`` cells (width
``W = N + 2``), so every point has four neighbours. Each stone knows its group's head
(``gid``); the stones of a group form a ring through ``nxt``; per head the group keeps its
true liberty count, its size and the XOR of its stones' Zobrist keys (so the hash after a
capture is one XOR per captured group). Per ply ``0 … ply`` the history keeps the stones'
hash and count, the board (code-indexed, for the history planes), the move, its colour and
the side to move and pass count before it.

Why there is no undo of the groups: :func:`pop` restores the board from the history and
rebuilds the groups (a flood fill, O(N²)), which the search never needs: it copies the
root's few arrays back (:func:`restore`, a few hundred bytes) after each descent and keeps
only the history (shared between the root and its work copy) beyond the root's ply.

Superko: the position a move makes has a known stone count (``stones + 1 − captured``), so it
can only repeat a history entry of that count. A non-capturing move makes ``stones + 1``:
:func:`legal_moves` collects the (usually no) earlier hashes of that count once and compares
each candidate with them; a capturing move (a liberty of an enemy group in atari: few) scans
the history for its own count.

>>> g = new_go(9, 7.5)
>>> buf = np.zeros(MAX_POINTS + 1, np.int32)
>>> legal_moves(g, buf)
82
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from ..games.go import _ZOBRIST_SEED, MAX_SIZE, MIN_SIZE

EMPTY, BLACK_STONE, WHITE_STONE, EDGE = 0, 1, 2, 3
#: most points of a board (25×25); ``legal_moves`` needs a buffer of MAX_POINTS + 1
MAX_POINTS = MAX_SIZE * MAX_SIZE
#: ``meta`` words
M_SIZE, M_W, M_NN, M_TURN, M_PASSES, M_PLY, M_CAP, M_ROOT, M_KO = range(9)
META_WORDS = 10
#: :func:`why` codes
LEGAL, OCCUPIED, SUICIDE, SUPERKO, OFF_BOARD = 0, 1, 2, 3, 4


def _zobrist_table() -> np.ndarray:
    """uint64 [3, MAX_POINTS]: go.py's keys by stone colour (row 0 zeros) and move code."""
    rng = np.random.default_rng(_ZOBRIST_SEED)
    table = rng.integers(1, 2**64, size=(2, MAX_POINTS), dtype=np.uint64)
    z = np.zeros((3, MAX_POINTS), np.uint64)
    z[1:] = table
    return z


ZOBRIST = _zobrist_table()


class GoArrays(NamedTuple):
    """A go game in arrays (see the module doc). Sizes: padded points P = (N+2)², points
    NN = N², history rows H = capacity + 1."""

    meta: np.ndarray    #: int64[META_WORDS]
    komi: np.ndarray    #: float64[1]
    board: np.ndarray   #: int8[P] EMPTY / BLACK_STONE / WHITE_STONE / EDGE
    gid: np.ndarray     #: int16[P] head of the stone's group (−1 on empty and edge points)
    nxt: np.ndarray     #: int16[P] next stone of the group's ring
    libs: np.ndarray    #: int16[P] liberties, per head
    gsize: np.ndarray   #: int16[P] stones, per head
    ghash: np.ndarray   #: uint64[P] XOR of the stones' keys, per head
    pad: np.ndarray     #: int16[NN] padded index of each move code
    code: np.ndarray    #: int16[P] move code of each padded point (−1 on the edge)
    zob: np.ndarray     #: uint64[3, P] Zobrist keys by colour and padded point
    hhash: np.ndarray   #: uint64[H] hash of the stones at each ply
    hcount: np.ndarray  #: int16[H] stones on the board at each ply
    hboard: np.ndarray  #: int8[H, NN] board at each ply, by move code
    hmove: np.ndarray   #: int16[H] move that led to the ply (row 0 unused)
    hcolour: np.ndarray  #: int8[H] its stone colour (1 black, 2 white)
    hturn: np.ndarray   #: int8[H] side to move at the ply (0 black, 1 white)
    hpass: np.ndarray   #: int16[H] consecutive passes at the ply


def new_go(size: int, komi: float, capacity: int = 512) -> GoArrays:
    """An empty ``size``×``size`` board, Black to move, room for ``capacity`` moves."""
    if not MIN_SIZE <= size <= MAX_SIZE:
        raise ValueError(f"board size must be in {MIN_SIZE}..{MAX_SIZE}, got {size}")
    n, w = int(size), int(size) + 2
    nn, p = n * n, w * w
    rows = int(capacity) + 1
    g = GoArrays(np.zeros(META_WORDS, np.int64), np.array([float(komi)]), np.full(p, EDGE, np.int8),
                 np.full(p, -1, np.int16), np.zeros(p, np.int16), np.zeros(p, np.int16), np.zeros(p, np.int16),
                 np.zeros(p, np.uint64), np.zeros(nn, np.int16), np.full(p, -1, np.int16),
                 np.zeros((3, p), np.uint64), np.zeros(rows, np.uint64), np.zeros(rows, np.int16),
                 np.zeros((rows, nn), np.int8), np.zeros(rows, np.int16), np.zeros(rows, np.int8),
                 np.zeros(rows, np.int8), np.zeros(rows, np.int16))
    for c in range(nn):
        q = (c // n + 1) * w + c % n + 1
        g.pad[c] = q
        g.code[q] = c
        g.board[q] = EMPTY
        g.zob[1, q] = ZOBRIST[1, c]
        g.zob[2, q] = ZOBRIST[2, c]
    g.meta[M_SIZE], g.meta[M_W], g.meta[M_NN], g.meta[M_CAP] = n, w, nn, rows - 1
    return g


def grown(g: GoArrays, capacity: int) -> GoArrays:
    """The same game with room for ``capacity`` moves (history copied)."""
    rows = int(capacity) + 1
    old = g.hhash.size
    if rows <= old:
        return g

    def more(a: np.ndarray) -> np.ndarray:
        b = np.zeros((rows,) + a.shape[1:], a.dtype)
        b[:old] = a
        return b

    new = g._replace(meta=g.meta.copy(), hhash=more(g.hhash), hcount=more(g.hcount), hboard=more(g.hboard),
                     hmove=more(g.hmove), hcolour=more(g.hcolour), hturn=more(g.hturn), hpass=more(g.hpass))
    new.meta[M_CAP] = rows - 1
    return new


def copy_go(g: GoArrays) -> GoArrays:
    """An independent copy (every array)."""
    return GoArrays(*(a.copy() for a in g))


def work_copy(g: GoArrays) -> GoArrays:
    """A copy of the position arrays that shares ``g``'s history and tables: the search plays
    its paths on it beyond ``g``'s ply and :func:`restore` resets it to ``g``."""
    return g._replace(meta=g.meta.copy(), board=g.board.copy(), gid=g.gid.copy(), nxt=g.nxt.copy(),
                      libs=g.libs.copy(), gsize=g.gsize.copy(), ghash=g.ghash.copy())


# -- position set-up -----------------------------------------------------------------------
@njit(cache=True, nogil=True)
def rebuild(g: GoArrays) -> None:
    """Groups, liberties and group hashes from the board alone (flood fill)."""
    board, gid, nxt, libs, gsize, ghash = g.board, g.gid, g.nxt, g.libs, g.gsize, g.ghash
    w = g.meta[M_W]
    p = board.size
    mark = np.zeros(p, np.int32)
    stack = np.empty(p, np.int32)
    for q in range(p):
        gid[q] = -1
    stamp = 0
    for q in range(p):
        c = board[q]
        if c != BLACK_STONE and c != WHITE_STONE or gid[q] >= 0:
            continue
        stamp += 1
        gid[q] = q
        nxt[q] = q
        top = 1
        stack[0] = q
        n_libs = 0
        size = 0
        h = np.uint64(0)
        while top > 0:
            top -= 1
            s = stack[top]
            size += 1
            h ^= g.zob[c, s]
            for d in (-w, -1, 1, w):
                r = s + d
                v = board[r]
                if v == EMPTY:
                    if mark[r] != stamp:
                        mark[r] = stamp
                        n_libs += 1
                elif v == c and gid[r] < 0:
                    gid[r] = q
                    nxt[r] = nxt[q]
                    nxt[q] = r
                    stack[top] = r
                    top += 1
        libs[q] = n_libs
        gsize[q] = size
        ghash[q] = h


@njit(cache=True, nogil=True)
def set_position(g: GoArrays, stones: np.ndarray, to_move: int) -> None:
    """Start the game at ``stones`` (int8 [NN] by move code: 0/1/2) with ``to_move`` (0/1) to
    move: ply 0 of the history. The caller checks the stones are a legal position."""
    nn = g.meta[M_NN]
    h = np.uint64(0)
    count = 0
    for c in range(nn):
        v = stones[c]
        g.board[g.pad[c]] = v
        g.hboard[0, c] = v
        if v != EMPTY:
            h ^= g.zob[v, g.pad[c]]
            count += 1
    rebuild(g)
    g.meta[M_TURN] = to_move
    g.meta[M_PASSES] = 0
    g.meta[M_PLY] = 0
    g.meta[M_ROOT] = 0
    g.hhash[0] = h
    g.hcount[0] = count
    g.hturn[0] = to_move
    g.hpass[0] = 0


@njit(cache=True, nogil=True)
def restore(w: GoArrays, g: GoArrays) -> None:
    """Reset the work copy ``w`` to ``g``'s position (same history arrays)."""
    w.meta[:] = g.meta
    w.board[:] = g.board
    w.gid[:] = g.gid
    w.nxt[:] = g.nxt
    w.libs[:] = g.libs
    w.gsize[:] = g.gsize
    w.ghash[:] = g.ghash


# -- play -----------------------------------------------------------------------------------
@njit(cache=True, nogil=True, inline="always")
def _seen_before(heads: np.ndarray, k: int, x: int) -> bool:
    for j in range(k):
        if heads[j] == x:
            return True
    return False


@njit(cache=True, nogil=True)
def _merge(g: GoArrays, a: int, b: int) -> int:
    """Join the groups with heads ``a`` and ``b`` into the larger; returns the new head."""
    board, gid, nxt, libs = g.board, g.gid, g.nxt, g.libs
    if g.gsize[a] < g.gsize[b]:
        a, b = b, a
    w = g.meta[M_W]
    c = board[a]
    s = b
    while True:
        for d in (-w, -1, 1, w):
            e = s + d
            if board[e] == EMPTY:
                shared = False
                for d2 in (-w, -1, 1, w):
                    f = e + d2
                    if board[f] == c and gid[f] == a:
                        shared = True
                        break
                if not shared:
                    libs[a] += 1
        gid[s] = a
        s = nxt[s]
        if s == b:
            break
    na, nb = nxt[a], nxt[b]
    nxt[a], nxt[b] = nb, na
    g.gsize[a] += g.gsize[b]
    g.ghash[a] ^= g.ghash[b]
    return a


@njit(cache=True, nogil=True)
def _remove(g: GoArrays, head: int, row: np.ndarray) -> None:
    """Take the group ``head`` off the board; its neighbours gain the points as liberties."""
    board, gid, nxt, libs = g.board, g.gid, g.nxt, g.libs
    w = g.meta[M_W]
    heads = np.empty(4, np.int64)
    s = head
    while True:
        board[s] = EMPTY
        row[g.code[s]] = EMPTY
        k = 0
        for d in (-w, -1, 1, w):
            q = s + d
            v = board[q]
            if v == BLACK_STONE or v == WHITE_STONE:
                h = gid[q]
                if not _seen_before(heads, k, h):
                    heads[k] = h
                    k += 1
                    libs[h] += 1
        s = nxt[s]
        if s == head:
            break
    s = head
    while True:
        gid[s] = -1
        s = nxt[s]
        if s == head:
            break


@njit(cache=True, nogil=True)
def play(g: GoArrays, move: int, colour: int) -> None:
    """Play ``move`` (a code, or PASS = N²) for stone colour ``colour`` (1/2), assumed legal;
    the other colour moves next. The caller keeps room in the history (``ply < capacity``)."""
    meta = g.meta
    nn = meta[M_NN]
    ply = meta[M_PLY]
    nply = ply + 1
    g.hboard[nply] = g.hboard[ply]
    g.hmove[nply] = move
    g.hcolour[nply] = colour
    turn = 2 - colour
    if move == nn:
        meta[M_PASSES] += 1
        g.hhash[nply] = g.hhash[ply]
        g.hcount[nply] = g.hcount[ply]
    else:
        board, gid, libs = g.board, g.gid, g.libs
        w = meta[M_W]
        p = np.int64(g.pad[move])
        o = 3 - colour
        row = g.hboard[nply]
        row[move] = colour
        board[p] = colour
        gid[p] = p
        g.nxt[p] = p
        g.gsize[p] = 1
        g.ghash[p] = g.zob[colour, p]
        h = g.hhash[ply] ^ g.zob[colour, p]
        count = np.int64(g.hcount[ply]) + 1
        empty = 0
        heads = np.empty(4, np.int64)
        k = 0
        for d in (-w, -1, 1, w):
            q = p + d
            v = board[q]
            if v == EMPTY:
                empty += 1
            elif v == BLACK_STONE or v == WHITE_STONE:
                x = gid[q]
                if not _seen_before(heads, k, x):
                    heads[k] = x
                    k += 1
                    libs[x] -= 1
        libs[p] = empty
        head = p
        for j in range(k):
            x = heads[j]
            if board[x] == colour and x != head:
                head = _merge(g, head, x)
        for j in range(k):
            x = heads[j]
            if board[x] == o and gid[x] == x and libs[x] == 0:
                h ^= g.ghash[x]
                count -= g.gsize[x]
                _remove(g, x, row)
        g.hhash[nply] = h
        g.hcount[nply] = count
        meta[M_PASSES] = 0
    g.hturn[nply] = turn
    g.hpass[nply] = meta[M_PASSES]
    meta[M_TURN] = turn
    meta[M_PLY] = nply


@njit(cache=True, nogil=True)
def pop(g: GoArrays) -> int:
    """Take back the last move (board from the history, groups rebuilt); returns it."""
    meta = g.meta
    ply = meta[M_PLY]
    move = np.int64(g.hmove[ply])
    ply -= 1
    meta[M_PLY] = ply
    meta[M_TURN] = g.hturn[ply]
    meta[M_PASSES] = g.hpass[ply]
    if move != meta[M_NN]:
        row = g.hboard[ply]
        for c in range(meta[M_NN]):
            g.board[g.pad[c]] = row[c]
        rebuild(g)
    return move


# -- legality --------------------------------------------------------------------------------
@njit(cache=True, nogil=True)
def _in_history(g: GoArrays, h: np.uint64, count: int) -> bool:
    """Whether the stones ``h`` (``count`` of them) stood on the board at any ply so far."""
    for j in range(g.meta[M_PLY] + 1):
        if g.hcount[j] == count and g.hhash[j] == h:
            return True
    return False


@njit(cache=True, nogil=True, inline="always")
def _after(g: GoArrays, p: int, colour: int) -> tuple[bool, np.uint64, int]:
    """For a stone of ``colour`` on the empty padded point ``p``: whether it keeps a liberty
    (or captures), the hash of the stones it leaves and how many stones it captures."""
    board, gid, libs = g.board, g.gid, g.libs
    w = g.meta[M_W]
    o = 3 - colour
    breathes = False
    caph = np.uint64(0)
    ncap = 0
    h0 = -1
    h1 = -1
    h2 = -1
    for d in (-w, -1, 1, w):
        q = p + d
        v = board[q]
        if v == EMPTY:
            breathes = True
        elif v == colour:
            if libs[gid[q]] > 1:
                breathes = True
        elif v == o:
            x = gid[q]
            if libs[x] == 1 and x != h0 and x != h1 and x != h2:
                if h0 < 0:
                    h0 = x
                elif h1 < 0:
                    h1 = x
                else:
                    h2 = x
                caph ^= g.ghash[x]
                ncap += g.gsize[x]
                breathes = True
    return breathes, caph, ncap


@njit(cache=True, nogil=True)
def why(g: GoArrays, move: int, colour: int) -> int:
    """LEGAL, or why ``move`` is illegal for stone colour ``colour``: OFF_BOARD, OCCUPIED,
    SUICIDE, SUPERKO (go.py's ``GoState._why``)."""
    nn = g.meta[M_NN]
    if move < 0 or move > nn:
        return OFF_BOARD
    if move == nn:
        return LEGAL
    p = np.int64(g.pad[move])
    if g.board[p] != EMPTY:
        return OCCUPIED
    breathes, caph, ncap = _after(g, p, colour)
    if not breathes:
        return SUICIDE
    ply = g.meta[M_PLY]
    if _in_history(g, g.hhash[ply] ^ g.zob[colour, p] ^ caph, np.int64(g.hcount[ply]) + 1 - ncap):
        return SUPERKO
    return LEGAL


@njit(cache=True, nogil=True, inline="always")
def _mix(x: np.uint64) -> np.uint64:
    """splitmix64's finaliser."""
    x ^= x >> np.uint64(30)
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(27)
    x *= np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


@njit(cache=True, nogil=True)
def legal_moves(g: GoArrays, out: np.ndarray) -> int:
    """The side to move's legal moves into ``out`` in ascending code order, then PASS (go.py's
    ``legal_moves``); returns their number. Also leaves a digest of the superko-banned points
    in ``meta[M_KO]`` (for :func:`position_key`)."""
    meta = g.meta
    nn = meta[M_NN]
    ply = meta[M_PLY]
    colour = meta[M_TURN] + 1
    h = g.hhash[ply]
    count = np.int64(g.hcount[ply])
    # earlier positions a non-capturing move could repeat: those with one stone more
    m = 0
    for j in range(ply + 1):
        if g.hcount[j] == count + 1:
            m += 1
    cand = np.empty(m, np.uint64)
    m = 0
    for j in range(ply + 1):
        if g.hcount[j] == count + 1:
            cand[m] = g.hhash[j]
            m += 1
    ko = np.uint64(0)
    n = 0
    board = g.board
    for c in range(nn):
        p = np.int64(g.pad[c])
        if board[p] != EMPTY:
            continue
        breathes, caph, ncap = _after(g, p, colour)
        if not breathes:
            continue
        h2 = h ^ g.zob[colour, p] ^ caph
        banned = False
        if ncap > 0:
            banned = _in_history(g, h2, count + 1 - ncap)
        else:
            for j in range(m):
                if cand[j] == h2:
                    banned = True
                    break
        if banned:
            ko ^= _mix(np.uint64(c + 1) * np.uint64(0x9E3779B97F4A7C15))
            continue
        out[n] = c
        n += 1
    out[n] = nn
    meta[M_KO] = np.int64(ko)
    return n + 1


# -- scoring and the position's key ------------------------------------------------------------
@njit(cache=True, nogil=True)
def ownership(g: GoArrays, out: np.ndarray) -> None:
    """Tromp–Taylor area into ``out`` (int8 [NN] by code): +1 black, −1 white, 0 neutral."""
    board = g.board
    w = g.meta[M_W]
    nn = g.meta[M_NN]
    p = board.size
    seen = np.zeros(p, np.uint8)
    stack = np.empty(p, np.int32)
    region = np.empty(p, np.int32)
    for c in range(nn):
        q = g.pad[c]
        v = board[q]
        out[c] = 1 if v == BLACK_STONE else (-1 if v == WHITE_STONE else 0)
    for c in range(nn):
        q = np.int64(g.pad[c])
        if board[q] != EMPTY or seen[q]:
            continue
        seen[q] = 1
        stack[0] = q
        top = 1
        nreg = 0
        reach = 0
        while top > 0:
            top -= 1
            s = stack[top]
            region[nreg] = s
            nreg += 1
            for d in (-w, -1, 1, w):
                r = s + d
                v = board[r]
                if v == EMPTY:
                    if not seen[r]:
                        seen[r] = 1
                        stack[top] = r
                        top += 1
                elif v != EDGE:
                    reach |= v
        if reach == BLACK_STONE or reach == WHITE_STONE:
            val = 1 if reach == BLACK_STONE else -1
            for j in range(nreg):
                out[g.code[region[j]]] = val


@njit(cache=True, nogil=True)
def area(g: GoArrays) -> int:
    """Black area minus White area (no komi), Tromp–Taylor."""
    own = np.empty(g.meta[M_NN], np.int8)
    ownership(g, own)
    total = 0
    for v in own:
        total += v
    return total


@njit(cache=True, nogil=True)
def score(g: GoArrays) -> float:
    """Black's area lead minus komi (positive: Black leads)."""
    return area(g) - g.komi[0]


@njit(cache=True, nogil=True)
def terminal(g: GoArrays) -> tuple[bool, float, float]:
    """(ended, result, score) after two passes: the result (+1 win, −1 loss, 0 draw) and the
    score, both for the side to move; (False, 0, 0) while the game goes on."""
    if g.meta[M_PASSES] < 2:
        return False, 0.0, 0.0
    s = score(g)
    if g.meta[M_TURN] != 0:
        s = -s
    return True, (1.0 if s > 0 else (-1.0 if s < 0 else 0.0)), s


@njit(cache=True, nogil=True)
def position_key(g: GoArrays) -> np.uint64:
    """The eval-cache key: the last 8 boards, side to move, passes (capped at 2), komi, size
    and the superko bans (``meta[M_KO]``, left by :func:`legal_moves` of this position)."""
    meta = g.meta
    ply = meta[M_PLY]
    x = _mix(np.uint64(meta[M_SIZE] * 8 + meta[M_TURN] * 4 + min(meta[M_PASSES], 2)) + np.uint64(0x2545F4914F6CDD1D))
    x ^= _mix(np.uint64(np.int64(g.komi[0] * 1024.0)) + np.uint64(0x632BE59BD9B4E019))
    for j in range(min(8, ply + 1)):
        x = _mix(x ^ g.hhash[ply - j]) + np.uint64(j + 1)
    return x ^ _mix(np.uint64(meta[M_KO]) ^ np.uint64(0xD6E8FEB86659FD93))


@njit(cache=True, nogil=True)
def reasons(g: GoArrays, colour: int, out: np.ndarray) -> None:
    """:func:`why` for every move code at once into ``out`` (int8 [NN])."""
    for c in range(g.meta[M_NN]):
        out[c] = why(g, c, colour)
