"""A step-by-step port of KataGo's board for the ladder searches and the area of its inputs.

Everything is computed the way KataGo computes it. Ladders are KataGo's
searches ported step by step (:class:`KataBoard`): the same chain lists (circular
lists re-linked by merges, captures and undos exactly as KataGo does), move
generation and ordering, ko handling (a ko left for the defender is an
escape), stack limit and 25,000-node budget, run in KataGo's scan order on one
scratch copy of the board that the searches re-link as they go. The node
budget makes an answer depend on the order moves are tried in, and that order
on the chain lists, which depend on the whole move sequence — so each position's
board is built by replaying its moves the KataGo way. The area planes use
KataGo's ``calculateArea`` (ported as :meth:`KataBoard.area`) or an incremental
equivalent. :data:`tests/data/katago_features_v7.json` holds KataGo's own
reference dumps (``testnninputs.cpp``); the tests match every plane and global.
"""

from __future__ import annotations

__all__ = ["KataBoard", "EMPTY", "BLACK", "WHITE", "WALL", "LADDER_BUDGET"]

EMPTY, BLACK, WHITE, WALL = 0, 1, 2, 3
#: KataGo's node budget for one ladder search (MAX_LADDER_SEARCH_NODE_BUDGET).
LADDER_BUDGET = 25000


class KataBoard:
    """KataGo's ``Board`` (``cpp/game/board.cpp``): what the features need, ported.

    Points are KataGo *locs*: ``(x + 1) + (y + 1) * (N + 1)`` with y = 0 the top
    row, a wall border (colour 3) around the board, neighbour offsets in the
    order up, left, right, down (loc 0 doubles as "no point"). A chain is a
    circular list through ``nxt`` with a ``head`` per stone; stone and liberty
    counts live at the head (elsewhere they are stale and never read). ``ko`` is
    KataGo's simple-ko point, 0 if none. While a ladder search runs, ``trace``
    collects its candidate moves, ``touch`` the enemy stones it checked for
    atari and ``relinked`` the chains whose lists it rewrote.
    """

    __slots__ = ("n", "w", "col", "head", "nxt", "nlocs", "nlibs", "ko", "adj", "trace", "touch", "walked", "relinked",
                 "_buf", "_starts", "_lens", "_cur", "_recs", "blew")

    def __init__(self, n: int) -> None:
        """An empty ``n``×``n`` board."""
        self.n = n
        w = self.w = n + 1
        size = w * (n + 2) + 1
        col = bytearray([WALL]) * size
        for y in range(n):
            base = (y + 1) * w + 1
            col[base:base + n] = bytes(n)
        self.col = col
        self.head = [0] * size
        self.nxt = [0] * size
        self.nlocs = [0] * size
        self.nlibs = [0] * size
        self.ko = 0
        self.adj = (-w, -1, 1, w)
        self.trace: list[int] | None = None
        self.touch: list[int] | None = None
        self.walked: list[int] | None = None
        #: while searching: stones whose chain links were rewritten (new head or order)
        self.relinked: list[int] = []
        self.blew = False
        self._scratch()

    def _scratch(self) -> None:
        depth = self.n * self.n * 3 // 2 + 2
        self._buf = [0] * 1024
        self._starts = [0] * depth
        self._lens = [0] * depth
        self._cur = [0] * depth
        self._recs: list = [None] * depth

    def copy(self) -> "KataBoard":
        """An independent copy (fresh search scratch space)."""
        b = object.__new__(KataBoard)
        b.n, b.w, b.adj, b.ko = self.n, self.w, self.adj, self.ko
        b.col, b.head, b.nxt = self.col[:], self.head[:], self.nxt[:]
        b.nlocs, b.nlibs = self.nlocs[:], self.nlibs[:]
        b.trace = b.touch = b.walked = None
        b.relinked = []
        b.blew = False
        # search scratch space is shared: searches never run concurrently
        b._buf, b._starts, b._lens, b._cur, b._recs = self._buf, self._starts, self._lens, self._cur, self._recs
        return b

    def loc(self, x: int, y: int) -> int:
        """KataGo loc of column ``x``, row ``y`` (y = 0 top)."""
        return (x + 1) + (y + 1) * self.w

    def chain(self, loc: int) -> list[int]:
        """Stones of the chain through ``loc``, in list order from ``loc``."""
        nxt = self.nxt
        out = [loc]
        cur = nxt[loc]
        while cur != loc:
            out.append(cur)
            cur = nxt[cur]
        return out

    # -- small queries ------------------------------------------------------------------
    def _is_lib_of(self, loc: int, h: int) -> bool:
        col, head, c = self.col, self.head, self.col[h]
        for a in self.adj:
            q = loc + a
            if col[q] == c and head[q] == h:
                return True
        return False

    def _immediate_libs(self, loc: int) -> int:
        col = self.col
        w = self.w
        return (col[loc - w] == EMPTY) + (col[loc - 1] == EMPTY) + (col[loc + 1] == EMPTY) + (col[loc + w] == EMPTY)

    def is_suicide(self, loc: int, pla: int) -> bool:
        """KataGo ``isSuicide``: the stone would have no liberty and capture nothing."""
        col, head, nlibs = self.col, self.head, self.nlibs
        opp = 3 - pla
        for a in self.adj:
            q = loc + a
            c = col[q]
            if c == EMPTY:
                return False
            if c == pla:
                if nlibs[head[q]] > 1:
                    return False
            elif c == opp and nlibs[head[q]] == 1:
                return False
        return True

    def is_illegal_suicide(self, loc: int, pla: int, mss: bool) -> bool:
        """KataGo ``isIllegalSuicide`` (multi-stone suicide legal when ``mss``)."""
        col, head, nlibs = self.col, self.head, self.nlibs
        opp = 3 - pla
        for a in self.adj:
            q = loc + a
            c = col[q]
            if c == EMPTY:
                return False
            if c == pla:
                if mss or nlibs[head[q]] > 1:
                    return False
            elif c == opp and nlibs[head[q]] == 1:
                return False
        return True

    def is_legal(self, loc: int, pla: int, mss: bool = False) -> bool:
        """KataGo ``isLegal`` for an on-board point (empty, not the ko point, not illegal suicide)."""
        return self.col[loc] == EMPTY and loc != self.ko and not self.is_illegal_suicide(loc, pla, mss)

    def _bound_libs_after_play(self, loc: int, pla: int) -> tuple[int, int]:
        col, head, nlibs, nlocs = self.col, self.head, self.nlibs, self.nlocs
        opp = 3 - pla
        imm = caps = cap_libs = conn = conn_max = 0
        for a in self.adj:
            q = loc + a
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

    def _libs_after_play(self, loc: int, pla: int, mx: int) -> int:
        """KataGo ``getNumLibertiesAfterPlay``: liberties a stone at ``loc`` would have, capped at ``mx``."""
        col, head, nlibs, nxt, adj = self.col, self.head, self.nlibs, self.nxt, self.adj
        opp = 3 - pla
        libs: list[int] = []
        caps: list[int] = []
        for a in adj:
            q = loc + a
            c = col[q]
            if c == EMPTY:
                libs.append(q)
                if len(libs) >= mx:
                    return mx
            elif c == opp and nlibs[head[q]] == 1:
                libs.append(q)
                if len(libs) >= mx:
                    return mx
                h = head[q]
                if h not in caps:
                    caps.append(h)
        conns: list[int] = []
        for a in adj:
            q = loc + a
            if col[q] == pla:
                h = head[q]
                if h in conns:
                    continue
                conns.append(h)
                if self.walked is not None:
                    self.walked.append(q)
                cur = q
                while True:
                    for b in adj:
                        r = cur + b
                        if r == loc:
                            continue
                        c = col[r]
                        if c == EMPTY or (c == opp and head[r] in caps):
                            if r not in libs:
                                libs.append(r)
                                if len(libs) >= mx:
                                    return mx
                    cur = nxt[cur]
                    if cur == q:
                        break
        return len(libs)

    def _would_be_ko_capture(self, loc: int, pla: int) -> bool:
        col, head, nlibs, nlocs = self.col, self.head, self.nlibs, self.nlocs
        if col[loc] != EMPTY:
            return False
        opp = 3 - pla
        found = 0
        for a in self.adj:
            q = loc + a
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

    def _conn_libs_x2(self, loc: int, pla: int) -> int:
        col, head, nlibs = self.col, self.head, self.nlibs
        total = 0
        for a in self.adj:
            q = loc + a
            if col[q] == pla:
                k = nlibs[head[q]]
                if k > 1:
                    total += k * 2 - 3
        return total

    # -- chain bookkeeping ----------------------------------------------------------------
    def _change_libs(self, loc: int, pla: int, delta: int) -> None:
        """KataGo ``changeSurroundingLiberties``: ``delta`` to each distinct ``pla`` chain next to ``loc``."""
        col, head, nlibs = self.col, self.head, self.nlibs
        w = self.w
        a0, a1, a2, a3 = loc - w, loc - 1, loc + 1, loc + w
        c0, c1, c2, c3 = col[a0] == pla, col[a1] == pla, col[a2] == pla, col[a3] == pla
        h0 = head[a0] if c0 else -1
        h1 = head[a1] if c1 else -2
        h2 = head[a2] if c2 else -3
        if c0:
            nlibs[h0] += delta
        if c1 and h1 != h0:
            nlibs[h1] += delta
        if c2 and h2 != h0 and h2 != h1:
            nlibs[h2] += delta
        if c3:
            h3 = head[a3]
            if h3 != h0 and h3 != h1 and h3 != h2:
                nlibs[h3] += delta

    def _merge(self, loc1: int, loc2: int) -> None:
        col, head, nxt, nlocs, nlibs, adj = self.col, self.head, self.nxt, self.nlocs, self.nlibs, self.adj
        if self.walked is not None:
            self.walked.append(loc1)
            self.walked.append(loc2)
        h1, h2 = head[loc1], head[loc2]
        if nlocs[h1] < nlocs[h2]:
            h1, h2 = h2, h1
        nlocs[h1] += nlocs[h2]
        c1 = col[h1]
        new = 0
        loc = h2
        while True:
            for a in adj:
                q = loc + a
                if col[q] == EMPTY:
                    for b in adj:
                        r = q + b
                        if col[r] == c1 and head[r] == h1:
                            break
                    else:
                        new += 1
            head[loc] = h1
            if nxt[loc] != h2:
                loc = nxt[loc]
            else:
                break
        self.relinked.append(h2)
        nlibs[h1] += new
        nxt[loc] = nxt[h1]
        nxt[h1] = h2

    def _remove_chain(self, loc: int) -> int:
        col, nxt = self.col, self.nxt
        if self.walked is not None:
            self.walked.append(loc)
        opp = 3 - col[loc]
        n = 0
        cur = loc
        while True:
            col[cur] = EMPTY
            n += 1
            self._change_libs(cur, opp, 1)
            cur = nxt[cur]
            if cur == loc:
                return n

    def _add_chain(self, loc: int, pla: int) -> None:
        self.relinked.append(loc)
        self.nlibs[loc] = 0
        self.nlocs[loc] = 0
        front = self._add_helper(loc, loc, loc, pla)
        self.nxt[loc] = front

    def _add_helper(self, h: int, tail: int, loc: int, pla: int) -> int:
        col = self.col
        col[loc] = pla
        self.head[loc] = h
        self.nlocs[h] += 1
        self.nxt[loc] = tail
        self._change_libs(loc, 3 - pla, -1)
        nt = loc
        for a in self.adj:
            q = loc + a
            if col[q] == EMPTY:
                nt = self._add_helper(h, nt, q, pla)
        return nt

    def _rebuild(self, loc: int, pla: int) -> None:
        self.relinked.append(loc)
        self.nlibs[loc] = 0
        self.nlocs[loc] = 0
        front = self._rebuild_helper(loc, loc, loc, pla)
        self.nxt[loc] = front

    def _rebuild_helper(self, h: int, tail: int, loc: int, pla: int) -> int:
        col, head = self.col, self.head
        adj = self.adj
        add = 0
        for a in adj:
            q = loc + a
            if col[q] == EMPTY and not self._is_lib_of(q, h):
                add += 1
        self.nlibs[h] += add
        head[loc] = h
        self.nlocs[h] += 1
        self.nxt[loc] = tail
        nt = loc
        for a in adj:
            q = loc + a
            if col[q] == pla and head[q] != h:
                nt = self._rebuild_helper(h, nt, q, pla)
        return nt

    # -- moves ------------------------------------------------------------------------------
    def play(self, loc: int, pla: int) -> None:
        """KataGo ``playMoveAssumeLegal`` for an on-board point (a pass just clears ``ko``)."""
        if loc == 0:
            self.ko = 0
            return
        col, head, nxt, nlocs, nlibs = self.col, self.head, self.nxt, self.nlocs, self.nlibs
        opp = 3 - pla
        col[loc] = pla
        nlocs[loc] = 1
        nlibs[loc] = self._immediate_libs(loc)
        head[loc] = loc
        nxt[loc] = loc
        captured = 0
        ko_cand = 0
        seen: list[int] = []
        for a in self.adj:
            q = loc + a
            c = col[q]
            if c == pla:
                if head[q] == head[loc]:
                    continue
                nlibs[head[q]] -= 1
                self._merge(q, loc)
            elif c == opp:
                h = head[q]
                if h in seen:
                    continue
                nlibs[h] -= 1
                seen.append(h)
                if nlibs[h] == 0:
                    captured += self._remove_chain(q)
                    ko_cand = q
        h = head[loc]
        if captured == 1 and nlocs[h] == 1 and nlibs[h] == 1:
            self.ko = ko_cand
        else:
            self.ko = 0
        if nlibs[h] == 0:
            self._remove_chain(loc)

    def play_recorded(self, loc: int, pla: int) -> tuple[int, int, int, int]:
        """Play and return KataGo's ``MoveRecord`` (loc, player, previous ko, captured directions)."""
        col, head, nlibs = self.col, self.head, self.nlibs
        opp = 3 - pla
        dirs = 0
        bit = 1
        for a in self.adj:
            q = loc + a
            if col[q] == opp and nlibs[head[q]] == 1:
                dirs |= bit
            bit <<= 1
        if dirs == 0 and self.is_suicide(loc, pla):
            dirs = 0x10
        rec = (loc, pla, self.ko, dirs)
        self.play(loc, pla)
        return rec

    def undo(self, rec: tuple[int, int, int, int]) -> None:
        """KataGo ``undo`` of a recorded move (chains may come back with other heads/orders)."""
        loc, pla, ko, dirs = rec
        self.ko = ko
        col, head, nxt, nlocs, nlibs, adj = self.col, self.head, self.nxt, self.nlocs, self.nlibs, self.adj
        opp = 3 - pla
        bit = 1
        for a in adj:
            if dirs & bit:
                q = loc + a
                if col[q] == EMPTY:
                    self._add_chain(q, opp)
            bit <<= 1
        if dirs == 0x10:
            self._add_chain(loc, pla)
        col[loc] = EMPTY
        self._change_libs(loc, opp, 1)
        h = head[loc]
        if nlocs[h] <= 1:
            return
        friends = 0
        for a in adj:
            if col[loc + a] == pla:
                friends += 1
        if friends <= 1:
            if h == loc:
                nh = nxt[loc]
                cur = loc
                while True:
                    head[cur] = nh
                    cur = nxt[cur]
                    if cur == loc:
                        break
                nlocs[nh] = nlocs[h]
                nlibs[nh] = nlibs[h]
                h = nh
                self.relinked.append(nh)
            cur = h
            while nxt[cur] != loc:
                cur = nxt[cur]
            nxt[cur] = nxt[loc]
            delta = 1
            for a in adj:
                q = loc + a
                if col[q] == EMPTY and not self._is_lib_of(q, h):
                    delta -= 1
            nlibs[h] += delta
            nlocs[h] -= 1
        else:
            cur = loc
            while True:
                head[cur] = 0
                cur = nxt[cur]
                if cur == loc:
                    break
            for a in adj:
                q = loc + a
                if col[q] == pla and head[q] == 0:
                    self._rebuild(q, pla)

    # -- ladder helpers ---------------------------------------------------------------------
    def _find_libs(self, loc: int, start: int, idx: int) -> int:
        """KataGo ``findLiberties``: write new liberties of ``loc``'s chain into the buffer at ``idx``."""
        col, nxt, adj = self.col, self.nxt, self.adj
        buf = self._buf
        if self.walked is not None:
            self.walked.append(loc)
        found = 0
        cur = loc
        while True:
            for a in adj:
                q = cur + a
                if col[q] == EMPTY:
                    end = idx + found
                    for j in range(start, end):
                        if buf[j] == q:
                            break
                    else:
                        if end >= len(buf):
                            buf.extend([0] * (len(buf) // 2 + 64))
                        buf[end] = q
                        found += 1
            cur = nxt[cur]
            if cur == loc:
                return found

    def _find_capture_moves(self, loc: int, start: int, idx: int) -> int:
        """KataGo ``findLibertyGainingCaptures``: last liberties of adjacent enemy chains in atari."""
        col, head, nxt, nlibs, adj = self.col, self.head, self.nxt, self.nlibs, self.adj
        opp = 3 - col[loc]
        trace = self.touch
        checked: list[int] = []
        found = 0
        cur = loc
        while True:
            for a in adj:
                q = cur + a
                if col[q] == opp:
                    if trace is not None:
                        trace.append(q)
                    h = head[q]
                    if nlibs[h] == 1 and h not in checked:
                        found += self._find_libs(q, start, idx + found)
                        checked.append(h)
            cur = nxt[cur]
            if cur == loc:
                return found

    def _has_capture_moves(self, loc: int) -> bool:
        col, head, nxt, nlibs, adj = self.col, self.head, self.nxt, self.nlibs, self.adj
        opp = 3 - col[loc]
        trace = self.touch
        cur = loc
        while True:
            for a in adj:
                q = cur + a
                if col[q] == opp:
                    if trace is not None:
                        trace.append(q)
                    if nlibs[head[q]] == 1:
                        return True
            cur = nxt[cur]
            if cur == loc:
                return False

    # -- ladder searches ----------------------------------------------------------------------
    def ladder_2libs(self, loc: int) -> tuple[bool, list[int], tuple[int, int]]:
        """KataGo ``searchIsLadderCapturedAttackerFirst2Libs``.

        Returns (laddered, working attacker moves, the two liberties tried).
        """
        col, head, nlibs = self.col, self.head, self.nlibs
        c = col[loc]
        if (c != BLACK and c != WHITE) or nlibs[head[loc]] != 2:
            return False, [], (0, 0)
        opp = 3 - c
        self._find_libs(loc, 0, 0)
        m0, m1 = self._buf[0], self._buf[1]
        if self.trace is not None:
            self.trace.append(m0)
            self.trace.append(m1)
        w0 = w1 = False
        if self.is_legal(m0, opp):
            rec = self.play_recorded(m0, opp)
            w0 = self.ladder_captured(loc, True)
            self.undo(rec)
        if self.is_legal(m1, opp):
            rec = self.play_recorded(m1, opp)
            w1 = self.ladder_captured(loc, True)
            self.undo(rec)
        if w0 or w1:
            return True, [m for m, ok in ((m0, w0), (m1, w1)) if ok], (m0, m1)
        return False, [], (m0, m1)

    def ladder_captured(self, loc: int, defender_first: bool) -> bool:
        """KataGo ``searchIsLadderCaptured``: can the chain at ``loc`` be captured in a ladder?

        Iterative depth-first search with KataGo's move generation, ko rule (a
        ko left for the defender counts as an escape), stack limit and node
        budget (over budget = not captured; like KataGo, the root's cleared ko
        point is then not restored, see :attr:`blew`).
        """
        col, head, nlibs = self.col, self.head, self.nlibs
        c = col[loc]
        if c != BLACK and c != WHITE:
            return False
        libs = nlibs[head[loc]]
        if libs > 2 or (defender_first and libs > 1):
            return False
        pla, opp = c, 3 - c
        ko_saved = self.ko
        if defender_first:
            self.ko = 0
        n = self.n
        stack_size = n * n * 3 // 2 + 1
        starts, lens, curs, recs = self._starts, self._lens, self._cur, self._recs
        trace = self.trace
        idx = 0
        nodes = 0
        curs[0] = -1
        starts[0] = 0
        lens[0] = 0
        ret = False
        deeper = False
        while True:
            if idx <= -1:
                self.ko = ko_saved
                return ret
            if idx >= stack_size - 1:
                ret = True
                deeper = True
                idx -= 1
                continue
            if nodes >= LADDER_BUDGET:
                idx -= 1
                while idx >= 0:
                    self.undo(recs[idx])
                    idx -= 1
                self.blew = True
                return False
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
                elif libs >= 2 or self.ko != 0:
                    ret = False
                    deeper = True
                    idx -= 1
                    continue
                start = starts[idx]
                buf = self._buf
                if is_def:
                    k = self._find_capture_moves(loc, start, start)
                    k += self._find_libs(loc, start, start + k)
                    buf = self._buf
                    if trace is not None:
                        trace.extend(buf[start:start + k])
                    lo, hi = self._bound_libs_after_play(buf[start + k - 1], pla)
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
                    k = self._find_libs(loc, start, start)
                    buf = self._buf
                    if trace is not None:
                        trace.extend(buf[start:start + k])
                    m0, m1 = buf[start], buf[start + 1]
                    libs0 = self._immediate_libs(m0)
                    libs1 = self._immediate_libs(m1)
                    if (libs0 == 0 and libs1 == 0 and self._would_be_ko_capture(m0, opp)
                            and self._would_be_ko_capture(m1, opp)):
                        if (self._libs_after_play(m0, pla, 3) <= 2 and self._libs_after_play(m1, pla, 3) <= 2
                                and not self._has_capture_moves(loc)):
                            ret = True
                            deeper = True
                            idx -= 1
                            continue
                    d = m1 - m0
                    if d != 1 and d != -1 and d != self.w and d != -self.w:
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
                        s0 = libs0 * 2 + self._conn_libs_x2(buf[start], pla)
                        s1 = libs1 * 2 + self._conn_libs_x2(buf[start + 1], pla)
                        if s1 > s0:
                            buf[start], buf[start + 1] = buf[start + 1], buf[start]
                lens[idx] = k
                curs[idx] = 0
            else:
                if deeper:
                    self.undo(recs[idx])
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
            move = self._buf[starts[idx] + curs[idx]]
            p = pla if is_def else opp
            if not self.is_legal(move, p):
                ret = is_def
                deeper = False
                continue
            recs[idx] = self.play_recorded(move, p)
            nodes += 1
            idx += 1
            curs[idx] = -1
            starts[idx] = starts[idx - 1] + lens[idx - 1]
            lens[idx] = 0

    # -- area ------------------------------------------------------------------------------------
    def area(self, mss: bool) -> list[int]:
        """KataGo ``calculateArea`` with all three flags on: per loc 0 / BLACK / WHITE.

        Benson pass-alive chains and their territory, then every empty region
        bordered by one colour only, then every remaining stone for its owner.
        ``mss``: multi-stone suicide legal (changes which points must touch a
        chain for a region to be vital to it).
        """
        result = [EMPTY] * len(self.col)
        self._area_for(BLACK, mss, result)
        self._area_for(WHITE, mss, result)
        col = self.col
        for i, c in enumerate(col):
            if result[i] == EMPTY and (c == BLACK or c == WHITE):
                result[i] = c
        return result

    def _area_for(self, pla: int, mss: bool, result: list[int]) -> None:
        """KataGo ``calculateAreaForPla`` (safe and unsafe big territories both on)."""
        col, head, nxt, adj = self.col, self.head, self.nxt, self.adj
        opp = 3 - pla
        size = len(col)
        region = [-1] * size
        heads: list[int] = []        # region head loc, by region index
        members: list[list[int]] = []
        vital: list[list[int]] = []
        internal: list[int] = []
        has_opp: list[bool] = []
        any_pla = False
        n, w = self.n, self.w
        for y in range(n):
            base = (y + 1) * w + 1
            for loc in range(base, base + n):
                if region[loc] != -1:
                    continue
                c = col[loc]
                if c != EMPTY:
                    if c == pla:
                        any_pla = True
                    continue
                r = len(heads)
                heads.append(loc)
                vl: list[int] = []
                for a in adj:
                    q = loc + a
                    if col[q] == pla and head[q] not in vl:
                        vl.append(head[q])
                inside = 0
                contains = False
                queue = [loc]
                region[loc] = r
                i = 0
                while i < len(queue):
                    p = queue[i]
                    i += 1
                    cp = col[p]
                    if vl and (mss or cp == EMPTY):
                        vl = [h for h in vl if any(col[p + a] == pla and head[p + a] == h for a in adj)]
                    if inside < 2 and not any(col[p + a] == pla for a in adj):
                        inside += 1
                    if cp == opp:
                        contains = True
                    for a in adj:
                        q = p + a
                        cq = col[q]
                        if (cq == EMPTY or cq == opp) and region[q] == -1:
                            region[q] = r
                            queue.append(q)
                members.append(queue)
                vital.append(vl)
                internal.append(inside)
                has_opp.append(contains)
        pla_heads = [loc for loc in range(size) if col[loc] == pla and head[loc] == loc]
        count = {h: 0 for h in pla_heads}
        for vl in vital:
            for h in vl:
                count[h] += 1
        dead_border = [False] * len(heads)
        killed: set[int] = set()
        changed = True
        while changed:
            changed = False
            for h in pla_heads:
                if h in killed or count[h] >= 2:
                    continue
                killed.add(h)
                changed = True
                cur = h
                while True:
                    for a in adj:
                        q = cur + a
                        r = region[q]
                        if r >= 0 and not dead_border[r] and (col[q] == EMPTY or col[q] == opp):
                            dead_border[r] = True
                            for v in vital[r]:
                                count[v] -= 1
                    cur = nxt[cur]
                    if cur == h:
                        break
        for h in pla_heads:
            if h not in killed:
                cur = h
                while True:
                    result[cur] = pla
                    cur = nxt[cur]
                    if cur == h:
                        break
        for r in range(len(heads)):
            alive_border = not dead_border[r] and any_pla
            if alive_border and (internal[r] <= 1 or not has_opp[r]):
                for p in members[r]:
                    result[p] = pla
            elif not has_opp[r] and any_pla:
                for p in members[r]:
                    if result[p] == EMPTY:
                        result[p] = pla
