"""PUCT Monte-Carlo tree search with virtual-loss minibatches, overlapped with the network.

One :class:`Search` runs on one thread. Each :meth:`Search.step` gathers a batch of
leaves (walking the tree by pushing moves onto one game state and popping them
back), then completes the batch submitted by the previous step, then submits the
new one: the network evaluates batch *k* while the search gathers batch *k+1*.

Terminal positions (mate, stalemate, draws by rule or repetition) are scored by
the rules without the net; positions found in the eval cache are expanded at
once. A node whose result is proven (a side can force mate) is treated as
terminal afterwards, which also yields ``mate`` scores.

The search never reads a clock: limits live in :mod:`engine.search.stoppers`, and
the caller loops ``while not stopper.should_stop(search.stats()): search.step()``.
"""

from __future__ import annotations

import math
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from ..codecs.base import softmax_priors
from ..evaluator import EvalCache
from ..evaluator_api import Batch, Evaluator
from ..games.base import GameState
from .disputed import disputed_end
from .ownership import OwnershipMean
from .params import SearchParams
from .rooteval import evaluate_root
from .rootprune import hopeless
from .tree import Tree


@dataclass
class _Leaf:
    """A leaf waiting for the network."""

    node: int
    path: list[int]
    moves: Sequence[int]
    idx: np.ndarray
    key: int


@dataclass
class SearchStats:
    """What stoppers and reporters read after each step."""

    playouts: int = 0          #: leaves completed by this search (terminal, cache or net)
    nodes: int = 0             #: root visits, including those reused from earlier searches
    depth_sum: int = 0
    seldepth: int = 0
    collisions: int = 0
    net_positions: int = 0     #: positions sent to the network
    cache_hits: int = 0
    elapsed: float = 0.0       #: seconds since the search started
    root_proven: bool = False
    tree_full: bool = False
    top_visits: tuple[int, int] = (0, 0)  #: visits of the best and second-best root moves

    @property
    def depth(self) -> int:
        """Average depth of the playouts, lc0 style."""
        return round(self.depth_sum / self.playouts) if self.playouts else 0

    @property
    def nps(self) -> int:
        """Playouts per second."""
        return int(self.playouts / self.elapsed) if self.elapsed > 0 else 0


@dataclass
class Line:
    """One root move's summary, for ``info … multipv k``."""

    move: int
    visits: int
    q: float          #: mean value in [-1, 1] for the side to move at the root
    d: float          #: mean draw probability
    prior: float
    pv: list[int] = field(default_factory=list)
    mate: int | None = None  #: moves to mate, >0 if the root side mates, <0 if it is mated
    score: float | None = None  #: mean score (go: points of lead) for the side to move; None without a score head
    #: M of the move, the mean plies left after it (an unvisited move: 1 + the root's); None without a moves-left head
    m: float | None = None


def collision_budget(visits: float, p: SearchParams) -> int:
    """Collision visits one batch may meet before it is sent (lc0's scaling).

    1 up to ``collision_scaling_start`` visits, ``max_collision_visits`` from
    ``collision_scaling_end`` on, and a power curve between.

    >>> collision_budget(10, SearchParams()), collision_budget(400, SearchParams())
    (1, 47)
    """
    lo, hi = p.collision_scaling_start, p.collision_scaling_end
    if visits >= hi:
        return p.max_collision_visits
    if visits <= lo:
        return 1
    ratio = ((visits - lo) / (hi - lo)) ** p.collision_scaling_power
    return int(round(1 + (p.max_collision_visits - 1) * ratio))


def moves_left_utility(child_m: float, parent_m: float, q: float, p: SearchParams) -> float:
    """lc0's moves-left utility of a visited child (its ``MEvaluator::GetMUtility``).

    ``child_m`` and ``parent_m`` are the mean moves left (plies) of the child's and the parent's
    subtrees, ``q`` the child's Q from the parent's side to move. The difference times the
    slope, clamped to ±MovesLeftMaxEffect, counts for the shorter line when winning (q > 0) and
    for the longer one when losing, scaled by how far |q| is past the threshold.

    >>> round(moves_left_utility(10.0, 21.0, 0.9, SearchParams()), 6)   # winning: shorter is better
    0.019692
    """
    cap = p.moves_left_max_effect
    m = p.moves_left_slope * (child_m - parent_m)
    m = min(max(m, -cap), cap)
    m *= math.copysign(1.0, -q)
    th = p.moves_left_threshold
    if th > 0.0 and th < 1.0:
        q = max(0.0, abs(q) - th) / (1.0 - th)
    return m * (p.moves_left_constant_factor + p.moves_left_scaled_factor * abs(q)
                + p.moves_left_quadratic_factor * q * q)


@dataclass
class MoveStat:
    """One root move's selection terms, as lc0's ``VerboseMoveStats`` prints them."""

    move: int
    visits: int
    in_flight: int
    prior: float
    q: float          #: mean value for the root's side to move (first-play urgency if unvisited)
    d: float          #: mean draw probability (0 if unvisited)
    u: float          #: exploration term
    proven: int = 0   #: +1 proven win for the root side, -1 proven loss, 0 unknown

    @property
    def score(self) -> float:
        """What PUCT maximises: Q + U."""
        return self.q + self.u


class Search:
    """A search from one root; owns no thread. ``step`` blocks for one batch cycle.

    The network is any :class:`~engine.evaluator_api.Evaluator`: the search calls its
    ``codec``, ``new_batch``, ``run`` (the root) and ``submit`` (every later batch)."""

    def __init__(self, state: GameState, tree: Tree, evaluator: Evaluator, cache: EvalCache,
                 params: SearchParams, *, root_moves: Sequence[int] | None = None,
                 abort: threading.Event | None = None) -> None:
        self.state = state
        state.set_search_root()
        state.set_cache_history(params.cache_history)
        self.tree = tree
        self.ev = evaluator
        self.codec = evaluator.codec
        self.cache = cache
        self.params = params
        self.abort = abort or threading.Event()
        self._slots: list[Batch] = [evaluator.new_batch(params.minibatch),
                                    evaluator.new_batch(params.minibatch)]
        self._k = 0
        self._inflight: tuple[Future, list[_Leaf]] | None = None
        self._t0 = time.monotonic()
        self._stats = SearchStats()
        self.eval_seconds = 0.0  # network wall time of completed batches (for batch sizing)
        self.batch_limit = params.minibatch
        #: playouts the limits still allow (the controller updates it); it sizes the collision budget
        self.remaining_playouts: float = float("inf")
        #: playouts lc0's root rule allows for (engine/search/rootprune.py; the controller sets it)
        self.root_prune: float = float("inf")
        self._root_mask: np.ndarray | None = None
        #: the net has a score head (KataGo's lead): averaged per node beside the value
        self._scored = bool(self.codec.has_score)
        #: the net has a moves-left head: every node keeps M, the mean moves left of its subtree
        self._ml = bool(self.codec.has_moves_left)
        #: lc0's moves-left utility is on (the head, and MovesLeftMaxEffect > 0)
        self._ml_on = self._ml and params.moves_left_max_effect > 0
        #: the net has an ownership head: the mean over this search's evaluations, root view
        self._owned = bool(self.codec.has_ownership)
        self._own = OwnershipMean()
        self._ensure_root_expanded()
        if root_moves:
            self.restrict_root(root_moves)

    # -- setup ---------------------------------------------------------------------------
    def _ensure_root_expanded(self) -> None:
        t = self.tree
        root = t.root
        if t.count[root] >= 0:
            return
        moves, priors, q, d, score, m = evaluate_root(self, self._slots[0], self.codec.encode,
                                                      self.codec.policy_indices)
        t.expand(root, moves, priors)
        t.root_n, t.root_w, t.root_d = 1, q, d
        if score is not None:
            t.root_ssum, t.root_sn = score, 1
        if self._ml:
            t.root_msum = m or 0.0

    def restrict_root(self, moves: Sequence[int]) -> None:
        """Search only these root moves (UCI ``searchmoves``)."""
        t = self.tree
        e = t.edges(t.root)
        allowed = set(moves)
        mask = np.array([int(m) in allowed for m in t.move[e.start:e.stop]], bool)
        self._root_mask = mask if mask.any() else None

    # -- selection -------------------------------------------------------------------------
    def _puct_terms(self, node: int, is_root: bool) -> tuple[np.ndarray, np.ndarray]:
        """Q (completed visits; first-play urgency for unvisited children) and U of each child."""
        t, p = self.tree, self.params
        f = int(t.first[node])
        end = f + int(t.count[node])
        n = t.n[f:end]
        prior = t.prior[f:end]
        if is_root:
            parent_n = t.root_n
            parent_q = t.root_w / max(parent_n, 1)
        else:
            pe = t.pedge[node]
            parent_n = int(t.n[pe])
            parent_q = -float(t.w[pe]) / max(parent_n, 1)
        visited = n > 0
        visited_policy = float(prior @ visited)
        fpu = parent_q - p.fpu_reduction * math.sqrt(visited_policy)
        cpuct = p.cpuct + p.cpuct_factor * math.log((parent_n + p.cpuct_base) / p.cpuct_base)
        u_scale = cpuct * math.sqrt(max(parent_n - 1, 1))
        q = np.where(visited, t.w[f:end] / np.maximum(n, 1), fpu)
        u = (u_scale * prior) / (n + t.vl[f:end] + 1.0)
        return q, u

    def _select(self, node: int, is_root: bool) -> int:
        """PUCT as lc0: argmax of Q + c(N)·sqrt(N−1)·P/(1 + n + in-flight).

        Q counts completed visits only (first-play urgency for a child without one); visits
        still in flight (``Tree.vl``) only shrink a child's exploration term, so a batch
        spreads over the moves a one-at-a-time search would try next instead of treating
        them as lost.
        """
        q, u = self._puct_terms(node, is_root)
        if self._ml_on:
            q = self._add_moves_left(node, is_root, q)
        score = q + u
        if is_root:
            if self._root_mask is not None:
                score[~self._root_mask] = -np.inf
            skip = self._hopeless_root_moves()
            if skip is not None:
                score[skip] = -np.inf
        return int(self.tree.first[node]) + int(np.argmax(score))

    def _hopeless_root_moves(self) -> np.ndarray | None:
        """The root moves lc0's smart-pruning rule no longer searches (None: all are searched)."""
        t = self.tree
        if not self.root_prune < t.root_n:
            return None
        ranked = self._ranked_edges(t.root, self._root_mask)
        if not ranked:
            return None
        f = int(t.first[t.root])
        return hopeless(t.n[f:f + int(t.count[t.root])], ranked[0] - f, self.root_prune)

    def _add_moves_left(self, node: int, is_root: bool, q: np.ndarray) -> np.ndarray:
        """``q`` plus lc0's moves-left utility of each visited child, where the node's |Q| is past
        MovesLeftThreshold (else ``q`` as it is)."""
        t, p = self.tree, self.params
        if is_root:
            parent_n = max(t.root_n, 1)
            parent_q, parent_m = t.root_w / parent_n, t.root_msum / parent_n
        else:
            pe = t.pedge[node]
            parent_n = max(int(t.n[pe]), 1)
            parent_q, parent_m = float(t.w[pe]) / parent_n, float(t.msum[node]) / parent_n
        if not abs(parent_q) > p.moves_left_threshold:
            return q
        q = q.copy()
        f = int(t.first[node])
        for i in range(len(q)):
            n = int(t.n[f + i])
            if n > 0:
                q[i] = q[i] + moves_left_utility(float(t.msum[t.child[f + i]]) / n, parent_m, float(q[i]), p)
        return q

    # -- one batch cycle -------------------------------------------------------------------
    def step(self) -> None:
        """Gather a batch, submit it, then finish the one in flight. Blocks ~one net call.

        Two input buffers alternate: batch *k+1* is written while batch *k* is on the
        worker thread, and *k+1* is queued before *k*'s results are backed up.
        """
        slot = self._slots[self._k & 1]
        leaves = self._gather(slot)
        if self.abort.is_set():  # answer at once: drop what was gathered, leave the net's batch
            self._inflight, dropped = None, self._inflight
            for leaf in leaves + (dropped[1] if dropped else []):
                self.tree.count[leaf.node] = Tree.UNEXPANDED
                self._undo_virtual_loss(leaf.path)
            return
        previous, self._inflight = self._inflight, None
        if leaves:  # queue the new batch first, so the net never idles while we back up the old one
            self._inflight = (self.ev.submit(slot, len(leaves)), leaves)
            self._stats.net_positions += len(leaves)
        if previous is not None:
            self._complete(*previous)
        self._k += 1

    def _gather(self, slot: Batch) -> list[_Leaf]:
        t, state, cache = self.tree, self.state, self.cache
        leaves: list[_Leaf] = []
        limit = min(self.batch_limit, slot.capacity)
        p = self.params
        # lc0's collision budget: one collision ends a batch while the tree is small (or few
        # playouts remain), so early batches stay as sharp as a one-at-a-time search
        budget = collision_budget(min(t.root_n, self.remaining_playouts), p)
        collided: list[list[int]] = []
        stats = self._stats
        root = t.root
        abort = self.abort
        start_playouts = stats.playouts
        # every simulation counts against the limit: leaves sent to the net and those
        # answered at once (terminal, proven, cached), so a tree of draws cannot spin here
        while len(leaves) + stats.playouts - start_playouts < limit and \
                budget > 0 and len(collided) < p.max_collision_events:
            if abort.is_set():
                break
            if t.status[root] != Tree.UNKNOWN or t.full or t.count[root] == 0:
                break
            node = root
            path: list[int] = []
            pushed = 0
            try:
                while True:
                    e = self._select(node, node == root)
                    path.append(e)
                    t.vl[e] += 1
                    state.push(int(t.move[e]))
                    pushed += 1
                    child = int(t.child[e])
                    if child < 0:
                        child = t.new_node(e, node)
                    else:
                        st = t.status[child]
                        if st != Tree.UNKNOWN:  # terminal or proven: exact value, no net
                            value = 0.0 if st == Tree.DRAWN else (1.0 if st == Tree.WON else -1.0)
                            self._backup(path, value, 1.0 if st == Tree.DRAWN else 0.0,
                                         state.final_score() if self._scored else None, float(t.plies[child]))
                            break
                        cnt = t.count[child]
                        if cnt == Tree.PENDING:
                            # keep the path's in-flight count until the batch is gathered, so
                            # the next descents look elsewhere (lc0 cancels collisions the same way)
                            collided.append(path)
                            budget -= 1
                            stats.collisions += 1
                            break
                        if cnt >= 0:
                            node = child
                            continue
                        # an unexpanded node (its evaluation was dropped earlier): evaluate it now
                    result = state.terminal()
                    if result is not None and self.params.net_scores_passes:
                        disputed = self._disputed_end(result)
                        if disputed is not None:  # left unexpanded: the next visit asks again
                            self._backup(path, disputed, 0.0, state.final_score() if self._scored else None)
                            break
                    if result is not None:
                        t.count[child] = 0
                        if result > 0:
                            t.status[child] = Tree.WON
                        elif result < 0:
                            t.status[child] = Tree.LOST
                        else:
                            t.status[child] = Tree.DRAWN
                        self._backup(path, float(result), 1.0 if result == 0 else 0.0,
                                     state.final_score() if self._scored else None)
                        self._propagate_proof(child)
                        break
                    win = state.quick_win()
                    if win is not None:
                        t.count[child] = 0
                        t.status[child] = Tree.WON
                        t.plies[child] = win
                        self._backup(path, 1.0, 0.0, None, float(win))
                        self._propagate_proof(child)
                        break
                    moves = state.legal_moves()
                    key = state.key()
                    hit = cache.get(key)
                    if hit is not None and len(hit[0]) == len(moves):
                        stats.cache_hits += 1
                        t.expand(child, moves, hit[0])
                        self._backup(path, hit[1], hit[2], hit[3], hit[4] or 0.0)
                        break
                    row = len(leaves)
                    self.codec.encode(state, slot.inputs, row)
                    leaves.append(_Leaf(child, path, moves, self.codec.policy_indices(state, moves), key))
                    t.count[child] = Tree.PENDING
                    break
            finally:
                for _ in range(pushed):
                    state.pop()
        for path in collided:
            self._undo_virtual_loss(path)
        return leaves

    def _disputed_end(self, result: float) -> float | None:
        """:func:`~engine.search.disputed.disputed_end` on this search's state and cache."""
        return disputed_end(self.state, self.cache, result)

    def _complete(self, fut: Future, leaves: list[_Leaf]) -> None:
        t0 = time.monotonic()
        out = fut.result()
        self.eval_seconds += time.monotonic() - t0
        policy = out[self.codec.policy_output]
        q, d = self.codec.decode_value(out, len(leaves))
        scores = self.codec.decode_score(out, len(leaves)).tolist() if self._scored else None
        mls = self.codec.decode_moves_left(out, len(leaves)).tolist() if self._ml else None
        if self._owned:
            self._add_ownership(out, [len(leaf.path) for leaf in leaves])
        temp = self.params.policy_temperature
        t, cache = self.tree, self.cache
        for i, leaf in enumerate(leaves):
            priors = softmax_priors(policy[i, leaf.idx], temp)
            qi, di = float(q[i]), float(d[i])
            si = scores[i] if scores is not None else None
            mi = mls[i] if mls is not None else None
            t.count[leaf.node] = Tree.UNEXPANDED
            t.expand(leaf.node, leaf.moves, priors)
            cache.put(leaf.key, priors, qi, di, si, mi)
            self._backup(leaf.path, qi, di, si, mi or 0.0)

    def _add_ownership(self, out: dict[str, np.ndarray], depths: Sequence[int]) -> None:
        """Add each evaluated position's ownership, turned to the root's side-to-move view."""
        self._own.add(self.codec.decode_ownership(out, len(depths)), depths)

    def ownership(self) -> np.ndarray | None:
        """Mean ownership over this search's evaluations (+1: the root's side to move), per move code."""
        return self._own.mean()

    def root_score(self) -> float | None:
        """Mean score over the root's subtree for its side to move (None without a score head)."""
        t = self.tree
        return t.root_ssum / t.root_sn if t.root_sn else None

    def _undo_virtual_loss(self, path: list[int]) -> None:
        vl = self.tree.vl
        for e in path:
            vl[e] -= 1

    def _backup(self, path: list[int], value: float, draw: float, score: float | None = None,
                m: float = 0.0) -> None:
        """Add a leaf value (leaf side-to-move view) along the path, removing virtual loss.

        ``score`` (same view), when the net has a score head, goes to the nodes' score sums;
        ``m``, the leaf's moves left in plies, to the moves-left sums when the net has that
        head (one ply more at each step up, as lc0: a parent's M is its child's + 1).
        """
        t = self.tree
        v = -value  # the last edge's mover is the leaf's opponent
        for e in reversed(path):
            t.n[e] += 1
            t.w[e] += v
            t.d[e] += draw
            t.vl[e] -= 1
            v = -v
        t.root_n += 1
        t.root_w -= v  # v was flipped once past the root's own move
        t.root_d += draw
        if score is not None:
            sv = -score
            child, ssum, sn = t.child, t.ssum, t.sn
            for e in reversed(path):
                c = child[e]
                ssum[c] += sv
                sn[c] += 1
                sv = -sv
            t.root_ssum -= sv
            t.root_sn += 1
        if self._ml:
            child, msum = t.child, t.msum
            depth = len(path)
            for j in range(depth - 1, -1, -1):
                msum[child[path[j]]] += m + (depth - 1 - j)
            t.root_msum += m + depth
        s = self._stats
        s.playouts += 1
        depth = len(path)
        s.depth_sum += depth
        if depth > s.seldepth:
            s.seldepth = depth

    def _propagate_proof(self, node: int) -> None:
        """Push a newly known win/loss up the tree (mate proofs)."""
        t = self.tree
        while node != t.root:
            parent = int(t.parent[node])
            if parent < 0 or t.status[parent] != Tree.UNKNOWN:
                return
            st = t.status[node]
            if st == Tree.LOST:  # the mover found a win
                t.status[parent] = Tree.WON
                t.plies[parent] = t.plies[node] + 1
            elif st == Tree.WON:
                e = t.edges(parent)
                kids = t.child[e.start:e.stop]
                if (kids < 0).any() or not (t.status[kids] == Tree.WON).all():
                    return
                t.status[parent] = Tree.LOST
                t.plies[parent] = int(t.plies[kids].max()) + 1
            else:
                return
            node = parent

    @property
    def pending(self) -> int:
        """Leaves in the batch the network is evaluating now."""
        return len(self._inflight[1]) if self._inflight is not None else 0

    # -- ending and reporting ----------------------------------------------------------------
    def finish(self, wait: bool) -> None:
        """End the search: complete the batch in flight (``wait``) or drop it and undo its losses."""
        if self._inflight is None:
            return
        fut, leaves = self._inflight
        self._inflight = None
        if wait:
            self._complete(fut, leaves)
            return
        t = self.tree
        for leaf in leaves:
            t.count[leaf.node] = Tree.UNEXPANDED
            self._undo_virtual_loss(leaf.path)

    def stats(self) -> SearchStats:
        """Current statistics (cheap)."""
        s = self._stats
        t = self.tree
        s.elapsed = time.monotonic() - self._t0
        s.nodes = t.root_n
        s.root_proven = t.status[t.root] in (Tree.WON, Tree.LOST)
        s.tree_full = t.full
        e = t.edges(t.root)
        n = t.n[e.start:e.stop]
        if self._root_mask is not None:
            n = np.where(self._root_mask, n, -1)
        if len(n) >= 2:
            top2 = np.partition(n, len(n) - 2)[-2:]
            s.top_visits = (int(top2[1]), int(top2[0]))
        elif len(n) == 1:
            s.top_visits = (int(n[0]), 0)
        return s

    def _ranked_edges(self, node: int, mask: np.ndarray | None = None) -> list[int]:
        """Edges of ``node`` best first: proven wins (fastest), then visits, Q, prior; proven losses last."""
        t = self.tree
        e = t.edges(node)
        if len(e) == 0:
            return []
        sl = slice(e.start, e.stop)
        n = t.n[sl].astype(np.float64)
        q = np.where(n > 0, t.w[sl] / np.maximum(n, 1), -2.0)
        kids = t.child[sl]
        kid_status = np.where(kids >= 0, t.status[np.maximum(kids, 0)], 0)
        kid_plies = np.where(kids >= 0, t.plies[np.maximum(kids, 0)], 0)
        win = kid_status == Tree.LOST
        loss = kid_status == Tree.WON
        rank = np.where(win, 2.0, np.where(loss, -1.0, 0.0))
        order = np.lexsort((t.prior[sl], q, n, np.where(win, -kid_plies, 0), rank))[::-1]
        if mask is not None:
            order = [i for i in order if mask[i]]
        return [e.start + int(i) for i in order]

    def best_move(self) -> int | None:
        """The move to play: proven wins first, then most visits, then Q, then prior."""
        ranked = self._ranked_edges(self.tree.root, self._root_mask)
        return int(self.tree.move[ranked[0]]) if ranked else None

    def pv(self, edge: int, max_len: int = 32) -> list[int]:
        """Principal variation starting with ``edge``: follow the best child while it exists."""
        t = self.tree
        line = [int(t.move[edge])]
        node = int(t.child[edge])
        while node >= 0 and t.count[node] > 0 and len(line) < max_len:
            ranked = self._ranked_edges(node)
            if not ranked or t.n[ranked[0]] == 0:
                break
            e = ranked[0]
            line.append(int(t.move[e]))
            node = int(t.child[e])
        return line

    def move_stats(self) -> list[MoveStat]:
        """Every root move's N, in-flight visits, P, Q, D and U, fewest visits first (lc0's order)."""
        t = self.tree
        root = t.root
        e = t.edges(root)
        if len(e) == 0:
            return []
        q, u = self._puct_terms(root, True)
        out = []
        for i, edge in enumerate(e):
            n = int(t.n[edge])
            child = int(t.child[edge])
            st = int(t.status[child]) if child >= 0 else Tree.UNKNOWN
            proven = 1 if st == Tree.LOST else (-1 if st == Tree.WON else 0)
            out.append(MoveStat(int(t.move[edge]), n, int(t.vl[edge]), float(t.prior[edge]), float(q[i]),
                                float(t.d[edge]) / n if n else 0.0, float(u[i]), proven))
        out.sort(key=lambda m: (m.visits, m.q, m.prior))  # best_move's order, reversed
        return out

    def lines(self, k: int = 1) -> list[Line]:
        """The best ``k`` root moves with their statistics and PVs."""
        t = self.tree
        out = []
        for e in self._ranked_edges(t.root, self._root_mask)[:k]:
            n = int(t.n[e])
            child = int(t.child[e])
            mate = None
            if child >= 0 and t.status[child] in (Tree.WON, Tree.LOST):
                plies = int(t.plies[child]) + 1  # plies from the root to the end
                mate = (plies + 1) // 2 if t.status[child] == Tree.LOST else -(plies // 2)
            if n > 0:
                q, d = float(t.w[e]) / n, float(t.d[e]) / n
            else:
                q, d = (t.root_w / max(t.root_n, 1)), t.root_d / max(t.root_n, 1)
            if mate is not None:
                q, d = (1.0 if mate > 0 else -1.0), 0.0
            score = None
            if self._scored:
                score = float(t.ssum[child]) / int(t.sn[child]) if child >= 0 and t.sn[child] > 0 \
                    else self.root_score()
            m = None
            if self._ml:
                m = float(t.msum[child]) / n if child >= 0 and n > 0 else 1.0 + t.root_msum / max(t.root_n, 1)
            out.append(Line(int(t.move[e]), n, q, d, float(t.prior[e]), self.pv(e), mate, score, m))
        return out
