"""Ladder scans and area records of KataGo's inputs, reused from a parent position in a child.

A search calls :meth:`KataFeatures.fill` for a leaf whose parent was encoded
before. A bounded LRU cache (``cache_size`` positions, about 25 KB each on
19×19) keeps per position — keyed by the whole move sequence, found again even
when the search re-pushes the moves — the KataGo board, its ladder scan and its
area records. A child's scan starts from the parent's: every ladder search
records what it read — candidate moves and their neighbours and every chain it
walked (listed liberties of, merged, captured), with the stones' neighbours;
for chains it only counted, their liberty and stone counts — and the chain
links it left changed on the scratch board. A search is replayed from its
record when none of those points is one the move changed or one where the
scratch board may differ from the parent scan's at that step (chain links
re-linked differently by earlier searches), the counted chains still have the
same counts, and the scratch board's ko point gives the same answer;
otherwise it runs again. Planes 15/16 are the parent's and grandparent's
plane-14 results. The area is Tromp–Taylor territory (empty regions touching
one colour, kept as records) unless some chain has two vital regions
(per-chain records); only then does a local Benson computation (pass-alive
chains and the regions they alone border, reused while its inputs are
untouched) overlay it. Point sets are bit masks (ints); what a search read is
worked out only when its position gets a child. ``incremental=False``
computes everything from scratch (the tests compare both); ``debug=True``
checks the bookkeeping against full recomputation at every fill.
"""

from __future__ import annotations

import numpy as np

from .katago_board import BLACK, EMPTY, WALL, WHITE, KataBoard


# -- ladder scans -------------------------------------------------------------------------------

#: 1 << i for every loc of the largest board.
_BIT = [1 << i for i in range(26 * 27 + 1)]


def point_mask(points) -> int:
    """Bit mask (as an int) of a collection of distinct locs."""
    return sum(map(_BIT.__getitem__, points))


class LadderEntry:
    """One ladder search of a scan, with what it read and what it changed in the scratch board.

    What it read is kept as masks of points plus "probes": a chain the search
    only counted (liberties, stones) needs just those counts to be the same,
    not its whole neighbourhood. Computed on first use from the position's
    board (same stones and chains as the scratch board after the search):
    most leaves are never expanded.
    """

    __slots__ = ("loc", "color", "libs", "lad", "work", "_full", "_strict", "_cz", "_probes", "_src",
                 "kodep", "ko_seen", "writes", "wpts", "clears_ko", "stones")

    def __init__(self, loc: int, color: int, libs: int, lad: bool, work: tuple[int, ...], src: tuple,
                 kodep: tuple[int, ...], ko_seen: int, writes: tuple, clears_ko: bool,
                 stones: tuple[int, ...]) -> None:
        self.loc, self.color, self.libs, self.lad, self.work = loc, color, libs, lad, work
        self._src = src          # (board, trace, touch, walked, neighbour masks) until resolved
        self._full = self._strict = self._cz = 0
        self._probes: tuple = ()
        self.kodep, self.ko_seen = kodep, ko_seen
        self.writes = writes
        self.wpts = point_mask(w[0] for w in writes)
        self.clears_ko = clears_ko
        self.stones = stones

    def _resolve(self) -> None:
        self._full, self._strict, self._cz, self._probes = _footprint(self.loc, *self._src)
        self._src = None

    @property
    def full(self) -> int:
        """Mask of every point the search could have read (counted chains with all their neighbours)."""
        if self._src is not None:
            self._resolve()
        return self._full

    @property
    def cz(self) -> int:
        """Mask of the target chain's stones and their neighbours."""
        if self._src is not None:
            self._resolve()
        return self._cz

    def reusable(self, work: KataBoard, dirty: int) -> bool:
        """Whether the search would run as recorded on ``work`` (``dirty``: points that may differ)."""
        if self._src is not None:
            self._resolve()
        ko = work.ko
        if (ko if ko and ko in self.kodep else 0) != self.ko_seen:
            return False
        if not self._full & dirty:
            return True
        if self._strict & dirty:
            return False
        head, nlibs, nlocs = work.head, work.nlibs, work.nlocs
        for q, libs, size in self._probes:
            h = head[q]
            if nlibs[h] != libs or nlocs[h] != size:
                return False
        return True


def _footprint(loc: int, kb: KataBoard, trace: list[int], touch: list[int], walked: list[int],
               nbm: list[int]) -> tuple[int, int, int, tuple]:
    """What a ladder search of ``loc``'s chain read: (full, strict, zone) masks and probes.

    ``trace``: the candidate moves it generated; ``touch``: enemy stones whose
    chains it checked for atari; ``walked``: stones of chains it walked
    (liberties listed, merged, captured). Strict: candidate points and their
    neighbours plus every walked chain with its stones' neighbours. Probes:
    (stone, liberties, stones) of every other chain met next to a candidate or
    in ``touch`` — the search read only those counts (any change to such a
    chain changes one of them). Full: strict plus the probed chains with their
    neighbours. Zone: the target chain's stones and neighbours. ``kb`` has the
    stones the search started from; ``nbm[p]``: mask of ``p`` and neighbours.
    """
    col, head, nxt, adj = kb.col, kb.head, kb.nxt, kb.adj
    nlibs, nlocs = kb.nlibs, kb.nlocs
    pts = set(trace)
    pts.add(loc)
    strict = 0
    seeds = list(touch)
    for p in pts:
        strict |= nbm[p]
        for a in adj:
            c = col[p + a]
            if c == BLACK or c == WHITE:
                seeds.append(p + a)
    zone = 0
    cur = loc
    while True:
        zone |= nbm[cur]
        cur = nxt[cur]
        if cur == loc:
            break
    strict |= zone
    done = {head[loc]}
    for q in walked:
        c = col[q]
        if (c == BLACK or c == WHITE) and head[q] not in done:
            done.add(head[q])
            cur = q
            while True:
                strict |= nbm[cur]
                cur = nxt[cur]
                if cur == q:
                    break
    full = strict
    probes = []
    for q in seeds:
        c = col[q]
        if (c == BLACK or c == WHITE) and head[q] not in done:
            h = head[q]
            done.add(h)
            probes.append((q, nlibs[h], nlocs[h]))
            cur = q
            while True:
                full |= nbm[cur]
                cur = nxt[cur]
                if cur == q:
                    break
    return full, strict, zone, tuple(probes)


def _relevant_changes(work: KataBoard, pts, h0: list[int], n0: list[int], l0: list[int], b0: list[int]) -> tuple:
    """(loc, head, next, stones, liberties) wherever the search left different chain data a reader can see.

    Links of stones, and counts at chain heads; values elsewhere are never read.
    """
    col, head, nxt, nlocs, nlibs = work.col, work.head, work.nxt, work.nlocs, work.nlibs
    out = []
    for p in pts:
        c = col[p]
        if c != BLACK and c != WHITE:
            continue
        h = head[p]
        if h != h0[p] or nxt[p] != n0[p] or (h == p and (nlocs[p] != l0[p] or nlibs[p] != b0[p])):
            out.append((p, h, nxt[p], nlocs[p], nlibs[p]))
    out.sort()
    return tuple(out)


def _search(kb: KataBoard, work: KataBoard, loc: int, libs: int, nbm: list[int], debug: bool) -> LadderEntry:
    """Run KataGo's ladder search for the chain at ``loc`` on the scratch board ``work``."""
    work.trace = trace = []
    work.touch = touch = []
    work.walked = walked = []
    relinked = work.relinked
    relinked.clear()
    work.blew = False
    h0, n0, l0, b0 = work.head[:], work.nxt[:], work.nlocs[:], work.nlibs[:]
    ko0 = work.ko
    if libs == 1:
        lad = work.ladder_captured(loc, True)
        moves: tuple[int, ...] = ()
        kodep: tuple[int, ...] = ()
    else:
        lad, found, tried = work.ladder_2libs(loc)
        moves = tuple(found)
        kodep = tried
    work.trace = work.touch = work.walked = None
    if not relinked:
        writes: tuple = ()
    else:
        chains = set()
        for q in set(relinked):
            if work.col[q] == BLACK or work.col[q] == WHITE:
                chains.update(work.chain(q))
        writes = _relevant_changes(work, chains, h0, n0, l0, b0)
    entry = LadderEntry(loc, kb.col[loc], libs, lad, moves, (kb, trace, touch, walked, nbm), kodep,
                   ko0 if ko0 in kodep else 0, writes, libs == 1 and work.blew, tuple(kb.chain(loc)))
    if debug:
        every = _relevant_changes(work, range(len(h0)), h0, n0, l0, b0)
        assert every == writes, f"ladder search changed chains it did not log: {every} vs {writes}"
        assert _footprint(loc, work, trace, touch, walked, nbm) == _footprint(loc, kb, trace, touch, walked, nbm), \
            "footprint differs on the game board"
        entry.full  # resolve
        outside = [w[0] for w in writes if not entry._strict >> w[0] & 1]
        assert not outside, f"ladder search wrote outside its footprint: {outside}"
    return entry


def _apply(work: KataBoard, e: LadderEntry) -> None:
    """Replay a recorded search's changes on the scratch board."""
    head, nxt, nlocs, nlibs = work.head, work.nxt, work.nlocs, work.nlibs
    for p, h, x, nl, nb in e.writes:
        head[p] = h
        nxt[p] = x
        nlocs[p] = nl
        nlibs[p] = nb
    if e.clears_ko:
        work.ko = 0


def ladder_scan(kb: KataBoard, parent: list[LadderEntry] | None, d0: frozenset | None, nbm: list[int],
          debug: bool = False) -> list[LadderEntry]:
    """KataGo ``iterLadders`` on ``kb``: one entry per chain with 1 or 2 liberties, in scan order.

    With ``parent`` (the scan of the board before the last move) and ``d0``
    (the points that move changed: the stone and the captured stones),
    searches whose footprint is untouched are replayed instead of run.
    """
    col, head, nlibs = kb.col, kb.head, kb.nlibs
    cands: dict[int, LadderEntry | None] = {}
    d0m = point_mask(d0) if d0 else 0
    if parent is None or d0 is None:
        parent = []
        seen = set()
        n, w = kb.n, kb.w
        for y in range(n):
            base = (y + 1) * w + 1
            for loc in range(base, base + n):
                c = col[loc]
                if c == BLACK or c == WHITE:
                    h = head[loc]
                    if h not in seen:
                        seen.add(h)
                        if 1 <= nlibs[h] <= 2:
                            cands[loc] = None
    else:
        for e in parent:
            if not e.cz & d0m:
                cands[e.loc] = e
        near = set(d0)
        for p in d0:
            for a in kb.adj:
                near.add(p + a)
        seen = set()
        for q in near:
            c = col[q]
            if c == BLACK or c == WHITE:
                h = head[q]
                if h not in seen:
                    seen.add(h)
                    if 1 <= nlibs[h] <= 2:
                        cands[min(kb.chain(q))] = None
    work = kb.copy()
    # points where this scratch board may differ from the parent scan's at the same step
    dirty = d0m
    out: list[LadderEntry] = []
    pi, np_ = 0, len(parent)
    for loc in sorted(cands):
        while pi < np_ and parent[pi].loc < loc:
            dirty |= parent[pi].wpts
            pi += 1
        here = parent[pi] if pi < np_ and parent[pi].loc == loc else None
        if here is not None:
            pi += 1
        e = cands[loc]
        if e is not None and e.reusable(work, dirty):
            if e.writes or e.clears_ko:
                _apply(work, e)
            out.append(e)
            continue
        e = _search(kb, work, loc, nlibs[head[loc]], nbm, debug)
        dirty = _update_dirty(dirty, d0m, here, e)
        out.append(e)
    return out


def _update_dirty(dirty: int, fixed: int, old: LadderEntry | None, new: LadderEntry) -> int:
    """After ``new`` ran where the parent scan ran ``old`` (or nothing): the points that may now differ.

    Masks of points. A point both searches left with the same chain data is
    equal again (the values are absolute); a point only one of them changed
    may differ; ``fixed`` points (changed stones) always differ.
    """
    if old is None or not old.writes:
        return dirty | new.wpts
    if not new.writes:
        return dirty | old.wpts
    dirty |= old.wpts | new.wpts
    mine = {w[0]: w for w in new.writes}
    same = point_mask(w[0] for w in old.writes if mine.get(w[0]) == w)
    return dirty & ~(same & ~fixed)


# -- area: Tromp-Taylor territory plus Benson, incrementally -----------------------------------------
#
# KataGo's area (calculateArea with every flag on) equals plain Tromp-Taylor area (stones plus empty
# regions that touch one colour only) unless some chain has two vital regions: a region (a connected
# set of empty-or-enemy points) every empty point of which (every point, with multi-stone suicide
# legal) touches that chain. Without such a chain Benson's first sweep kills every chain and only
# the one-colour empty regions get marked. With survivors S of a colour, KataGo's result is the
# Tromp-Taylor area overlaid, in KataGo's order (Black first, then White), with the survivors' stones
# and the regions bordered only by survivors that have at most one point not touching that colour or
# contain no enemy stone. Territories and per-chain vital regions are kept per position as records
# with footprints and rebuilt only where the last move changed something.


class _Terr:
    """An empty region touching exactly one colour (its points, that colour, points it depends on)."""

    __slots__ = ("pts", "color", "fp")

    def __init__(self, pts: list[int], color: int, fp: int) -> None:
        self.pts, self.color, self.fp = pts, color, fp


class _Vital:
    """A chain's vital regions (tuples of points) and every point that computation read."""

    __slots__ = ("stones", "color", "regions", "fp")

    def __init__(self, stones: tuple[int, ...], color: int, regions: tuple, fp: int) -> None:
        self.stones, self.color, self.regions, self.fp = stones, color, regions, fp


class AreaRecord:
    """Per position: Tromp-Taylor area by loc, territory records, vital-region records by chain."""

    __slots__ = ("tt", "terr", "vital", "cands", "result", "overlay")

    def __init__(self, tt: bytearray, terr: dict[int, _Terr], vital: dict[int, _Vital],
                 cands: list[int] | None = None) -> None:
        self.tt, self.terr, self.vital = tt, terr, vital
        #: reps of the chains with two or more vital regions
        self.cands = cands if cands is not None else [r for r, v in vital.items() if len(v.regions) >= 2]
        self.result: np.ndarray | None = None
        #: per colour: (candidate records, pass-alive stones, safe regions, footprint mask)
        self.overlay: dict[int, tuple] | None = None


def _territory(kb: KataBoard, start: int, done: set[int], neutral: set[int], nbm: list[int]) -> _Terr | None:
    """Flood the empty region at ``start``; a record if it touches exactly one colour.

    Stops as soon as the region touches both colours or meets a point already
    known to be in such a region (``neutral``); marks what it visited.
    """
    col, adj = kb.col, kb.adj
    queue = [start]
    seen = {start}
    reach = 0
    i = 0
    while i < len(queue):
        p = queue[i]
        i += 1
        for a in adj:
            q = p + a
            c = col[q]
            if c == EMPTY:
                if q not in seen:
                    if q in neutral:
                        reach = 3
                        break
                    seen.add(q)
                    queue.append(q)
            elif c != WALL:
                reach |= c
        if reach == 3:
            neutral |= seen
            return None
    done |= seen
    if reach != BLACK and reach != WHITE:
        return None
    fp = 0
    for p in queue:
        fp |= nbm[p]
    return _Terr(queue, reach, fp)


def _vital(kb: KataBoard, loc: int, mss: bool, nbm: list[int]) -> _Vital:
    """The vital regions of the chain at ``loc`` (KataGo's Benson notion), with a footprint mask."""
    col, adj = kb.col, kb.adj
    pla = col[loc]
    opp = 3 - pla
    stones = kb.chain(loc)
    near = set()      # every point next to the chain: "touches the chain" is membership here
    fp = 0
    for st in stones:
        fp |= nbm[st]
        for a in adj:
            near.add(st + a)
    regions = []
    covered: set[int] = set()
    for lib in near:
        if col[lib] != EMPTY or lib in covered:
            continue
        witness = 0
        for a in adj:
            q = lib + a
            c = col[q]
            if (c == EMPTY or (mss and c == opp)) and q not in near:
                witness = q
                break
        if witness:
            fp |= _BIT[witness]
            continue
        queue = [lib]
        seen = {lib}
        vital = True
        i = 0
        while i < len(queue):
            p = queue[i]
            i += 1
            if p not in near and (mss or col[p] == EMPTY):
                vital = False
                break
            for a in adj:
                q = p + a
                c = col[q]
                if (c == EMPTY or c == opp) and q not in seen:
                    seen.add(q)
                    queue.append(q)
        for p in seen:
            fp |= nbm[p]
        if vital:
            regions.append(tuple(queue))
            covered |= seen
    return _Vital(tuple(stones), pla, tuple(regions), fp)


def area_full(kb: KataBoard, mss: bool, nbm: list[int]) -> AreaRecord:
    """Territory and vital records for every region and chain of ``kb``."""
    col, head = kb.col, kb.head
    tt = col.replace(bytes([WALL]), bytes([EMPTY]))
    terr: dict[int, _Terr] = {}
    vital: dict[int, _Vital] = {}
    done: set[int] = set()
    neutral: set[int] = set()
    heads: set[int] = set()
    n, w = kb.n, kb.w
    for y in range(n):
        base = (y + 1) * w + 1
        for loc in range(base, base + n):
            c = col[loc]
            if c == EMPTY:
                if loc not in done and loc not in neutral:
                    t = _territory(kb, loc, done, neutral, nbm)
                    if t is not None:
                        terr[loc] = t
                        for p in t.pts:
                            tt[p] = t.color
            elif head[loc] not in heads:
                heads.add(head[loc])
                vital[loc] = _vital(kb, loc, mss, nbm)
    return AreaRecord(tt, terr, vital)


def area_incremental(kb: KataBoard, parent: AreaRecord, d0: frozenset, mss: bool, nbm: list[int]) -> AreaRecord:
    """The parent's records, rebuilt where the points ``d0`` changed."""
    col, head, adj = kb.col, kb.head, kb.adj
    d0m = point_mask(d0)
    tt = parent.tt[:]
    for p in d0:
        tt[p] = col[p]
    terr: dict[int, _Terr] = {}
    seeds = list(d0)
    for p in d0:
        for a in adj:
            seeds.append(p + a)
    for rep, t in parent.terr.items():
        if not t.fp & d0m:
            terr[rep] = t
        else:
            for p in t.pts:
                if col[p] == EMPTY:
                    tt[p] = EMPTY
            seeds.extend(t.pts)
    done: set[int] = set()
    neutral: set[int] = set()
    for p in seeds:
        if col[p] == EMPTY and p not in done and p not in neutral:
            t = _territory(kb, p, done, neutral, nbm)
            if t is not None:
                terr[min(t.pts)] = t
                for q in t.pts:
                    tt[q] = t.color
    vital: dict[int, _Vital] = {}
    redo: list[int] = []
    for rep, v in parent.vital.items():
        if not v.fp & d0m:
            vital[rep] = v
        else:
            redo.extend(v.stones)
    redo.extend(d0)
    cands = [r for r in parent.cands if r in vital]
    done: set[int] = set()
    for p in redo:
        c = col[p]
        if (c == BLACK or c == WHITE) and head[p] not in done:
            done.add(head[p])
            rep = min(kb.chain(p))
            if rep not in vital:     # a kept record is an unchanged chain
                v = vital[rep] = _vital(kb, p, mss, nbm)
                if len(v.regions) >= 2:
                    cands.append(rep)
    return AreaRecord(tt, terr, vital, cands)


def _survivors(kb: KataBoard, cands: list[_Vital]) -> dict[int, _Vital]:
    """Benson's pass-alive chains among ``cands`` (chains with two or more vital regions), by head."""
    col, head, adj = kb.col, kb.head, kb.adj
    alive = {head[v.stones[0]]: v for v in cands}
    pla = cands[0].color
    borders: dict[tuple, set[int]] = {}
    for v in cands:
        for reg in v.regions:
            if reg not in borders:
                b = set()
                for p in reg:
                    for a in adj:
                        q = p + a
                        if col[q] == pla:
                            b.add(head[q])
                borders[reg] = b
    changed = True
    while changed:
        changed = False
        for h in list(alive):
            v = alive[h]
            if sum(1 for reg in v.regions if borders[reg].issubset(alive)) < 2:
                del alive[h]
                changed = True
    return alive


def _safe_regions(kb: KataBoard, alive: dict[int, _Vital], nbm: list[int]) -> tuple[list[list[int]], int]:
    """Regions bordered only by the pass-alive chains ``alive`` that KataGo marks as theirs outright.

    Also returns the mask of every point the answer depends on.
    """
    col, head, adj = kb.col, kb.head, kb.adj
    pla = next(iter(alive.values())).color
    opp = 3 - pla
    done: set[int] = set()
    bad: set[int] = set()
    out = []
    fp = 0
    for v in alive.values():
        for st in v.stones:
            fp |= nbm[st]
            for a in adj:
                s0 = st + a
                c0 = col[s0]
                if (c0 != EMPTY and c0 != opp) or s0 in done or s0 in bad:
                    continue
                queue = [s0]
                seen = {s0}
                inside = 0
                has_opp = False
                ok = True
                i = 0
                while ok and i < len(queue):
                    p = queue[i]
                    i += 1
                    if col[p] == opp:
                        has_opp = True
                    touches = False
                    for a2 in adj:
                        q = p + a2
                        c = col[q]
                        if c == pla:
                            touches = True
                            if head[q] not in alive:
                                ok = False
                                break
                        elif (c == EMPTY or c == opp) and q not in seen:
                            if q in bad:
                                ok = False
                                break
                            seen.add(q)
                            queue.append(q)
                    if not touches:
                        inside += 1
                for p in seen:
                    fp |= nbm[p]
                if not ok:
                    bad |= seen
                    continue
                done |= seen
                if inside <= 1 or not has_opp:
                    out.append(queue)
    return out, fp


def area_planes(kb: KataBoard, ar: AreaRecord, parent: AreaRecord | None, d0m: int, nbm: list[int]) -> bytearray:
    """KataGo's area by loc from the Tromp-Taylor area and the pass-alive overlay.

    A colour's overlay (pass-alive stones and the regions they alone border)
    is the parent's when its candidate chains are the same records and the
    move changed nothing the overlay depends on.
    """
    res = ar.tt
    ar.overlay = {}
    for pla in (BLACK, WHITE):
        cands = tuple(v for v in map(ar.vital.__getitem__, ar.cands) if v.color == pla)
        if not cands:
            continue
        old = parent.overlay.get(pla) if parent is not None and parent.overlay is not None else None
        if (old is not None and not old[3] & d0m and len(old[0]) == len(cands)
                and all(a is b for a, b in zip(old[0], cands))):
            overlay = old
        else:
            alive = _survivors(kb, cands)
            stones = [st for v in alive.values() for st in v.stones]
            regions, fp = _safe_regions(kb, alive, nbm) if alive else ([], 0)
            overlay = (cands, stones, regions, fp)
        ar.overlay[pla] = overlay
        if overlay[1]:
            if res is ar.tt:
                res = res[:]
            for st in overlay[1]:
                res[st] = pla
            for reg in overlay[2]:
                for p in reg:
                    res[p] = pla
    return res


def liberty_classes(kb: KataBoard) -> bytearray:
    """Per loc: the liberty count of the chain there, capped at 4; 0 where there is no stone."""
    col, head, nlibs = kb.col, kb.head, kb.nlibs
    out = bytearray(len(col))
    for loc, c in enumerate(col):
        if c == BLACK or c == WHITE:
            k = nlibs[head[loc]]
            out[loc] = k if k < 4 else 4
    return out


def liberty_classes_after(kb: KataBoard, parent: bytearray, d0: frozenset) -> bytearray:
    """:func:`liberty_classes` updated for a move that changed the points ``d0``."""
    out = parent[:]
    col, head, nlibs, adj = kb.col, kb.head, kb.nlibs, kb.adj
    done = set()
    for p in d0:
        out[p] = 0
    for p in d0:
        for q in (p, p + adj[0], p + adj[1], p + adj[2], p + adj[3]):
            c = col[q]
            if (c == BLACK or c == WHITE) and head[q] not in done:
                h = head[q]
                done.add(h)
                k = nlibs[h]
                k = k if k < 4 else 4
                for st in kb.chain(q):
                    out[st] = k
    return out
