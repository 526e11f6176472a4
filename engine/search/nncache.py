"""The network result cache in plain arrays, so compiled kernels look positions up mid-batch.

:class:`NativeEvalCache` keeps :class:`engine.evaluator.EvalCache`'s contract — a bounded map
from a position's 64-bit key to (priors over its legal moves, Q, D, score, moves left), the oldest entry
evicted first, a re-stored key keeping its place — in a :class:`CacheArrays`: an
open-addressing hash table (linear probing, backward-shift deletion) over a ring of entries,
whose priors sit one after another in a ring arena of float32. When the arena, sized at
``moves_hint`` priors per entry, has no room for a new entry's priors, the oldest entries go
first as they would when the map is full; so a cache of positions with more legal moves than
the hint holds fewer of them than its capacity says.

>>> c = NativeEvalCache(2)
>>> c.put(7, np.array([0.5, 0.5], np.float32), 0.1, 0.2); c.get(7)[1:]
(0.1, 0.2, None, None)
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from .jitopts import KERNEL

# meta words
C_CAP, C_HEAD, C_COUNT, C_TAIL, C_MASK, C_ARENA, C_HITS, C_LOOKUPS = range(8)


class CacheArrays(NamedTuple):
    """See the module doc; ``slots`` holds entry indices (−1 empty)."""

    slots: np.ndarray   #: int32[S], S a power of two ≥ 2·capacity
    key: np.ndarray     #: uint64[C]
    off: np.ndarray     #: int64[C] where the entry's priors start in ``arena``
    count: np.ndarray   #: int32[C] number of priors
    q: np.ndarray       #: float64[C]
    d: np.ndarray       #: float64[C]
    score: np.ndarray   #: float64[C], NaN: none
    arena: np.ndarray   #: float32[A]
    meta: np.ndarray    #: int64[8]
    m: np.ndarray       #: float64[C] moves left (plies; nets with a moves-left head), NaN: none


def new_cache_arrays(capacity: int, moves_hint: int = 64) -> CacheArrays:
    """Arrays for ``capacity`` entries (0: a cache that stores nothing)."""
    cap = max(0, int(capacity))
    slots = 2
    while slots < 2 * cap:
        slots *= 2
    arena = min(cap * max(1, int(moves_hint)), 1 << 29)
    c = CacheArrays(np.full(slots, -1, np.int32), np.zeros(max(cap, 1), np.uint64), np.zeros(max(cap, 1), np.int64),
                    np.zeros(max(cap, 1), np.int32), np.zeros(max(cap, 1)), np.zeros(max(cap, 1)),
                    np.zeros(max(cap, 1)), np.zeros(max(arena, 1), np.float32), np.zeros(8, np.int64),
                    np.full(max(cap, 1), np.nan))
    c.meta[C_CAP] = cap
    c.meta[C_MASK] = slots - 1
    c.meta[C_ARENA] = arena
    return c


@njit(**KERNEL, inline="always")
def _home(key: np.uint64, mask: int) -> int:
    x = key
    x ^= x >> np.uint64(33)
    x *= np.uint64(0xFF51AFD7ED558CCD)
    x ^= x >> np.uint64(33)
    return np.int64(x & np.uint64(mask))


@njit(**KERNEL)
def _find_slot(c: CacheArrays, key: np.uint64) -> int:
    """The slot holding ``key``, or −1."""
    mask = c.meta[C_MASK]
    s = _home(key, mask)
    while True:
        e = c.slots[s]
        if e < 0:
            return -1
        if c.key[e] == key:
            return s
        s = (s + 1) & mask


@njit(**KERNEL)
def lookup(c: CacheArrays, key: np.uint64) -> int:
    """The entry of ``key``, or −1 (counted in the hit statistics)."""
    c.meta[C_LOOKUPS] += 1
    if c.meta[C_COUNT] == 0:
        return -1
    s = _find_slot(c, key)
    if s < 0:
        return -1
    c.meta[C_HITS] += 1
    return c.slots[s]


@njit(**KERNEL)
def _delete_slot(c: CacheArrays, s: int) -> None:
    """Empty slot ``s`` and shift the probe chain behind it back (no tombstones)."""
    mask = c.meta[C_MASK]
    c.slots[s] = -1
    j = s
    while True:
        j = (j + 1) & mask
        e = c.slots[j]
        if e < 0:
            return
        h = _home(c.key[e], mask)
        # move e to s unless its home lies cyclically in (s, j]
        if (j > s and (h <= s or h > j)) or (j < s and (h <= s and h > j)):
            c.slots[s] = e
            c.slots[j] = -1
            s = j


@njit(**KERNEL)
def _evict_oldest(c: CacheArrays) -> None:
    head = c.meta[C_HEAD]
    if c.count[head] >= 0:  # −1: its key was stored anew elsewhere, its slot is gone already
        s = _find_slot(c, c.key[head])
        if s >= 0 and c.slots[s] == head:
            _delete_slot(c, s)
    c.meta[C_HEAD] = (head + 1) % c.meta[C_CAP]
    c.meta[C_COUNT] -= 1


@njit(**KERNEL)
def _reserve(c: CacheArrays, k: int) -> int:
    """Arena offset for ``k`` priors, evicting the oldest entries until they fit."""
    size = c.meta[C_ARENA]
    while True:
        if c.meta[C_COUNT] == 0:
            return 0
        tail = c.meta[C_TAIL]
        h = c.off[c.meta[C_HEAD]]
        if tail > h:        # live priors in [h, tail): room after tail, or from 0 up to h
            if tail + k <= size:
                return tail
            if k <= h:
                return 0
        elif tail < h:      # live priors wrap: room in [tail, h)
            if tail + k <= h:
                return tail
        _evict_oldest(c)


@njit(**KERNEL)
def store(c: CacheArrays, key: np.uint64, priors: np.ndarray, lo: int, k: int, q: float, d: float,
          score: float) -> None:
    """Remember ``priors[lo:lo+k]``, Q, D and score (NaN: none) for ``key``; a key already
    stored keeps its place (and age) when its number of priors is the same."""
    store_m(c, key, priors, lo, k, q, d, score, np.nan)


@njit(**KERNEL)
def store_m(c: CacheArrays, key: np.uint64, priors: np.ndarray, lo: int, k: int, q: float, d: float,
            score: float, m: float) -> None:
    """:func:`store` with the moves left ``m`` (NaN: none)."""
    cap = c.meta[C_CAP]
    if cap == 0 or k > c.meta[C_ARENA]:
        return
    s = _find_slot(c, key) if c.meta[C_COUNT] > 0 else -1
    if s >= 0:
        e = c.slots[s]
        if c.count[e] == k:
            o = c.off[e]
            for j in range(k):
                c.arena[o + j] = priors[lo + j]
            c.q[e] = q
            c.d[e] = d
            c.score[e] = score
            c.m[e] = m
            return
        _delete_slot(c, s)  # a different move count under the same key: store it anew
        c.count[e] = -1
    if c.meta[C_COUNT] == cap:
        _evict_oldest(c)
    o = _reserve(c, k)
    e = (c.meta[C_HEAD] + c.meta[C_COUNT]) % cap
    c.key[e] = key
    c.off[e] = o
    c.count[e] = k
    c.q[e] = q
    c.d[e] = d
    c.score[e] = score
    c.m[e] = m
    for j in range(k):
        c.arena[o + j] = priors[lo + j]
    c.meta[C_TAIL] = o + k
    c.meta[C_COUNT] += 1
    mask = c.meta[C_MASK]
    s = _home(key, mask)
    while c.slots[s] >= 0:
        s = (s + 1) & mask
    c.slots[s] = e


@njit(**KERNEL)
def clear_arrays(c: CacheArrays) -> None:
    """Forget every entry."""
    c.slots[:] = -1
    c.meta[C_HEAD] = 0
    c.meta[C_COUNT] = 0
    c.meta[C_TAIL] = 0
    c.meta[C_HITS] = 0
    c.meta[C_LOOKUPS] = 0


class NativeEvalCache:
    """:class:`engine.evaluator.EvalCache`'s interface over :class:`CacheArrays`; the compiled
    search reads and writes ``arrays`` directly."""

    def __init__(self, capacity: int, moves_hint: int = 64) -> None:
        self.capacity = max(0, int(capacity))
        self.arrays = new_cache_arrays(self.capacity, moves_hint)

    @property
    def hits(self) -> int:
        return int(self.arrays.meta[C_HITS])

    @property
    def lookups(self) -> int:
        return int(self.arrays.meta[C_LOOKUPS])

    def get(self, key: int) -> tuple[np.ndarray, float, float, float | None, float | None] | None:
        """(priors, Q, D, score or None, moves left or None) stored for ``key``, or None."""
        c = self.arrays
        e = lookup(c, np.uint64(key & 0xFFFF_FFFF_FFFF_FFFF))
        if e < 0:
            return None
        o, k = int(c.off[e]), int(c.count[e])
        s, m = float(c.score[e]), float(c.m[e])
        return c.arena[o:o + k].copy(), float(c.q[e]), float(c.d[e]), None if s != s else s, None if m != m else m

    def put(self, key: int, priors: np.ndarray, q: float, d: float, score: float | None = None,
            m: float | None = None) -> None:
        """Store an evaluation (``m``: moves left, nets with that head), evicting the oldest when full."""
        p = np.ascontiguousarray(priors, np.float32)
        store_m(self.arrays, np.uint64(key & 0xFFFF_FFFF_FFFF_FFFF), p, 0, p.size, float(q), float(d),
                np.nan if score is None else float(score), np.nan if m is None else float(m))

    def clear(self) -> None:
        """Forget everything."""
        clear_arrays(self.arrays)

    def __len__(self) -> int:
        return int(self.arrays.meta[C_COUNT])
