"""The search at native speed: :class:`NativeSearch` on a :class:`NativeTree`.

Same public interface and the same numbers as the Python reference
(:class:`engine.search.mcts.Search` on :class:`engine.search.tree.Tree`; the golden tests hold
them together), but the tree is a fixed block of arrays sized by the ``Hash`` budget and every
step of a playout that touches it runs in compiled kernels (engine/search/kernels.py):

* chess (an lc0 net): one kernel call per batch descends, plays the path on the native
  position array, judges the leaf, consults the cache and writes the lc0 planes and policy
  indices of every leaf (engine/search/chess_kernels.py); no python-chess in a playout;
* shogi and go keep their Python rules: the kernel descends and returns the path, Python
  plays it on the game state and encodes the leaf, as the reference does.

One batch completes in two kernels around one numpy ``exp``: priors, cache, backups. As in the
reference, the network evaluates batch *k* on its own thread while batch *k+1* is gathered.
With several search threads (:meth:`NativeSearch.start_threads`, engine/search/workers.py)
each thread gathers, evaluates and completes batches of its own on this one tree; every kernel
that touches the tree runs under :attr:`NativeSearch.lock`, the network outside it.

When the tree is full — no node record or no edges left — the search goes on inside it: a
descent that would need a new node (or the edges of a new leaf) counts as a collision, as one
into a leaf in flight does, and ``stats().tree_full`` turns true.

>>> tree = NativeTree(64 << 20, edge_moves=False)                             # doctest: +SKIP
>>> search = NativeSearch(state, tree, evaluator, NativeEvalCache(10_000), SearchParams())
"""

from __future__ import annotations

import functools
import threading
import time
from concurrent.futures import Future
from typing import Any, Callable, ClassVar, NamedTuple, Sequence, TypeVar

import numpy as np

from ..evaluator_api import Batch, Evaluator
from ..games.base import GameState
from . import kernels as k
from . import leafpath as lp
from .disputed import disputed_end
from .mcts import Line, MoveStat, SearchStats, collision_budget
from .nncache import NativeEvalCache
from .prior16 import P16
from .ownership import OwnershipMean
from .params import SearchParams
from .rooteval import evaluate_root
from .rootprune import hopeless

_MASK64 = 0xFFFF_FFFF_FFFF_FFFF
#: chess positions have at most 218 legal moves; the kernels use rows of this width
_CHESS_MOVES = 256
_F = TypeVar("_F", bound=Callable[..., Any])


def branching_hint(game: str, board_size: int | None = None) -> int:
    """Edges per node the tree's budget plans for (legal moves of a typical searched position)."""
    if game == "chess":
        return 36
    if game == "shogi":
        return 90
    n = board_size or 19
    return max(8, (n * n + 1) * 3 // 4)


def cache_moves_hint(game: str) -> int:
    """Priors per entry the eval cache plans room for (it evicts early past that on average)."""
    return {"chess": 48, "shogi": 128}.get(game, 362)


class NativeTree:
    """The search tree in fixed arrays (engine.search.kernels.TreeArrays), at most
    ``budget_bytes`` of them: node records for ``budget / (node + branching · edge bytes)``
    nodes and the rest for edges. ``edge_moves`` stores each edge's move (games whose moves
    the kernels cannot generate); ``scored`` adds score sums (nets with a score head),
    ``moves_left`` moves-left sums (nets with a moves-left head: lc0's M of each node).

    Garbage left by :meth:`reroot` stays until the tree is replaced, as with
    :class:`engine.search.tree.Tree`."""

    UNKNOWN: ClassVar[int] = k.UNKNOWN
    WON: ClassVar[int] = k.WON
    LOST: ClassVar[int] = k.LOST
    DRAWN: ClassVar[int] = k.DRAWN

    def __init__(self, budget_bytes: int = 256 << 20, *, edge_moves: bool = True, scored: bool = False,
                 branching: int = 36, moves_left: bool = False) -> None:
        self.budget = max(int(budget_bytes), 1 << 16)
        self.edge_moves = bool(edge_moves)
        self.scored = bool(scored)
        self.moves_left = bool(moves_left)
        self.node_bytes = k.NODE_BYTES + (k.SCORE_BYTES if scored else 0) + \
            (k.MOVES_LEFT_BYTES if moves_left else 0)
        self.edge_bytes = k.EDGE_BYTES + (k.EDGE_MOVE_BYTES if edge_moves else 0)
        cap_nodes = max(16, self.budget // (self.node_bytes + max(1, branching) * self.edge_bytes))
        cap_edges = max(k.MAX_EDGES, (self.budget - cap_nodes * self.node_bytes) // self.edge_bytes)
        self.arrays = k.new_tree_arrays(cap_nodes, min(cap_edges, 2**31 - 1), edge_moves=self.edge_moves,
                                        scored=self.scored, moves_left=self.moves_left)

    @classmethod
    def for_game(cls, game: str, codec: Any, budget_bytes: int) -> "NativeTree":
        """The tree :class:`NativeSearch` wants for ``game`` with this codec."""
        return cls(budget_bytes, edge_moves=not compiled_leaves(game, codec), scored=bool(codec.has_score),
                   branching=branching_hint(game, codec.board_size),
                   moves_left=bool(codec.has_moves_left))

    # -- size -------------------------------------------------------------------------------
    @property
    def root(self) -> int:
        return int(self.arrays.meta[k.M_ROOT])

    @property
    def full(self) -> bool:
        """Whether a node or edges were refused for lack of room."""
        return bool(self.arrays.meta[k.M_FULL])

    @property
    def num_nodes(self) -> int:
        return int(self.arrays.meta[k.M_NODES])

    @property
    def num_edges(self) -> int:
        return int(self.arrays.meta[k.M_EDGES])

    @property
    def capacity(self) -> tuple[int, int]:
        """(node records, edges) the arrays hold."""
        return int(self.arrays.meta[k.M_CAP_NODES]), int(self.arrays.meta[k.M_CAP_EDGES])

    def bytes_used(self) -> int:
        """Bytes of the node records and edges in use."""
        return self.num_nodes * self.node_bytes + self.num_edges * self.edge_bytes

    def expanded_nodes(self) -> int:
        """Nodes with edges (the positions the search evaluated)."""
        return int(np.count_nonzero(self.arrays.ecount[:self.num_nodes] > 0))

    def hashfull(self) -> int:
        """Per mille of the fuller of the two pools (node records, edges)."""
        nodes, edges = self.capacity
        return min(1000, max(self.num_nodes * 1000 // nodes, self.num_edges * 1000 // edges))

    # -- structure ---------------------------------------------------------------------------
    def node_visits(self, node: int) -> int:
        """Completed visits of a node."""
        return int(self.arrays.n[node])

    def reroot(self, moves: Sequence[int]) -> bool:
        """Make the node reached by ``moves`` from the root the new root; False if it is not in
        the tree (or never evaluated, or a draw only the old path made final), as Tree.reroot."""
        t = self.arrays
        node = self.root
        for m in moves:
            if t.ecount[node] <= 0:
                return False
            node = k.child_by_move(t, node, int(m))
            if node < 0:
                return False
        if node == self.root:
            return True
        if t.ecount[node] <= 0 or t.status[node] == k.DRAWN:
            return False
        t.meta[k.M_ROOT] = node
        return True


def compiled_leaves(game: str, codec: Any) -> bool:
    """Whether the compiled chess gatherer serves this game and codec (chess on an lc0 net)."""
    from ..codecs.lc0 import Lc0Codec
    return game == "chess" and isinstance(codec, Lc0Codec)


def _native_chess(state: GameState, room: int) -> Any:
    """``state`` as a NativeChessState with ``room`` plies free on its undo stack."""
    from ..games.chess_game import ChessState
    from ..native.chess_state import NativeChessState
    if isinstance(state, ChessState):
        return NativeChessState.from_state(state, capacity=room)
    if not isinstance(state, NativeChessState):
        raise TypeError(f"chess search needs a ChessState or NativeChessState, not {type(state).__name__}")
    while state._cap - state.ply < room:  # noqa: SLF001 - the state's own growth rule
        state._grow()  # noqa: SLF001
    return state


class _Leaves:
    """One batch's leaves, as the kernels write them: node, path, policy indices, key."""

    def __init__(self, capacity: int, moves: int) -> None:
        self.node = np.zeros(capacity, np.int32)
        self.depth = np.zeros(capacity, np.int32)
        self.path = np.zeros((capacity, k.MAX_DEPTH), np.int32)
        self.count = np.zeros(capacity, np.int32)
        self.key = np.zeros(capacity, np.uint64)
        self.idx = np.zeros((capacity, moves), np.int64)


def _locked(method: _F) -> _F:
    """``method`` run under the search's :attr:`~NativeSearch.lock` (search threads may be
    changing the tree meanwhile)."""
    @functools.wraps(method)
    def locked(self: "NativeSearch", *args: Any, **kwargs: Any) -> Any:
        with self.lock:
            return method(self, *args, **kwargs)
    return locked  # type: ignore[return-value]


class Prepared(NamedTuple):
    """A batch's network outputs turned into what the tree takes (:meth:`NativeSearch.prepare`)."""

    out: dict[str, np.ndarray]
    lane: "Lane"
    rows: int
    q: np.ndarray
    d: np.ndarray
    score: np.ndarray
    m: np.ndarray | None


class Lane:
    """What one batch needs from its gathering to its completion: the net's input buffers
    (``slot``), the leaves, the softmax work arrays; ``rows`` of its leaves are in flight."""

    def __init__(self, evaluator: Evaluator, capacity: int, moves: int) -> None:
        self.slot: Batch = evaluator.new_batch(capacity)
        self.leaves = _Leaves(capacity, moves)
        self.z = np.zeros(capacity * moves, np.float32)
        self.e = np.zeros(capacity * moves, np.float32)
        self.offs = np.zeros(capacity + 1, np.int64)
        #: each row's value, draw, score and moves left, float64, as the batch's completion takes them
        self.q, self.d, self.s, self.m = (np.zeros(capacity) for _ in range(4))
        self.rows = 0
        #: rows → the batch's completion kernel, compiled for these arrays (set on first use)
        self.finish: Callable[[int], None] | None = None
        #: (state, row) → the state's input planes in row ``row`` of ``slot`` (the Python leaf path's
        #: encoder; :meth:`NativeSearch.new_lane` sets it)
        self.write: Callable[[GameState, int], None] | None = None


class NativeSearch:
    """A search from one root on a :class:`NativeTree`; :class:`engine.search.mcts.Search`'s
    interface. ``compiled`` picks the chess gatherer (None: whenever it serves the game).

    Driven by :meth:`step` (one thread: today's pipeline of two batches) or, after
    :meth:`start_threads`, by several search threads until :meth:`finish`; the reading
    methods (:meth:`stats`, :meth:`lines`, …) take :attr:`lock`, so the controller's thread may
    call them while the threads search."""

    def __init__(self, state: GameState, tree: NativeTree, evaluator: Evaluator, cache: NativeEvalCache,
                 params: SearchParams, *, root_moves: Sequence[int] | None = None,
                 abort: threading.Event | None = None, compiled: bool | None = None) -> None:
        self.ev = evaluator
        self.codec = evaluator.codec
        if not isinstance(cache, NativeEvalCache):
            raise TypeError("NativeSearch needs a NativeEvalCache (engine.search.nncache)")
        game = state.game
        self.compiled = compiled_leaves(game, self.codec) if compiled is None else bool(compiled)
        if self.compiled and not compiled_leaves(game, self.codec):
            raise ValueError(f"the compiled leaf work serves chess on an lc0 net, not {game} on "
                             f"{type(self.codec).__name__}")
        if tree.edge_moves == self.compiled:
            raise ValueError("this tree was made for the other kind of search: use NativeTree.for_game")
        #: chess on the classical lc0 net: the position lives in a NativeChessState and is encoded
        #: natively (also on the Python leaf path); other lc0 input formats keep the given state
        #: and their codec's own encoding
        self._native_chess = compiled_leaves(game, self.codec)
        if self._native_chess:
            state = _native_chess(state, k.MAX_DEPTH + 8)
        #: go on a net whose planes the compiled go gatherer writes (engine/search/go_kernels.py)
        self._go = _go_gatherer(state, self.codec) if game == "go" else None
        if self._go is not None:
            state = self._go.state
        #: the codec's policy index of every move16 for each side ([2, 32768] int; dlshogi), which the
        #: Python leaf path then looks up in the kernel that queues the leaf
        labels = getattr(self.codec, "move_labels", None)
        self._labels = (labels[0], labels[1]) if isinstance(labels, np.ndarray) and not self._native_chess else None
        self.state = state
        state.set_search_root()
        state.set_cache_history(params.cache_history)
        self.tree = tree
        self.cache = cache
        self.params = params
        self.abort = abort or threading.Event()
        self._t = tree.arrays
        #: held by whoever runs a kernel on the tree, the eval cache or the counters (several
        #: search threads), and by the reading methods; never while the network runs
        self.lock = threading.RLock()
        self._lanes = [self.new_lane(), self.new_lane()]
        self._workers: Any = None
        #: the threads :meth:`finish` closed without waiting (:meth:`join` waits for them)
        self._closed: Any = None
        self._sc = k.new_scratch()
        self._counters = np.zeros(k.STATS_WORDS, np.int64)
        self._root_out = np.zeros(k.REPORT_WORDS, np.int64)
        self._params = search_params_array(params)
        self._inv_temp = np.float32(1.0 / params.policy_temperature)
        self._movebuf = np.zeros(_CHESS_MOVES, np.int32)
        #: nodes of the collided paths of the batch being gathered (compiled chess gatherer)
        self._held = np.zeros(64 * max(16, min(params.max_collision_events, 4096)), np.int32)
        #: the moves of the path just descended, and the leaf path's kernel context (per mask)
        self._pmoves = np.zeros(k.MAX_DEPTH, np.int32)
        self._ctx: dict[int, tuple[np.ndarray, lp.LeafCalls]] = {}
        self._report_fn: tuple[np.ndarray, Callable[[], None]] | None = None
        self._k = 0
        self._inflight: tuple[Future, Lane, int] | None = None
        self._t0 = time.monotonic()
        self._stats = SearchStats()
        self._net_positions = 0
        self.eval_seconds = 0.0
        #: CPU seconds of the search threads that have ended (network calls included)
        self.thread_cpu_seconds = 0.0
        self.batch_limit = params.minibatch
        self.remaining_playouts: float = float("inf")
        #: playouts lc0's root rule allows for (engine/search/rootprune.py; the controller sets it)
        self.root_prune: float = float("inf")
        self._empty_mask = np.zeros(0, np.uint8)
        #: the root mask of ``searchmoves`` (empty: every move), as the kernels take it
        self._mask = self._empty_mask
        #: the gathers' root mask while the root rule skips moves (kept, so contexts that hold it stay valid)
        self._pruned = self._empty_mask
        self._root_mask: np.ndarray | None = None
        self._scored = bool(self.codec.has_score)
        self._owned = bool(self.codec.has_ownership)
        self._own = OwnershipMean()
        if self._scored and not tree.scored:
            raise ValueError("the net has a score head but the tree keeps no score sums")
        #: the net has a moves-left head: each evaluation's M goes to the tree's moves-left sums
        self._ml = bool(self.codec.has_moves_left)
        if self._ml != tree.moves_left:
            raise ValueError("the net's moves-left head and the tree's moves-left sums disagree: "
                             "use NativeTree.for_game")
        if self._native_chess:
            from ..native import lc0_encoder
            self._planes = self._lanes[0].slot.inputs[next(iter(self.codec.input_shapes))]
            self._lc0 = lc0_encoder
        self._ensure_root_expanded()
        self._root_moves = self._edge_moves(self.tree.root)
        if root_moves:
            self.restrict_root(root_moves)

    # -- leaf encoding (Python path) -----------------------------------------------------------
    def _encode(self, state: GameState, inputs: dict[str, np.ndarray], row: int) -> None:
        if self._native_chess:
            state.encode_lc0(inputs[next(iter(inputs))][row])  # type: ignore[attr-defined]
        elif self._go is not None:
            self._go.encode(state, inputs, row)
        else:
            self.codec.encode(state, inputs, row)

    def _indices(self, state: GameState, moves: Sequence[int]) -> np.ndarray:
        if self._native_chess:
            return state.lc0_policy_indices(moves)  # type: ignore[attr-defined]
        return self.codec.policy_indices(state, moves)

    # -- setup --------------------------------------------------------------------------------
    def _ensure_root_expanded(self) -> None:
        t = self._t
        root = self.tree.root
        if t.ecount[root] >= 0:
            return
        moves, priors, q, d, score, m = evaluate_root(self, self._lanes[0].slot, self._encode, self._indices)
        if not k.expand(t, root, np.ascontiguousarray(priors, np.float32), np.asarray(moves, np.int32)):
            raise MemoryError("the tree has no room for the root's moves: raise Hash")
        t.n[root], t.w[root], t.d[root] = 1, -q, d
        if score is not None:
            t.ssum[root], t.sn[root] = -score, 1
        if self._ml:
            t.msum[root] = m or 0.0

    def _edge_moves(self, node: int) -> list[int]:
        """Move codes of ``node``'s edges (the root's: the state's legal moves for chess)."""
        t = self._t
        cnt = max(0, int(t.ecount[node]))
        if self.tree.edge_moves:
            f = int(t.estart[node])
            return t.emove[f:f + cnt].tolist()
        if node != self.tree.root:
            raise ValueError("chess trees store moves only on entered nodes")
        return list(self.state.legal_moves())

    def restrict_root(self, moves: Sequence[int]) -> None:
        """Search only these root moves (UCI ``searchmoves``)."""
        allowed = set(int(m) for m in moves)
        mask = np.array([m in allowed for m in self._root_moves], bool)
        if mask.any():
            self._root_mask = mask
            self._mask = mask.astype(np.uint8)
        else:
            self._root_mask, self._mask = None, self._empty_mask

    # -- one batch cycle ----------------------------------------------------------------------
    def new_lane(self) -> Lane:
        """Buffers for one batch of this search (each search thread keeps one)."""
        width = _CHESS_MOVES if self._native_chess else k.MAX_EDGES
        lane = Lane(self.ev, max(1, self.params.minibatch), width)
        inputs = lane.slot.inputs
        if self._native_chess or self._go is not None:
            lane.write = lambda state, row: self._encode(state, inputs, row)
        else:  # a codec's own writer, its buffers checked once
            lane.write = self.codec.row_writer(inputs)
        return lane

    def step(self) -> None:
        """Gather a batch, submit it, then finish the one in flight (mcts.Search.step); one
        thread only (not after :meth:`start_threads`)."""
        with self.lock:
            self._step()

    def _step(self) -> None:
        lane = self._lanes[self._k & 1]
        rows = self.gather(lane)
        if self.abort.is_set():  # answer at once: drop what was gathered and the net's batch
            self.drop(lane, rows)
            dropped, self._inflight = self._inflight, None
            if dropped is not None:
                self.drop(dropped[1], dropped[2])
            return
        previous, self._inflight = self._inflight, None
        if rows:
            self._inflight = (self.ev.submit(lane.slot, rows), lane, rows)
            self.count_sent(rows)
        if previous is not None:
            fut, old, n = previous
            self.complete(self._result(fut), old, n)
        self._k += 1

    def gather(self, lane: Lane) -> int:
        """Gather a batch of up to :attr:`batch_limit` playouts into ``lane``: leaves for the
        network (returned: how many), terminal and cached ones backed up at once. Hold
        :attr:`lock`."""
        return self._gather(lane)

    def count_sent(self, rows: int) -> None:
        """Count ``rows`` positions sent to the network (``stats().net_positions``). Hold :attr:`lock`."""
        self._net_positions += rows

    def drop(self, lane: Lane, rows: int) -> None:
        """Forget ``rows`` gathered leaves of ``lane`` whose evaluation will not come. Hold :attr:`lock`."""
        lb = lane.leaves
        k.drop_leaves(self._t, rows, lb.node, lb.path, lb.depth)

    def _result(self, fut: Future) -> dict[str, np.ndarray]:
        t0 = time.monotonic()
        out = fut.result()
        self.eval_seconds += time.monotonic() - t0
        return out

    def start_threads(self, count: int, room: Callable[[SearchStats, int], float],
                      prune: Callable[[SearchStats], float] | None = None) -> None:
        """Search on ``count`` threads until :meth:`finish`; ``room(stats, in_flight)``: the
        playouts the limits still allow, given the leaves in flight; ``prune(stats)``: the playouts
        lc0's root rule allows for, :attr:`root_prune` (engine/search/workers.py)."""
        from .workers import SearchWorkers
        if self._workers is not None or self._inflight is not None:
            raise RuntimeError("this search is already running")
        self._workers = SearchWorkers(self, count, room, prune)

    def wait(self, timeout: float, every_batch: bool = True) -> bool:
        """After :meth:`start_threads`: block until a batch completes or ``timeout`` seconds pass
        (False: timed out); raises what a search thread raised. ``every_batch`` False: wake only
        for the search's end or the timeout (:meth:`SearchWorkers.wait`)."""
        return self._workers.wait(timeout, every_batch)

    @property
    def stalled(self) -> bool:
        """After :meth:`start_threads`: the threads find nothing to search (nothing in flight, no
        playout made), e.g. every line ends in a proven result or the full tree allows nothing."""
        return self._workers is not None and self._workers.stalled

    def _gather(self, lane: Lane) -> int:
        t = self._t
        slot, lb = lane.slot, lane.leaves
        limit = min(self.batch_limit, slot.capacity)
        p = self.params
        budget = collision_budget(min(int(t.n[self.tree.root]), self.remaining_playouts), p)
        if self.abort.is_set():
            return 0
        mask = self._gather_mask()
        if self.compiled:
            planes = slot.inputs[next(iter(slot.inputs))]
            rows = int(_gather_chess()(t, self.state.pos, mask, self._sc, self._params, self._counters,
                                       self.cache.arrays, limit, budget, p.max_collision_events, planes,
                                       lb.node, lb.path, lb.depth, lb.count, lb.key, lb.idx, self._movebuf,
                                       self._held))
            if rows < 0:  # collided paths outgrew their buffer: the batch ended early, grow it for the next
                self._held = np.zeros(2 * self._held.size, np.int32)
                rows = -rows
            return rows
        if self._go is not None:
            rows = self._go.gather(t, mask, self._sc, self._params, self._counters, self.cache.arrays, limit,
                                   budget, p.max_collision_events, slot.inputs,
                                   p.net_scores_passes, lb, self._held)
            if rows < 0:
                self._held = np.zeros(2 * self._held.size, np.int32)
                rows = -rows
            return rows
        return self._gather_python(lane, limit, budget, mask)

    def _gather_mask(self) -> np.ndarray:
        """The root mask of the next gather: ``searchmoves``, less the moves lc0's smart-pruning
        rule no longer searches (engine/search/rootprune.py)."""
        root = self.tree.root
        if not self.root_prune < int(self._t.n[root]):
            return self._mask
        ranked, edges = self._ranked(root, self._root_mask)
        skip = hopeless(edges[0], ranked[0], self.root_prune) if ranked else None
        if skip is None:
            return self._mask
        if self._root_mask is not None:
            skip |= ~self._root_mask
        if self._pruned.size != skip.size:
            self._pruned = np.empty(skip.size, np.uint8)
        np.logical_not(skip, out=self._pruned, casting="unsafe")
        return self._pruned

    def _gather_python(self, lane: Lane, limit: int, budget: int, mask: np.ndarray) -> int:
        """mcts.Search._gather with the descent, backups and proofs compiled: the leaf's rules,
        cache look-up and encoding in Python. Each kernel call goes through one
        :class:`~engine.search.leafpath.LeafCtx`, compiled for this search's argument types
        (:class:`~engine.search.leafpath.LeafCalls`; see that module for why).

        The state keeps the last leaf's path played between leaves: the next path takes back
        and plays only the moves after the part they share (a batch's descents often begin
        alike), and the whole path is taken back when the gather ends."""
        c = self._leaf_calls(mask, lane)
        st, state = self._counters, self.state
        pmoves, held = self._pmoves, self._held
        max_held = self.params.max_collision_events
        scored = self._scored
        abort = self.abort
        descend, collide = c.descend, c.collide
        tstatus, tplies, path = self._t.status, self._t.plies, self._sc.path
        rows = nheld = collided = 0
        start = int(st[k.S_PLAYOUTS])
        played: list[int] = []  # the moves now played on the state, from the root
        try:
            while rows + int(st[k.S_PLAYOUTS]) - start < limit and budget > 0 and collided < max_held:
                if abort.is_set():
                    break
                what, depth = descend()
                if what == lp.D_ROOT_DONE:
                    break
                if what == k.D_COLLIDED or what == k.D_FULL:
                    nheld = collide(depth, held, nheld)
                    if nheld < 0:
                        break
                    budget -= 1
                    collided += 1
                    continue
                moves = pmoves[:depth].tolist()
                same, top = 0, min(len(played), depth)
                while same < top and played[same] == moves[same]:
                    same += 1
                if same < len(played):
                    state.pop_moves(len(played) - same)
                state.push_moves(moves[same:] if same else moves)
                played = moves
                if what == k.D_KNOWN:
                    node = path[depth - 1]
                    s = tstatus[node]
                    value = 0.0 if s == k.DRAWN else (1.0 if s == k.WON else -1.0)
                    score = state.final_score() if scored else None
                    c.back_up_m(depth, value, 1.0 if s == k.DRAWN else 0.0, 0.0 if score is None else score,
                                score is not None, float(tplies[node]))
                    continue
                queued = self._python_leaf(c, depth, lane, rows)
                if queued is None:
                    nheld = collide(depth, held, nheld)
                    if nheld < 0:
                        break
                    budget -= 1
                    collided += 1
                elif queued:
                    rows += 1
        finally:
            if played:
                state.pop_moves(len(played))
        if nheld < 0:  # collided paths outgrew their buffer: the batch ends here, and the next has room
            nheld = -nheld - 1
            self._held = np.zeros(2 * held.size, np.int32)
        if nheld:
            c.release(held, nheld)
        return rows

    def _leaf_calls(self, mask: np.ndarray, lane: Lane | None = None) -> lp.LeafCalls:
        """The leaf path's kernels on this search and root ``mask`` (one context per mask
        object, kept: a gather may switch between the plain and the pruned mask each time);
        ``lane``: any lane of this search, whose array types the kernels are compiled for."""
        got = self._ctx.get(id(mask))
        if got is not None and got[0] is mask:
            return got[1]
        ctx = lp.LeafCtx(self._t, mask, self._sc, self._params, self._counters, self.cache.arrays, self._pmoves)
        if self._ctx:
            calls = next(iter(self._ctx.values()))[1].with_ctx(ctx)
        else:
            lb = (lane or self._lanes[0]).leaves
            labels = self._labels[0] if self._labels is not None else None
            calls = lp.LeafCalls(ctx, lp.LeafCalls.entries(
                ctx, self._held, np.zeros(1, np.int32), lb.node, lb.path, lb.depth, lb.count, lb.key, lb.idx,
                labels))
        if len(self._ctx) >= 4:  # masks come and go (searchmoves): keep the latest few
            self._ctx.clear()
        self._ctx[id(mask)] = (mask, calls)
        return calls

    def _python_leaf(self, c: lp.LeafCalls, depth: int, lane: Lane, row: int) -> bool | None:
        """A new leaf, the path played on the state: terminal, proven or cached (False), or
        queued in ``row`` (True); None when the full tree had no room for its edges."""
        state = self.state
        scored = self._scored
        result = state.terminal()
        if result is not None:
            score = state.final_score() if scored else None
            if self.params.net_scores_passes:
                disputed = self._disputed_end(result)
                if disputed is not None:  # left unexpanded: the next visit asks again
                    c.back_up(depth, disputed, 0.0, 0.0 if score is None else score, score is not None)
                    return False
            c.end(depth, float(result), 0, 0.0 if score is None else score, score is not None)
            return False
        win = state.quick_win()
        if win is not None:
            c.end(depth, 1.0, int(win), 0.0, False)
            return False
        moves = state.legal_moves()
        n = len(moves)
        lb = lane.leaves
        if n > lb.idx.shape[1]:
            raise ValueError(f"{n} legal moves: more than the search's rows hold ({lb.idx.shape[1]})")
        mv = np.fromiter(moves, np.int32, n)
        key = state.key() & _MASK64
        if self._labels is not None:  # a move-label table (dlshogi): cache, queue and indices in one call
            got = c.cache_or_queue(depth, key, mv, row, lb.node, lb.path, lb.depth, lb.count, lb.key, lb.idx,
                                   self._labels[state.turn])
            if got <= 0:
                return False if got == 0 else None
        else:
            hit = c.from_cache(depth, key, mv)
            if hit:
                return False if hit > 0 else None
            if not c.queue(depth, mv, row, lb.node, lb.path, lb.depth, lb.count, lb.key, key):
                return None
            lb.idx[row, :n] = self._indices(state, moves)
        lane.write(state, row)  # type: ignore[misc]
        return True

    def _disputed_end(self, result: float) -> float | None:
        """:func:`~engine.search.disputed.disputed_end` on this search's state and cache."""
        return disputed_end(self.state, self.cache, result)

    def complete(self, out: dict[str, np.ndarray], lane: Lane, rows: int) -> None:
        """Expand ``lane``'s ``rows`` evaluated leaves and back them up. Hold :attr:`lock`."""
        self.finish_lane(self.prepare(out, lane, rows))

    def prepare(self, out: dict[str, np.ndarray], lane: Lane, rows: int) -> "Prepared":
        """The tree-free part of :meth:`complete`: values and the priors' exponentials, in
        ``lane``'s arrays (no lock needed)."""
        lb = lane.leaves
        policy = np.ascontiguousarray(out[self.codec.policy_output], np.float32)
        qa, da = self.codec.decode_value(out, rows)
        lane.q[:rows] = qa
        lane.d[:rows] = da
        if self._scored:
            lane.s[:rows] = self.codec.decode_score(out, rows)
        total = k.softmax_logits(policy, lb.idx, lb.count, rows, self._inv_temp, lane.z, lane.offs)
        np.exp(lane.z[:total], out=lane.e[:total])
        if self._ml:
            lane.m[:rows] = self.codec.decode_moves_left(out, rows)
        return Prepared(out, lane, rows, lane.q[:rows], lane.d[:rows], (lane.s if self._scored else lane.q)[:rows],
                        lane.m[:rows] if self._ml else None)

    def finish_lane(self, p: "Prepared") -> None:
        """The tree part of :meth:`complete`: ownership, priors, cache, backups. Hold :attr:`lock`."""
        lane = p.lane
        if self._owned:
            self._add_ownership(p.out, lane.leaves.depth[:p.rows].tolist())
        finish = lane.finish
        if finish is None:
            finish = lane.finish = self._finisher(lane)
        finish(p.rows)

    def _finisher(self, lane: Lane) -> Callable[[int], None]:
        """kernels.finish_batch (finish_batch_m for a moves-left head) on ``lane``'s arrays, compiled
        for them once (leafpath.bind: numba's dispatcher typed the tree's and the cache's arrays at
        every batch, about 6 µs here)."""
        lb = lane.leaves
        score = lane.s if self._scored else lane.q
        head = (self._t, lane.e, lane.offs)
        if self._ml:
            tail_m = (lb.node, lb.path, lb.depth, lb.key, lane.q, lane.d, score, self._scored, lane.m,
                      self.cache.arrays, self._counters)
            fn_m = lp.bind(k.finish_batch_m, *head, 0, *tail_m)
            return lambda rows: fn_m(*head, rows, *tail_m)
        tail = (lb.node, lb.path, lb.depth, lb.key, lane.q, lane.d, score, self._scored, self.cache.arrays,
                self._counters)
        fn = lp.bind(k.finish_batch, *head, 0, *tail)
        return lambda rows: fn(*head, rows, *tail)

    def _add_ownership(self, out: dict[str, np.ndarray], depths: Sequence[int]) -> None:
        """Add each evaluated position's ownership, turned to the root's side-to-move view."""
        self._own.add(self.codec.decode_ownership(out, len(depths)), depths)

    @_locked
    def ownership(self) -> np.ndarray | None:
        """Mean ownership over this search's evaluations (+1: the root's side to move), per move code."""
        return self._own.mean()

    @_locked
    def root_score(self) -> float | None:
        """Mean score over the root's subtree for its side to move (None without a score head)."""
        t, root = self._t, self.tree.root
        if not self.tree.scored or not t.sn[root]:
            return None
        return -float(t.ssum[root]) / int(t.sn[root])

    @property
    def pending(self) -> int:
        """Leaves the network is evaluating now (of every search thread)."""
        if self._workers is not None:
            return self._workers.pending
        return self._inflight[2] if self._inflight is not None else 0

    # -- ending and reporting --------------------------------------------------------------------
    def finish(self, wait: bool) -> None:
        """End the search: complete the batches in flight (``wait``) or drop them and undo their
        visits. With search threads, ``wait`` also waits for them to end; without, they end by
        themselves once their network call returns (and touch the tree no more)."""
        workers, self._workers = self._workers, None
        if workers is not None:
            workers.close(wait)
            self._closed = workers
        with self.lock:
            if self._inflight is None:
                return
            fut, lane, rows = self._inflight
            self._inflight = None
            if wait:
                self.complete(self._result(fut), lane, rows)
                return
            self.drop(lane, rows)

    def join(self) -> None:
        """Block until the search threads that :meth:`finish` let go have ended (each within
        its network call); they no longer touch the tree, so the answer need not wait for this."""
        closed, self._closed = self._closed, None
        if closed is not None:
            closed.join()

    def _edges(self, node: int) -> tuple[np.ndarray, ...]:
        """Per edge of ``node``: visits, value sums, draw sums, in flight, child, prior."""
        t = self._t
        cnt = max(0, int(t.ecount[node]))
        n = np.zeros(cnt, np.int32)
        w = np.zeros(cnt, np.float64)
        d = np.zeros(cnt, np.float64)
        vl = np.zeros(cnt, np.int32)
        kid = np.zeros(cnt, np.int32)
        k.edge_stats(t, node, n, w, d, vl, kid)
        f = int(t.estart[node])
        return n, w, d, vl, kid, P16[t.prior[f:f + cnt]]

    def stats(self) -> SearchStats:
        """Current statistics (cheap)."""
        return self.stats_into(self._stats)

    @_locked
    def stats_into(self, s: SearchStats) -> SearchStats:
        """:meth:`stats` written into ``s`` (each search thread keeps its own)."""
        self._report()
        (n, top1, top2, edges, s.playouts, s.depth_sum, s.seldepth, s.collisions, s.cache_hits, proven,
         full) = self._root_out.tolist()
        s.net_positions = self._net_positions
        s.elapsed = time.monotonic() - self._t0
        s.root_proven = bool(proven)
        s.tree_full = bool(full)
        s.nodes = n
        if edges:
            s.top_visits = (top1, top2)
        return s

    def _report(self) -> None:
        """kernels.root_report into ``_root_out``, on the ``searchmoves`` mask, compiled once per
        mask object (typing the tree's arrays at every call cost several µs, and the controller
        asks at every poll)."""
        mask = self._mask
        got = self._report_fn
        if got is None or got[0] is not mask:
            args = (self._t, mask, self._sc, self._counters, self._root_out)
            got = (mask, functools.partial(lp.bind(k.root_report, *args), *args))
            self._report_fn = got
        got[1]()

    def _ranked(self, node: int, mask: np.ndarray | None = None) -> tuple[list[int], tuple[np.ndarray, ...]]:
        """Edge indices of ``node`` best first (mcts.Search._ranked_edges) and its edge arrays."""
        edges = self._edges(node)
        n_, w, _, _, kid, prior = edges
        if len(n_) == 0:
            return [], edges
        t = self._t
        n = n_.astype(np.float64)
        q = np.where(n > 0, w / np.maximum(n, 1), -2.0)
        kid_status = np.where(kid >= 0, t.status[np.maximum(kid, 0)], 0)
        kid_plies = np.where(kid >= 0, t.plies[np.maximum(kid, 0)], 0)
        win = kid_status == k.LOST
        loss = kid_status == k.WON
        rank = np.where(win, 2.0, np.where(loss, -1.0, 0.0))
        order = np.lexsort((prior, q, n, np.where(win, -kid_plies, 0), rank))[::-1]
        if mask is not None:
            order = [i for i in order if mask[i]]
        return [int(i) for i in order], edges

    @_locked
    def best_move(self) -> int | None:
        """The move to play: proven wins first, then most visits, then Q, then prior."""
        ranked, _ = self._ranked(self.tree.root, self._root_mask)
        return int(self._root_moves[ranked[0]]) if ranked else None

    @_locked
    def pv(self, edge: int, max_len: int = 32) -> list[int]:
        """Principal variation starting with the root's ``edge`` (its index among the root's
        moves): follow the best child while it exists."""
        t = self._t
        line = [int(self._root_moves[edge])]
        node = int(self._edges(self.tree.root)[4][edge])
        while node >= 0 and t.ecount[node] > 0 and len(line) < max_len:
            ranked, edges = self._ranked(node)
            if not ranked or edges[0][ranked[0]] == 0:
                break
            node = int(edges[4][ranked[0]])
            line.append(int(t.move[node]))
        return line

    @_locked
    def move_stats(self) -> list[MoveStat]:
        """Every root move's N, in-flight visits, P, Q, D and U, fewest visits first (lc0's order)."""
        t = self._t
        root = self.tree.root
        n, _, d, vl, kid, prior = self._edges(root)
        if len(n) == 0:
            return []
        q = np.zeros(len(n))
        u = np.zeros(len(n))
        k.puct_terms(t, root, self._sc, self._params, q, u)
        out = []
        for i in range(len(n)):
            child = int(kid[i])
            st = int(t.status[child]) if child >= 0 else k.UNKNOWN
            proven = 1 if st == k.LOST else (-1 if st == k.WON else 0)
            ni = int(n[i])
            out.append(MoveStat(int(self._root_moves[i]), ni, int(vl[i]), float(prior[i]), float(q[i]),
                                float(d[i]) / ni if ni else 0.0, float(u[i]), proven))
        out.sort(key=lambda m: (m.visits, m.q, m.prior))
        return out

    @_locked
    def lines(self, count: int = 1) -> list[Line]:
        """The best ``count`` root moves with their statistics and PVs."""
        t = self._t
        root = self.tree.root
        ranked, (n_, w, d_, _, kid, prior) = self._ranked(root, self._root_mask)
        out = []
        for i in ranked[:count]:
            n = int(n_[i])
            child = int(kid[i])
            mate = None
            if child >= 0 and t.status[child] in (k.WON, k.LOST):
                plies = int(t.plies[child]) + 1
                mate = (plies + 1) // 2 if t.status[child] == k.LOST else -(plies // 2)
            if n > 0:
                q, d = float(w[i]) / n, float(d_[i]) / n
            else:
                rn = max(int(t.n[root]), 1)
                q, d = -float(t.w[root]) / rn, float(t.d[root]) / rn
            if mate is not None:
                q, d = (1.0 if mate > 0 else -1.0), 0.0
            score = None
            if self._scored:
                score = float(t.ssum[child]) / int(t.sn[child]) if child >= 0 and t.sn[child] > 0 \
                    else self.root_score()
            m = None
            if self._ml:
                m = float(t.msum[child]) / n if child >= 0 and n > 0 else \
                    1.0 + float(t.msum[root]) / max(int(t.n[root]), 1)
            out.append(Line(int(self._root_moves[i]), n, q, d, float(prior[i]), self.pv(i), mate, score, m))
        return out


def search_params_array(params: SearchParams) -> np.ndarray:
    """The float64 words the kernels read (kernels.P_*): PUCT's, then lc0's moves-left utility."""
    return np.array([params.cpuct, params.cpuct_base, params.cpuct_factor, params.fpu_reduction,
                     params.moves_left_max_effect, params.moves_left_threshold, params.moves_left_slope,
                     params.moves_left_constant_factor, params.moves_left_scaled_factor,
                     params.moves_left_quadratic_factor], np.float64)


def _go_gatherer(state: GameState, codec: Any) -> Any:
    """engine.search.go_kernels.go_gatherer (imported on first use: only go compiles it)."""
    from .go_kernels import go_gatherer
    return go_gatherer(state, codec)


@functools.cache
def _gather_chess():  # noqa: ANN202 - imported on first use (only chess compiles it), once: an import
    from .chess_kernels import gather_chess  # statement costs more than the lookup, every gather
    return gather_chess


def warm_up(chess: bool) -> None:
    """Compile every kernel a search runs — chess: the compiled gatherer and the native rules;
    other games: the descent and the other kernels their Python leaf path calls — or load them
    from numba's cache, by calling each once on scratch arrays with the search's own argument
    types; the controller calls it while loading the net, so the first ``go`` does not pay for
    it. numba keeps its cache in ``__pycache__`` beside the source files, or in
    ``NUMBA_CACHE_DIR``; when the package directory is read-only it falls back to the user's
    cache directory (``~/.cache/numba``) by itself."""
    tree = NativeTree(1 << 16, edge_moves=not chess, scored=not chess, branching=8)
    t, sc = tree.arrays, k.new_scratch()
    cache = NativeEvalCache(4, 8)
    counters = np.zeros(k.STATS_WORDS, np.int64)
    params = np.array([1.745, 38739.0, 3.894, 0.33])
    mask = np.zeros(0, np.uint8)
    lb = _Leaves(1, _CHESS_MOVES if chess else k.MAX_EDGES)
    if chess:
        from ..native.chess_state import NativeChessState
        state = _native_chess(NativeChessState(), k.MAX_DEPTH + 8)
        state.set_search_root()
        moves = state.legal_moves()
        state.key()
        state.terminal()
        state.encode_lc0(np.zeros((112, 8, 8), np.float32))
        state.lc0_policy_indices(moves)
        state.push(moves[0])
        state.pop()
    else:
        moves = [1, 2, 3]
    priors = np.full(len(moves), 1 / len(moves), np.float32)
    k.expand(t, tree.root, priors, np.asarray(moves, np.int32))
    t.n[tree.root] = 1
    if chess:
        _gather_chess()(t, state.pos, mask, sc, params, counters, cache.arrays, 1, 1, 1,
                        np.zeros((1, 112, 8, 8), np.float32), lb.node, lb.path, lb.depth, lb.count, lb.key,
                        lb.idx, np.zeros(_CHESS_MOVES, np.int32), np.zeros(64, np.int32))
    else:  # the leaf path's kernels (engine/search/leafpath.py), with its argument types
        ctx = lp.LeafCtx(t, mask, sc, params, counters, cache.arrays, np.zeros(k.MAX_DEPTH, np.int32))
        held = np.zeros(64, np.int32)
        what, depth = lp.descend(ctx)
        key, mv = np.uint64(7), np.asarray(moves, np.int32)
        lp.from_cache(ctx, depth, key, mv)
        lp.queue(ctx, depth, mv, 0, lb.node, lb.path, lb.depth, lb.count, lb.key, key)
        labels = np.zeros(1 << 15, np.int64)
        labels.flags.writeable = False  # as the codec's shared table (dlshogi.label_table)
        lp.cache_or_queue(ctx, depth, key, mv, 0, lb.node, lb.path, lb.depth, lb.count, lb.key, lb.idx, labels)
        lp.back_up(ctx, depth, 0.5, 0.0, 0.0, True)
        lp.back_up_m(ctx, depth, 0.5, 0.0, 0.0, True, 3.0)
        lp.end(ctx, depth, 0.0, 0, 0.0, False)
        lp.release(ctx, held, lp.collide(ctx, depth, held, 0))
    k.child_by_move(t, tree.root, 1)
    n, w, d, vl, kid = (np.zeros(len(moves), np.int32), np.zeros(len(moves)), np.zeros(len(moves)),
                        np.zeros(len(moves), np.int32), np.zeros(len(moves), np.int32))
    k.root_report(t, mask, sc, counters, np.zeros(k.REPORT_WORDS, np.int64))
    k.edge_stats(t, tree.root, n, w, d, vl, kid)  # (puct_terms, for VerboseMoveStats only, compiles when asked)
    z, e, offs = np.zeros(8, np.float32), np.zeros(8, np.float32), np.zeros(2, np.int64)
    lb.count[0] = 2
    total = k.softmax_logits(np.zeros((1, 8), np.float32), lb.idx, lb.count, 1, np.float32(1.0), z, offs)
    np.exp(z[:total], out=e[:total])
    k.finish_batch(t, e, offs, 0, lb.node, lb.path, lb.depth, lb.key, w, d, w, not chess, cache.arrays, counters)
    k.finish_batch_m(t, e, offs, 0, lb.node, lb.path, lb.depth, lb.key, w, d, w, not chess, w, cache.arrays,
                     counters)  # nets with a moves-left head
    k.drop_leaves(t, 0, lb.node, lb.path, lb.depth)
    cache.put(1, priors, 0.0, 0.0, None)
    cache.put(1, priors, 0.0, 0.0, None, 5.0)
    cache.get(1)
    cache.clear()
