"""KataGo's ladder searches compiled, and the ladder scan of a position (input planes 14–17).

The compiled twin of ``KataBoard.ladder_captured`` / ``ladder_2libs`` (engine/codecs/katago_board.py,
a step-by-step port of KataGo's ``searchIsLadderCaptured`` and
``searchIsLadderCapturedAttackerFirst2Libs``): the same move generation and ordering, ko
handling, stack limit and node budget, on a :class:`~engine.native.kata_board.KataArrays`
board that the searches re-link as KataGo's do. :func:`scan` is KataGo's ``iterLadders`` (and
``ladder_scan`` of engine/codecs/katago_incremental.py without a parent): every chain with one
or two liberties in loc order, searched one after the other on one scratch copy of the board.

>>> sc = new_scratch(19)                                   # doctest: +SKIP
>>> nlad = scan(kb, work, sc, 25000, stones, moves, out)   # doctest: +SKIP
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from .kata_board import (BLACK, EMPTY, K_KO, K_N, K_W, WALL, WHITE, KataArrays, copy_into, immediate_libs, is_lib_of,
                         holds, is_legal, play_recorded, undo)


class LadderScratch(NamedTuple):
    """Working space of the ladder searches of an N×N board."""

    buf: np.ndarray     #: int32[N²·D] candidate moves of every level (a level lists distinct points)
    starts: np.ndarray  #: int32[D] where each level's moves start in ``buf``
    lens: np.ndarray    #: int32[D] how many
    curs: np.ndarray    #: int32[D] which one is being tried (−1: not generated yet)
    recs: np.ndarray    #: int32[D, 4] the move records to undo
    chk: np.ndarray     #: int32[4·N²] chains already checked for atari (findLibertyGainingCaptures)
    small: np.ndarray   #: int64[24] getNumLibertiesAfterPlay's lists; [NODES]: ladder nodes searched (a tally)
    seen: np.ndarray    #: int64[S] chain heads met by the scan (== small[STAMP]: this scan)


#: tallies in ``small`` (for benchmarks): ladder nodes searched; ``small[STAMP]`` numbers the scans
NODES, STAMP = 16, 17


def stack_size(n: int) -> int:
    """KataGo's ladder stack limit for an n×n board (``arrSize * 3 / 2 + 1``)."""
    return n * n * 3 // 2 + 1


def new_scratch(n: int) -> LadderScratch:
    """Room for the deepest ladder an n×n board allows."""
    depth = stack_size(n) + 1
    return LadderScratch(np.zeros(n * n * depth + 8, np.int32), np.zeros(depth, np.int32),
                         np.zeros(depth, np.int32), np.zeros(depth, np.int32), np.zeros((depth, 4), np.int32),
                         np.zeros(4 * n * n + 8, np.int32), np.zeros(24, np.int64),
                         np.zeros((n + 1) * (n + 2) + 1, np.int64))


# -- move generation helpers ------------------------------------------------------------------------
@njit(cache=True, nogil=True, _nrt=False)
def find_libs(kb: KataArrays, sc: LadderScratch, loc: int, start: int, idx: int) -> int:
    """KataGo ``findLiberties``: the chain's liberties not yet in ``buf[start:idx]``, appended at ``idx``.

    The walk stops once every liberty the chain has (its ``nlibs``) is listed: the rest of the
    ring could add nothing, so the list and its order are KataGo's.
    """
    col, nxt = kb.col, kb.nxt
    w = kb.meta[K_W]
    buf = sc.buf
    want = np.int64(kb.nlibs[kb.head[loc]]) if start == idx else 9999
    found = 0
    cur = np.int64(loc)
    while True:
        for q in (cur - w, cur - 1, cur + 1, cur + w):
            if col[q] == EMPTY:
                end = idx + found
                if not holds(buf, start, end, q):
                    buf[end] = q
                    found += 1
                    if found == want:
                        return found
        cur = nxt[cur]
        if cur == loc:
            return found


@njit(cache=True, nogil=True, _nrt=False)
def find_capture_moves(kb: KataArrays, sc: LadderScratch, loc: int, start: int, idx: int) -> int:
    """KataGo ``findLibertyGainingCaptures``: last liberties of the adjacent enemy chains in atari."""
    col, head, nxt, nlibs = kb.col, kb.head, kb.nxt, kb.nlibs
    w = kb.meta[K_W]
    opp = 3 - col[loc]
    chk = sc.chk
    nchk = 0
    found = 0
    cur = np.int64(loc)
    while True:
        for q in (cur - w, cur - 1, cur + 1, cur + w):
            if col[q] == opp:
                h = head[q]
                if nlibs[h] == 1:
                    if not holds(chk, 0, nchk, h):
                        found += find_libs(kb, sc, q, start, idx + found)
                        chk[nchk] = h
                        nchk += 1
        cur = nxt[cur]
        if cur == loc:
            return found


@njit(cache=True, nogil=True, _nrt=False)
def has_capture_moves(kb: KataArrays, loc: int) -> bool:
    """Whether an enemy chain next to the chain at ``loc`` is in atari."""
    col, head, nxt, nlibs = kb.col, kb.head, kb.nxt, kb.nlibs
    w = kb.meta[K_W]
    opp = 3 - col[loc]
    cur = np.int64(loc)
    while True:
        for q in (cur - w, cur - 1, cur + 1, cur + w):
            if col[q] == opp and nlibs[head[q]] == 1:
                return True
        cur = nxt[cur]
        if cur == loc:
            return False


@njit(cache=True, nogil=True, _nrt=False)
def bound_libs_after_play(kb: KataArrays, loc: int, pla: int) -> tuple[int, int]:
    """KataGo ``getBoundNumLibertiesAfterPlay``: (lower, upper) liberties after ``pla`` plays ``loc``."""
    col, head, nlibs, nlocs = kb.col, kb.head, kb.nlibs, kb.nlocs
    w = kb.meta[K_W]
    opp = 3 - pla
    imm = 0
    caps = 0
    cap_libs = 0
    conn = 0
    conn_max = 0
    for q in (loc - w, loc - 1, loc + 1, loc + w):
        c = col[q]
        if c == EMPTY:
            imm += 1
        elif c == opp:
            h = head[q]
            if nlibs[h] == 1:
                caps += 1
                cap_libs += nlocs[h]
        elif c == pla:
            k = nlibs[head[q]] - 1
            conn += k
            if k > conn_max:
                conn_max = k
    lower = caps + (conn_max if conn_max > imm else imm)
    return lower, imm + cap_libs + conn


@njit(cache=True, nogil=True, _nrt=False)
def libs_after_play(kb: KataArrays, sc: LadderScratch, loc: int, pla: int, mx: int) -> int:
    """KataGo ``getNumLibertiesAfterPlay``: liberties a stone at ``loc`` would have, capped at ``mx`` (≤ 4)."""
    col, head, nlibs, nxt = kb.col, kb.head, kb.nlibs, kb.nxt
    w = kb.meta[K_W]
    opp = 3 - pla
    libs = sc.small[0:8]
    nl = 0
    caps = sc.small[8:12]
    nc = 0
    for q in (loc - w, loc - 1, loc + 1, loc + w):
        c = col[q]
        if c == EMPTY:
            libs[nl] = q
            nl += 1
            if nl >= mx:
                return mx
        elif c == opp and nlibs[head[q]] == 1:
            libs[nl] = q
            nl += 1
            if nl >= mx:
                return mx
            h = head[q]
            if not holds(caps, 0, nc, h):
                caps[nc] = h
                nc += 1
    conns = sc.small[12:16]
    nn = 0
    for q in (loc - w, loc - 1, loc + 1, loc + w):
        if col[q] == pla:
            h = head[q]
            if holds(conns, 0, nn, h):
                continue
            conns[nn] = h
            nn += 1
            cur = np.int64(q)
            while True:
                for r in (cur - w, cur - 1, cur + 1, cur + w):
                    if r == loc:
                        continue
                    c = col[r]
                    if c == EMPTY or (c == opp and holds(caps, 0, nc, head[r])):
                        if not holds(libs, 0, nl, r):
                            libs[nl] = r
                            nl += 1
                            if nl >= mx:
                                return mx
                cur = nxt[cur]
                if cur == q:
                    break
    return nl


@njit(cache=True, nogil=True, _nrt=False)
def would_be_ko_capture(kb: KataArrays, loc: int, pla: int) -> bool:
    """KataGo ``wouldBeKoCapture``."""
    col, head, nlibs, nlocs = kb.col, kb.head, kb.nlibs, kb.nlocs
    if col[loc] != EMPTY:
        return False
    w = kb.meta[K_W]
    opp = 3 - pla
    found = 0
    for q in (loc - w, loc - 1, loc + 1, loc + w):
        c = col[q]
        if c != WALL and c != opp:
            return False
        if c == opp and nlibs[head[q]] == 1:
            if found:
                return False
            found = q
    if not found:
        return False
    return nlocs[head[found]] == 1


@njit(cache=True, nogil=True, _nrt=False)
def conn_libs_x2(kb: KataArrays, loc: int, pla: int) -> int:
    """Twice the liberties (less 1.5) of the friendly chains a move at ``loc`` connects to."""
    col, head, nlibs = kb.col, kb.head, kb.nlibs
    w = kb.meta[K_W]
    total = 0
    for q in (loc - w, loc - 1, loc + 1, loc + w):
        if col[q] == pla:
            k = nlibs[head[q]]
            if k > 1:
                total += k * 2 - 3
    return total


# -- the searches -----------------------------------------------------------------------------------
@njit(cache=True, nogil=True, _nrt=False)
def ladder_captured(kb: KataArrays, sc: LadderScratch, loc: int, defender_first: bool,
                    budget: int) -> tuple[bool, bool]:
    """KataGo ``searchIsLadderCaptured``: (captured in a ladder, ran out of ``budget`` nodes).

    Over budget the answer is "not captured" and, as in KataGo, the ko point cleared for a
    defender-first search is not restored.
    """
    col, head, nlibs = kb.col, kb.head, kb.nlibs
    c = col[loc]
    if c != BLACK and c != WHITE:
        return False, False
    libs = nlibs[head[loc]]
    if libs > 2 or (defender_first and libs > 1):
        return False, False
    pla, opp = np.int64(c), np.int64(3 - c)
    ko_saved = kb.meta[K_KO]
    if defender_first:
        kb.meta[K_KO] = 0
    n = kb.meta[K_N]
    w = kb.meta[K_W]
    limit = n * n * 3 // 2 + 1
    starts, lens, curs, recs, buf = sc.starts, sc.lens, sc.curs, sc.recs, sc.buf
    idx = 0
    nodes = 0
    curs[0] = -1
    starts[0] = 0
    lens[0] = 0
    ret = False
    deeper = False
    while True:
        if idx <= -1:
            kb.meta[K_KO] = ko_saved
            sc.small[NODES] += nodes
            return ret, False
        if idx >= limit - 1:
            ret = True
            deeper = True
            idx -= 1
            continue
        if nodes >= budget:
            idx -= 1
            while idx >= 0:
                undo(kb, recs[idx])
                idx -= 1
            sc.small[NODES] += nodes
            return False, True
        is_def = (idx % 2 == 0) == defender_first
        if curs[idx] == -1:
            libs = nlibs[head[loc]]
            if not is_def:
                if libs <= 1:
                    ret = True
                    deeper = True
                    idx -= 1
                    continue
                if libs >= 3:
                    ret = False
                    deeper = True
                    idx -= 1
                    continue
            elif libs >= 2 or kb.meta[K_KO] != 0:
                ret = False
                deeper = True
                idx -= 1
                continue
            start = starts[idx]
            if is_def:
                k = find_capture_moves(kb, sc, loc, start, start)
                k += find_libs(kb, sc, loc, start, start + k)
                lo, hi = bound_libs_after_play(kb, buf[start + k - 1], pla)
                if lo >= 3:
                    ret = False
                    deeper = True
                    idx -= 1
                    continue
                if k == 1 and hi <= 1:
                    ret = True
                    deeper = True
                    idx -= 1
                    continue
            else:
                k = find_libs(kb, sc, loc, start, start)
                m0, m1 = np.int64(buf[start]), np.int64(buf[start + 1])
                libs0 = immediate_libs(kb, m0)
                libs1 = immediate_libs(kb, m1)
                if (libs0 == 0 and libs1 == 0 and would_be_ko_capture(kb, m0, opp)
                        and would_be_ko_capture(kb, m1, opp)):
                    if (libs_after_play(kb, sc, m0, pla, 3) <= 2 and libs_after_play(kb, sc, m1, pla, 3) <= 2
                            and not has_capture_moves(kb, loc)):
                        ret = True
                        deeper = True
                        idx -= 1
                        continue
                d = m1 - m0
                if d != 1 and d != -1 and d != w and d != -w:
                    if libs0 >= 3 and libs1 >= 3:
                        ret = False
                        deeper = True
                        idx -= 1
                        continue
                    elif libs0 >= 3:
                        k = 1
                    elif libs1 >= 3:
                        buf[start] = buf[start + 1]
                        k = 1
                if k > 1:
                    s0 = libs0 * 2 + conn_libs_x2(kb, buf[start], pla)
                    s1 = libs1 * 2 + conn_libs_x2(kb, buf[start + 1], pla)
                    if s1 > s0:
                        t = buf[start]
                        buf[start] = buf[start + 1]
                        buf[start + 1] = t
            lens[idx] = k
            curs[idx] = 0
        else:
            if deeper:
                undo(kb, recs[idx])
            if is_def and not ret:
                deeper = True
                idx -= 1
                continue
            if not is_def and ret:
                deeper = True
                idx -= 1
                continue
            curs[idx] += 1
        if curs[idx] >= lens[idx]:
            ret = is_def
            deeper = True
            idx -= 1
            continue
        move = np.int64(buf[starts[idx] + curs[idx]])
        p = pla if is_def else opp
        if not is_legal(kb, move, p):
            ret = is_def
            deeper = False
            continue
        play_recorded(kb, move, p, recs[idx])
        nodes += 1
        idx += 1
        curs[idx] = -1
        starts[idx] = starts[idx - 1] + lens[idx - 1]
        lens[idx] = 0


@njit(cache=True, nogil=True, _nrt=False)
def ladder_2libs(kb: KataArrays, sc: LadderScratch, loc: int, budget: int, work: np.ndarray) -> tuple[bool, int]:
    """KataGo ``searchIsLadderCapturedAttackerFirst2Libs``: (laddered, working moves written to
    ``work``, in the order of the two liberties tried)."""
    col, head, nlibs = kb.col, kb.head, kb.nlibs
    c = col[loc]
    if (c != BLACK and c != WHITE) or nlibs[head[loc]] != 2:
        return False, 0
    opp = 3 - np.int64(c)
    find_libs(kb, sc, loc, 0, 0)
    m0, m1 = np.int64(sc.buf[0]), np.int64(sc.buf[1])
    rec = sc.recs[sc.recs.shape[0] - 1]     # the searches' stack never reaches its last row
    w0 = False
    w1 = False
    if is_legal(kb, m0, opp):
        play_recorded(kb, m0, opp, rec)
        w0 = ladder_captured(kb, sc, loc, True, budget)[0]
        undo(kb, rec)
    if is_legal(kb, m1, opp):
        play_recorded(kb, m1, opp, rec)
        w1 = ladder_captured(kb, sc, loc, True, budget)[0]
        undo(kb, rec)
    k = 0
    if w0:
        work[k] = m0
        k += 1
    if w1:
        work[k] = m1
        k += 1
    return k > 0, k


# -- the scan ------------------------------------------------------------------------------------------
@njit(cache=True, nogil=True, _nrt=False)
def scan(kb: KataArrays, work: KataArrays, sc: LadderScratch, budget: int, opp: int,
         laddered: np.ndarray, moves: np.ndarray) -> int:
    """KataGo ``iterLadders`` over ``kb`` (``work``: scratch board the searches run on, overwritten).

    Marks ``laddered[loc] = 1`` for every stone of a chain with 1 or 2 liberties that a ladder
    captures, and ``moves[loc] = 1`` for the working ataris on laddered 2-liberty chains of
    colour ``opp`` (plane 17); both arrays are cleared first. Returns the laddered chains.
    """
    col, head, nlibs, nxt = kb.col, kb.head, kb.nlibs, kb.nxt
    n = kb.meta[K_N]
    w = kb.meta[K_W]
    laddered[:] = 0
    moves[:] = 0
    copy_into(work, kb)
    found = sc.small[20:22]
    seen = sc.seen
    sc.small[STAMP] += 1
    stamp = sc.small[STAMP]
    count = 0
    for y in range(n):
        base = (y + 1) * w + 1
        for loc in range(base, base + n):
            c = col[loc]
            if c != BLACK and c != WHITE:
                continue
            h = head[loc]
            if seen[h] == stamp:      # not the chain's first stone in scan order
                continue
            seen[h] = stamp
            libs = nlibs[h]
            if libs < 1 or libs > 2:
                continue
            k = 0
            if libs == 1:
                lad = ladder_captured(work, sc, loc, True, budget)[0]
            else:
                lad, k = ladder_2libs(work, sc, loc, budget, found)
            if not lad:
                continue
            count += 1
            cur = np.int64(loc)
            while True:
                laddered[cur] = 1
                cur = nxt[cur]
                if cur == loc:
                    break
            if libs == 2 and c == opp:
                for j in range(k):
                    moves[found[j]] = 1
    return count
