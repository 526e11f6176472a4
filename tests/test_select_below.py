"""``kernels.select_below`` (the descent's choice below the root) against ``kernels.select``.

``select`` scores every edge of a node; ``select_below`` scores only the entered children and
the one untried edge that can win (the highest prior, lowest index among equal ones), relying on
children below the root being entered in that order. Here random trees grow by the descent
itself — priors drawn from a few values so that many are equal, values random, some paths left
in flight, some proven — and at every step every expanded node below the root must get the
same edge and child from both.
"""

from __future__ import annotations

import numpy as np
import pytest

from tabula.engine.search import kernels as k
from tabula.engine.search.native import search_params_array
from tabula.engine.search.params import SearchParams


def _priors(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` priors from a handful of values (ties are the point), normalised, float32."""
    p = rng.choice(np.array([1.0, 1.0, 2.0, 3.0, 0.5, 0.001]), size=n).astype(np.float32)
    return (p / p.sum()).astype(np.float32)


def _check_all(t: k.TreeArrays, sc: k.Scratch, params: np.ndarray) -> int:
    """Compare the two at every expanded node below the root; the number compared."""
    root = int(t.meta[k.M_ROOT])
    mask = np.zeros(0, np.uint8)
    compared = 0
    for node in range(int(t.meta[k.M_NODES])):
        if node == root or t.ecount[node] <= 0:
            continue
        i = int(k.select(t, node, mask, sc, params))
        want = (i, int(sc.ckid[i]))
        got = k.select_below(t, node, sc, params)
        assert (int(got[0]), int(got[1])) == want, f"node {node}"
        compared += 1
    return compared


@pytest.mark.parametrize("seed", range(6))
def test_select_below_picks_what_select_picks(seed: int) -> None:
    rng = np.random.default_rng(seed)
    p = SearchParams()
    if seed % 2:  # a high first-play urgency: untried edges beat visited ones more often
        p = SearchParams(fpu_reduction=0.0)
    params = search_params_array(p)
    t = k.new_tree_arrays(4096, 1 << 16, edge_moves=True, scored=False)
    sc = k.new_scratch()
    stats = np.zeros(k.STATS_WORDS, np.int64)
    mask = np.zeros(0, np.uint8)
    root = int(t.meta[k.M_ROOT])
    n = int(rng.integers(3, 12))
    assert k.expand(t, root, _priors(rng, n), np.arange(n, dtype=np.int32))
    t.n[root] = 1
    held: list[tuple[np.ndarray, int]] = []
    compared = 0
    for step in range(600):
        what, depth = k.descend(t, mask, sc, params)
        path = sc.path[:depth].copy()
        if what == k.D_NEW:
            leaf = int(path[depth - 1])
            if rng.random() < 0.05:  # a proven end: mate or a draw
                r = float(rng.choice([-1.0, 0.0]))
                k.set_terminal(t, leaf, r, 0)
                k.backup(t, path, depth, r, 1.0 if r == 0 else 0.0, 0.0, False, stats)
                k.propagate_proof(t, path, depth)
            else:
                m = int(rng.integers(1, 12))
                assert k.expand(t, leaf, _priors(rng, m), np.arange(m, dtype=np.int32))
                if rng.random() < 0.2:  # left in flight for a while, as a batch does
                    held.append((path, depth))
                else:
                    k.backup(t, path, depth, float(rng.uniform(-1, 1)), 0.0, 0.0, False, stats)
        elif what == k.D_KNOWN:  # a proven node again: its result once more
            s = t.status[path[depth - 1]]
            r = 0.0 if s == k.DRAWN else (1.0 if s == k.WON else -1.0)
            k.backup(t, path, depth, r, 1.0 if s == k.DRAWN else 0.0, 0.0, False, stats)
        else:
            k.undo_visits(t, path, depth)
        if held and rng.random() < 0.3:
            hp, hd = held.pop(int(rng.integers(len(held))))
            k.backup(t, hp, hd, float(rng.uniform(-1, 1)), 0.0, 0.0, False, stats)
        if step % 25 == 0:
            compared += _check_all(t, sc, params)
    compared += _check_all(t, sc, params)
    assert compared > 500
