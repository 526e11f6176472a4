"""KataGo's area compiled (input planes 18/19): ``calculateArea`` with every flag on.

The compiled twin of ``KataBoard.area`` (engine/codecs/katago_board.py): for Black then White,
Benson's pass-alive chains and the regions they alone border, then every empty region bordered
by one colour only; every stone left over counts for its owner. ``mss``: multi-stone suicide
legal (then every point of a region, not only the empty ones, must touch a chain for the
region to be vital to it).

>>> area(kb, False, scratch, out)            # doctest: +SKIP
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from .kata_board import BLACK, EMPTY, K_N, K_W, WHITE, KataArrays, holds


class AreaScratch(NamedTuple):
    """Working space of :func:`area` for boards of S locs."""

    region: np.ndarray    #: int32[S] region index of each loc (−1: none)
    queue: np.ndarray     #: int32[S] every region's points, region after region
    rstart: np.ndarray    #: int32[S] where each region's points start in ``queue``
    rlen: np.ndarray      #: int32[S] how many
    vital: np.ndarray     #: int32[S, 4] heads of the chains each region is vital to
    nvital: np.ndarray    #: int32[S]
    internal: np.ndarray  #: int32[S] points touching no chain of the colour (counted up to 2)
    has_opp: np.ndarray   #: uint8[S] the region holds an enemy stone
    dead: np.ndarray      #: uint8[S] the region borders a chain found not pass-alive
    count: np.ndarray     #: int32[S] vital regions of each chain, by head
    killed: np.ndarray    #: uint8[S] chain (by head) found not pass-alive
    heads: np.ndarray     #: int32[S] the heads of the colour's chains, in loc order


def new_area_scratch(size: int) -> AreaScratch:
    """Working space for boards of ``size`` locs."""
    z = lambda dt=np.int32: np.zeros(size, dt)  # noqa: E731
    return AreaScratch(z(), z(), z(), z(), np.zeros((size, 4), np.int32), z(), z(), z(np.uint8), z(np.uint8), z(),
                       z(np.uint8), z())


@njit(cache=True, nogil=True, _nrt=False)
def _regions(kb: KataArrays, pla: int, mss: bool, s: AreaScratch) -> tuple[int, int]:
    """Flood every region of empty-or-enemy points from its first empty point in scan order;
    per region its points, the chains it is vital to, its inside count and whether it holds an
    enemy stone; ``s.heads``: the heads of ``pla``'s chains in loc order. Returns (regions,
    chains of ``pla``)."""
    col, head = kb.col, kb.head
    n = kb.meta[K_N]
    w = kb.meta[K_W]
    opp = 3 - pla
    region, queue = s.region, s.queue
    region[:] = -1
    heads = s.heads
    nreg = 0
    qend = 0
    nheads = 0
    for y in range(n):
        base = (y + 1) * w + 1
        for loc in range(base, base + n):
            if region[loc] != -1:
                continue
            c = col[loc]
            if c != EMPTY:
                if c == pla and head[loc] == loc:
                    heads[nheads] = loc
                    nheads += 1
                continue
            r = nreg
            nreg += 1
            nv = 0
            vl = s.vital[r]
            for q in (loc - w, loc - 1, loc + 1, loc + w):
                if col[q] == pla:
                    h = head[q]
                    if not holds(vl, 0, nv, h):
                        vl[nv] = h
                        nv += 1
            inside = 0
            contains = False
            q0 = qend
            queue[qend] = loc
            qend += 1
            region[loc] = r
            i = q0
            while i < qend:
                p = np.int64(queue[i])
                i += 1
                cp = col[p]
                narrow = nv > 0 and (mss or cp == EMPTY)
                if narrow or inside < 2:
                    # the chains of the colour next to p (−1: none), read once for both tests
                    h0 = np.int64(head[p - w]) if col[p - w] == pla else -1
                    h1 = np.int64(head[p - 1]) if col[p - 1] == pla else -1
                    h2 = np.int64(head[p + 1]) if col[p + 1] == pla else -1
                    h3 = np.int64(head[p + w]) if col[p + w] == pla else -1
                    if narrow:
                        k = 0
                        for j in range(nv):
                            x = vl[j]
                            if x == h0 or x == h1 or x == h2 or x == h3:
                                vl[k] = x
                                k += 1
                        nv = k
                    if inside < 2 and h0 < 0 and h1 < 0 and h2 < 0 and h3 < 0:
                        inside += 1
                if cp == opp:
                    contains = True
                for q in (p - w, p - 1, p + 1, p + w):
                    cq = col[q]
                    if (cq == EMPTY or cq == opp) and region[q] == -1:
                        region[q] = r
                        queue[qend] = q
                        qend += 1
            s.rstart[r] = q0
            s.rlen[r] = qend - q0
            s.nvital[r] = nv
            s.internal[r] = inside
            s.has_opp[r] = contains
    return nreg, nheads


@njit(cache=True, nogil=True, _nrt=False)
def _area_for(kb: KataArrays, pla: int, mss: bool, s: AreaScratch, result: np.ndarray) -> None:
    """KataGo ``calculateAreaForPla`` (safe and unsafe big territories both on)."""
    col, nxt = kb.col, kb.nxt
    w = kb.meta[K_W]
    opp = 3 - pla
    nreg, nheads = _regions(kb, pla, mss, s)
    any_pla = nheads > 0
    count, killed, dead, region, heads = s.count, s.killed, s.dead, s.region, s.heads
    for i in range(nheads):   # only heads are counted and killed
        count[heads[i]] = 0
        killed[heads[i]] = 0
    for r in range(nreg):
        dead[r] = 0
        for j in range(s.nvital[r]):
            count[s.vital[r, j]] += 1
    changed = True
    while changed:
        changed = False
        for i in range(nheads):
            h = np.int64(heads[i])
            if killed[h] or count[h] >= 2:
                continue
            killed[h] = 1
            changed = True
            cur = np.int64(h)
            while True:
                for q in (cur - w, cur - 1, cur + 1, cur + w):
                    r = region[q]
                    if r >= 0 and not dead[r] and (col[q] == EMPTY or col[q] == opp):
                        dead[r] = 1
                        for j in range(s.nvital[r]):
                            count[s.vital[r, j]] -= 1
                cur = nxt[cur]
                if cur == h:
                    break
    for i in range(nheads):
        h = np.int64(heads[i])
        if not killed[h]:
            cur = np.int64(h)
            while True:
                result[cur] = pla
                cur = nxt[cur]
                if cur == h:
                    break
    for r in range(nreg):
        lo = s.rstart[r]
        hi = lo + s.rlen[r]
        alive_border = not dead[r] and any_pla
        if alive_border and (s.internal[r] <= 1 or not s.has_opp[r]):
            for i in range(lo, hi):
                result[s.queue[i]] = pla
        elif not s.has_opp[r] and any_pla:
            for i in range(lo, hi):
                p = s.queue[i]
                if result[p] == EMPTY:
                    result[p] = pla


@njit(cache=True, nogil=True, _nrt=False)
def area(kb: KataArrays, mss: bool, s: AreaScratch, result: np.ndarray) -> None:
    """KataGo's area of every loc into ``result`` (int8 [S]: EMPTY / BLACK / WHITE)."""
    result[:] = EMPTY
    _area_for(kb, BLACK, mss, s, result)
    _area_for(kb, WHITE, mss, s, result)
    col = kb.col
    for i in range(col.size):
        c = col[i]
        if result[i] == EMPTY and (c == BLACK or c == WHITE):
            result[i] = c
