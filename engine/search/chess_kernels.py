"""The chess leaf work compiled: one kernel call gathers a whole batch of leaves.

:func:`gather_chess` does for chess what ``mcts.Search._gather`` does for any game, with no
Python in the loop: descend by PUCT (engine.search.kernels), making each move on the native
position array (engine.native.chess_rules); at a new leaf generate its legal moves, judge it
(mate, stalemate, the two-fold rule counted from the search root, fifty moves, material),
look it up in the eval cache, or else write its 112 lc0 planes into the batch buffer's next
row and its policy indices beside them; then take the moves back. An edge stores no move:
the kernel generates the parent's legal moves again when it first enters one of its edges.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..native import chess_rules as cr
from ..native import lc0_encoder as lc0
from ..native.chess_state import native_key, native_terminal
from .jitopts import KERNEL
from .kernels import (M_ROOT, MAX_DEPTH, PENDING, S_CACHE_HITS, S_COLLISIONS, S_PLAYOUTS, UNKNOWN,
                      Scratch, TreeArrays, alloc_edges, backup, backup_m, backup_status, expand_cached, new_node,
                      pick, propagate_proof, set_terminal)
from .nncache import CacheArrays, lookup

_DONE, _LEAF, _QUEUED, _COLLIDED = 0, 1, 2, 3


@njit(**KERNEL, inline="always")
def _leaf(t: TreeArrays, pos: np.ndarray, path: np.ndarray, depth: int, cache: CacheArrays, stats: np.ndarray,
          moves: np.ndarray, planes: np.ndarray, row: int, l_node: np.ndarray, l_path: np.ndarray,
          l_depth: np.ndarray, l_count: np.ndarray, l_key: np.ndarray, l_idx: np.ndarray) -> int:
    """A leaf reached at ``pos``: terminal, cached, or queued in batch row ``row``."""
    child = path[depth - 1]
    nl = cr.legal_moves(pos, moves)
    verdict = native_terminal(pos, nl)
    if verdict != cr.ONGOING:
        result = -1.0 if verdict == cr.CHECKMATE else 0.0
        set_terminal(t, child, result, 0)
        backup(t, path, depth, result, 1.0 if result == 0.0 else 0.0, 0.0, False, stats)
        propagate_proof(t, path, depth)
        return _DONE
    key = native_key(pos)
    e = lookup(cache, key)
    if e >= 0 and cache.count[e] == nl:
        if not expand_cached(t, child, cache, e):
            return _COLLIDED
        stats[S_CACHE_HITS] += 1
        m = cache.m[e]
        backup_m(t, path, depth, cache.q[e], cache.d[e], 0.0, False, m if m == m else 0.0, stats)
        return _DONE
    if alloc_edges(t, child, nl) < 0:
        return _COLLIDED
    lc0.encode(pos, planes[row])
    lc0.policy_indices_into(pos, moves, nl, l_idx[row])
    l_count[row] = nl
    l_node[row] = child
    l_depth[row] = depth
    for j in range(depth):
        l_path[row, j] = path[j]
    l_key[row] = key
    t.ecount[child] = PENDING
    return _QUEUED


@njit(**KERNEL)
def gather_chess(t: TreeArrays, pos: np.ndarray, mask: np.ndarray, sc: Scratch, params: np.ndarray,
                 stats: np.ndarray, cache: CacheArrays, limit: int, budget: int, max_events: int,
                 planes: np.ndarray, l_node: np.ndarray, l_path: np.ndarray, l_depth: np.ndarray,
                 l_count: np.ndarray, l_key: np.ndarray, l_idx: np.ndarray, moves: np.ndarray,
                 held: np.ndarray) -> int:
    """Gather up to ``limit`` playouts (leaves queued for the net plus leaves answered at once)
    into the batch rows, as mcts.Search._gather: a descent into a leaf already in flight — or,
    with the tree full, into one that would need a new node or edges — is a collision, whose
    visits in flight stay until the batch is gathered (their nodes wait in ``held``);
    ``budget`` collisions (lc0's collision budget) or ``max_events`` end the batch, and so
    does a ``held`` too short for the next collided path. Returns the number of rows written,
    negated when ``held`` ran short (the caller then gives it more room)."""
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
        node = root
        depth = 0
        what = _DONE
        while True:
            if depth >= MAX_DEPTH - 1:
                what = _COLLIDED
                break
            i, child = pick(t, node, root, mask, sc, params)
            if child < 0:
                cr.legal_moves(pos, moves)
                move = moves[i]
                child = new_node(t, node, i, move)
                if child < 0:
                    what = _COLLIDED
                    break
                t.vl[child] += 1
                path[depth] = child
                depth += 1
                cr.make_move(pos, move)
                what = _LEAF
                break
            t.vl[child] += 1
            path[depth] = child
            depth += 1
            cr.make_move(pos, t.move[child])
            if t.status[child] != UNKNOWN:
                backup_status(t, path, depth, stats)
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
            what = _leaf(t, pos, path, depth, cache, stats, moves, planes, rows, l_node, l_path, l_depth,
                         l_count, l_key, l_idx)
            if what == _QUEUED:
                rows += 1
        if what == _COLLIDED:
            if nheld + depth > held.size:  # no room to remember it: take its visits back now, end here
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
        for _ in range(depth):
            cr.unmake_move(pos)
    for j in range(nheld):
        t.vl[held[j]] -= 1
    return -rows if short else rows

