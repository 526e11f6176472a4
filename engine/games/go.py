"""Go rules of our own: area (Tromp–Taylor) scoring, positional superko, handicap.

Move codes are point indices ``row * N + col`` with row 0 = GTP row 1 (the
bottom) and col 0 = ``A``; ``PASS = N * N``. This is Leela Zero's layout, so
its policy index is the move code itself. Text crosses the protocol boundary
as GTP vertices (``D4``, ``pass``; columns A–Z without I, case-insensitive).

>>> s = GoState(9, komi=7.0)
>>> s.push(s.parse_move("E5")); s.move_to_text(s.legal_moves()[0]), s.turn
('A1', 1)

Rules implemented
-----------------
* Board sizes 2–25 (GTP letters run out at 25), any float komi.
* Captures, suicide illegal (single and multi-stone), **positional superko**:
  a move may not recreate any earlier whole-board arrangement of stones
  (side to move ignored). Passes are always legal; two consecutive passes end
  the game, scored by Tromp–Taylor area (stones + empty regions reaching only
  one colour) minus komi.
* Set-up stones, GTP fixed handicap (:func:`handicap_points`) and free handicap.
* Out-of-turn moves (:meth:`GoState.play_color`), as GTP ``play`` allows.

Data structures (why push/pop are cheap)
----------------------------------------
The board is a Python list (scalar access is far faster than numpy's). Every
stone carries the id of its group (``_gid``, the id is one of the group's own
points); per id the group keeps a list of stones and a *set* of liberties.
Playing a stone merges the neighbouring friendly groups into the largest one
(relabelling only the smaller ones), removes the point from adjacent enemy
liberty sets and removes enemy groups left without liberties. Each push stores
a small undo record (merged groups' list/set objects, the liberties the big
group gained, captured groups); pop replays it backwards, so nothing is ever
copied wholesale and no flood fill runs during play.

Beside that the state keeps: the set of empty points, per point the number of
empty neighbours and the set of *tight* empty points (no empty neighbour: only
these can be suicide), the set of groups in atari (only their liberties can
capture), a Zobrist hash of the stones, the multiset of hashes seen so far and
the same hashes bucketed by stone count.

Superko, and which moves need checking
--------------------------------------
A move at ``p`` by colour ``c`` gives hash ``h ^ Z[c][p] ^ (captured stones)``.

* A **capturing** move (``p`` is the last liberty of an enemy group in atari)
  is looked up in the seen-hash set; the atari set lists those few points.
* A **non-capturing** move adds one stone and removes none, so the new
  position has exactly one stone more than the current one and can only equal
  an earlier position with that stone count. Those earlier hashes ``e`` sit in
  one bucket; ``e ^ h`` must then equal ``Z[c][p]``, which a reverse table turns
  into the single point ``p`` that would repeat ``e``. The cost is one dict
  lookup per earlier position of that count (usually none at all).

It is often said that only captures can repeat a position; that is false. On
2×2, after B A2, W B1, B A1, W B2 (takes two), B A1, W A2 (takes one), B A1
(takes three), W B1, Black's A2 captures nothing yet recreates the position
after move 3 — the first repetition of that game, so nothing earlier was
illegal. (``tests/test_go_rules.py`` plays it.) Hence non-capturing moves are
checked too, by the cheap bucket test above rather than by skipping them.

Suicide: a point with an empty neighbour is never suicide (the stone keeps that
liberty). A tight point is legal iff a friendly neighbour group has another
liberty or an enemy neighbour group is in atari (the move captures it).
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from typing import ClassVar, Iterable, Sequence

import numpy as np

from .base import DRAW, LOSS, WIN, GameState, IllegalMoveError, InvalidPositionError

#: GTP column letters (no I); 25 of them, hence the largest board.
COLUMNS = "ABCDEFGHJKLMNOPQRSTUVWXYZ"
MIN_SIZE, MAX_SIZE = 2, len(COLUMNS)
EMPTY, BLACK_STONE, WHITE_STONE = 0, 1, 2
BLACK, WHITE = 0, 1  # turn values

_ZOBRIST_SEED = 0x7AB01A60
_MASK64 = (1 << 64) - 1


def _zobrist() -> tuple[list[list[int]], list[dict[int, int]]]:
    rng = np.random.default_rng(_ZOBRIST_SEED)
    table = rng.integers(1, 2**64, size=(2, MAX_SIZE * MAX_SIZE), dtype=np.uint64).tolist()
    # index by stone colour (1 black, 2 white); slot 0 unused
    z = [[0] * (MAX_SIZE * MAX_SIZE), table[0], table[1]]
    inverse = [{}, {v: p for p, v in enumerate(table[0])}, {v: p for p, v in enumerate(table[1])}]
    return z, inverse


#: Zobrist keys ``_Z[stone_colour][point]`` as Python ints, and their inverse maps.
_Z, _ZINV = _zobrist()

_NEIGHBOURS: dict[int, tuple[tuple[int, ...], ...]] = {}


def _neighbours(n: int) -> tuple[tuple[int, ...], ...]:
    """Orthogonal neighbours of every point of an n×n board (cached per size)."""
    nb = _NEIGHBOURS.get(n)
    if nb is None:
        rows = []
        for p in range(n * n):
            r, c = divmod(p, n)
            q = []
            if r > 0:
                q.append(p - n)
            if c > 0:
                q.append(p - 1)
            if c < n - 1:
                q.append(p + 1)
            if r < n - 1:
                q.append(p + n)
            rows.append(tuple(q))
        nb = _NEIGHBOURS[n] = tuple(rows)
    return nb


def _check_size(size: int) -> None:
    if not isinstance(size, int) or not MIN_SIZE <= size <= MAX_SIZE:
        raise ValueError(f"board size must be an integer in {MIN_SIZE}..{MAX_SIZE}, got {size!r}")


# -- vertices -------------------------------------------------------------------------


def colour_of(text: str) -> int | None:
    """BLACK or WHITE for a colour word as GTP and SGF write it (``b``/``black``/``w``/``white``,
    any case); None for anything else.

    >>> colour_of("Black"), colour_of("w"), colour_of("red")
    (0, 1, None)
    """
    return {"b": BLACK, "black": BLACK, "w": WHITE, "white": WHITE}.get(text.lower())


def vertex(point: int, size: int) -> str:
    """A point index as a GTP vertex; ``size*size`` is ``pass``.

    >>> vertex(0, 19), vertex(8 * 19 + 8, 19), vertex(361, 19)
    ('A1', 'J9', 'pass')
    """
    if point == size * size:
        return "pass"
    if not 0 <= point < size * size:
        raise ValueError(f"point {point} is not on a {size}x{size} board")
    row, col = divmod(point, size)
    return f"{COLUMNS[col]}{row + 1}"


def parse_vertex(text: str, size: int) -> int:
    """A GTP vertex (``D4``, ``d4``, ``pass``) as a point index; pass is ``size*size``.

    Raises :class:`IllegalMoveError` for malformed or off-board vertices.

    >>> parse_vertex("J9", 19), parse_vertex("pass", 9)
    (160, 81)
    """
    t = text.strip().upper() if isinstance(text, str) else ""
    if t == "PASS":
        return size * size
    if len(t) < 2 or not t[1:].isdigit() or not t[1:].isascii():
        raise IllegalMoveError(f"malformed vertex {text!r} (expected e.g. 'D4' or 'pass')")
    letter = t[0]
    if letter == "I":
        raise IllegalMoveError(f"malformed vertex {text!r}: GTP columns skip the letter I")
    col = COLUMNS.find(letter)
    if col < 0:
        raise IllegalMoveError(f"malformed vertex {text!r}: column must be a letter A-Z without I")
    row = int(t[1:])
    if col >= size or not 1 <= row <= size:
        raise IllegalMoveError(f"vertex {text!r} is off the {size}x{size} board")
    return (row - 1) * size + col


def handicap_points(size: int, count: int) -> list[int]:
    """GTP ``fixed_handicap`` placement for ``count`` stones on a ``size`` board.

    Per the GTP spec: boards 7×7 and larger; stones on the 3-3 points below
    13×13, on the 4-4 points from 13×13 up; at most 4 stones on even sizes and
    7×7, at most 9 on odd sizes from 9×9. Order: two opposite corners, third
    and fourth corner, then (odd counts) the centre, sides, top/bottom.
    Raises :class:`ValueError` for a count/size without a standard placement.

    >>> [vertex(p, 19) for p in handicap_points(19, 5)]
    ['D4', 'Q16', 'D16', 'Q4', 'K10']
    """
    _check_size(size)
    if size < 7:
        raise ValueError(f"no fixed handicap placement on a {size}x{size} board (7x7 and up)")
    limit = 4 if size % 2 == 0 or size == 7 else 9
    if not isinstance(count, int) or not 2 <= count <= limit:
        raise ValueError(f"fixed handicap on {size}x{size} takes 2..{limit} stones, got {count!r}")
    lo = 2 if size < 13 else 3  # zero-based line of the handicap points
    hi, mid = size - 1 - lo, size // 2

    def pt(col: int, row: int) -> int:
        return row * size + col

    corners = [pt(lo, lo), pt(hi, hi), pt(lo, hi), pt(hi, lo)]
    if count <= 4:
        return corners[:count]
    centre = [pt(mid, mid)] if count % 2 else []
    sides = [pt(lo, mid), pt(hi, mid)] if count >= 6 else []
    ends = [pt(mid, lo), pt(mid, hi)] if count >= 8 else []
    return corners + sides + ends + centre


def _parse_color(color: int | str) -> int:
    """0/1 or a GTP colour word (``b``, ``black``, ``w``, ``white``) → turn value."""
    if isinstance(color, str):
        c = color.strip().lower()
        if c in ("b", "black"):
            return BLACK
        if c in ("w", "white"):
            return WHITE
    elif color in (BLACK, WHITE):
        return int(color)
    raise ValueError(f"invalid colour {color!r} (expected 0/1, 'b'/'black', 'w'/'white')")


# -- the position ---------------------------------------------------------------------


class GoState(GameState):
    """A go position with its full history, incremental groups and superko bookkeeping.

    >>> s = GoState.from_moves(9, 7.5, ["C3", "pass", "pass"])  # White to move, Black won
    >>> s.terminal(), s.score()
    (-1.0, 73.5)
    """

    game: ClassVar[str] = "go"

    def __init__(self, size: int = 19, komi: float = 7.5, *, black: Iterable[int] = (),
                 white: Iterable[int] = (), to_move: int | str = BLACK) -> None:
        """An empty board, or a set-up position with ``black``/``white`` stones.

        Set-up stones are the start of the history (ply 0); ``to_move`` picks who
        moves first. Raises :class:`InvalidPositionError` for stones off the
        board, on the same point twice, or in groups without liberties.
        """
        _check_size(size)
        self.size: int = size
        #: Points on the board; the pass move code.
        self.nn: int = size * size
        self.PASS: int = size * size
        #: Komi, added to White's area (may be changed between games/moves).
        self.komi: float = float(komi)
        self._nbrs = _neighbours(size)
        self._setup(list(black), list(white), _parse_color(to_move))

    # -- construction ---------------------------------------------------------------
    def _setup(self, black: list[int], white: list[int], to_move: int) -> None:
        """(Re)build every structure for a start position; clears the history."""
        n, nn = self.size, self.nn
        board = [EMPTY] * nn
        for color, pts in ((BLACK_STONE, black), (WHITE_STONE, white)):
            for p in pts:
                if not isinstance(p, (int, np.integer)) or not 0 <= p < nn:
                    raise InvalidPositionError(f"set-up stone {p!r} is not on the {n}x{n} board")
                if board[p]:
                    raise InvalidPositionError(f"set-up stones overlap at {vertex(int(p), n)}")
                board[p] = color
        black, white = [int(p) for p in black], [int(p) for p in white]
        nbrs = self._nbrs
        self._board: list[int] = board
        self._gid: list[int] = [-1] * nn
        self._gstones: list[list[int] | None] = [None] * nn
        self._glibs: list[set[int] | None] = [None] * nn
        self._atari: set[int] = set()
        h = 0
        for p in range(nn):
            if board[p] and self._gid[p] < 0:
                color = board[p]
                group, libs, stack = [p], set(), [p]
                self._gid[p] = p
                while stack:
                    s = stack.pop()
                    for q in nbrs[s]:
                        v = board[q]
                        if v == EMPTY:
                            libs.add(q)
                        elif v == color and self._gid[q] < 0:
                            self._gid[q] = p
                            group.append(q)
                            stack.append(q)
                if not libs:
                    raise InvalidPositionError(
                        f"set-up group at {vertex(p, n)} has no liberties")
                self._gstones[p] = group
                self._glibs[p] = libs
                if len(libs) == 1:
                    self._atari.add(p)
            if board[p]:
                h ^= _Z[board[p]][p]
        self._empties: set[int] = {p for p in range(nn) if not board[p]}
        self._enbr: list[int] = [sum(1 for q in nbrs[p] if not board[q]) for p in range(nn)]
        self._tight: set[int] = {p for p in self._empties if self._enbr[p] == 0}
        self._black0, self._white0, self._turn0 = list(black), list(white), to_move
        self._turn: int = to_move
        self._passes: int = 0
        self._hash: int = h
        self._nstones: int = nn - len(self._empties)
        self._hashes: list[int] = [h]
        self._seen: dict[int, int] = {h: 1}
        self._by_count: defaultdict[int, list[int]] = defaultdict(list)
        self._by_count[self._nstones].append(h)
        self._undo: list[tuple] = []
        self._legal: list[int] | None = None
        self._banned: dict[int, str] | None = None
        self._area_cache: dict[int, int] = {}

    @classmethod
    def from_moves(cls, size: int, komi: float, moves: Iterable[int | str]) -> "GoState":
        """Play ``moves`` (codes or GTP vertices, colours alternating from Black) on an empty board.

        Every move is checked; an illegal one raises :class:`IllegalMoveError`.
        """
        s = cls(size, komi)
        for m in moves:
            if isinstance(m, str):
                m = s.parse_move(m)
            elif not s.is_legal(int(m)):
                raise IllegalMoveError(
                    f"illegal move {m!r} ({s._why(int(m), s._turn + 1)}) at ply {s.ply}\n{s}")
            s.push(int(m))
        return s

    @classmethod
    def with_handicap(cls, size: int, komi: float, count: int) -> "GoState":
        """An empty board with GTP fixed handicap stones for Black; White to move."""
        return cls(size, komi, black=handicap_points(size, count), to_move=WHITE)

    def place_handicap(self, points: Sequence[int]) -> None:
        """Free handicap: put Black stones on ``points`` of the empty board; White moves next.

        GTP's rules apply: only on an empty board before any move, 2 to N*N-1
        distinct on-board points. Raises :class:`ValueError` otherwise.
        """
        if self._undo or self._nstones:
            raise ValueError("handicap stones can only be placed on an empty board")
        pts = [int(p) for p in points]
        if not 2 <= len(pts) <= self.nn - 1:
            raise ValueError(f"free handicap takes 2..{self.nn - 1} stones, got {len(pts)}")
        if len(set(pts)) != len(pts) or not all(0 <= p < self.nn for p in pts):
            raise ValueError(f"free handicap points must be distinct on-board points: {pts}")
        self._setup(pts, [], WHITE)

    def place_fixed_handicap(self, count: int) -> list[int]:
        """GTP ``fixed_handicap``: place the standard stones (see :func:`handicap_points`)."""
        pts = handicap_points(self.size, count)
        self.place_handicap(pts)
        return pts

    # -- GameState ------------------------------------------------------------------
    @property
    def turn(self) -> int:
        return self._turn

    @property
    def ply(self) -> int:
        return len(self._undo)

    def set_turn(self, color: int | str) -> None:
        """Give the move to ``color`` without playing (GTP ``genmove`` out of turn)."""
        self._turn = _parse_color(color)
        self._legal = self._banned = None

    def legal_moves(self) -> Sequence[int]:
        """All legal points in ascending order, then PASS (always legal). Cached; don't mutate."""
        legal = self._legal
        if legal is None:
            legal = sorted(self._empties)
            banned = self._compute_banned()
            if banned:
                for p in banned:  # few: a list removal beats a set difference of the board
                    del legal[bisect_left(legal, p)]
            legal.append(self.nn)
            self._legal = legal
        return legal

    def _compute_banned(self) -> dict[int, str]:
        """Empty points the side to move may not play, with the reason."""
        banned = self._banned
        if banned is not None:
            return banned
        banned = {}
        c = self._turn + 1
        o = 3 - c
        board, gid, glibs, nbrs = self._board, self._gid, self._glibs, self._nbrs
        # suicide: only tight points (no empty neighbour) can be
        for p in self._tight:
            for q in nbrs[p]:
                n_libs = len(glibs[gid[q]])
                if board[q] == c:
                    if n_libs > 1:
                        break
                elif n_libs == 1:
                    break
            else:
                banned[p] = "suicide"
        h, seen, zc = self._hash, self._seen, _Z[c]
        # capturing moves: the single liberty of an enemy group in atari
        caps: dict[int, int] = {}
        if self._atari:
            zo, gstones = _Z[o], self._gstones
            for g in self._atari:
                if board[g] == o:
                    for q in glibs[g]:
                        x = caps.get(q, 0)
                        for s in gstones[g]:
                            x ^= zo[s]
                        caps[q] = x
            for q, x in caps.items():
                if h ^ zc[q] ^ x in seen:
                    banned[q] = "superko"
        # non-capturing moves: only earlier positions with one stone more can repeat
        bucket = self._by_count.get(self._nstones + 1)
        if bucket:
            inv, nn = _ZINV[c], self.nn
            for e in bucket:
                p = inv.get(e ^ h)
                if p is not None and p < nn and not board[p] and p not in caps and p not in banned:
                    banned[p] = "superko"
        self._banned = banned
        return banned

    def is_legal(self, move: int) -> bool:
        if move == self.nn:
            return True
        if not 0 <= move < self.nn or self._board[move]:
            return False
        return move not in self._compute_banned()

    def push(self, move: int) -> None:
        """Play ``move`` for the side to move (assumed legal)."""
        t = self._turn
        self._do(move, t + 1, t)
        self._turn = 1 - t

    def play_color(self, color: int | str, move: int) -> None:
        """Play ``move`` for ``color`` even out of turn (GTP ``play``); the other colour moves next.

        Unlike :meth:`push` this checks legality for ``color`` and raises
        :class:`IllegalMoveError` (the state is unchanged then). :meth:`pop`
        gives the move back to whoever was to move before.
        """
        col = _parse_color(color)
        why = self._why(move, col + 1)
        if why:
            raise IllegalMoveError(
                f"illegal move {self._text(move)!r} for {'black' if col == BLACK else 'white'}"
                f": {why}\n{self}")
        self._do(move, col + 1, self._turn)
        self._turn = 1 - col

    def _text(self, move: int) -> str:
        try:
            return vertex(move, self.size)
        except (ValueError, TypeError):
            return repr(move)

    def _do(self, p: int, c: int, prev_turn: int) -> None:
        """Put a ``c`` stone on ``p`` (or pass), merge, capture; push the undo record.

        Undo records: ``(PASS, c, prev_turn, prev_passes)`` for a pass, else
        ``(p, c, prev_turn, prev_passes, head, merge, enemies, captured)`` where
        ``merge`` is ``None`` (new lone group) or ``(old_len, added_libs, others)``,
        ``others``/``captured`` hold ``(id, stones, libs)`` of groups merged away /
        removed (their list and set objects are kept untouched for the undo).
        """
        self._legal = self._banned = None
        if p == self.nn:
            self._undo.append((p, c, prev_turn, self._passes))
            self._passes += 1
            h = self._hash
            self._hashes.append(h)
            seen = self._seen
            seen[h] = seen.get(h, 0) + 1
            self._by_count[self._nstones].append(h)
            return
        board, gid, gstones, glibs = self._board, self._gid, self._gstones, self._glibs
        enbr, tight, atari, nbrs = self._enbr, self._tight, self._atari, self._nbrs
        board[p] = c
        self._empties.remove(p)
        tight.discard(p)
        h = self._hash ^ _Z[c][p]
        friends: list[int] = []
        enemies: list[int] = []
        newlibs: list[int] = []
        for q in nbrs[p]:
            enbr[q] -= 1
            v = board[q]
            if v == 0:
                newlibs.append(q)
                if enbr[q] == 0:
                    tight.add(q)
            elif v == c:
                g = gid[q]
                if g not in friends:
                    friends.append(g)
            else:
                g = gid[q]
                if g not in enemies:
                    enemies.append(g)
        # join the friendly groups into the largest one
        if not friends:
            head = p
            gid[p] = p
            gstones[p] = [p]
            libs = glibs[p] = set(newlibs)
            merge = None
        else:
            head = friends[0]
            if len(friends) > 1:
                n_head = len(gstones[head])
                for g in friends:
                    if len(gstones[g]) > n_head:
                        head, n_head = g, len(gstones[g])
            stones = gstones[head]
            libs = glibs[head]
            oldlen = len(stones)
            libs.discard(p)
            added = []
            for q in newlibs:
                if q not in libs:
                    libs.add(q)
                    added.append(q)
            stones.append(p)
            gid[p] = head
            others = []
            if len(friends) > 1:
                for g in friends:
                    if g != head:
                        gs, gl = gstones[g], glibs[g]
                        others.append((g, gs, gl))
                        for q in gl:
                            if q != p and q not in libs:
                                libs.add(q)
                                added.append(q)
                        for s in gs:
                            gid[s] = head
                        stones.extend(gs)
                        atari.discard(g)
            merge = (oldlen, added, others)
        # take the point from enemy liberties; capture what is left without any
        captured = []
        for g in enemies:
            el = glibs[g]
            el.discard(p)
            n_libs = len(el)
            if n_libs == 1:
                atari.add(g)
            elif n_libs == 0:
                atari.discard(g)
                captured.append((g, gstones[g], el))
        ncap = 0
        if captured:
            zo, empties = _Z[3 - c], self._empties
            gainers = []
            for g, gs, el in captured:
                ncap += len(gs)
                for s in gs:
                    board[s] = 0
                    h ^= zo[s]
                    empties.add(s)
            for g, gs, el in captured:
                for s in gs:
                    for q in nbrs[s]:
                        enbr[q] += 1
                        if board[q] == c:
                            f = gid[q]
                            glibs[f].add(s)
                            gainers.append(f)
            for g, gs, el in captured:
                for s in gs:
                    if enbr[s] == 0:
                        tight.add(s)
            for f in gainers:
                if len(glibs[f]) == 1:
                    atari.add(f)
                else:
                    atari.discard(f)
        if len(libs) == 1:
            atari.add(head)
        else:
            atari.discard(head)
        self._undo.append((p, c, prev_turn, self._passes, head, merge, enemies, captured))
        self._passes = 0
        self._hash = h
        n = self._nstones = self._nstones + 1 - ncap
        self._hashes.append(h)
        seen = self._seen
        seen[h] = seen.get(h, 0) + 1
        self._by_count[n].append(h)

    def pop(self) -> int:
        """Take back the last move (restores board, groups, hashes, turn, pass count)."""
        if not self._undo:
            raise IndexError("pop from a GoState with no moves played")
        rec = self._undo.pop()
        h = self._hashes.pop()
        seen = self._seen
        k = seen[h]
        if k == 1:
            del seen[h]
        else:
            seen[h] = k - 1
        self._by_count[self._nstones].pop()
        self._legal = self._banned = None
        p = rec[0]
        self._turn = rec[2]
        self._passes = rec[3]
        if p == self.nn:
            return p
        _, c, _, _, head, merge, enemies, captured = rec
        board, gid, gstones, glibs = self._board, self._gid, self._gstones, self._glibs
        enbr, tight, atari, nbrs, empties = self._enbr, self._tight, self._atari, self._nbrs, self._empties
        if captured:
            o = 3 - c
            ncap = 0
            for g, gs, el in captured:
                ncap += len(gs)
                gstones[g] = gs
                glibs[g] = el
                for s in gs:
                    board[s] = o
                    gid[s] = g
                    empties.remove(s)
                    tight.discard(s)
            losers = []
            for g, gs, el in captured:
                for s in gs:
                    for q in nbrs[s]:
                        enbr[q] -= 1
                        if board[q] == c:
                            f = gid[q]
                            glibs[f].discard(s)
                            losers.append(f)
            for f in losers:
                if len(glibs[f]) == 1:
                    atari.add(f)
                else:
                    atari.discard(f)
            self._nstones += ncap
        for g in enemies:
            el = glibs[g]
            el.add(p)
            if len(el) == 1:
                atari.add(g)
            else:
                atari.discard(g)
        if merge is None:
            atari.discard(p)
        else:
            oldlen, added, others = merge
            stones, libs = gstones[head], glibs[head]
            del stones[oldlen:]
            libs.difference_update(added)
            libs.add(p)
            for g, gs, gl in others:
                gstones[g] = gs
                glibs[g] = gl
                for s in gs:
                    gid[s] = g
                if len(gl) == 1:
                    atari.add(g)
                else:
                    atari.discard(g)
            if len(libs) == 1:
                atari.add(head)
            else:
                atari.discard(head)
        board[p] = 0
        empties.add(p)
        for q in nbrs[p]:
            enbr[q] += 1
            if enbr[q] == 1 and not board[q]:
                tight.discard(q)
        if enbr[p] == 0:
            tight.add(p)
        self._nstones -= 1
        self._hash = self._hashes[-1]
        return p

    def copy(self) -> "GoState":
        """An independent copy with the full history (replays the moves: O(ply))."""
        new = object.__new__(GoState)
        new.size, new.nn, new.PASS = self.size, self.nn, self.PASS
        new.komi, new._nbrs = self.komi, self._nbrs
        new._setup(list(self._black0), list(self._white0), self._turn0)
        for rec in self._undo:
            new._do(rec[0], rec[1], rec[2])
        new._turn = self._turn
        return new

    def terminal(self) -> float | None:
        """After two consecutive passes: WIN/LOSS/DRAW for the side to move by area score."""
        if self._passes < 2:
            return None
        s = self.score()
        if s == 0:
            return DRAW
        black_wins = s > 0
        return WIN if black_wins == (self._turn == BLACK) else LOSS

    def final_score(self) -> float | None:
        """After two passes, the area score (komi included) for the side to move, else None."""
        if self._passes < 2:
            return None
        s = self.score()
        return s if self._turn == BLACK else -s

    def key(self) -> int:
        """Hash of the last 8 boards, side to move, pass count, komi, board size and superko bans."""
        banned = self._compute_banned()
        ko = tuple(sorted(p for p, why in banned.items() if why == "superko")) if banned else ()
        return hash((tuple(self._hashes[-8:]), self._turn, min(self._passes, 2), self.komi, self.size,
                     ko)) & _MASK64

    def move_to_text(self, move: int) -> str:
        return vertex(move, self.size)

    def parse_move(self, text: str) -> int:
        """A GTP vertex → move code, checked for the side to move.

        Raises :class:`IllegalMoveError` saying why: malformed, off-board,
        occupied, suicide or superko.
        """
        move = parse_vertex(text, self.size)
        why = self._why(move, self._turn + 1)
        if why:
            who = "black" if self._turn == BLACK else "white"
            raise IllegalMoveError(f"illegal move {text!r} for {who}: {why}\n{self}")
        return move

    def _why(self, move: int, c: int) -> str | None:
        """Why ``move`` is illegal for stone colour ``c`` (``None`` if legal)."""
        nn = self.nn
        if not isinstance(move, (int, np.integer)) or not 0 <= move <= nn:
            return f"move code {move!r} is off the board"
        if move == nn:
            return None
        if self._board[move]:
            return "point occupied"
        if c == self._turn + 1:
            return self._compute_banned().get(move)
        # another colour than the side to move: check this point directly
        board, gid, glibs, gstones = self._board, self._gid, self._glibs, self._gstones
        o = 3 - c
        h = self._hash ^ _Z[c][move]
        breathes = self._enbr[move] > 0
        done: list[int] = []
        for q in self._nbrs[move]:
            g = gid[q]
            if board[q] == c:
                breathes = breathes or len(glibs[g]) > 1
            elif board[q] == o and len(glibs[g]) == 1 and g not in done:
                done.append(g)
                breathes = True
                for s in gstones[g]:
                    h ^= _Z[o][s]
        if not breathes:
            return "suicide"
        if h in self._seen:
            return "superko"
        return None

    # -- go specifics ---------------------------------------------------------------
    @property
    def consecutive_passes(self) -> int:
        """Passes played in a row at the end of the history."""
        return self._passes

    @property
    def position_hash(self) -> int:
        """Zobrist hash of the stones alone (what positional superko compares)."""
        return self._hash

    def move_history(self) -> list[tuple[int, int]]:
        """``(colour, move)`` for every move since the start position (colour 0 black, 1 white)."""
        return [(rec[1] - 1, rec[0]) for rec in self._undo]

    def last_move(self) -> int | None:
        """The last move code, or ``None`` at the start position."""
        return self._undo[-1][0] if self._undo else None

    def board_list(self) -> list[int]:
        """The board as a fresh list of N*N ints: 0 empty, 1 black, 2 white."""
        return list(self._board)

    def stones(self) -> np.ndarray:
        """int8 [N, N] of 0 empty / 1 black / 2 white; ``[row, col]`` with row 0 = GTP row 1."""
        return np.array(self._board, dtype=np.int8).reshape(self.size, self.size)

    def board_history(self, k: int = 8) -> list[np.ndarray]:
        """The last ``k`` boards, most recent first, each int8 [N*N] (0 empty, 1 black, 2 white).

        Fewer than ``k`` come back when the game has fewer positions (ply + 1);
        codecs pad as their format wants. Rebuilt from the undo records, so each
        older board costs one small array copy.
        """
        cur = np.array(self._board, dtype=np.int8)
        out = [cur]
        undo = self._undo
        nn = self.nn
        for i in range(1, min(k, len(undo) + 1)):
            rec = undo[-i]
            p = rec[0]
            if p != nn:
                cur = cur.copy()
                cur[p] = 0
                o = 3 - rec[1]
                for _, gs, _ in rec[7]:
                    cur[gs] = o
            out.append(cur)
        return out

    # -- read-only views for feature encoders (the internal objects: never mutate them) --
    def undo_records(self) -> list[tuple]:
        """The internal undo records, oldest first: ``rec[0]`` move, ``rec[1]`` stone colour (1/2).

        The list and its tuples are live internals (a record object stays the
        same while its move is on the stack); callers must treat them as read-only.
        """
        return self._undo

    def setup_position(self) -> tuple[list[int], list[int], int]:
        """The start position: set-up black points, white points, side to move at ply 0 (read-only)."""
        return self._black0, self._white0, self._turn0

    def hash_history(self) -> list[int]:
        """Stone hashes of every position since the start, index = ply (live list: read-only)."""
        return self._hashes

    def position_seen(self, h: int) -> bool:
        """Whether the stone hash ``h`` occurred at any ply so far (what positional superko checks)."""
        return h in self._seen

    def liberties(self, point: int) -> int:
        """Liberty count of the group on ``point`` (0 for an empty point)."""
        if not self._board[point]:
            return 0
        return len(self._glibs[self._gid[point]])

    def group(self, point: int) -> list[int]:
        """Sorted stones of the group on ``point`` (empty list for an empty point)."""
        if not self._board[point]:
            return []
        return sorted(self._gstones[self._gid[point]])

    def area_ownership(self) -> np.ndarray:
        """int8 [N*N]: +1 black area, -1 white area, 0 neutral (Tromp–Taylor)."""
        board, nbrs = self._board, self._nbrs
        own = np.zeros(self.nn, dtype=np.int8)
        for p, v in enumerate(board):
            if v:
                own[p] = 1 if v == BLACK_STONE else -1
        seen: set[int] = set()
        for start in self._empties:
            if start in seen:
                continue
            region, reach, stack = [start], 0, [start]
            seen.add(start)
            while stack:
                s = stack.pop()
                for q in nbrs[s]:
                    v = board[q]
                    if v:
                        reach |= v
                    elif q not in seen:
                        seen.add(q)
                        region.append(q)
                        stack.append(q)
            if reach == BLACK_STONE or reach == WHITE_STONE:
                own[region] = 1 if reach == BLACK_STONE else -1
        return own

    def area(self) -> int:
        """Black area minus White area (no komi), Tromp–Taylor."""
        cached = self._area_cache.get(self._hash)
        if cached is None:
            cached = int(self.area_ownership().sum(dtype=np.int64))
            if len(self._area_cache) > 4096:
                self._area_cache.clear()
            self._area_cache[self._hash] = cached
        return cached

    def score(self) -> float:
        """Black area minus White area minus komi (positive: Black leads)."""
        return self.area() - self.komi

    def score_text(self) -> str:
        """The score as GTP ``final_score`` writes it: ``B+3.5``, ``W+0.5`` or ``0``."""
        s = self.score()
        if s == 0:
            return "0"
        return f"B+{s:g}" if s > 0 else f"W+{-s:g}"

    def __str__(self) -> str:
        n = self.size
        letters = "   " + " ".join(COLUMNS[:n])
        marks = ".XO"
        lines = [letters]
        for row in range(n - 1, -1, -1):
            body = " ".join(marks[v] for v in self._board[row * n:(row + 1) * n])
            lines.append(f"{row + 1:>2} {body} {row + 1}")
        lines.append(letters)
        who = "Black" if self._turn == BLACK else "White"
        lines.append(f"{who} to move, komi {self.komi:g}, ply {self.ply}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<GoState {self.size}x{self.size} komi={self.komi:g} ply={self.ply} turn={self._turn}>"
