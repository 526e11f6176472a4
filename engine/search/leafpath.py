"""Kernel calls for the playouts whose leaf work stays in Python (shogi: cshogi's rules).

Calling a numba kernel from Python costs more the more arrays it is handed: numba types each
one on every call. With the tree's twenty-odd arrays, the scratch and the cache passed as
named tuples, that was about 10 µs a call on the dev machine, three or four calls a leaf, more
than the rest of a playout. :class:`LeafCtx` bundles them once per search in a numba
``StructRef``, typed in one step (about 1–2 µs a call); :class:`LeafCalls` goes further and
calls each kernel's compiled entry point for the search's argument types, with no typing at
all (about 0.3 µs a call). Each function here does in one call what a leaf needs: the descent, then one of a proven or terminal ending, a cache hit's
expansion, or a place in the batch.

These kernels keep the GIL (no ``nogil``): each runs for a microsecond or two, under the
search's lock, in the middle of a gather. Releasing the GIL around each let another thread (the
network's) take it mid-gather, and taking it back cost a thread switch; the trivial bench ran
1–2 µs a node slower that way. The kernels they call are compiled without the GIL as usual.

The numbers are the reference's: the same kernels (engine/search/kernels.py) run in the same
order as :meth:`engine.search.native.NativeSearch._gather_python` ran them one by one.
"""

from __future__ import annotations

import functools
from typing import Any, Callable

import numpy as np
from numba import njit
from numba.core import types
from numba.experimental import structref

from . import kernels as k
from .nncache import CacheArrays, lookup

#: descend()'s answer when the root is decided or has no moves (nothing to gather)
D_ROOT_DONE = -1


@structref.register
class _LeafCtxType(types.StructRef):
    def preprocess_fields(self, fields):  # noqa: ANN001, ANN201 - numba's hook
        return tuple((name, types.unliteral(typ)) for name, typ in fields)


class LeafCtx(structref.StructRefProxy):
    """The tree, the root's move mask, the scratch, the PUCT parameters, the statistics words,
    the eval cache and a row of path moves, as one argument (see the module doc)."""

    def __new__(cls, tree: k.TreeArrays, mask: np.ndarray, sc: k.Scratch, params: np.ndarray,
                stats: np.ndarray, cache: CacheArrays, moves: np.ndarray) -> "LeafCtx":
        return structref.StructRefProxy.__new__(cls, tree, mask, sc, params, stats, cache, moves)


structref.define_constructor(LeafCtx, _LeafCtxType, ["tree", "mask", "sc", "params", "stats", "cache", "moves"])
structref.define_boxing(_LeafCtxType, LeafCtx)


def bind(kernel: Any, *example: Any) -> Callable[..., Any]:
    """``kernel`` compiled for the argument types of ``example``, as a callable that skips
    numba's dispatch. The dispatcher types every argument on every call: about 1 µs a call on
    the dev machine with a :class:`LeafCtx` and a few scalars, more with arrays, and a leaf
    makes two or more calls. The compiled code trusts its caller: later calls must pass
    arguments of the same types (the same arrays, or arrays of the same dtype, rank and
    layout; Python ints and floats where ``example`` had them). Without numba's JIT
    (``NUMBA_DISABLE_JIT``), ``kernel`` itself."""
    compile_ = getattr(kernel, "compile", None)
    if compile_ is None:
        return kernel
    key = (kernel, tuple(_type_key(a) for a in example))
    got = _BOUND.get(key)
    if got is None:  # numba's typing of the tree's arrays takes about 0.1 ms a kernel: once a process
        got = _BOUND[key] = compile_(tuple(kernel.typeof_pyval(a) for a in example))
    return got


#: (kernel, argument type keys) → its compiled entry point, for every search of the process
_BOUND: dict[tuple[Any, tuple[Any, ...]], Callable[..., Any]] = {}


def _type_key(a: Any) -> Any:
    """What numba's type of ``a`` depends on, cheaply: an array's dtype, rank, layout flags,
    writability and alignment; a tuple's class and its items' keys; a StructRef's numba type; a
    scalar's Python type (the examples :func:`bind` gets are small ints, floats, bools and numpy
    scalars)."""
    if isinstance(a, np.ndarray):
        f = a.flags
        return (a.dtype, a.ndim, f.c_contiguous, f.f_contiguous, f.writeable, f.aligned)
    if isinstance(a, tuple):
        return (type(a), *(_type_key(x) for x in a))
    if isinstance(a, structref.StructRefProxy):
        return a._type  # noqa: SLF001 - the proxy's numba type, as numba's typeof reads it
    return type(a)


class LeafCalls:
    """The kernels below, compiled once for a search's argument types (:func:`bind`) and each
    with its :class:`LeafCtx` already applied, for the leaf path's loop: ``descend()``,
    ``collide(depth, held, nheld)``, ``release(held, nheld)``, ``back_up(...)``,
    ``back_up_m(...)``, ``end(...)``, ``from_cache(depth, key, moves)``, ``queue(...)``
    and ``cache_or_queue(...)`` (None without a move-label table).

    ``entries`` (from :meth:`entries`) are the compiled kernels without a context: one
    search builds them once and a new root mask only re-applies them (:meth:`with_ctx`)."""

    NAMES = ("descend", "collide", "release", "back_up", "back_up_m", "end", "from_cache", "queue",
             "cache_or_queue")

    def __init__(self, ctx: "LeafCtx", entries: dict[str, Any]) -> None:
        self.ctx = ctx
        for name in self.NAMES:
            fn = entries.get(name)
            setattr(self, name, None if fn is None else functools.partial(fn, ctx))

    @staticmethod
    def entries(ctx: "LeafCtx", held: np.ndarray, moves: np.ndarray, l_node: np.ndarray, l_path: np.ndarray,
                l_depth: np.ndarray, l_count: np.ndarray, l_key: np.ndarray, l_idx: np.ndarray,
                labels: np.ndarray | None) -> dict[str, Any]:
        """Each kernel compiled for these arguments' types (``labels``: one side's row of a
        codec's move-label table, or None); ``moves`` stands for every leaf's move array."""
        key = np.uint64(0)
        got = {
            "descend": bind(descend, ctx),
            "collide": bind(collide, ctx, 0, held, 0),
            "release": bind(release, ctx, held, 0),
            "back_up": bind(back_up, ctx, 0, 0.0, 0.0, 0.0, False),
            "back_up_m": bind(back_up_m, ctx, 0, 0.0, 0.0, 0.0, False, 0.0),
            "end": bind(end, ctx, 0, 0.0, 0, 0.0, False),
            "from_cache": bind(from_cache, ctx, 0, key, moves),
            "queue": bind(queue, ctx, 0, moves, 0, l_node, l_path, l_depth, l_count, l_key, key),
        }
        if labels is not None:
            got["cache_or_queue"] = bind(cache_or_queue, ctx, 0, key, moves, 0, l_node, l_path, l_depth, l_count,
                                         l_key, l_idx, labels)
        return got

    def with_ctx(self, ctx: "LeafCtx") -> "LeafCalls":
        """The same kernels on another context of the same types (another root mask)."""
        return LeafCalls(ctx, {name: getattr(self, name).func for name in self.NAMES
                               if getattr(self, name) is not None})


@njit(cache=True)
def descend(c: LeafCtx) -> tuple[int, int]:
    """kernels.descend from the root, with the path's moves in ``c.moves[:depth]``;
    (D_ROOT_DONE, 0) when the root is decided or has no moves."""
    t = c.tree
    root = t.meta[k.M_ROOT]
    if t.status[root] != k.UNKNOWN or t.ecount[root] == 0:
        return D_ROOT_DONE, 0
    what, depth = k.descend(t, c.mask, c.sc, c.params)
    for j in range(depth):
        c.moves[j] = t.move[c.sc.path[j]]
    return what, depth


@njit(cache=True)
def collide(c: LeafCtx, depth: int, held: np.ndarray, nheld: int) -> int:
    """Keep the path just descended (its visits stay in flight until :func:`release`) in
    ``held`` from ``nheld``; the new fill, or ``-nheld - 1`` when ``held`` has no room (the
    path's visits are then taken back at once, and the batch should end)."""
    if nheld + depth + 1 > held.size:
        k.undo_visits(c.tree, c.sc.path, depth)
        c.stats[k.S_COLLISIONS] += 1
        return -nheld - 1
    held[nheld] = depth
    for j in range(depth):
        held[nheld + 1 + j] = c.sc.path[j]
    c.stats[k.S_COLLISIONS] += 1
    return nheld + depth + 1


@njit(cache=True)
def release(c: LeafCtx, held: np.ndarray, nheld: int) -> None:
    """Take back the visits in flight of every path :func:`collide` kept."""
    i = 0
    while i < nheld:
        depth = held[i]
        k.undo_visits(c.tree, held[i + 1:i + 1 + depth], depth)
        i += depth + 1


@njit(cache=True)
def back_up(c: LeafCtx, depth: int, value: float, draw: float, score: float, has_score: bool) -> None:
    """kernels.backup along the path just descended."""
    k.backup(c.tree, c.sc.path, depth, value, draw, score, has_score, c.stats)


@njit(cache=True)
def back_up_m(c: LeafCtx, depth: int, value: float, draw: float, score: float, has_score: bool, m: float) -> None:
    """kernels.backup_m along the path just descended (a leaf with ``m`` plies left)."""
    k.backup_m(c.tree, c.sc.path, depth, value, draw, score, has_score, m, c.stats)


@njit(cache=True)
def end(c: LeafCtx, depth: int, result: float, plies: int, score: float, has_score: bool) -> None:
    """The path's leaf is decided (a terminal position, or a forced win in ``plies``): mark it,
    back its result up (moves left: ``plies``) and push the proof up the path."""
    t = c.tree
    k.set_terminal(t, c.sc.path[depth - 1], result, plies)
    k.backup_m(t, c.sc.path, depth, result, 1.0 if result == 0 else 0.0, score, has_score, float(plies), c.stats)
    k.propagate_proof(t, c.sc.path, depth)


@njit(cache=True)
def from_cache(c: LeafCtx, depth: int, key: np.uint64, moves: np.ndarray) -> int:
    """Expand the leaf from the eval cache and back its value up: 1; 0 when the cache has no
    entry for ``key`` with this many moves; −1 when the full tree had no room for its edges."""
    e = lookup(c.cache, key)
    n = moves.size
    if e < 0 or c.cache.count[e] != n:
        return 0
    o = c.cache.off[e]
    t = c.tree
    if not k.expand(t, c.sc.path[depth - 1], c.cache.arena[o:o + n], moves):
        return -1
    c.stats[k.S_CACHE_HITS] += 1
    s = c.cache.score[e]
    has = s == s
    m = c.cache.m[e]
    k.backup_m(t, c.sc.path, depth, c.cache.q[e], c.cache.d[e], s if has else 0.0, has, m if m == m else 0.0,
               c.stats)
    return 1


@njit(cache=True)
def queue(c: LeafCtx, depth: int, moves: np.ndarray, row: int, l_node: np.ndarray, l_path: np.ndarray,
          l_depth: np.ndarray, l_count: np.ndarray, l_key: np.ndarray, key: np.uint64) -> bool:
    """Give the leaf room for its edges (and their moves), mark it pending and record it in
    batch row ``row``; False when the full tree had no room."""
    t = c.tree
    child = c.sc.path[depth - 1]
    n = moves.size
    f = k.alloc_edges(t, child, n)
    if f < 0:
        return False
    if t.meta[k.M_EDGE_MOVES]:
        for j in range(n):
            t.emove[f + j] = moves[j]
    l_count[row] = n
    l_node[row] = child
    l_depth[row] = depth
    for j in range(depth):
        l_path[row, j] = c.sc.path[j]
    l_key[row] = key
    t.ecount[child] = k.PENDING
    return True


@njit(cache=True)
def cache_or_queue(c: LeafCtx, depth: int, key: np.uint64, moves: np.ndarray, row: int, l_node: np.ndarray,
                   l_path: np.ndarray, l_depth: np.ndarray, l_count: np.ndarray, l_key: np.ndarray,
                   l_idx: np.ndarray, labels: np.ndarray) -> int:
    """:func:`from_cache`, then on a miss :func:`queue` with each move's policy index
    (``labels[move & 0x7FFF]``, a codec's table for the side to move) in ``l_idx[row]``: one
    call where the leaf made three. 1 queued in ``row``, 0 expanded from the cache, −1 when
    the full tree had no room for its edges."""
    hit = from_cache(c, depth, key, moves)
    if hit:
        return -1 if hit < 0 else 0
    if not queue(c, depth, moves, row, l_node, l_path, l_depth, l_count, l_key, key):
        return -1
    for j in range(moves.size):
        l_idx[row, j] = labels[moves[j] & 0x7FFF]
    return 1
