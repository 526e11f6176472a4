"""KataGo's board compiled: chains as KataGo links them, play, recorded play and undo.

The compiled twin of :class:`engine.codecs.katago_board.KataBoard` (the reference, a step-by-step
port of KataGo's ``cpp/game/board.cpp``), for the KataGo input features of the compiled go
search. Why a second board beside :mod:`engine.native.go_rules`: KataGo's ladder searches stop
after a node budget, so their answers depend on the order moves are tried in, hence on the
order of each chain's circular stone list, which depends on the whole move sequence and on
KataGo's own merge, capture and undo steps. This board replays them exactly.

Layout (:class:`KataArrays`): KataGo *locs* ``(x + 1) + (y + 1) · (N + 1)`` with y = 0 the
top row, a wall border, neighbour offsets up, left, right, down; per stone its chain's head
and the next stone of the chain's ring; stone and liberty counts at the head; ``meta[K_KO]``
KataGo's simple-ko point (0: none). Recursive steps of the reference (re-adding a captured
chain, rebuilding a split one) run on an explicit stack in the same visiting order.

The KataGo kernels (this module, kata_ladder, kata_area, kata_encoder) are compiled without
numba's reference counting (``_nrt=False``): they allocate nothing, and numba otherwise counts
a reference, atomically, to every array of a :class:`KataArrays` or scratch tuple handed to a
helper, on every call — most of a ladder scan's time before (copies go by loop, as a slice
assignment would need the runtime).

>>> kb = new_board(9)
>>> play(kb, loc_of(kb, 4, 4), BLACK); int(kb.nlibs[kb.head[loc_of(kb, 4, 4)]])
4
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

EMPTY, BLACK, WHITE, WALL = 0, 1, 2, 3
#: ``meta`` words: board size, row width N + 1, simple-ko point
K_N, K_W, K_KO = range(3)
#: MoveRecord ``dirs`` flag of a suicide (KataGo's 0x10)
SUICIDE_FLAG = 0x10


class KataArrays(NamedTuple):
    """One KataGo board (see the module doc). Sizes: locs S = (N + 1)(N + 2) + 1."""

    meta: np.ndarray   #: int64[3] K_N, K_W, K_KO
    col: np.ndarray    #: int8[S] EMPTY / BLACK / WHITE / WALL
    head: np.ndarray   #: int16[S] chain head of each stone
    nxt: np.ndarray    #: int16[S] next stone of the chain's ring
    nlocs: np.ndarray  #: int16[S] stones, at the head
    nlibs: np.ndarray  #: int16[S] liberties, at the head
    stk: np.ndarray    #: int32[2·S] scratch stack of the re-adding and rebuilding walks


def new_board(n: int) -> KataArrays:
    """An empty ``n``×``n`` board."""
    w = n + 1
    size = w * (n + 2) + 1
    col = np.full(size, WALL, np.int8)
    for y in range(n):
        base = (y + 1) * w + 1
        col[base:base + n] = EMPTY
    meta = np.zeros(3, np.int64)
    meta[K_N], meta[K_W] = n, w
    z = np.zeros(size, np.int16)
    return KataArrays(meta, col, z, z.copy(), z.copy(), z.copy(), np.zeros(2 * size, np.int32))


def fresh_copy(kb: KataArrays) -> KataArrays:
    """An independent copy (its own scratch stack)."""
    return KataArrays(*(a.copy() for a in kb))


def loc_of(kb: KataArrays, x: int, y: int) -> int:
    """The loc of column ``x``, row ``y`` (y = 0 the top row)."""
    return (x + 1) + (y + 1) * int(kb.meta[K_W])


@njit(cache=True, nogil=True, _nrt=False)
def copy_into(dst: KataArrays, src: KataArrays) -> None:
    """Make ``dst`` the same position as ``src`` (scratch stack left alone)."""
    for i in range(src.meta.size):
        dst.meta[i] = src.meta[i]
    for i in range(src.col.size):
        dst.col[i] = src.col[i]
        dst.head[i] = src.head[i]
        dst.nxt[i] = src.nxt[i]
        dst.nlocs[i] = src.nlocs[i]
        dst.nlibs[i] = src.nlibs[i]


# -- small queries ----------------------------------------------------------------------------
@njit(cache=True, nogil=True, _nrt=False, inline="always")
def is_lib_of(kb: KataArrays, loc: int, h: int) -> bool:
    """Whether the empty ``loc`` touches the chain with head ``h``."""
    col, head = kb.col, kb.head
    c = col[h]
    w = kb.meta[K_W]
    for q in (loc - w, loc - 1, loc + 1, loc + w):
        if col[q] == c and head[q] == h:
            return True
    return False


@njit(cache=True, nogil=True, _nrt=False, inline="always")
def immediate_libs(kb: KataArrays, loc: int) -> int:
    """Empty neighbours of ``loc``."""
    col = kb.col
    w = kb.meta[K_W]
    return ((col[loc - w] == EMPTY) + (col[loc - 1] == EMPTY) + (col[loc + 1] == EMPTY)
            + (col[loc + w] == EMPTY))


@njit(cache=True, nogil=True, _nrt=False)
def is_suicide(kb: KataArrays, loc: int, pla: int) -> bool:
    """KataGo ``isSuicide``: the stone would have no liberty and capture nothing."""
    col, head, nlibs = kb.col, kb.head, kb.nlibs
    w = kb.meta[K_W]
    opp = 3 - pla
    for q in (loc - w, loc - 1, loc + 1, loc + w):
        c = col[q]
        if c == EMPTY:
            return False
        if c == pla:
            if nlibs[head[q]] > 1:
                return False
        elif c == opp and nlibs[head[q]] == 1:
            return False
    return True


@njit(cache=True, nogil=True, _nrt=False)
def is_legal(kb: KataArrays, loc: int, pla: int) -> bool:
    """KataGo ``isLegal`` with multi-stone suicide illegal, for an on-board point: empty, not
    the ko point, not suicide (the same as :func:`is_suicide` without multi-stone suicide)."""
    return kb.col[loc] == EMPTY and loc != kb.meta[K_KO] and not is_suicide(kb, loc, pla)


@njit(cache=True, nogil=True, _nrt=False)
def chain_len(kb: KataArrays, loc: int) -> int:
    """Stones of the chain through ``loc`` (walked)."""
    nxt = kb.nxt
    k = 1
    cur = nxt[loc]
    while cur != loc:
        k += 1
        cur = nxt[cur]
    return k


# -- chain bookkeeping ------------------------------------------------------------------------
@njit(cache=True, nogil=True, _nrt=False)
def change_libs(kb: KataArrays, loc: int, pla: int, delta: int) -> None:
    """KataGo ``changeSurroundingLiberties``: ``delta`` to each distinct ``pla`` chain next to ``loc``."""
    col, head, nlibs = kb.col, kb.head, kb.nlibs
    w = kb.meta[K_W]
    a0, a1, a2, a3 = loc - w, loc - 1, loc + 1, loc + w
    c0, c1, c2, c3 = col[a0] == pla, col[a1] == pla, col[a2] == pla, col[a3] == pla
    h0 = np.int64(head[a0]) if c0 else -1
    h1 = np.int64(head[a1]) if c1 else -2
    h2 = np.int64(head[a2]) if c2 else -3
    if c0:
        nlibs[h0] += delta
    if c1 and h1 != h0:
        nlibs[h1] += delta
    if c2 and h2 != h0 and h2 != h1:
        nlibs[h2] += delta
    if c3:
        h3 = np.int64(head[a3])
        if h3 != h0 and h3 != h1 and h3 != h2:
            nlibs[h3] += delta


@njit(cache=True, nogil=True, _nrt=False)
def merge(kb: KataArrays, loc1: int, loc2: int) -> None:
    """KataGo ``mergeChains``: the smaller chain joins the larger, its ring after the head."""
    col, head, nxt, nlocs, nlibs = kb.col, kb.head, kb.nxt, kb.nlocs, kb.nlibs
    w = kb.meta[K_W]
    h1, h2 = np.int64(head[loc1]), np.int64(head[loc2])
    if nlocs[h1] < nlocs[h2]:
        h1, h2 = h2, h1
    nlocs[h1] += nlocs[h2]
    c1 = col[h1]
    new = 0
    loc = h2
    while True:
        for q in (loc - w, loc - 1, loc + 1, loc + w):
            if col[q] == EMPTY:
                shared = False
                for r in (q - w, q - 1, q + 1, q + w):
                    if col[r] == c1 and head[r] == h1:
                        shared = True
                        break
                if not shared:
                    new += 1
        head[loc] = h1
        if nxt[loc] != h2:
            loc = nxt[loc]
        else:
            break
    nlibs[h1] += new
    nxt[loc] = nxt[h1]
    nxt[h1] = h2


@njit(cache=True, nogil=True, _nrt=False)
def remove_chain(kb: KataArrays, loc: int) -> int:
    """KataGo ``removeChain``: empty the chain's points, its neighbours gain them; the stones."""
    col, nxt = kb.col, kb.nxt
    opp = 3 - col[loc]
    n = 0
    cur = np.int64(loc)
    while True:
        col[cur] = EMPTY
        n += 1
        change_libs(kb, cur, opp, 1)
        cur = nxt[cur]
        if cur == loc:
            return n


@njit(cache=True, nogil=True, _nrt=False, inline="always")
def _walk_next(kb: KataArrays, top: int, want: int, h: int) -> tuple[int, int]:
    """One step of the depth-first walks of :func:`add_chain` and :func:`rebuild` (KataGo's
    recursive helpers) on the explicit stack ``kb.stk`` of frames (point, next direction: up,
    left, right, down): the next neighbour to enter, of colour ``want`` and, for stones, not
    yet in the chain with head ``h``, and the stack height; (−1, 0) when the walk is over."""
    col, head, stk = kb.col, kb.head, kb.stk
    w = kb.meta[K_W]
    while top > 0:
        s = np.int64(stk[2 * top - 2])
        d = stk[2 * top - 1]
        if d == 4:
            top -= 1
            continue
        stk[2 * top - 1] = d + 1
        q = s + (-w if d == 0 else (-1 if d == 1 else (1 if d == 2 else w)))
        if col[q] == want and (want == EMPTY or head[q] != h):
            return q, top
    return -1, 0


@njit(cache=True, nogil=True, _nrt=False)
def add_chain(kb: KataArrays, loc: int, pla: int) -> None:
    """KataGo ``addChain``: put back the captured chain whose empty points include ``loc``
    (``addChainHelper``'s depth-first walk, each stone linked after the one visited before)."""
    col, head, nxt, nlocs = kb.col, kb.head, kb.nxt, kb.nlocs
    stk = kb.stk
    opp = 3 - pla
    nlocs[loc] = 0
    kb.nlibs[loc] = 0
    tail = np.int64(loc)
    top = 0
    p = np.int64(loc)
    while p >= 0:
        col[p] = pla
        head[p] = loc
        nlocs[loc] += 1
        nxt[p] = tail
        change_libs(kb, p, opp, -1)
        tail = p
        stk[2 * top] = p
        stk[2 * top + 1] = 0
        top += 1
        p, top = _walk_next(kb, top, EMPTY, loc)
    nxt[loc] = tail


@njit(cache=True, nogil=True, _nrt=False, inline="always")
def holds(arr: np.ndarray, lo: int, hi: int, v: int) -> bool:
    """Whether ``v`` is among ``arr[lo:hi]`` (the short lists of chains and points the ladder
    and area code keep)."""
    for j in range(lo, hi):
        if arr[j] == v:
            return True
    return False


@njit(cache=True, nogil=True, _nrt=False)
def rebuild(kb: KataArrays, loc: int, pla: int) -> None:
    """KataGo ``rebuildChain`` from ``loc`` over the stones whose head was cleared
    (``rebuildChainHelper``'s walk: liberties counted before each stone joins)."""
    col, head, nxt, nlocs, nlibs = kb.col, kb.head, kb.nxt, kb.nlocs, kb.nlibs
    w = kb.meta[K_W]
    stk = kb.stk
    nlibs[loc] = 0
    nlocs[loc] = 0
    tail = np.int64(loc)
    h = np.int64(loc)
    top = 0
    p = np.int64(loc)
    while p >= 0:
        # enter p: count its new liberties, then join it
        add = 0
        for q in (p - w, p - 1, p + 1, p + w):
            if col[q] == EMPTY and not is_lib_of(kb, q, h):
                add += 1
        nlibs[h] += add
        head[p] = h
        nlocs[h] += 1
        nxt[p] = tail
        tail = p
        stk[2 * top] = p
        stk[2 * top + 1] = 0
        top += 1
        p, top = _walk_next(kb, top, pla, h)
    nxt[loc] = tail


# -- moves ----------------------------------------------------------------------------------------
@njit(cache=True, nogil=True, _nrt=False)
def play(kb: KataArrays, loc: int, pla: int) -> None:
    """KataGo ``playMoveAssumeLegal`` for an on-board point; loc 0 (a pass) just clears the ko."""
    if loc == 0:
        kb.meta[K_KO] = 0
        return
    col, head, nxt, nlocs, nlibs = kb.col, kb.head, kb.nxt, kb.nlocs, kb.nlibs
    w = kb.meta[K_W]
    opp = 3 - pla
    col[loc] = pla
    nlocs[loc] = 1
    nlibs[loc] = immediate_libs(kb, loc)
    head[loc] = loc
    nxt[loc] = loc
    captured = 0
    ko_cand = 0
    s0 = -1
    s1 = -1
    s2 = -1
    for q in (loc - w, loc - 1, loc + 1, loc + w):
        c = col[q]
        if c == pla:
            if head[q] == head[loc]:
                continue
            nlibs[head[q]] -= 1
            merge(kb, q, loc)
        elif c == opp:
            h = np.int64(head[q])
            if h == s0 or h == s1 or h == s2:
                continue
            nlibs[h] -= 1
            if s0 < 0:
                s0 = h
            elif s1 < 0:
                s1 = h
            else:
                s2 = h
            if nlibs[h] == 0:
                captured += remove_chain(kb, q)
                ko_cand = q
    h = np.int64(head[loc])
    if captured == 1 and nlocs[h] == 1 and nlibs[h] == 1:
        kb.meta[K_KO] = ko_cand
    else:
        kb.meta[K_KO] = 0
    if nlibs[h] == 0:
        remove_chain(kb, loc)


@njit(cache=True, nogil=True, _nrt=False)
def play_recorded(kb: KataArrays, loc: int, pla: int, rec: np.ndarray) -> None:
    """:func:`play`, writing KataGo's ``MoveRecord`` into ``rec`` (int32[4]: loc, player,
    previous ko point, captured directions / SUICIDE_FLAG)."""
    col, head, nlibs = kb.col, kb.head, kb.nlibs
    w = kb.meta[K_W]
    opp = 3 - pla
    dirs = 0
    bit = 1
    for q in (loc - w, loc - 1, loc + 1, loc + w):
        if col[q] == opp and nlibs[head[q]] == 1:
            dirs |= bit
        bit <<= 1
    if dirs == 0 and is_suicide(kb, loc, pla):
        dirs = SUICIDE_FLAG
    rec[0] = loc
    rec[1] = pla
    rec[2] = kb.meta[K_KO]
    rec[3] = dirs
    play(kb, loc, pla)


@njit(cache=True, nogil=True, _nrt=False)
def undo(kb: KataArrays, rec: np.ndarray) -> None:
    """KataGo ``undo`` of a recorded move (chains may come back with other heads and orders)."""
    loc, pla, ko, dirs = np.int64(rec[0]), np.int64(rec[1]), np.int64(rec[2]), np.int64(rec[3])
    kb.meta[K_KO] = ko
    col, head, nxt, nlocs, nlibs = kb.col, kb.head, kb.nxt, kb.nlocs, kb.nlibs
    w = kb.meta[K_W]
    opp = 3 - pla
    bit = 1
    for q in (loc - w, loc - 1, loc + 1, loc + w):
        if dirs & bit:
            if col[q] == EMPTY:
                add_chain(kb, q, opp)
        bit <<= 1
    if dirs == SUICIDE_FLAG:
        add_chain(kb, loc, pla)
    col[loc] = EMPTY
    change_libs(kb, loc, opp, 1)
    h = np.int64(head[loc])
    if nlocs[h] <= 1:
        return
    friends = 0
    for q in (loc - w, loc - 1, loc + 1, loc + w):
        if col[q] == pla:
            friends += 1
    if friends <= 1:
        if h == loc:
            nh = np.int64(nxt[loc])
            cur = np.int64(loc)
            while True:
                head[cur] = nh
                cur = nxt[cur]
                if cur == loc:
                    break
            nlocs[nh] = nlocs[h]
            nlibs[nh] = nlibs[h]
            h = nh
        cur = h
        while nxt[cur] != loc:
            cur = nxt[cur]
        nxt[cur] = nxt[loc]
        delta = 1
        for q in (loc - w, loc - 1, loc + 1, loc + w):
            if col[q] == EMPTY and not is_lib_of(kb, q, h):
                delta -= 1
        nlibs[h] += delta
        nlocs[h] -= 1
    else:
        cur = np.int64(loc)
        while True:
            head[cur] = 0
            cur = nxt[cur]
            if cur == loc:
                break
        for q in (loc - w, loc - 1, loc + 1, loc + w):
            if col[q] == pla and head[q] == 0:
                rebuild(kb, q, pla)
