"""KataGo's version-7 input features (22 planes, 19 globals) compiled, from a compiled go game.

:func:`fill` writes what :meth:`engine.codecs.katago_features.KataFeatures.fill` writes (the
reference; see its module doc for every plane and global), bit for bit, for the position of a
:class:`~engine.native.go_rules.GoArrays` that a search reached from its root: the KataGo board
(:mod:`engine.native.kata_board`) of the root, replayed once per search, plus the path's
moves; the ladder scans (:mod:`engine.native.kata_ladder`) of the position and of the boards
one and two moves before it, the latter two kept per move sequence in a small direct-mapped
cache (a search encodes a node's parent and grandparent before the node itself, so they are
nearly always there); the area (:mod:`engine.native.kata_area`); liberties, ko and superko
bans, history, pass flags. The globals that do not change within a search (komi, rules) come
from the reference, per side to move, in ``fixed``.

Served rules (:func:`serves`): positional superko (Tabula's own, the default, and KataGo's
Tromp-Taylor), multi-stone suicide legal or not, any handicap bonus, friendly passes or not, any
draw utility and pass-alive flag. Simple and situational ko change the ko and history features
(ko bans, spight endings): those stay on the reference's Python path.

Cache key: a hash of the whole move sequence from the set-up stones (``hseq``), as the
reference keys its positions: ladder answers depend on the chains' stone order, which the
sequence decides.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple, Sequence

import numpy as np
from numba import njit

from . import go_rules as gr
from .kata_area import AreaScratch, area, new_area_scratch
from .kata_board import BLACK, K_KO, K_N, K_W, WHITE, KataArrays, copy_into, new_board, play
from .kata_ladder import LadderScratch, new_scratch, scan

if TYPE_CHECKING:
    from ..codecs.katago_features import KataFeatures
    from ..games.go import GoState

SPATIAL, GLOBAL = 22, 19
#: ``params`` words: ladder node budget, root ply, pass-alive with multi-stone suicide, friendly
#: passes, multi-stone suicide legal (the rule: ko features)
P_BUDGET, P_ROOT, P_MSS, P_FRIENDLY, P_MSS_RULE = range(5)
#: ladder cache entries (a power of two)
CACHE_ENTRIES = 1 << 15


class KataCtx(NamedTuple):
    """What :func:`fill` works with during one search of an N×N board (S locs, NN points)."""

    params: np.ndarray   #: int64[5] P_BUDGET, P_ROOT, P_MSS, P_FRIENDLY, P_MSS_RULE
    fixed: np.ndarray    #: float32[2, 19] the globals that stay fixed, Black / White to move
    loc: np.ndarray      #: int32[NN] KataGo loc of each move code
    pos: np.ndarray      #: int32[NN] feature position (KataGo's y·N + x) of each move code
    kidx: np.ndarray     #: int64[NN+1] KataGo policy index of each move code (pass: NN)
    setup: np.ndarray    #: int32[K, 2] set-up stones (loc, colour) in the reference's order
    hseq: np.ndarray     #: uint64[H] hash of the move sequence up to each ply
    empty: KataArrays    #: the empty board
    root: KataArrays     #: the root's board
    kb: KataArrays       #: the encoded position's board
    work: KataArrays     #: scratch board of the ladder searches
    aux: KataArrays      #: a board before the root, when its scan is not cached
    sc: LadderScratch
    asc: AreaScratch
    lad: np.ndarray      #: uint8[S] stones a ladder captures
    lmoves: np.ndarray   #: uint8[S] working ataris (plane 17)
    own: np.ndarray      #: int8[S] KataGo's area
    legal: np.ndarray    #: uint8[NN+1] marks of the legal moves
    ckey: np.ndarray     #: uint64[C] ladder cache: sequence hash (0: free)
    cbits: np.ndarray    #: uint64[C, ⌈NN/64⌉] laddered stones by feature position


def serves(rules: object) -> bool:
    """Whether :func:`fill` reproduces the features under these :class:`KataRules` (positional superko)."""
    return getattr(rules, "ko", None) == "positional"


def new_ctx(n: int, history: int, setup: Sequence[tuple[int, int]], fixed: np.ndarray, *, budget: int,
            pass_alive_suicide: bool, friendly_pass_ok: bool, multi_stone_suicide: bool) -> KataCtx:
    """A context for searches of an ``n``×``n`` game with ``history`` plies of room;
    ``setup``: (move code, colour 1/2) of the set-up stones in the reference's order."""
    w = n + 1
    nn = n * n
    codes = np.arange(nn)
    r, c = codes // n, codes % n
    loc = ((c + 1) + (n - r) * w).astype(np.int32)
    pos = ((n - 1 - r) * n + c).astype(np.int32)
    kidx = np.append(pos, nn).astype(np.int64)
    params = np.zeros(5, np.int64)
    params[P_BUDGET], params[P_MSS], params[P_FRIENDLY] = budget, pass_alive_suicide, friendly_pass_ok
    params[P_MSS_RULE] = multi_stone_suicide
    st = np.array([(loc[p], col) for p, col in setup], np.int32).reshape(-1, 2)
    empty = new_board(n)
    size = empty.col.size
    return KataCtx(params, np.ascontiguousarray(fixed, np.float32).reshape(2, GLOBAL), loc, pos, kidx, st,
                   np.zeros(history, np.uint64), empty, new_board(n), new_board(n), new_board(n), new_board(n),
                   new_scratch(n), new_area_scratch(size), np.zeros(size, np.uint8), np.zeros(size, np.uint8),
                   np.zeros(size, np.int8), np.zeros(nn + 1, np.uint8), np.zeros(CACHE_ENTRIES, np.uint64),
                   np.zeros((CACHE_ENTRIES, (nn + 63) // 64), np.uint64))


# -- positions ---------------------------------------------------------------------------------------
@njit(cache=True, nogil=True, _nrt=False, inline="always")
def _seq(h: np.uint64, move: int, colour: int) -> np.uint64:
    """The sequence hash after one more move (never 0: 0 marks a free cache entry)."""
    x = h ^ (np.uint64(move * 4 + colour + 1) * np.uint64(0x9E3779B97F4A7C15))
    x ^= x >> np.uint64(30)
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(27)
    x *= np.uint64(0x94D049BB133111EB)
    x ^= x >> np.uint64(31)
    return x if x != np.uint64(0) else np.uint64(1)


@njit(cache=True, nogil=True, _nrt=False, inline="always")
def _play_code(ctx: KataCtx, kb: KataArrays, move: int, colour: int, nn: int) -> None:
    play(kb, 0 if move == nn else np.int64(ctx.loc[move]), colour)


@njit(cache=True, nogil=True, _nrt=False)
def _board_at(ctx: KataCtx, g: gr.GoArrays, ply: int, dst: KataArrays) -> None:
    """The KataGo board after the set-up stones and the moves 1 … ``ply`` of ``g``."""
    nn = g.meta[gr.M_NN]
    copy_into(dst, ctx.empty)
    for i in range(ctx.setup.shape[0]):
        play(dst, np.int64(ctx.setup[i, 0]), np.int64(ctx.setup[i, 1]))
    dst.meta[K_KO] = 0
    for j in range(1, ply + 1):
        _play_code(ctx, dst, np.int64(g.hmove[j]), np.int64(g.hcolour[j]), nn)


@njit(cache=True, nogil=True, _nrt=False)
def prepare_root(ctx: KataCtx, g: gr.GoArrays) -> None:
    """The root's board and the sequence hashes up to the root (``g``'s ply)."""
    ply = g.meta[gr.M_PLY]
    ctx.params[P_ROOT] = ply
    _board_at(ctx, g, ply, ctx.root)
    h = np.uint64(0x6A09E667F3BCC909) ^ np.uint64(g.meta[gr.M_SIZE])
    for i in range(ctx.setup.shape[0]):
        h = _seq(h, np.int64(ctx.setup[i, 0]), np.int64(ctx.setup[i, 1]))
    ctx.hseq[0] = h
    for j in range(1, ply + 1):
        ctx.hseq[j] = _seq(ctx.hseq[j - 1], np.int64(g.hmove[j]), np.int64(g.hcolour[j]))


# -- ladder scans, cached ---------------------------------------------------------------------------
@njit(cache=True, nogil=True, _nrt=False)
def _scan_into(ctx: KataCtx, kb: KataArrays, opp: int, entry: int) -> None:
    """Scan ``kb``; its laddered stones into cache entry ``entry`` (plane 17's moves in ``lmoves``)."""
    scan(kb, ctx.work, ctx.sc, ctx.params[P_BUDGET], opp, ctx.lad, ctx.lmoves)
    n = kb.meta[K_N]
    w = kb.meta[K_W]
    bits = ctx.cbits[entry]
    bits[:] = 0
    for y in range(n):
        for x in range(n):
            if ctx.lad[(x + 1) + (y + 1) * w]:
                p = y * n + x
                bits[p >> 6] |= np.uint64(1) << np.uint64(p & 63)


@njit(cache=True, nogil=True, _nrt=False)
def _entry(ctx: KataCtx, key: np.uint64) -> tuple[int, bool]:
    """The cache entry of ``key`` and whether it holds that key's scan."""
    e = np.int64(key & np.uint64(ctx.ckey.size - 1))
    return e, ctx.ckey[e] == key


@njit(cache=True, nogil=True, _nrt=False)
def _cached_scan(ctx: KataCtx, g: gr.GoArrays, ply: int) -> int:
    """The cache entry holding the scan of ply ``ply`` ≤ the root (made on the aux board if missing)."""
    e, hit = _entry(ctx, ctx.hseq[ply])
    if not hit:
        _board_at(ctx, g, ply, ctx.aux)
        _scan_into(ctx, ctx.aux, 0, e)
        ctx.ckey[e] = ctx.hseq[ply]
    return e


@njit(cache=True, nogil=True, _nrt=False, inline="always")
def _bits_to_plane(bits: np.ndarray, flat: np.ndarray, nn: int) -> None:
    for p in range(nn):
        flat[p] = np.float32((bits[p >> 6] >> np.uint64(p & 63)) & np.uint64(1))


@njit(cache=True, nogil=True, _nrt=False, inline="always")
def _earlier_plane(ctx: KataCtx, g: gr.GoArrays, flat: np.ndarray, k: int, ply: int, e: int, same: bool,
                   nn: int) -> None:
    """Plane ``k`` (15 or 16): the laddered stones of ply ``ply`` from cache entry ``e`` (scanned
    again if another scan has taken the entry since), or plane ``k − 1`` again when ``same``
    (no earlier board of that player's turn in the history shown)."""
    if same:
        for p in range(nn):
            flat[k, p] = flat[k - 1, p]
        return
    if ctx.ckey[e] != ctx.hseq[ply]:
        e = _cached_scan(ctx, g, ply)
    _bits_to_plane(ctx.cbits[e], flat[k], nn)


# -- the features ------------------------------------------------------------------------------------
@njit(cache=True, nogil=True, _nrt=False)
def _counters(g: gr.GoArrays, ply: int) -> tuple[int, bool, int]:
    """BoardHistory's (valid turns ≤ 5, game finished, consecutive ending passes ≤ 3) at ``ply``."""
    nn = g.meta[gr.M_NN]
    nvalid = 0
    finished = False
    passes = 0
    for j in range(1, ply + 1):
        if finished:
            nvalid = min(nvalid, 1)
        if g.hmove[j] == nn:
            passes = min(passes + 1, 3)
        else:
            passes = 0
        finished = passes >= 2
        nvalid = min(nvalid + 1, 5)
    return nvalid, finished, passes


@njit(cache=True, nogil=True, _nrt=False)
def _history(ctx: KataCtx, g: gr.GoArrays, flat: np.ndarray, glob: np.ndarray, opp: int) -> tuple[int, bool, bool]:
    """Planes 9–13 and globals 0–4: (turns of history shown, history suppressed, a pass ends the game)."""
    ply = g.meta[gr.M_PLY]
    nn = g.meta[gr.M_NN]
    nvalid, finished, passes = _counters(g, ply)
    ends = passes + 1 >= 2
    suppress = ends and ctx.params[P_FRIENDLY] != 0 and passes + 1 == 2
    most = 0 if suppress else (1 if finished else 5)
    most = min(most, nvalid)
    turns = 0
    want = opp
    for k in range(most):
        if k >= ply:
            break
        move = np.int64(g.hmove[ply - k])
        if g.hcolour[ply - k] != want:
            break
        turns = k + 1
        if move == nn:
            glob[k] = 1.0
        else:
            flat[9 + k, ctx.pos[move]] = 1.0
        want = 3 - want
    return turns, suppress, ends


@njit(cache=True, nogil=True, _nrt=False)
def _repeats(g: gr.GoArrays, q: int, c: int) -> bool:
    """Whether colour ``c`` playing the empty padded point ``q`` would recreate stones of an
    earlier ply: after its captures, or with multi-stone suicide after its own chains go."""
    board, gid = g.board, g.gid
    ply = g.meta[gr.M_PLY]
    breathes, caph, ncap = gr._after(g, q, c)
    h = g.hhash[ply]
    count = np.int64(g.hcount[ply])
    if breathes:
        return gr._in_history(g, h ^ g.zob[c, q] ^ caph, count + 1 - ncap)
    w = g.meta[gr.M_W]
    h0 = -1
    h1 = -1
    h2 = -1
    for r in (q - w, q - 1, q + 1, q + w):
        if board[r] == c:
            x = gid[r]
            if x != h0 and x != h1 and x != h2:
                h ^= g.ghash[x]
                count -= g.gsize[x]
                if h0 < 0:
                    h0 = x
                elif h1 < 0:
                    h1 = x
                else:
                    h2 = x
    return gr._in_history(g, h, count)


@njit(cache=True, nogil=True, _nrt=False, inline="always")
def _touches_own(g: gr.GoArrays, q: int, c: int) -> bool:
    w = g.meta[gr.M_W]
    b = g.board
    return b[q - w] == c or b[q - 1] == c or b[q + 1] == c or b[q + w] == c


@njit(cache=True, nogil=True, _nrt=False)
def _ko_bans(ctx: KataCtx, g: gr.GoArrays, kb: KataArrays, moves: np.ndarray, nl: int, row: np.ndarray) -> None:
    """Plane 6: KataGo's simple-ko point, and the points positional superko bans for the player
    after the last mover (whose legal moves are ``moves`` when that is the side to move); with
    multi-stone suicide legal also the suicides that would repeat a position."""
    n = kb.meta[K_N]
    w = kb.meta[K_W]
    nn = g.meta[gr.M_NN]
    mss = ctx.params[P_MSS_RULE] != 0
    ko = kb.meta[K_KO]
    ko_code = -1
    if ko:
        x, y = ko % w - 1, ko // w - 1
        row[y * n + x] = 1.0
        ko_code = (n - 1 - y) * n + x
    ply = g.meta[gr.M_PLY]
    if ply == 0:
        return
    c = 3 - np.int64(g.hcolour[ply])
    board = g.board
    by_hand = g.meta[gr.M_TURN] + 1 != c
    mark = ctx.legal
    if not by_hand:
        mark[:] = 0
        for j in range(nl):
            mark[moves[j]] = 1
    for p in range(nn):
        q = np.int64(g.pad[p])
        if board[q] != gr.EMPTY or (not by_hand and mark[p]):
            continue
        breathes = gr._after(g, q, c)[0]
        if by_hand:  # the side to move was set by hand: the other player's bans, point by point
            ban = p != ko_code and (breathes or (mss and _touches_own(g, q, c))) and _repeats(g, q, c)
        elif breathes:  # not legal by Tabula's rules: superko
            ban = p != ko_code
        else:
            ban = mss and _touches_own(g, q, c) and _repeats(g, q, c)
        if ban:
            row[ctx.pos[p]] = 1.0


@njit(cache=True, nogil=True, _nrt=False)
def fill(ctx: KataCtx, g: gr.GoArrays, moves: np.ndarray, nl: int, spatial: np.ndarray, glob: np.ndarray) -> None:
    """The features of ``g``'s position (the root's or a position the search reached from it on
    the root's history) into ``spatial`` (float32 [22, N, N]) and ``glob`` (float32 [19]);
    ``moves[:nl]``: its legal moves. Every element is written."""
    n = g.meta[gr.M_SIZE]
    nn = n * n
    ply = g.meta[gr.M_PLY]
    root = ctx.params[P_ROOT]
    pla = g.meta[gr.M_TURN] + 1
    opp = 3 - pla
    flat = spatial.reshape(SPATIAL, nn)
    flat[:, :] = 0.0
    glob[:] = 0.0
    turns, suppress, ends = _history(ctx, g, flat, glob, opp)
    prev = ply - 1 if turns >= 1 else ply
    prev2 = ply - 2 if turns >= 2 else prev
    # the boards before the root: cached scans; the path: replayed, scanned where needed
    e1 = _cached_scan(ctx, g, prev) if prev < root else -1
    e2 = _cached_scan(ctx, g, prev2) if prev2 < root else -1
    kb = ctx.kb
    copy_into(kb, ctx.root)
    for j in range(root, ply):
        if j > root:
            ctx.hseq[j] = _seq(ctx.hseq[j - 1], np.int64(g.hmove[j]), np.int64(g.hcolour[j]))
        if j == prev or j == prev2:
            e, hit = _entry(ctx, ctx.hseq[j])
            if not hit:
                _scan_into(ctx, kb, 0, e)
                ctx.ckey[e] = ctx.hseq[j]
            if j == prev:
                e1 = e
            if j == prev2:
                e2 = e
        _play_code(ctx, kb, np.int64(g.hmove[j + 1]), np.int64(g.hcolour[j + 1]), nn)
    if ply > root:
        ctx.hseq[ply] = _seq(ctx.hseq[ply - 1], np.int64(g.hmove[ply]), np.int64(g.hcolour[ply]))
    e0, _ = _entry(ctx, ctx.hseq[ply])
    _scan_into(ctx, kb, opp, e0)
    ctx.ckey[e0] = ctx.hseq[ply]
    w = kb.meta[K_W]
    for y in range(n):
        for x in range(n):
            if ctx.lmoves[(x + 1) + (y + 1) * w]:
                flat[17, y * n + x] = 1.0
    # each plane as soon as its scan is in the cache: a scan made afresh may take another's entry
    _bits_to_plane(ctx.cbits[e0], flat[14], nn)
    _earlier_plane(ctx, g, flat, 15, prev, e1, prev == ply, nn)
    _earlier_plane(ctx, g, flat, 16, prev2, e2, prev2 == prev, nn)
    col, head, nlibs = kb.col, kb.head, kb.nlibs
    area(kb, ctx.params[P_MSS] != 0, ctx.asc, ctx.own)
    for y in range(n):
        for x in range(n):
            loc = (x + 1) + (y + 1) * w
            p = y * n + x
            flat[0, p] = 1.0
            c = col[loc]
            if c == BLACK or c == WHITE:
                flat[1 if c == pla else 2, p] = 1.0
                libs = nlibs[head[loc]]
                if libs <= 3:
                    flat[2 + libs, p] = 1.0
            a = ctx.own[loc]
            if a == pla:
                flat[18, p] = 1.0
            elif a == opp:
                flat[19, p] = 1.0
    _ko_bans(ctx, g, kb, moves, nl, flat[6])
    fixed = ctx.fixed[pla - 1]
    for i in range(5, GLOBAL):
        glob[i] = fixed[i]
    glob[14] = 0.0 if suppress else np.float32(ends)


# -- the Python side ---------------------------------------------------------------------------------
def ctx_for(state: "GoState", features: "KataFeatures", history: int) -> KataCtx:
    """A context for searches of ``state``'s game (the reference GoState: its set-up order)
    with ``features``' rules and settings and the ladder budget the reference uses now;
    ``history``: plies of room (the compiled game's history rows). Call :func:`prepare_root`
    before each search."""
    from ..codecs import katago_board
    if not serves(features.rules):
        raise ValueError(f"the compiled KataGo features do not serve {features.rules}")
    black, white, _ = state.setup_position()
    fixed = np.stack([features.fixed_globals(state, BLACK), features.fixed_globals(state, WHITE)])
    return new_ctx(state.size, history, [(p, BLACK) for p in black] + [(p, WHITE) for p in white], fixed,
                   budget=katago_board.LADDER_BUDGET, pass_alive_suicide=features.pass_alive_suicide,
                   friendly_pass_ok=features.rules.friendly_pass_ok,
                   multi_stone_suicide=features.rules.multi_stone_suicide)
