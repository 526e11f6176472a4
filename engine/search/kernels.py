"""Compiled (numba) kernels of the search tree: selection, descent, expansion, backup, proofs.

The tree is a :class:`TreeArrays`: fixed-capacity numpy arrays, nothing else, so every kernel
is a plain function of arrays, compiled with ``@njit(**KERNEL)`` (engine/search/jitopts.py: cached,
without the GIL, without reference counts).

Layout (lc0 style): a node record exists only for a position the search has entered; an
expanded node owns ``ecount`` consecutive *edges* from ``estart`` in the edge arena, and an
edge is just its prior (``prior``, float32) plus, for games whose moves the kernels cannot
generate themselves, its move code (``emove``; chess leaves it empty and generates the
moves). A node's entered children hang off ``first_child`` through ``sibling`` links, each
knowing its edge index in the parent (``pidx``) and its move (``move``). Visit statistics
live on the child node — visits ``n``, visits in flight ``vl``, value and draw sums ``w`` /
``d`` (and score sums ``ssum`` / ``sn`` for nets with a score head) from the view of the
player who moved into the node — so an edge costs 4 bytes (8 with its move) and a chess node
``NODE_BYTES`` + 4 per legal move. The root is an ordinary node: its own ``n`` / ``w`` / ``d``
are the root's visits and sums, ``w`` negated to read from its side to move.

The numbers are engine/search/mcts.py's, operation for operation (see the golden tests):
PUCT as ``Search._puct_terms`` / ``_select`` (the visited policy summed in float64 and then
rounded to float32 where numpy's BLAS dot rounds in its own order: a last-bit difference in
first-play urgency), backups as ``_backup``, proofs as ``_propagate_proof``, priors as
``softmax_priors`` (float32; the exponentials come from numpy between two kernels, so they
are numpy's own bit for bit, and the sum copies numpy's pairwise summation).

numba caches compiled code in ``__pycache__`` beside this file (or under ``NUMBA_CACHE_DIR``;
a read-only install falls back to the user's cache directory). It does not notice when a
kernel that another file's cached kernel calls changes: after editing this file, delete
``engine/search/__pycache__/*.nb[ci]``.
"""

from __future__ import annotations

import math
import mmap
from typing import NamedTuple

import numpy as np
from numba import njit

from .jitopts import KERNEL
from .nncache import CacheArrays, store_m
from .prior16 import P16, p16

# -- constants ------------------------------------------------------------------------------
#: ``ecount`` of a node without edges yet / whose evaluation is in flight
UNEXPANDED = -1
PENDING = -2
#: ``status``, from the view of the node's side to move (engine.search.tree.Tree's values)
UNKNOWN, WON, LOST, DRAWN = 0, 1, -1, 2
#: ``meta`` words
M_NODES, M_EDGES, M_ROOT, M_FULL, M_CAP_NODES, M_CAP_EDGES, M_EDGE_MOVES, M_SCORED, M_MOVES_LEFT = range(9)
META_WORDS = 9
#: ``stats`` words
S_PLAYOUTS, S_DEPTH_SUM, S_SELDEPTH, S_COLLISIONS, S_CACHE_HITS = range(5)
STATS_WORDS = 8
#: ``params`` words (float64)
P_CPUCT, P_CPUCT_BASE, P_CPUCT_FACTOR, P_FPU = range(4)
#: lc0's moves-left utility (its MovesLeft* options), read only where the tree keeps M (a net with a
#: moves-left head) and the params array is this long: MaxEffect, Threshold, Slope, ConstantFactor,
#: ScaledFactor, QuadraticFactor
P_ML_MAX, P_ML_THRESHOLD, P_ML_SLOPE, P_ML_CONST, P_ML_SCALED, P_ML_QUAD = range(4, 10)
PARAMS_WORDS = 10
#: what :func:`descend` met at the end of the path
D_NEW, D_KNOWN, D_COLLIDED, D_FULL = 0, 1, 2, 3
#: the most legal moves a position of any game here has (shogi: 593; go 19×19: 362)
MAX_EDGES = 1024
#: the deepest path a descent follows; deeper, it ends as a collision
MAX_DEPTH = 512
#: bytes of one node record (move, pidx, first_child, sibling, estart, ecount, n, vl, w, d,
#: status, plies); a net with a score head adds SCORE_BYTES (ssum, sn), one with a moves-left head
#: MOVES_LEFT_BYTES (msum)
NODE_BYTES = 4 + 2 + 4 + 4 + 4 + 2 + 4 + 4 + 8 + 8 + 1 + 2
SCORE_BYTES = 8 + 4
MOVES_LEFT_BYTES = 8
#: bytes of one edge: its prior; EDGE_MOVE_BYTES more where the move is stored
EDGE_BYTES = 2
EDGE_MOVE_BYTES = 4


class TreeArrays(NamedTuple):
    """The tree's arrays (see the module doc). Sizes: nodes N, edges E; ``ssum``/``sn`` have
    length 1 without a score head, ``msum`` length 1 without a moves-left head, ``emove`` length 1
    when moves are not stored."""

    move: np.ndarray         #: int32[N] move that led to the node
    pidx: np.ndarray         #: uint16[N] index of that move among the parent's edges
    first_child: np.ndarray  #: int32[N] latest entered child, −1 none
    sibling: np.ndarray      #: int32[N] next child of the same parent, −1 none
    estart: np.ndarray       #: int32[N] first edge, −1 none
    ecount: np.ndarray       #: int16[N] edges, or UNEXPANDED / PENDING
    n: np.ndarray            #: int32[N] completed visits
    vl: np.ndarray           #: int32[N] visits in flight
    w: np.ndarray            #: float64[N] value sum, view of the player who moved into the node
    d: np.ndarray            #: float64[N] draw-probability sum
    status: np.ndarray       #: int8[N] UNKNOWN / WON / LOST / DRAWN (side to move's view)
    plies: np.ndarray        #: int16[N] plies to the proven end
    ssum: np.ndarray         #: float64[N|1] score sum (mover's view)
    sn: np.ndarray           #: int32[N|1] scores summed
    prior: np.ndarray        #: uint16[E] lc0's 16-bit prior (engine/search/prior16.py)
    emove: np.ndarray        #: int32[E|1] edge move codes
    meta: np.ndarray         #: int64[META_WORDS]
    #: float64[N|1] moves-left sum (plies): the node's M, lc0's mean moves left of its subtree, is
    #: msum / n
    msum: np.ndarray


class Scratch(NamedTuple):
    """Per-search work arrays: one node's children laid out by edge index, and a path."""

    cn: np.ndarray    #: int32[MAX_EDGES]
    cw: np.ndarray    #: float64[MAX_EDGES]
    cvl: np.ndarray   #: int32[MAX_EDGES]
    ckid: np.ndarray  #: int32[MAX_EDGES]
    path: np.ndarray  #: int32[MAX_DEPTH]


#: arrays at least this big get pages of their own from the kernel (:func:`fresh_zeros`)
FRESH_PAGES_BYTES = 1 << 20


def fresh_zeros(count: int, dtype: type) -> np.ndarray:
    """A zeroed array whose pages are touched only when written, and given back when it is freed.

    ``np.zeros`` asks malloc, and glibc raises its mmap threshold (up to 32 MiB) each time
    such a block is freed: after the first tree is dropped, the next tree's arrays below that
    size come from the heap, and calloc clears every byte of them at once. With a 256 MB
    ``Hash`` that took 5–25 ms on each new tree (``ucinewgame``, a position off the tree).
    An anonymous mapping is zero from the kernel, whatever malloc has done before.
    """
    size = int(count) * np.dtype(dtype).itemsize
    if size < FRESH_PAGES_BYTES:
        return np.zeros(count, dtype)
    return np.frombuffer(mmap.mmap(-1, size), dtype, count)


def new_tree_arrays(cap_nodes: int, cap_edges: int, *, edge_moves: bool, scored: bool,
                    moves_left: bool = False) -> TreeArrays:
    """Zeroed arrays (pages are touched only as the tree grows) and the root node."""
    n, e = int(cap_nodes), int(cap_edges)
    z = fresh_zeros
    t = TreeArrays(
        z(n, np.int32), z(n, np.uint16), z(n, np.int32), z(n, np.int32),
        z(n, np.int32), z(n, np.int16), z(n, np.int32), z(n, np.int32),
        z(n, np.float64), z(n, np.float64), z(n, np.int8), z(n, np.int16),
        z(n if scored else 1, np.float64), z(n if scored else 1, np.int32),
        z(e, np.uint16), z(e if edge_moves else 1, np.int32), np.zeros(META_WORDS, np.int64),
        z(n if moves_left else 1, np.float64))
    t.meta[M_CAP_NODES] = n
    t.meta[M_CAP_EDGES] = e
    t.meta[M_EDGE_MOVES] = int(edge_moves)
    t.meta[M_SCORED] = int(scored)
    t.meta[M_MOVES_LEFT] = int(moves_left)
    t.meta[M_ROOT] = new_node(t, -1, 0, 0)
    return t


def new_scratch() -> Scratch:
    """Work arrays for one search."""
    return Scratch(np.zeros(MAX_EDGES, np.int32), np.zeros(MAX_EDGES, np.float64), np.zeros(MAX_EDGES, np.int32),
                   np.zeros(MAX_EDGES, np.int32), np.zeros(MAX_DEPTH, np.int32))


# -- allocation -------------------------------------------------------------------------------
@njit(**KERNEL)
def new_node(t: TreeArrays, parent: int, i: int, move: int) -> int:
    """A fresh node entered from ``parent`` by its edge ``i`` (``parent`` −1: a root); −1 and
    the tree marked full when no node record is left."""
    k = t.meta[M_NODES]
    if k >= t.meta[M_CAP_NODES]:
        t.meta[M_FULL] = 1
        return -1
    t.move[k] = move
    t.pidx[k] = i
    t.first_child[k] = -1
    t.estart[k] = -1
    t.ecount[k] = UNEXPANDED
    t.n[k] = 0
    t.vl[k] = 0
    t.w[k] = 0.0
    t.d[k] = 0.0
    t.status[k] = UNKNOWN
    t.plies[k] = 0
    if t.meta[M_SCORED]:
        t.ssum[k] = 0.0
        t.sn[k] = 0
    if t.meta[M_MOVES_LEFT]:
        t.msum[k] = 0.0
    if parent >= 0:
        t.sibling[k] = t.first_child[parent]
        t.first_child[parent] = k
    else:
        t.sibling[k] = -1
    t.meta[M_NODES] = k + 1
    return k


@njit(**KERNEL, inline="always")
def alloc_edges(t: TreeArrays, node: int, count: int) -> int:
    """Give ``node`` room for ``count`` edges (its ``estart``); −1 and the tree marked full
    when the edge arena has no room."""
    f = t.meta[M_EDGES]
    if f + count > t.meta[M_CAP_EDGES]:
        t.meta[M_FULL] = 1
        return -1
    t.meta[M_EDGES] = f + count
    t.estart[node] = f
    return f


@njit(**KERNEL)
def expand(t: TreeArrays, node: int, priors: np.ndarray, moves: np.ndarray) -> bool:
    """Give ``node`` one edge per prior (and move, where moves are stored); False when full."""
    k = priors.size
    f = alloc_edges(t, node, k)
    if f < 0:
        return False
    bits = priors.view(np.int32)
    for j in range(k):
        t.prior[f + j] = p16(bits[j])
    if t.meta[M_EDGE_MOVES]:
        for j in range(k):
            t.emove[f + j] = moves[j]
    t.ecount[node] = k
    return True


# -- selection ------------------------------------------------------------------------------
@njit(**KERNEL, inline="always")
def _children(t: TreeArrays, node: int, k: int, sc: Scratch) -> None:
    """Lay out ``node``'s entered children by edge index in the scratch arrays."""
    for i in range(k):
        sc.ckid[i] = -1
        sc.cn[i] = 0
        sc.cvl[i] = 0
        sc.cw[i] = 0.0
    c = t.first_child[node]
    while c >= 0:
        i = np.int64(t.pidx[c])
        sc.ckid[i] = c
        sc.cn[i] = t.n[c]
        sc.cvl[i] = t.vl[c]
        sc.cw[i] = t.w[c]
        c = t.sibling[c]


@njit(**KERNEL, inline="always")
def _terms(t: TreeArrays, node: int, k: int, sc: Scratch, params: np.ndarray) -> tuple[float, np.float32]:
    """First-play urgency and the exploration scale (rounded to float32, as numpy multiplies
    it into the float32 priors) of ``node``; ``_children`` first."""
    f = t.estart[node]
    parent_n = t.n[node]
    parent_q = -t.w[node] / max(parent_n, 1)
    vp = 0.0
    for i in range(k):
        if sc.cn[i] > 0:
            vp += np.float64(P16[t.prior[f + i]])
    fpu = parent_q - params[P_FPU] * math.sqrt(np.float64(np.float32(vp)))
    base = params[P_CPUCT_BASE]
    cpuct = params[P_CPUCT] + params[P_CPUCT_FACTOR] * math.log((parent_n + base) / base)
    u_scale = cpuct * math.sqrt(max(parent_n - 1, 1))
    return fpu, np.float32(u_scale)


@njit(**KERNEL, inline="always")
def _ml_on(t: TreeArrays, node: int, params: np.ndarray) -> bool:
    """Whether the moves-left utility applies at ``node``: the tree keeps M, MovesLeftMaxEffect > 0
    and the node's |Q| (draw score 0) is above MovesLeftThreshold."""
    if t.meta[M_MOVES_LEFT] == 0 or params.size < PARAMS_WORDS or not params[P_ML_MAX] > 0.0:
        return False
    return abs(t.w[node] / max(t.n[node], 1)) > params[P_ML_THRESHOLD]


@njit(**KERNEL)
def moves_left_utility(child_m: float, parent_m: float, q: float, params: np.ndarray) -> float:
    """lc0's M utility of a visited child (mcts.moves_left_utility, operation for operation):
    its mean moves left ``child_m`` against the parent's ``parent_m``, ``q`` its Q from the
    parent's side to move."""
    cap = params[P_ML_MAX]
    m = params[P_ML_SLOPE] * (child_m - parent_m)
    m = min(max(m, -cap), cap)
    m *= math.copysign(1.0, -q)
    th = params[P_ML_THRESHOLD]
    if th > 0.0 and th < 1.0:
        q = max(0.0, abs(q) - th) / (1.0 - th)
    return m * (params[P_ML_CONST] + params[P_ML_SCALED] * abs(q) + params[P_ML_QUAD] * q * q)


@njit(**KERNEL)
def select(t: TreeArrays, node: int, mask: np.ndarray, sc: Scratch, params: np.ndarray) -> int:
    """PUCT's choice among ``node``'s edges (mcts.Search._select); ``mask`` (uint8 per edge,
    empty: none) keeps only the allowed ones. Leaves ``node``'s children in ``sc``."""
    k = np.int64(t.ecount[node])
    f = t.estart[node]
    _children(t, node, k, sc)
    fpu, us = _terms(t, node, k, sc, params)
    masked = mask.size > 0
    ml = _ml_on(t, node, params)
    parent_m = t.msum[node] / max(t.n[node], 1) if ml else 0.0
    best = -np.inf
    bi = 0
    for i in range(k):
        if masked and mask[i] == 0:
            continue
        ni = sc.cn[i]
        q = sc.cw[i] / ni if ni > 0 else fpu
        if ml and ni > 0:
            q = q + moves_left_utility(t.msum[sc.ckid[i]] / ni, parent_m, q, params)
        s = q + np.float64(us * P16[t.prior[f + i]]) / np.float64(ni + sc.cvl[i] + 1)
        if s > best:
            best = s
            bi = i
    return bi


@njit(**KERNEL, inline="always")
def _untried(t: TreeArrays, node: int, k: int, f: int) -> int:
    """The edge of ``node`` that PUCT enters next among those without a child: the highest
    prior, the lowest index among equal ones; −1 when every edge has a child.

    Below the root, children are entered in exactly that order: an untried edge scores
    ``fpu + u·P`` with the same ``fpu`` and ``u`` as every other untried edge of the node, so
    the highest prior wins, and of equal ones the first (:func:`select` keeps the first of
    equal scores). The untried edges are therefore those after the latest entered child
    (``first_child``) in that order, and this scans the 16-bit priors alone."""
    c = t.first_child[node]
    lc = np.int64(-1)
    li = np.int64(-1)
    if c >= 0:
        li = np.int64(t.pidx[c])
        lc = np.int64(t.prior[f + li])
    best = np.int64(-1)
    bi = -1
    for j in range(k):
        p = np.int64(t.prior[f + j])
        if c >= 0 and (p > lc or (p == lc and j <= li)):
            continue  # at or before the latest child in the order: it has a child
        if p > best:
            best = p
            bi = j
    return bi


@njit(**KERNEL)
def select_below(t: TreeArrays, node: int, sc: Scratch, params: np.ndarray) -> tuple[int, int]:
    """:func:`select` at a node below the root (no mask): (edge, its child or −1), the same
    choice, read from the entered children and the one untried edge that can win
    (:func:`_untried`) instead of from every edge, in one walk of the children (those without
    a completed visit wait in ``sc.ckid`` for the first-play urgency, which needs the walk's
    visited policy). Scores are computed as :func:`select` computes them; the visited policy
    is summed in another order, which changes nothing (16-bit priors are multiples of 2⁻⁴²,
    so their float64 sum is exact in any order), and equal scores go to the lowest edge, as
    there."""
    k = np.int64(t.ecount[node])
    f = t.estart[node]
    parent_n = t.n[node]
    base = params[P_CPUCT_BASE]
    cpuct = params[P_CPUCT] + params[P_CPUCT_FACTOR] * math.log((parent_n + base) / base)
    us = np.float32(cpuct * math.sqrt(max(parent_n - 1, 1)))
    ml = _ml_on(t, node, params)
    parent_m = t.msum[node] / max(t.n[node], 1) if ml else 0.0
    vp = 0.0
    best = -np.inf
    bi = k
    bc = -1
    fresh = 0
    c = t.first_child[node]
    while c >= 0:
        ni = t.n[c]
        if ni > 0:
            i = np.int64(t.pidx[c])
            p = P16[t.prior[f + i]]
            vp += np.float64(p)
            q = t.w[c] / ni
            if ml:
                q = q + moves_left_utility(t.msum[c] / ni, parent_m, q, params)
            s = q + np.float64(us * p) / np.float64(ni + t.vl[c] + 1)
            if s > best or (s == best and i < bi):
                best = s
                bi = i
                bc = c
        else:
            sc.ckid[fresh] = c
            fresh += 1
        c = t.sibling[c]
    fpu = -t.w[node] / max(parent_n, 1) - params[P_FPU] * math.sqrt(np.float64(np.float32(vp)))
    for j in range(fresh):
        c = sc.ckid[j]
        i = np.int64(t.pidx[c])
        s = fpu + np.float64(us * P16[t.prior[f + i]]) / np.float64(t.vl[c] + 1)
        if s > best or (s == best and i < bi):
            best = s
            bi = i
            bc = c
    u = _untried(t, node, k, f)
    if u >= 0:
        s = fpu + np.float64(us * P16[t.prior[f + u]]) / np.float64(1)
        if s > best or (s == best and u < bi):
            bi = u
            bc = -1
    if bi == k:  # no score beat -inf (select then takes edge 0)
        bi = 0
        bc = -1
        c = t.first_child[node]
        while c >= 0:
            if t.pidx[c] == 0:
                bc = c
            c = t.sibling[c]
    return bi, bc


@njit(**KERNEL, inline="always")
def pick(t: TreeArrays, node: int, root: int, mask: np.ndarray, sc: Scratch, params: np.ndarray) -> tuple[int, int]:
    """The descent's choice at ``node``: (edge, its child or −1). The root scores every edge
    (:func:`select`, under the ``searchmoves`` / pruning ``mask``, which can enter its children
    out of order); a node below it takes :func:`select_below`."""
    if node == root:
        i = select(t, node, mask, sc, params)
        return i, sc.ckid[i]
    return select_below(t, node, sc, params)


@njit(**KERNEL)
def puct_terms(t: TreeArrays, node: int, sc: Scratch, params: np.ndarray, q_out: np.ndarray,
               u_out: np.ndarray) -> int:
    """Q and U of each of ``node``'s edges (mcts.Search._puct_terms); returns their number."""
    k = np.int64(t.ecount[node])
    f = t.estart[node]
    _children(t, node, k, sc)
    fpu, us = _terms(t, node, k, sc, params)
    for i in range(k):
        ni = sc.cn[i]
        q_out[i] = sc.cw[i] / ni if ni > 0 else fpu
        u_out[i] = np.float64(us * P16[t.prior[f + i]]) / np.float64(ni + sc.cvl[i] + 1)
    return k


@njit(**KERNEL)
def edge_stats(t: TreeArrays, node: int, n_out: np.ndarray, w_out: np.ndarray, d_out: np.ndarray,
               vl_out: np.ndarray, kid_out: np.ndarray) -> int:
    """Per edge of ``node``: visits, value and draw sums, visits in flight, child (−1 none)."""
    k = max(np.int64(t.ecount[node]), 0)
    for i in range(k):
        n_out[i] = 0
        w_out[i] = 0.0
        d_out[i] = 0.0
        vl_out[i] = 0
        kid_out[i] = -1
    c = t.first_child[node]
    while c >= 0:
        i = np.int64(t.pidx[c])
        n_out[i] = t.n[c]
        w_out[i] = t.w[c]
        d_out[i] = t.d[c]
        vl_out[i] = t.vl[c]
        kid_out[i] = c
        c = t.sibling[c]
    return k


@njit(**KERNEL)
def child_by_move(t: TreeArrays, node: int, move: int) -> int:
    """The entered child of ``node`` reached by ``move``, or −1."""
    c = t.first_child[node]
    while c >= 0:
        if t.move[c] == move:
            return c
        c = t.sibling[c]
    return -1


# -- descent (games whose leaf work stays in Python) -----------------------------------------------
@njit(**KERNEL)
def descend(t: TreeArrays, mask: np.ndarray, sc: Scratch, params: np.ndarray) -> tuple[int, int]:
    """Walk from the root by PUCT, one visit in flight per node entered, until a node that is
    new or unexpanded (D_NEW), terminal or proven (D_KNOWN), already in flight (D_COLLIDED),
    or until no node record is left for the next step or the path is too deep (D_FULL).
    Returns (what, depth); the path's nodes are ``sc.path[:depth]`` (root excluded)."""
    root = t.meta[M_ROOT]
    node = root
    depth = 0
    while True:
        if depth >= MAX_DEPTH:
            return D_FULL, depth
        i, child = pick(t, node, root, mask, sc, params)
        if child < 0:
            child = new_node(t, node, i, t.emove[t.estart[node] + i])
            if child < 0:
                return D_FULL, depth
            t.vl[child] += 1
            sc.path[depth] = child
            return D_NEW, depth + 1
        t.vl[child] += 1
        sc.path[depth] = child
        depth += 1
        if t.status[child] != UNKNOWN:
            return D_KNOWN, depth
        cnt = t.ecount[child]
        if cnt == PENDING:
            return D_COLLIDED, depth
        if cnt < 0:
            return D_NEW, depth
        node = child


# -- backup and proofs -------------------------------------------------------------------------------
@njit(**KERNEL)
def backup(t: TreeArrays, path: np.ndarray, depth: int, value: float, draw: float, score: float,
           has_score: bool, stats: np.ndarray) -> None:
    """Add a leaf's value (and score), leaf side to move's view, to the path's nodes and the
    root, taking their visits in flight back (mcts.Search._backup); a leaf with no moves left
    (M 0) where the tree keeps M."""
    _backup(t, path, depth, value, draw, score, has_score, 0.0, stats)


@njit(**KERNEL)
def backup_m(t: TreeArrays, path: np.ndarray, depth: int, value: float, draw: float, score: float,
             has_score: bool, m: float, stats: np.ndarray) -> None:
    """:func:`backup` of a leaf whose moves left (plies, its M) is ``m``."""
    _backup(t, path, depth, value, draw, score, has_score, m, stats)


@njit(**KERNEL, inline="always")
def _backup(t: TreeArrays, path: np.ndarray, depth: int, value: float, draw: float, score: float,
            has_score: bool, m: float, stats: np.ndarray) -> None:
    v = -value
    for j in range(depth - 1, -1, -1):
        c = path[j]
        t.n[c] += 1
        t.w[c] += v
        t.d[c] += draw
        t.vl[c] -= 1
        v = -v
    root = t.meta[M_ROOT]
    t.n[root] += 1
    t.w[root] += v
    t.d[root] += draw
    if has_score:
        sv = -score
        for j in range(depth - 1, -1, -1):
            c = path[j]
            t.ssum[c] += sv
            t.sn[c] += 1
            sv = -sv
        t.ssum[root] += sv
        t.sn[root] += 1
    if t.meta[M_MOVES_LEFT]:  # one ply more at each step up (lc0: the parent's M is the child's + 1)
        for j in range(depth - 1, -1, -1):
            t.msum[path[j]] += m + (depth - 1 - j)
        t.msum[root] += m + depth
    stats[S_PLAYOUTS] += 1
    stats[S_DEPTH_SUM] += depth
    if depth > stats[S_SELDEPTH]:
        stats[S_SELDEPTH] = depth


@njit(**KERNEL, inline="always")
def backup_status(t: TreeArrays, path: np.ndarray, depth: int, stats: np.ndarray) -> None:
    """Back up the exact value of the path's last node, terminal or proven (no score; its
    moves left: the plies to its proven end)."""
    leaf = path[depth - 1]
    st = t.status[leaf]
    value = 0.0 if st == DRAWN else (1.0 if st == WON else -1.0)
    _backup(t, path, depth, value, 1.0 if st == DRAWN else 0.0, 0.0, False, np.float64(t.plies[leaf]), stats)


@njit(**KERNEL, inline="always")
def undo_visits(t: TreeArrays, path: np.ndarray, depth: int) -> None:
    """Take back the visits in flight a path put on its nodes."""
    for j in range(depth):
        t.vl[path[j]] -= 1


@njit(**KERNEL)
def propagate_proof(t: TreeArrays, path: np.ndarray, depth: int) -> None:
    """Push a newly known win/loss of the path's last node up the path (mcts._propagate_proof)."""
    root = t.meta[M_ROOT]
    j = depth - 1
    while j >= 0:
        node = path[j]
        parent = path[j - 1] if j > 0 else root
        if t.status[parent] != UNKNOWN:
            return
        st = t.status[node]
        if st == LOST:  # the mover found a win
            t.status[parent] = WON
            t.plies[parent] = t.plies[node] + 1
        elif st == WON:
            kids = 0
            most = 0
            c = t.first_child[parent]
            while c >= 0:
                if t.status[c] != WON:
                    return
                kids += 1
                if t.plies[c] > most:
                    most = t.plies[c]
                c = t.sibling[c]
            if kids < t.ecount[parent]:
                return
            t.status[parent] = LOST
            t.plies[parent] = most + 1
        else:
            return
        j -= 1


@njit(**KERNEL, inline="always")
def set_terminal(t: TreeArrays, node: int, result: float, plies: int) -> None:
    """Mark ``node`` terminal (no edges) with ``result`` for its side to move."""
    t.ecount[node] = 0
    if result > 0:
        t.status[node] = WON
    elif result < 0:
        t.status[node] = LOST
    else:
        t.status[node] = DRAWN
    t.plies[node] = plies


# -- completing a batch ------------------------------------------------------------------------------
@njit(**KERNEL)
def softmax_logits(policy: np.ndarray, idx: np.ndarray, counts: np.ndarray, rows: int, inv_temp: np.float32,
                   z: np.ndarray, offs: np.ndarray) -> int:
    """The exponents of each row's softmax over its legal moves' logits, packed one row after
    another into ``z`` (``offs[r]`` where row r starts): ``(logit − max) · (1/T)`` in float32,
    as ``softmax_priors``. Returns the total length."""
    off = 0
    for r in range(rows):
        k = counts[r]
        offs[r] = off
        if k > 0:
            m = policy[r, idx[r, 0]]
            for j in range(1, k):
                x = policy[r, idx[r, j]]
                if x > m:
                    m = x
            for j in range(k):
                z[off + j] = np.float32(policy[r, idx[r, j]] - m) * inv_temp
        off += k
    offs[rows] = off
    return off


@njit(**KERNEL, inline="always")
def _block_sum(a: np.ndarray, lo: int, n: int) -> np.float32:
    """numpy's float32 pairwise summation of a block of at most 128 (8 accumulators)."""
    if n < 8:
        res = np.float32(-0.0)
        for i in range(n):
            res = np.float32(res + a[lo + i])
        return res
    r0, r1, r2, r3 = a[lo], a[lo + 1], a[lo + 2], a[lo + 3]
    r4, r5, r6, r7 = a[lo + 4], a[lo + 5], a[lo + 6], a[lo + 7]
    i = 8
    end = n - (n % 8)
    while i < end:
        b = lo + i
        r0 = np.float32(r0 + a[b])
        r1 = np.float32(r1 + a[b + 1])
        r2 = np.float32(r2 + a[b + 2])
        r3 = np.float32(r3 + a[b + 3])
        r4 = np.float32(r4 + a[b + 4])
        r5 = np.float32(r5 + a[b + 5])
        r6 = np.float32(r6 + a[b + 6])
        r7 = np.float32(r7 + a[b + 7])
        i += 8
    res = np.float32(np.float32(np.float32(r0 + r1) + np.float32(r2 + r3))
                     + np.float32(np.float32(r4 + r5) + np.float32(r6 + r7)))
    while i < n:
        res = np.float32(res + a[lo + i])
        i += 1
    return res


@njit(**KERNEL)
def _pairwise(a: np.ndarray, lo: np.int64, n: np.int64) -> np.float32:
    if n <= 128:
        return _block_sum(a, lo, n)
    n2 = n // 2
    n2 -= n2 % 8
    return np.float32(_pairwise(a, lo, n2) + _pairwise(a, lo + n2, n - n2))


@njit(**KERNEL)
def pairwise_sum(a: np.ndarray, lo: int, n: int) -> np.float32:
    """numpy's float32 pairwise summation of ``a[lo:lo+n]``: blocks of up to 128 summed with 8
    accumulators, larger ranges halved at a multiple of 8 and their sums added (the recursion
    on int64 bounds only, whatever integers the caller passes)."""
    return _pairwise(a, np.int64(lo), np.int64(n))


@njit(**KERNEL)
def finish_batch(t: TreeArrays, e: np.ndarray, offs: np.ndarray, rows: int, l_node: np.ndarray, l_path: np.ndarray,
                 l_depth: np.ndarray, l_key: np.ndarray, q: np.ndarray, d: np.ndarray, score: np.ndarray,
                 has_score: bool, cache: CacheArrays, stats: np.ndarray) -> None:
    """Expand each evaluated leaf with its priors (the exponentials ``e`` of
    :func:`softmax_logits`' exponents over their pairwise sum), store the evaluation in the
    cache, back its value up (mcts.Search._complete, leaf by leaf in batch order)."""
    _finish_batch(t, e, offs, rows, l_node, l_path, l_depth, l_key, q, d, score, has_score, score, False, cache,
                  stats)


@njit(**KERNEL)
def finish_batch_m(t: TreeArrays, e: np.ndarray, offs: np.ndarray, rows: int, l_node: np.ndarray,
                   l_path: np.ndarray, l_depth: np.ndarray, l_key: np.ndarray, q: np.ndarray, d: np.ndarray,
                   score: np.ndarray, has_score: bool, m: np.ndarray, cache: CacheArrays, stats: np.ndarray) -> None:
    """:func:`finish_batch` for a net with a moves-left head: ``m`` each leaf's moves left (plies)."""
    _finish_batch(t, e, offs, rows, l_node, l_path, l_depth, l_key, q, d, score, has_score, m, True, cache, stats)


@njit(**KERNEL, inline="always")
def _finish_batch(t: TreeArrays, e: np.ndarray, offs: np.ndarray, rows: int, l_node: np.ndarray, l_path: np.ndarray,
                  l_depth: np.ndarray, l_key: np.ndarray, q: np.ndarray, d: np.ndarray, score: np.ndarray,
                  has_score: bool, m: np.ndarray, has_m: bool, cache: CacheArrays, stats: np.ndarray) -> None:
    for r in range(rows):
        o = offs[r]
        k = offs[r + 1] - o
        total = pairwise_sum(e, o, k)
        node = l_node[r]
        f = t.estart[node]
        bits = e.view(np.int32)
        for j in range(k):
            e[o + j] = np.float32(e[o + j] / total)
            t.prior[f + j] = p16(bits[o + j])
        t.ecount[node] = k
        mr = m[r] if has_m else 0.0
        store_m(cache, l_key[r], e, o, k, q[r], d[r], score[r] if has_score else np.nan, mr if has_m else np.nan)
        _backup(t, l_path[r], l_depth[r], q[r], d[r], score[r], has_score, mr, stats)


@njit(**KERNEL)
def drop_leaves(t: TreeArrays, rows: int, l_node: np.ndarray, l_path: np.ndarray, l_depth: np.ndarray) -> None:
    """Forget leaves whose evaluation will not come: unexpanded again, visits in flight back."""
    for r in range(rows):
        t.ecount[l_node[r]] = UNEXPANDED
        undo_visits(t, l_path[r], l_depth[r])


@njit(**KERNEL, inline="always")
def expand_cached(t: TreeArrays, node: int, cache: CacheArrays, entry: int) -> bool:
    """Give ``node`` the cached priors of ``entry`` (no moves stored); False when full."""
    k = np.int64(cache.count[entry])
    f = alloc_edges(t, node, k)
    if f < 0:
        return False
    o = cache.off[entry]
    bits = cache.arena.view(np.int32)
    for j in range(k):
        t.prior[f + j] = p16(bits[o + j])
    t.ecount[node] = k
    return True



@njit(**KERNEL)
def root_stats(t: TreeArrays, mask: np.ndarray, sc: Scratch, out: np.ndarray) -> None:
    """The root's visits and its two most visited edges' visits into ``out[0:3]`` (masked-out
    edges count −1, as mcts.Search.stats; with one edge the second is 0), in one call."""
    root = t.meta[M_ROOT]
    k = max(np.int64(t.ecount[root]), 0)
    _children(t, root, k, sc)
    masked = mask.size > 0
    best = np.int64(-(1 << 62))
    second = np.int64(-(1 << 62))
    for i in range(k):
        v = np.int64(sc.cn[i]) if not masked or mask[i] else np.int64(-1)
        if v > best:
            second = best
            best = v
        elif v > second:
            second = v
    out[0] = t.n[root]
    out[1] = best if k >= 1 else 0
    out[2] = second if k >= 2 else 0


#: the words of :func:`root_report`: root visits, the two most visited root edges' visits, whether
#: the root has edges, the statistics words up to S_CACHE_HITS, whether the root is proven won or
#: lost, whether the tree is full
R_VISITS, R_TOP1, R_TOP2, R_EDGES, R_PLAYOUTS, R_DEPTH_SUM, R_SELDEPTH, R_COLLISIONS, R_CACHE_HITS, R_PROVEN, \
    R_FULL = range(11)
REPORT_WORDS = 11


@njit(**KERNEL)
def root_report(t: TreeArrays, mask: np.ndarray, sc: Scratch, stats: np.ndarray, out: np.ndarray) -> None:
    """:func:`root_stats` and everything else a search's ``stats()`` reads from the tree and the
    statistics words, into ``out[:REPORT_WORDS]`` (``R_*``), in one call."""
    root_stats(t, mask, sc, out)
    root = t.meta[M_ROOT]
    out[R_EDGES] = 1 if t.ecount[root] >= 1 else 0
    for j in range(S_CACHE_HITS + 1):
        out[R_PLAYOUTS + j] = stats[j]
    out[R_PROVEN] = 1 if t.status[root] == WON or t.status[root] == LOST else 0
    out[R_FULL] = 1 if t.meta[M_FULL] else 0
