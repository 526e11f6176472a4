"""KataGo's network inputs, version 7 (22 spatial planes, 19 globals), exact and incremental.

Model versions 8–17 of KataGo's nets read these inputs (KataGo v1.17.2,
``NNInputs::fillRowV7`` in ``cpp/neuralnet/nninputs.cpp``). :class:`KataFeatures`
writes them for a :class:`~engine.games.go.GoState`, for the side to move,
into preallocated float32 arrays ``spatial[22, N, N]`` and ``glob[19]``::

    feats = KataFeatures(19, KataRules.from_name("chinese"))
    feats.fill(state, spatial, glob)

Orientation: plane element ``[c, y, x]`` is KataGo's ``y``-th row from the
**top** (GTP row ``N - y``) and column ``x`` (GTP letter ``x``); GoState's point
``row * N + col`` (row 0 at the bottom) sits at ``[c, N - 1 - row, col]``.

Planes (pla = side to move, opp = the other colour)
---------------------------------------------------
==========  ===================================================================
0           on board (all ones)
1, 2        pla stones, opp stones
3, 4, 5     stones whose chain has exactly 1, 2, 3 liberties
6           points banned by ko: KataGo's simple-ko point (set by any rule) plus,
            for positional/situational superko, every other point whose move
            would repeat an earlier position (for Tabula's default rules: exactly
            the points :meth:`GoState._compute_banned` gives as "superko")
7, 8        encore ko features (territory scoring only): always zero here
9 … 13      where the last 1 … 5 moves were played, newest first; only while
            the movers alternate opp, pla, opp …; a pass sets global 0 … 4
14          stones of every chain with 1 or 2 liberties that can be captured in
            a ladder (either colour)
15, 16      the same for the board 1 and 2 moves ago (the current / previous
            board when fewer moves of history are included)
17          for opp chains with 2 liberties that are laddered: the atari moves
            that work
18, 19      pla / opp area (KataGo ``calculateArea``: Benson pass-alive chains and
            territory, other one-colour empty regions, remaining stones)
20, 21      second-encore start stones (territory scoring only): always zero
==========  ===================================================================

Globals: 0–4 passes among the last 5 moves; 5 komi from pla's view / 20
(White's komi plus handicap bonus and draw adjustment, negated for Black,
clipped to ±(N² + 20)); 6, 7 ko rule (simple 0, 0; positional 1, 0.5;
situational 1, −0.5); 8 multi-stone suicide legal; 9 territory scoring (0);
10, 11 tax (0); 12, 13 encore phase (0); 14 a pass now would end the game; 15, 16
playout-doubling advantage; 17 button (0); 18 the komi-parity triangle wave.

Rules (:class:`KataRules`): area scoring, no tax, no button are fixed — there
are no territory/Japanese encore features, so planes 7, 8, 20, 21 and globals
9–13, 17 stay zero. Ko rule, multi-stone suicide, handicap bonus and friendly
passes are free; :meth:`KataRules.from_name` has KataGo's area-scoring presets
(``rules.cpp``). The moves themselves are always GoState's (positional superko,
no suicide); the rules only change what the features say. History counters
follow KataGo's ``BoardHistory`` (game end after two passes, or a repeated pass
under simple ko; moves after the end; a friendly pass hides the history).
``MiscNNInputParams`` are KataGo's defaults (no conservative pass, no passing
hacks); the draw utility is a constructor argument. Not reproduced: KataGo's
no-result ending of long simple-ko cycles (GoState's superko never allows
one) and its option to count initial black moves as handicap stones (set-up
black stones do count).

The KataGo board port is in :mod:`engine.codecs.katago_board`, the ladder
and area reuse between positions in :mod:`engine.codecs.katago_incremental`.

Not thread-safe: use one :class:`KataFeatures` per search thread.
"""

from __future__ import annotations

import argparse
import random
import time
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..games.go import _Z, GoState
from .katago_board import BLACK, EMPTY, LADDER_BUDGET, WHITE, KataBoard
from .katago_incremental import (AreaRecord, LadderEntry, area_full, area_incremental, area_planes,
                                 ladder_scan, liberty_classes, liberty_classes_after, point_mask)

__all__ = ["KataRules", "KataFeatures", "SPATIAL_FEATURES", "GLOBAL_FEATURES", "LADDER_BUDGET"]

#: Spatial planes and global features of inputs version 7.
SPATIAL_FEATURES, GLOBAL_FEATURES = 22, 19
#: NNPos::KOMI_CLIP_RADIUS.
KOMI_CLIP_RADIUS = 20.0



# -- rules ------------------------------------------------------------------------------------

_KO_RULES = ("simple", "positional", "situational")
_BONUS_RULES = ("0", "N", "N-1")


@dataclass(frozen=True)
class KataRules:
    """The part of KataGo's ``Rules`` the version-7 inputs see, for area scoring.

    Scoring is area, tax none, button off (fixed). ``ko``: "simple",
    "positional" or "situational"; ``multi_stone_suicide``: suicide of more than
    one stone legal; ``white_handicap_bonus``: "0", "N" or "N-1" (komi bonus for
    White per handicap stone); ``friendly_pass_ok``: KataGo hides the move
    history when a pass would end the game after a single pass (it treats the
    opponent's pass as friendly). The default is Tabula's own go rules:
    positional superko, suicide illegal, no handicap bonus, two passes end it.
    """

    ko: str = "positional"
    multi_stone_suicide: bool = False
    white_handicap_bonus: str = "0"
    friendly_pass_ok: bool = False

    def __post_init__(self) -> None:
        if self.ko not in _KO_RULES:
            raise ValueError(f"ko rule must be one of {_KO_RULES}, got {self.ko!r}")
        if self.white_handicap_bonus not in _BONUS_RULES:
            raise ValueError(f"white_handicap_bonus must be one of {_BONUS_RULES}, got {self.white_handicap_bonus!r}")

    @classmethod
    def from_name(cls, name: str) -> "KataRules":
        """KataGo's named presets that score by area without tax or button (``rules.cpp``).

        >>> KataRules.from_name("Chinese")
        KataRules(ko='simple', multi_stone_suicide=False, white_handicap_bonus='N', friendly_pass_ok=True)
        """
        key = "".join(ch for ch in name.lower() if ch.isalnum())
        rules = _PRESETS.get(key)
        if rules is None:
            raise ValueError(f"unknown or unsupported rules {name!r} (area scoring presets: "
                             f"{', '.join(sorted(_PRESET_NAMES))})")
        return rules

    @property
    def ko_globals(self) -> tuple[float, float]:
        """Globals 6 and 7 for the ko rule."""
        return {"simple": (0.0, 0.0), "positional": (1.0, 0.5), "situational": (1.0, -0.5)}[self.ko]


_PRESET_NAMES = ("tabula", "tromp-taylor", "chinese", "chinese-ogs", "chinese-kgs", "aga", "bga", "french",
                 "new-zealand", "nz", "goe", "ing")
_PRESETS: dict[str, KataRules] = {
    "tabula": KataRules(),
    "tromptaylor": KataRules("positional", True, "0", False),
    "chinese": KataRules("simple", False, "N", True),
    "chineseogs": KataRules("positional", False, "N", True),
    "chinesekgs": KataRules("positional", False, "N", True),
    "aga": KataRules("situational", False, "N-1", True),
    "bga": KataRules("situational", False, "N-1", True),
    "french": KataRules("situational", False, "N-1", True),
    "newzealand": KataRules("situational", True, "0", True),
    "nz": KataRules("situational", True, "0", True),
    "goe": KataRules("positional", True, "0", True),
    "ing": KataRules("positional", True, "0", True),
}


# -- per-position data ----------------------------------------------------------------------------

class _Node:
    """A position reached by one exact move sequence: KataGo board, history counters, cached results."""

    __slots__ = ("kb", "d0", "libcls", "scan", "area", "nvalid", "finished", "passes", "pass_hashes")
    area: "AreaRecord | None"

    def __init__(self, kb: KataBoard, d0: frozenset | None, nvalid: int, finished: bool, passes: int,
                 pass_hashes: frozenset, libcls: bytearray | None = None) -> None:
        self.kb, self.d0 = kb, d0
        #: per loc: liberties of the stone's chain capped at 4 (0 for no stone)
        self.libcls = libcls if libcls is not None else liberty_classes(kb)
        self.scan: list[LadderEntry] | None = None
        self.area = None
        #: BoardHistory's numApproxValidTurnsThisPhase (capped at 5), isGameFinished,
        #: consecutiveEndingPasses (capped at 3), hashes before earlier passes (simple ko only).
        self.nvalid, self.finished, self.passes, self.pass_hashes = nvalid, finished, passes, pass_hashes


class KataFeatures:
    """Fills KataGo's version-7 input features for GoState positions of one board size.

    ``rules``: :class:`KataRules` (default: Tabula's rules). ``draw_equivalent_wins_for_white``:
    KataGo's draw utility (only matters for integer komi). ``playout_doubling_advantage``:
    globals 15/16. ``pass_alive_suicide``: override the suicide flag of the
    pass-alive computation (KataGo's ``alwaysComputePassAliveUnderSuicideRules``).
    ``cache_size``: positions kept. ``incremental=False`` disables every cache and
    reuse (reference behaviour, slow); ``debug=True`` checks the reuse machinery
    against full recomputations at every fill (for tests).
    """

    def __init__(self, size: int, rules: KataRules | None = None, *, draw_equivalent_wins_for_white: float = 0.5,
                 playout_doubling_advantage: float = 0.0, pass_alive_suicide: bool | None = None,
                 cache_size: int = 1024, incremental: bool = True, debug: bool = False) -> None:
        if not 2 <= size <= 25:
            raise ValueError(f"board size must be 2..25, got {size}")
        self.size = n = size
        self.rules = rules if rules is not None else KataRules()
        self.draw_equivalent_wins_for_white = float(draw_equivalent_wins_for_white)
        self.playout_doubling_advantage = float(playout_doubling_advantage)
        self.pass_alive_suicide = self.rules.multi_stone_suicide if pass_alive_suicide is None else bool(pass_alive_suicide)
        self.cache_size = max(8, int(cache_size))
        self.incremental = incremental
        self.debug = debug
        w = n + 1
        #: KataGo loc of each GoState point, and of each feature position (y from the top).
        self._loc = [(p % n + 1) + (n - p // n) * w for p in range(n * n)]
        self._pos = [(n - 1 - p // n) * n + p % n for p in range(n * n)]
        self._loc_of_pos = np.array([(x + 1) + (y + 1) * w for y in range(n) for x in range(n)], dtype=np.intp)
        self._pos_of_loc = {int(loc): i for i, loc in enumerate(self._loc_of_pos)}
        self._pt_of_loc = {loc: p for p, loc in enumerate(self._loc)}
        self._gnb = _point_neighbours(n)
        self._nbm = [0] * (w * (n + 2) + 1)
        for loc in self._loc:
            self._nbm[loc] = point_mask({loc, loc - w, loc - 1, loc + 1, loc + w})
        self._cache: dict[int, _Node] = {}
        self._glob_cache: dict[tuple, np.ndarray] = {}
        self._path_recs: list[tuple] = []
        self._path_keys: list[int] = []
        self._setup_key: tuple | None = None
        self._empty = KataBoard(n)

    # -- public -------------------------------------------------------------------------------
    def fill(self, state: GoState, spatial: np.ndarray, glob: np.ndarray) -> None:
        """Write ``state``'s 22 planes into ``spatial`` [22, N, N] and 19 globals into ``glob``.

        For the side to move, komi ``state.komi``; every element is overwritten.
        ``spatial`` must be C-contiguous (a row of a batch buffer is).
        """
        n = self.size
        if state.size != n:
            raise ValueError(f"KataFeatures for {n}x{n} got a {state.size}x{state.size} position")
        if spatial.shape != (SPATIAL_FEATURES, n, n) or glob.shape != (GLOBAL_FEATURES,):
            raise ValueError(f"expected spatial {(SPATIAL_FEATURES, n, n)} and glob {(GLOBAL_FEATURES,)}, "
                             f"got {spatial.shape} and {glob.shape}")
        if not spatial.flags.c_contiguous:
            raise ValueError("spatial must be C-contiguous")
        if not self.incremental:
            self.clear()
        keys = self._sync(state)
        recs = state.undo_records()
        ply = len(recs)
        node = self._node(state, keys, ply)
        flat = spatial.reshape(SPATIAL_FEATURES, n * n)
        flat[:] = 0.0
        glob[:] = 0.0
        pla = state.turn + 1
        opp = 3 - pla
        self._stone_planes(node, flat, pla, opp)
        for p in self._ko_points(state, node, recs):
            flat[6, p] = 1.0
        turns, suppress, ends = self._history(state, node, recs, pla, opp, flat, glob)
        self._ladder_planes(state, keys, ply, turns, flat, opp)
        area = self._area(state, keys, ply)
        flat[18] = area == pla
        flat[19] = area == opp
        self._globals(state, glob, pla, 0.0 if suppress else float(ends))

    def clear(self) -> None:
        """Forget every cached position."""
        self._cache.clear()
        self._path_recs.clear()
        self._path_keys.clear()
        self._setup_key = None

    # -- positions: keys, boards, history counters -------------------------------------------------
    def _sync(self, state: GoState) -> list[int]:
        """Keys of every position of ``state``'s history (index = ply); each names the whole move sequence."""
        black, white, _ = state.setup_position()
        setup = (tuple(black), tuple(white))
        recs = state.undo_records()
        old, keys = self._path_recs, self._path_keys
        if setup != self._setup_key:
            self._setup_key = setup
            old.clear()
            keys.clear()
            keys.append(hash((self.size, setup)))
        # identity prefix (records stay the same objects while on the stack), then equal moves
        lo, hi = 0, min(len(old), len(recs))
        while lo < hi:
            mid = (lo + hi) // 2
            if old[mid] is recs[mid]:
                lo = mid + 1
            else:
                hi = mid
        j = lo
        m = min(len(old), len(recs))
        while j < m and old[j][0] == recs[j][0] and old[j][1] == recs[j][1]:
            old[j] = recs[j]
            j += 1
        del old[j:]
        del keys[j + 1:]
        for k in range(j, len(recs)):
            r = recs[k]
            old.append(r)
            keys.append(hash((keys[-1], r[0], r[1])))
        return keys

    def _put(self, key: int, node: _Node) -> None:
        cache = self._cache
        cache[key] = node
        if len(cache) > self.cache_size:
            for k in list(cache)[: max(1, self.cache_size // 8)]:
                del cache[k]

    def _node(self, state: GoState, keys: list[int], i: int) -> _Node:
        """The node of ply ``i`` on ``state``'s path, derived from the nearest cached ancestor."""
        cache = self._cache
        node = cache.pop(keys[i], None)
        if node is not None:
            cache[keys[i]] = node       # most recently used last: eviction takes the oldest
            return node
        j = i
        while j >= 0 and keys[j] not in cache:
            j -= 1
        if j < 0:
            node = self._root(state)
            self._put(keys[0], node)
            j = 0
        else:
            node = cache[keys[j]]
        recs, hashes = state.undo_records(), state.hash_history()
        if i - j > 3:
            # long replay: play on one board, keep only the last few positions
            kb = node.kb.copy()
            counters = (node.nvalid, node.finished, node.passes, node.pass_hashes)
            for k in range(j, i - 3):
                counters = self._count(counters, recs[k], hashes[k])
                self._play(kb, recs[k])
            node = _Node(kb, None, *counters)
            self._put(keys[i - 3], node)
            j = i - 3
        for k in range(j, i):
            node = self._child(node, recs[k], hashes[k])
            self._put(keys[k + 1], node)
        return node

    def _root(self, state: GoState) -> _Node:
        black, white, _ = state.setup_position()
        kb = self._empty.copy()
        for c, pts in ((BLACK, black), (WHITE, white)):
            for p in pts:
                kb.play(self._loc[p], c)
        kb.ko = 0
        return _Node(kb, None, 0, False, 0, frozenset())

    def _play(self, kb: KataBoard, rec: tuple) -> frozenset:
        """Play a GoState move record on ``kb`` the KataGo way; the points it changed."""
        move, c = rec[0], rec[1]
        if move == self.size * self.size:
            kb.play(0, c)
            return frozenset()
        loc = self._loc[move]
        col, head, nlibs = kb.col, kb.head, kb.nlibs
        changed = {loc}
        opp = 3 - c
        for a in kb.adj:
            q = loc + a
            if col[q] == opp and nlibs[head[q]] == 1 and q not in changed:
                changed.update(kb.chain(q))
        kb.play(loc, c)
        return frozenset(changed)

    def _count(self, counters: tuple, rec: tuple, hash_before: int) -> tuple:
        """BoardHistory's counters after one more move (area scoring, no encore)."""
        nvalid, finished, passes, pass_hashes = counters
        if finished:
            nvalid = min(nvalid, 1)
        spight = False
        if rec[0] == self.size * self.size:
            passes = min(passes + 1, 3)
            if self.rules.ko == "simple":
                kh = (hash_before, rec[1])
                spight = kh in pass_hashes
                pass_hashes = pass_hashes | {kh}
        else:
            passes = 0
        return min(nvalid + 1, 5), passes >= 2 or spight, passes, pass_hashes

    def _child(self, parent: _Node, rec: tuple, hash_before: int) -> _Node:
        kb = parent.kb.copy()
        d0 = self._play(kb, rec)
        counters = self._count((parent.nvalid, parent.finished, parent.passes, parent.pass_hashes), rec, hash_before)
        return _Node(kb, d0, *counters, libcls=liberty_classes_after(kb, parent.libcls, d0))

    # -- planes ----------------------------------------------------------------------------------
    def _stone_planes(self, node: _Node, flat: np.ndarray, pla: int, opp: int) -> None:
        """Planes 0–5."""
        lp = self._loc_of_pos
        colf = np.frombuffer(node.kb.col, dtype=np.uint8)[lp]
        libs = np.frombuffer(node.libcls, dtype=np.uint8)[lp]
        flat[0] = 1.0
        flat[1] = colf == pla
        flat[2] = colf == opp
        flat[3] = libs == 1
        flat[4] = libs == 2
        flat[5] = libs == 3

    def _ko_points(self, state: GoState, node: _Node, recs: list[tuple]) -> list[int]:
        """Feature positions for plane 6: the simple-ko point plus superko bans."""
        out: list[int] = []
        kb = node.kb
        if kb.ko:
            out.append(self._pos_of_loc[kb.ko])
        if self.rules.ko == "simple" or not recs:
            return out
        ko_pt = self._pt_of_loc.get(kb.ko, -1)
        c = 3 - recs[-1][1]       # KataGo keeps the bans of the player after the last mover
        mss = self.rules.multi_stone_suicide
        if state.turn + 1 == c:
            banned = state._compute_banned()
            cand = [p for p, why in banned.items() if why == "superko" and p != ko_pt]
            if mss:
                board = state.board_list()
                cand += [p for p, why in banned.items()
                         if why == "suicide" and any(board[q] == c for q in self._gnb[p])
                         and state.position_seen(self._after_hash(state, board, p, c))]
        else:  # the side to move was changed by hand: check every point for that player
            board = state.board_list()
            loc = self._loc
            cand = [p for p in range(state.nn) if board[p] == EMPTY and p != ko_pt
                    and not kb.is_illegal_suicide(loc[p], c, mss)
                    and state.position_seen(self._after_hash(state, board, p, c))]
        if self.rules.ko == "situational" and cand:
            board = state.board_list()
            cand = [p for p in cand if self._situational(state, board, p, c, recs)]
        pos = self._pos
        out.extend(pos[p] for p in cand)
        return out

    def _after_hash(self, state: GoState, board: list[int], p: int, c: int) -> int:
        """Stone hash after colour ``c`` plays ``p`` (captures, or the suicide of the chains it joins)."""
        nb = self._gnb[p]
        h = state.position_hash ^ _Z[c][p]
        o = 3 - c
        done: set[int] = set()
        for q in nb:
            if board[q] == o and q not in done and state.liberties(q) == 1:
                for st in state.group(q):
                    done.add(st)
                    h ^= _Z[o][st]
        if not done and all(board[q] != EMPTY for q in nb) and \
                all(state.liberties(q) == 1 for q in nb if board[q] == c):
            h ^= _Z[c][p]
            for q in nb:
                if board[q] == c and q not in done:
                    for st in state.group(q):
                        done.add(st)
                        h ^= _Z[c][st]
        return h

    def _situational(self, state: GoState, board: list[int], p: int, c: int, recs: list[tuple]) -> bool:
        """Whether the position after ``c`` plays ``p``, with the other player to move, occurred before."""
        h = self._after_hash(state, board, p, c)
        hashes = state.hash_history()
        to_move_after = 3 - c
        first = state.setup_position()[2] + 1
        for i, hh in enumerate(hashes):
            if hh == h:
                mover_next = first if i == 0 else 3 - recs[i - 1][1]
                if mover_next == to_move_after:
                    return True
        return False

    def _history(self, state: GoState, node: _Node, recs: list[tuple], pla: int, opp: int,
                 flat: np.ndarray, glob: np.ndarray) -> tuple[int, bool, bool]:
        """Planes 9–13 and globals 0–4; returns (turns of history included, suppressed, pass ends game)."""
        spight = self.rules.ko == "simple" and (state.position_hash, pla) in node.pass_hashes
        ends = node.passes + 1 >= 2 or spight
        suppress = ends and self.rules.friendly_pass_ok and node.passes + 1 == 2 and not spight
        if suppress:
            most = 0
        elif node.finished:
            most = 1
        else:
            most = 5
        most = min(most, node.nvalid)
        nn = self.size * self.size
        pos = self._pos
        turns = 0
        want = opp
        for k in range(most):
            if k >= len(recs):
                break
            move, c = recs[-1 - k][0], recs[-1 - k][1]
            if c != want:
                break
            turns = k + 1
            if move == nn:
                glob[k] = 1.0
            else:
                flat[9 + k, pos[move]] = 1.0
            want = 3 - want
        return turns, suppress, ends

    def _scan_of(self, state: GoState, keys: list[int], i: int) -> list[LadderEntry]:
        """The ladder scan of ply ``i`` (from its parent's scan when that one is known)."""
        node = self._node(state, keys, i)
        if node.scan is None:
            parent = self._cache.get(keys[i - 1]) if i > 0 and self.incremental else None
            if parent is not None and parent.scan is not None and node.d0 is not None:
                node.scan = ladder_scan(node.kb, parent.scan, node.d0, self._nbm, self.debug)
            else:
                node.scan = ladder_scan(node.kb, None, None, self._nbm, self.debug)
        return node.scan

    def _ladder_planes(self, state: GoState, keys: list[int], ply: int, turns: int, flat: np.ndarray,
                       opp: int) -> None:
        prev = ply - 1 if turns >= 1 else ply
        prev2 = ply - 2 if turns >= 2 else prev
        scans = {}
        for i in sorted({prev2, prev, ply}):
            scans[i] = self._scan_of(state, keys, i)
        pos = self._pos_of_loc
        for plane, i in ((14, ply), (15, prev), (16, prev2)):
            row = flat[plane]
            for e in scans[i]:
                if e.lad:
                    for s in e.stones:
                        row[pos[s]] = 1.0
        row = flat[17]
        for e in scans[ply]:
            if e.lad and e.libs == 2 and e.color == opp:
                for m in e.work:
                    row[pos[m]] = 1.0

    def _area(self, state: GoState, keys: list[int], ply: int) -> np.ndarray:
        """Planes 18/19 source: KataGo's area (0 / BLACK / WHITE) by feature position."""
        node = self._node(state, keys, ply)
        mss = self.pass_alive_suicide
        if not self.incremental:
            return np.frombuffer(bytes(node.kb.area(mss)), dtype=np.uint8)[self._loc_of_pos]
        parent = self._cache.get(keys[ply - 1]) if ply > 0 else None
        if parent is None or parent.area is None or node.d0 is None:
            parent = None
        if node.area is None:
            if parent is not None:
                node.area = area_incremental(node.kb, parent.area, node.d0, mss, self._nbm)
            else:
                node.area = area_full(node.kb, mss, self._nbm)
        ar = node.area
        if ar.result is None:
            res = area_planes(node.kb, ar, parent.area if parent is not None else None,
                               point_mask(node.d0) if parent is not None else 0, self._nbm)
            ar.result = np.frombuffer(bytes(res), dtype=np.uint8)[self._loc_of_pos]
            if self.debug:
                ref = np.frombuffer(bytes(node.kb.area(mss)), dtype=np.uint8)[self._loc_of_pos]
                assert np.array_equal(ref, ar.result), "incremental area differs from calculateArea"
        return ar.result

    # -- globals ---------------------------------------------------------------------------------
    def _handicap_bonus(self, state: GoState) -> int:
        rule = self.rules.white_handicap_bonus
        if rule == "0":
            return 0
        black, white, _ = state.setup_position()
        stones = len(black) if not white and len(black) > 1 else 0
        if rule == "N":
            return stones
        return stones - 1 if stones > 1 else 0

    def _self_komi(self, state: GoState, pla: int) -> np.float32:
        f32 = np.float32
        komi = f32(state.komi)
        integer = float(int(komi)) == float(komi)
        draw = f32(self.draw_equivalent_wins_for_white - 0.5) if integer else f32(0.0)
        white = f32(f32(f32(0.0) + f32(self._handicap_bonus(state))) + komi) + draw
        return white if pla == WHITE else -white

    def _globals(self, state: GoState, glob: np.ndarray, pla: int, ends: float) -> None:
        key = (state.komi, pla, self._handicap_bonus(state))
        fixed = self._glob_cache.get(key)
        if fixed is None:
            fixed = self._glob_cache[key] = self.fixed_globals(state, pla)
        glob[5:14] = fixed[5:14]
        glob[14] = ends
        glob[15:] = fixed[15:]

    def fixed_globals(self, state: GoState, pla: int) -> np.ndarray:
        """Every global but the pass flags and 14, for this komi and side to move."""
        f32 = np.float32
        glob = np.zeros(GLOBAL_FEATURES, np.float32)
        komi = self._self_komi(state, pla)
        hi = f32(f32(self.size * self.size) + f32(KOMI_CLIP_RADIUS))
        if komi > hi:
            komi = hi
        if komi < -hi:
            komi = -hi
        glob[5] = komi / f32(20.0)
        glob[6], glob[7] = self.rules.ko_globals
        glob[8] = 1.0 if self.rules.multi_stone_suicide else 0.0
        if self.playout_doubling_advantage != 0.0:
            glob[15] = 1.0
            glob[16] = 0.5 * self.playout_doubling_advantage
        glob[18] = self._parity_wave(komi)
        return glob

    def _parity_wave(self, komi: np.float32) -> np.float32:
        """Global 18: triangle wave of the komi against the komis that allow a draw."""
        f32 = np.float32
        if (self.size * self.size) % 2 == 0:
            floor = f32(np.floor(komi / f32(2.0)) * f32(2.0))
        else:
            floor = f32(f32(np.floor((komi - f32(1.0)) / f32(2.0)) * f32(2.0)) + f32(1.0))
        delta = f32(komi - floor)
        delta = min(max(delta, f32(0.0)), f32(2.0))
        if delta < 0.5:
            return delta
        if delta < 1.5:
            return f32(f32(1.0) - delta)
        return f32(delta - f32(2.0))


# -- benchmark ----------------------------------------------------------------------------------

def _point_neighbours(n: int) -> list[tuple[int, ...]]:
    """Orthogonal neighbours of every GoState point of an n×n board."""
    out = []
    for p in range(n * n):
        r, c = divmod(p, n)
        out.append(tuple(q for q, ok in ((p - n, r > 0), (p - 1, c > 0), (p + 1, c < n - 1), (p + n, r < n - 1)) if ok))
    return out


def playable(s: GoState, nbrs: list[tuple[int, ...]]) -> list[int]:
    """Legal board moves of ``s`` that do not fill a single-point eye of the mover's own."""
    board = s.board_list()
    me = s.turn + 1
    return [m for m in s.legal_moves()[:-1] if not all(board[q] == me for q in nbrs[m])]


def random_game(size: int, plies: int, rng: random.Random) -> GoState:
    """A random-ish game: uniform legal moves, never filling a single-point eye of one's own."""
    s = GoState(size, 7.5)
    nbrs = _point_neighbours(size)
    for _ in range(plies):
        moves = playable(s, nbrs)
        s.push(rng.choice(moves) if moves else s.PASS)
    return s


def bench(games: int = 6, plies: int = 150, sims: int = 40, children: int = 6, seed: int = 1) -> dict[str, float]:
    """Mean µs per ``fill`` on random-ish 19×19 games of about ``plies`` moves.

    Per game: the root is encoded once (replaying the game), then ``sims``
    times a path of 1–4 random moves is walked down from the root and
    ``children`` children of its end are encoded, as a search expanding a
    leaf would (the path's nodes were encoded when they were leaves). Also
    times a from-scratch fill (``incremental=False``). Wall and CPU times.
    """
    rng = random.Random(seed)
    spatial = np.zeros((SPATIAL_FEATURES, 19, 19), np.float32)
    glob = np.zeros(GLOBAL_FEATURES, np.float32)
    nbrs = _point_neighbours(19)
    wall = {"leaf": 0.0, "root": 0.0, "scratch": 0.0}
    cpu = dict(wall)
    count = dict.fromkeys(wall, 0)

    def timed(kind: str, feats: KataFeatures, s: GoState) -> None:
        w0, c0 = time.perf_counter(), time.process_time()
        feats.fill(s, spatial, glob)
        wall[kind] += time.perf_counter() - w0
        cpu[kind] += time.process_time() - c0
        count[kind] += 1

    for _ in range(games):
        s = random_game(19, plies, rng)
        feats = KataFeatures(19)
        timed("root", feats, s)
        tree: dict[tuple, list[int]] = {(): []}
        for _ in range(sims):
            path: tuple = ()
            for _ in range(rng.randint(0, 3)):
                if not tree.get(path):
                    break
                m = rng.choice(tree[path])
                s.push(m)
                path += (m,)
            if not tree.get(path):
                kids = rng.sample(playable(s, nbrs), min(children, len(playable(s, nbrs))))
                tree[path] = kids
                for m in kids:
                    s.push(m)
                    timed("leaf", feats, s)
                    tree.setdefault(path + (m,), [])
                    s.pop()
            for _ in path:
                s.pop()
        timed("scratch", KataFeatures(19, incremental=False), s)
    out = {}
    for k in wall:
        out[f"{k}_wall_us"] = 1e6 * wall[k] / max(1, count[k])
        out[f"{k}_cpu_us"] = 1e6 * cpu[k] / max(1, count[k])
    out["leaves"] = count["leaf"]
    return out


def _main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="KataGo v7 input features: benchmark")
    ap.add_argument("--bench", action="store_true", help="time fill() on random-ish 19x19 games")
    ap.add_argument("--games", type=int, default=6)
    ap.add_argument("--plies", type=int, default=150)
    args = ap.parse_args(argv)
    if args.bench:
        r = bench(args.games, args.plies)
        print(f"19x19, random-ish games of {args.plies} moves, {r['leaves']} leaves")
        for kind, what in (("leaf", "leaf (child of an encoded node)"), ("root", "root (replays the game)"),
                           ("scratch", "from scratch (incremental=False)")):
            print(f"{what:36s} {r[kind + '_wall_us']:8.0f} us wall  {r[kind + '_cpu_us']:8.0f} us cpu")


if __name__ == "__main__":
    _main()
