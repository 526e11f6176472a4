"""The go leaf work compiled: one kernel call gathers a whole batch of leaves.

:func:`gather_go` does for go (Tabula's 17-plane codec, Leela Zero's 18, KataGo's 22 + 19
features of engine.native.kata_encoder) what ``NativeSearch._gather_python`` does with Python
rules, with no Python in the loop: descend by PUCT (engine.search.kernels), playing each move on
a work copy of the root's arrays (engine.native.go_rules); at a new leaf judge it (two passes
end the game: Tromp–Taylor result, or the net's value of the position before the last pass
where the net disputes it and NetScoresPasses is on, as engine/search/disputed.py), generate its
legal moves, look it up in the eval cache, or else write its inputs into the batch buffers'
next row (the policy index of a move is its code; KataGo's counts rows from the top). The work
copy is then reset to the root by copying its few position arrays back; the moves live on the
tree's edges.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
from numba import njit

from ..native import go_encoder as ge
from ..native import go_rules as gr
from ..native import kata_encoder as ke
from .kernels import (DRAWN, M_ROOT, M_SCORED, MAX_DEPTH, PENDING, S_CACHE_HITS, S_COLLISIONS, S_PLAYOUTS,
                      UNKNOWN, WON, Scratch, TreeArrays, alloc_edges, backup, backup_m, backup_status, expand_cached,
                      new_node, pick, propagate_proof, set_terminal)
from .nncache import CacheArrays, lookup

_DONE, _LEAF, _QUEUED, _COLLIDED = 0, 1, 2, 3


@njit(cache=True, nogil=True)
def key_before_pass(w: gr.GoArrays, moves: np.ndarray) -> np.uint64:
    """The eval-cache key of the position before the last move, which was a pass (same stones:
    only the ply, side to move and pass count go back)."""
    meta = w.meta
    ply, turn, passes, ko = meta[gr.M_PLY], meta[gr.M_TURN], meta[gr.M_PASSES], meta[gr.M_KO]
    meta[gr.M_PLY] = ply - 1
    meta[gr.M_TURN] = w.hturn[ply - 1]
    meta[gr.M_PASSES] = w.hpass[ply - 1]
    gr.legal_moves(w, moves)
    key = gr.position_key(w)
    meta[gr.M_PLY], meta[gr.M_TURN], meta[gr.M_PASSES], meta[gr.M_KO] = ply, turn, passes, ko
    return key


@njit(cache=True, nogil=True)
def _encode(kata: ke.KataCtx | None, w: gr.GoArrays, moves: np.ndarray, nl: int, planes: np.ndarray,
            glob: np.ndarray, colour_planes: int, row: int, l_idx: np.ndarray) -> None:
    """The leaf's inputs into batch row ``row`` and its moves' policy indices: the go planes
    (index = move code) without ``kata``, else KataGo's features (numba compiles one branch)."""
    if kata is None:
        ge.write_planes(w, planes[row], colour_planes)
        for j in range(nl):
            l_idx[row, j] = moves[j]
    else:
        ke.fill(kata, w, moves, nl, planes[row], glob[row])
        for j in range(nl):
            l_idx[row, j] = kata.kidx[moves[j]]


@njit(cache=True, nogil=True)
def _leaf(t: TreeArrays, w: gr.GoArrays, path: np.ndarray, depth: int, cache: CacheArrays, stats: np.ndarray,
          moves: np.ndarray, planes: np.ndarray, glob: np.ndarray, colour_planes: int, kata: ke.KataCtx | None,
          disputes: bool, row: int, l_node: np.ndarray, l_path: np.ndarray, l_depth: np.ndarray,
          l_count: np.ndarray, l_key: np.ndarray, l_idx: np.ndarray) -> int:
    """A leaf reached at ``w``: terminal, disputed, cached, or queued in batch row ``row``.
    Scores (nets with a score head) back up as the Python leaf path does: the final score at
    an ended game, the cached one at a cache hit."""
    child = path[depth - 1]
    scored = t.meta[M_SCORED] != 0
    ended, result, score = gr.terminal(w)
    if ended:
        if disputes:
            e = lookup(cache, key_before_pass(w, moves))
            if e >= 0:
                v = -np.float64(cache.q[e])
                if result == 0.0 or (v > 0) != (result > 0):  # left unexpanded: asked again next visit
                    backup(t, path, depth, v, 0.0, score, scored, stats)
                    return _DONE
        set_terminal(t, child, result, 0)
        backup(t, path, depth, result, 1.0 if result == 0.0 else 0.0, score, scored, stats)
        propagate_proof(t, path, depth)
        return _DONE
    nl = gr.legal_moves(w, moves)
    key = gr.position_key(w)
    e = lookup(cache, key)
    if e >= 0 and cache.count[e] == nl:
        if not expand_cached(t, child, cache, e):
            return _COLLIDED
        f = t.estart[child]
        for j in range(nl):
            t.emove[f + j] = moves[j]
        stats[S_CACHE_HITS] += 1
        s = cache.score[e]
        backup(t, path, depth, cache.q[e], cache.d[e], s if s == s else 0.0, s == s, stats)
        return _DONE
    f = alloc_edges(t, child, nl)
    if f < 0:
        return _COLLIDED
    for j in range(nl):
        t.emove[f + j] = moves[j]
    _encode(kata, w, moves, nl, planes, glob, colour_planes, row, l_idx)
    l_count[row] = nl
    l_node[row] = child
    l_depth[row] = depth
    for j in range(depth):
        l_path[row, j] = path[j]
    l_key[row] = key
    t.ecount[child] = PENDING
    return _QUEUED


@njit(cache=True, nogil=True)
def _known(t: TreeArrays, w: gr.GoArrays, path: np.ndarray, depth: int, stats: np.ndarray) -> None:
    """Back up a terminal or proven node's exact value; an ended game's final score too (scored trees)."""
    if t.meta[M_SCORED] != 0:
        ended, _, score = gr.terminal(w)
        if ended:
            leaf = path[depth - 1]
            st = t.status[leaf]
            value = 0.0 if st == DRAWN else (1.0 if st == WON else -1.0)
            backup_m(t, path, depth, value, 1.0 if st == DRAWN else 0.0, score, True, np.float64(t.plies[leaf]),
                     stats)
            return
    backup_status(t, path, depth, stats)


@njit(cache=True, nogil=True)
def gather_go(t: TreeArrays, g: gr.GoArrays, w: gr.GoArrays, mask: np.ndarray, sc: Scratch, params: np.ndarray,
              stats: np.ndarray, cache: CacheArrays, limit: int, budget: int, max_events: int, planes: np.ndarray,
              glob: np.ndarray, colour_planes: int, kata: ke.KataCtx | None, disputes: bool, l_node: np.ndarray, l_path: np.ndarray, l_depth: np.ndarray,
              l_count: np.ndarray, l_key: np.ndarray, l_idx: np.ndarray, moves: np.ndarray,
              held: np.ndarray) -> int:
    """Gather up to ``limit`` playouts from the root position ``g`` (``w``: its work copy,
    sharing its history) into the batch rows, as engine.search.chess_kernels.gather_chess:
    collisions hold their visits in flight (nodes in ``held``) until the batch is gathered;
    ``budget`` collisions or ``max_events`` end it. Returns the rows written, negated when
    ``held`` ran short."""
    root = t.meta[M_ROOT]
    rows = 0
    start = stats[S_PLAYOUTS]
    events = 0
    nheld = 0
    short = False
    path = sc.path
    while rows + (stats[S_PLAYOUTS] - start) < limit and budget > 0 and events < max_events:
        if t.status[root] != UNKNOWN or t.ecount[root] == 0:
            break
        gr.restore(w, g)
        node = root
        depth = 0
        what = _DONE
        while True:
            if depth >= MAX_DEPTH - 1:
                what = _COLLIDED
                break
            i, child = pick(t, node, root, mask, sc, params)
            if child < 0:
                move = t.emove[t.estart[node] + i]
                child = new_node(t, node, i, move)
                if child < 0:
                    what = _COLLIDED
                    break
                t.vl[child] += 1
                path[depth] = child
                depth += 1
                gr.play(w, move, w.meta[gr.M_TURN] + 1)
                what = _LEAF
                break
            t.vl[child] += 1
            path[depth] = child
            depth += 1
            gr.play(w, t.move[child], w.meta[gr.M_TURN] + 1)
            if t.status[child] != UNKNOWN:
                _known(t, w, path, depth, stats)
                break
            cnt = t.ecount[child]
            if cnt == PENDING:
                what = _COLLIDED
                break
            if cnt < 0:
                what = _LEAF
                break
            node = child
        if what == _LEAF:
            what = _leaf(t, w, path, depth, cache, stats, moves, planes, glob, colour_planes, kata, disputes, rows,
                         l_node, l_path, l_depth, l_count, l_key, l_idx)
            if what == _QUEUED:
                rows += 1
        if what == _COLLIDED:
            if nheld + depth > held.size:
                for j in range(depth):
                    t.vl[path[j]] -= 1
                short = True
                budget = 0
            else:
                for j in range(depth):
                    held[nheld + j] = path[j]
                nheld += depth
                budget -= 1
            events += 1
            stats[S_COLLISIONS] += 1
    for j in range(nheld):
        t.vl[held[j]] -= 1
    return -rows if short else rows


# -- the Python side: what NativeSearch holds for go ---------------------------------------------
def colour_planes_of(codec: object) -> int:
    """1 for Tabula's go codec, 2 for Leela Zero's: the plane codecs the compiled gatherer
    encodes; 0 for any other (KataGo's: see :func:`kata_features_of`)."""
    from ..codecs.go_planes import GoPlanesCodec
    from ..codecs.leelaz import LeelaZeroCodec
    return int(codec.colour_planes) if type(codec) in (GoPlanesCodec, LeelaZeroCodec) else 0  # type: ignore[attr-defined]


def kata_features_of(codec: object) -> Any:
    """The codec's KataFeatures when the compiled gatherer encodes them (a KataGo net under rules
    engine.native.kata_encoder serves), else None (the Python leaf path on GoState)."""
    from ..codecs.katago import KataGoCodec
    if type(codec) is not KataGoCodec:
        return None
    return codec.features if ke.serves(codec.rules) else None  # type: ignore[attr-defined]


def serves(codec: object) -> bool:
    """Whether the compiled go gatherer encodes this codec's inputs."""
    return bool(colour_planes_of(codec)) or kata_features_of(codec) is not None


class GoGatherer:
    """The compiled go leaf work of one search: the root as a NativeGoState (history room for
    the deepest path), its work copy, and what the codec's inputs need: the colour planes, or
    KataGo's feature context (``kata``, whose root board is replayed here once)."""

    def __init__(self, state: object, colour_planes: int, features: Any = None) -> None:
        from ..games.go import GoState
        from ..native.go_state import NativeGoState
        ref = state if isinstance(state, GoState) else None
        if isinstance(state, GoState):
            state = NativeGoState.from_state(state, room=MAX_DEPTH + 8)
        elif not isinstance(state, NativeGoState):
            raise TypeError(f"go search needs a GoState or NativeGoState, not {type(state).__name__}")
        state.ensure_room(MAX_DEPTH + 8)
        if features is None:
            warm()
        else:
            warm_katago()
        self.state = state
        self.colour_planes = colour_planes
        self._work = gr.work_copy(state.g)
        self._moves = np.zeros(gr.MAX_POINTS + 1, np.int32)
        self.kata: ke.KataCtx | None = None
        if features is not None:
            if features.size != state.size:
                raise ValueError(f"the KataGo codec is set up for {features.size}x{features.size}, "
                                 f"the position is {state.size}x{state.size}")
            ref = ref if ref is not None else state.to_state()
            self.kata = ke.ctx_for(ref, features, state.g.hhash.size)
            ke.prepare_root(self.kata, state.g)

    def _arrays(self, inputs: Mapping[str, np.ndarray] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(planes or KataGo's spatial input, KataGo's global input or a stand-in) of a batch."""
        if isinstance(inputs, np.ndarray):
            if self.kata is not None:
                raise TypeError("KataGo's features need both inputs of the batch (a mapping)")
            return inputs, _NO_GLOBALS
        arrays = list(inputs.values())
        if self.kata is None:
            return arrays[0], _NO_GLOBALS
        spatial = next(a for a in arrays if a.ndim == 4)
        return spatial, next(a for a in arrays if a.ndim == 2)

    def encode(self, state: object, inputs: Mapping[str, np.ndarray], row: int) -> None:
        """The codec's inputs of ``state`` (this gatherer's root NativeGoState) into batch row ``row``."""
        planes, glob = self._arrays(inputs)
        if self.kata is None:
            state.encode_planes(planes[row], self.colour_planes)  # type: ignore[attr-defined]
            return
        g = state.g  # type: ignore[attr-defined]
        nl = gr.legal_moves(g, self._moves)
        ke.fill(self.kata, g, self._moves, nl, planes[row], glob[row])

    def gather(self, t: TreeArrays, mask: np.ndarray, sc: Scratch, params: np.ndarray, stats: np.ndarray,
               cache: CacheArrays, limit: int, budget: int, max_events: int,
               inputs: Mapping[str, np.ndarray] | np.ndarray, disputes: bool, lb: Any, held: np.ndarray) -> int:
        """One batch's leaves (:func:`gather_go`) into the batch's ``inputs`` (its mapping; the
        planes array alone does for the plane codecs)."""
        planes, glob = self._arrays(inputs)
        return int(gather_go(t, self.state.g, self._work, mask, sc, params, stats, cache, limit, budget,  # type: ignore[attr-defined]
                             max_events, planes, glob, self.colour_planes, self.kata, disputes, lb.node, lb.path,
                             lb.depth, lb.count, lb.key, lb.idx, self._moves, held))


#: the global input's stand-in for the plane codecs (never written)
_NO_GLOBALS = np.zeros((1, 1), np.float32)


def go_gatherer(state: object, codec: object) -> GoGatherer | None:
    """The compiled go leaf work for a search of ``state`` on ``codec``'s net, or None when the
    codec is not one it encodes, or while its kernels compile apart (engine.search.compile_ahead: the
    search then takes the Python leaf path on the GoState, same numbers, slower). A KataGo net's
    set ("katago") it prepares itself (loaded at once when numba's cache holds it): the
    controller prepares the Python leaf path's set for those nets."""
    planes = colour_planes_of(codec)
    features = None if planes else kata_features_of(codec)
    if not planes and features is None:
        return None
    from .compile_ahead import kernels_for
    kernels = kernels_for("go" if planes else "katago")
    if features is not None and not kernels.ready:
        kernels.prepare()
        if not kernels.ready:
            return None
    if kernels.compiling:
        return None
    return GoGatherer(state, planes, features)


_warmed: set[str] = set()


def warm() -> None:
    """Compile (or load from numba's cache) every kernel a go search on the plane codecs runs,
    once per process (:func:`warm_katago`: a KataGo net's)."""
    _warm_gather(False)


def warm_katago() -> None:
    """Compile (or load) every kernel a go search on a KataGo net runs, once per process."""
    _warm_gather(True)


def _warm_gather(katago: bool) -> None:
    """Run the gatherer once on a 3×3 game: with the go planes, or with KataGo's features and a
    score head."""
    kind = "katago" if katago else "planes"
    if kind in _warmed:
        return
    from ..codecs.katago_features import KataFeatures
    from ..games.go import GoState
    from ..native.go_state import NativeGoState
    from .kernels import expand, new_scratch, new_tree_arrays
    from .nncache import NativeEvalCache
    s = NativeGoState(3, 0.5)
    s.ensure_room(MAX_DEPTH + 8)
    s.key()
    s.terminal()
    s.area_ownership()
    s.is_legal(0)
    s.push(4)
    s.pop()
    if katago:
        ctx = ke.ctx_for(GoState(3, 0.5), KataFeatures(3), s.g.hhash.size)
        ke.prepare_root(ctx, s.g)
        planes, glob = np.zeros((1, 22, 3, 3), np.float32), np.zeros((1, 19), np.float32)
    else:
        for cp in (1, 2):
            s.encode_planes(np.zeros((16 + cp, 3, 3), np.float32), cp)
        ctx, planes, glob = None, np.zeros((1, 17, 3, 3), np.float32), _NO_GLOBALS
    t = new_tree_arrays(64, 1024, edge_moves=True, scored=katago)
    moves = np.asarray(s.legal_moves(), np.int32)
    expand(t, int(t.meta[M_ROOT]), np.full(moves.size, 1.0 / moves.size, np.float32), moves)
    t.n[t.meta[M_ROOT]] = 1
    cache = NativeEvalCache(4, 16)
    z32 = np.zeros((1, MAX_DEPTH), np.int32)
    gather_go(t, s.g, gr.work_copy(s.g), np.zeros(0, np.uint8), new_scratch(), np.array([1.745, 38739.0, 3.894, 0.33]),
              np.zeros(8, np.int64), cache.arrays, 1, 1, 1, planes, glob, 1, ctx, True, np.zeros(1, np.int32), z32,
              np.zeros(1, np.int32), np.zeros(1, np.int32), np.zeros(1, np.uint64), np.zeros((1, 1024), np.int64),
              np.zeros(gr.MAX_POINTS + 1, np.int32), np.zeros(64, np.int32))
    _warmed.add(kind)
