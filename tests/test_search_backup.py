"""Backup and proof propagation on hand-built trees, in both searches, each with its numbers.

The Python reference (:class:`Search` on a :class:`Tree`) keeps statistics on edges, from the
view of the player who makes the edge's move; the native tree (engine/search/kernels.py) keeps
them on the node the move leads to, same view, and the root's own ``w`` negated. A leaf's value
is from its side to move's view, so along a path it flips sign at every ply.

No onnxruntime here: the searches run on :class:`fakeeval.FakeEvaluator`.
"""

from __future__ import annotations

import numpy as np
import pytest

from fakeeval import FakeEvaluator, chess_codec
from tabula.engine.evaluator import EvalCache
from tabula.engine.evaluator_api import Evaluator
from tabula.engine.games.chess_game import ChessState
from tabula.engine.search import kernels as k
from tabula.engine.search.mcts import Search, SearchStats
from tabula.engine.search.native import NativeSearch, NativeTree
from tabula.engine.search.nncache import NativeEvalCache
from tabula.engine.search.params import SearchParams
from tabula.engine.search.tree import Tree


# -- the Python reference tree -----------------------------------------------------------------------

def _py_tree() -> tuple[Tree, int]:
    """Root: moves 10/11/12 (edges 0-2, P .5/.3/.2); node ``a`` behind edge 0: moves 20/21 (edges 3-4)."""
    t = Tree()
    t.expand(t.root, [10, 11, 12], [0.5, 0.3, 0.2])
    a = t.new_node(0, t.root)
    t.expand(a, [20, 21], [0.6, 0.4])
    return t, a


def _on(tree: Tree) -> Search:
    """A Search (fake net) whose tree is ``tree``: its backup and proof methods act on it."""
    s = Search(ChessState(), Tree(), FakeEvaluator(chess_codec()), EvalCache(0), SearchParams())
    s.tree = tree
    return s


def test_backup_flips_the_value_at_every_ply_and_takes_in_flight_back():
    t, a = _py_tree()
    t.root_n, t.root_w, t.root_d = 1, 0.1, 0.0
    t.new_node(3, a)                     # the leaf, behind edge 3 (two plies: the root's side to move)
    t.vl[[0, 3]] = 1                     # as the descent left them
    s = _on(t)
    s._backup([0, 3], 0.6, 0.2, 3.0)     # the leaf's side to move: value 0.6, draw 0.2, leads by 3
    # edge 3 is the leaf's opponent's move (-0.6), edge 0 the root side's (+0.6); the root reads +0.6
    assert (t.n[0], t.w[0], t.d[0], t.vl[0]) == (1, pytest.approx(0.6), pytest.approx(0.2), 0)
    assert (t.n[3], t.w[3], t.d[3], t.vl[3]) == (1, pytest.approx(-0.6), pytest.approx(0.2), 0)
    assert (t.root_n, t.root_w, t.root_d) == (2, pytest.approx(0.7), pytest.approx(0.2))
    # scores go to the nodes, same views: the leaf node -3, node a +3, the root +3
    leaf = int(t.child[3])
    assert (t.ssum[leaf], t.sn[leaf], t.ssum[a], t.sn[a]) == (-3.0, 1, 3.0, 1)
    assert s.root_score() == 3.0
    st = s._stats
    assert (st.playouts, st.depth_sum, st.seldepth) == (1, 2, 2)
    # one ply: the leaf is the root's opponent to move, so its 0.4 is -0.4 for the root
    t.vl[1] = 1
    s._backup([1], 0.4, 0.0)
    assert (t.n[1], t.w[1], t.vl[1]) == (1, pytest.approx(-0.4), 0)
    assert (t.root_n, t.root_w) == (3, pytest.approx(0.3))
    assert (st.playouts, st.depth_sum, st.seldepth, s.root_score()) == (2, 3, 2, 3.0)  # no score: sums unchanged


def test_backed_up_values_are_what_selection_reads():
    t, a = _py_tree()
    t.root_n = 1
    s = _on(t)
    for path, v in (([0], -0.5), ([0], -0.3), ([1], 0.2)):
        s._backup(path, v, 0.0)
    q, _ = s._puct_terms(t.root, True)
    # edge 0: two leaves worth -0.5, -0.3 to the opponent: Q = (0.5 + 0.3) / 2 for the root side
    assert q[:2] == pytest.approx([0.4, -0.2])
    assert t.root_n == 4 and t.root_w == pytest.approx(0.6)


def test_collided_paths_take_their_in_flight_visits_back_without_a_visit():
    t, _ = _py_tree()
    t.vl[[0, 3]] = [2, 1]
    _on(t)._undo_virtual_loss([0, 3])
    assert t.vl[[0, 3]].tolist() == [1, 0] and t.n[[0, 3]].tolist() == [0, 0]


def test_a_mated_leaf_proves_a_win_for_its_parent_and_a_loss_once_every_reply_loses():
    t, a = _py_tree()
    s = _on(t)
    mated = t.new_node(3, a)
    t.count[mated], t.status[mated] = 0, Tree.LOST    # the side to move there is mated
    s._propagate_proof(mated)
    assert (t.status[a], t.plies[a]) == (Tree.WON, 1)    # a's side to move mates in one ply
    assert t.status[t.root] == Tree.UNKNOWN               # the root still has edges 1 and 2
    b, c = t.new_node(1, t.root), t.new_node(2, t.root)
    t.status[b], t.plies[b] = Tree.WON, 3
    s._propagate_proof(b)
    assert t.status[t.root] == Tree.UNKNOWN               # edge 2's node is not proven yet
    t.status[c], t.plies[c] = Tree.WON, 5
    s._propagate_proof(c)
    # every root move leads to a won position for the opponent: lost, in the longest line plus one
    assert (t.status[t.root], t.plies[t.root]) == (Tree.LOST, 6)


def test_draws_and_known_parents_stop_the_proof():
    t, a = _py_tree()
    s = _on(t)
    drawn = t.new_node(3, a)
    t.status[drawn] = Tree.DRAWN
    s._propagate_proof(drawn)
    assert t.status[a] == Tree.UNKNOWN
    t.status[a], t.plies[a] = Tree.WON, 7                 # already proven: a new proof below keeps it
    mated = t.new_node(4, a)
    t.status[mated] = Tree.LOST
    s._propagate_proof(mated)
    assert (t.status[a], t.plies[a]) == (Tree.WON, 7)


# -- the native tree ----------------------------------------------------------------------------------

def _native_tree() -> tuple[k.TreeArrays, int, int]:
    """The same shape as :func:`_py_tree` (moves stored, score sums): returns the arrays, the
    root and node ``a`` (behind move 10)."""
    t = NativeTree(1 << 16, edge_moves=True, scored=True, branching=4).arrays
    root = int(t.meta[k.M_ROOT])
    k.expand(t, root, np.array([0.5, 0.3, 0.2], np.float32), np.array([10, 11, 12], np.int32))
    a = k.new_node(t, root, 0, 10)
    k.expand(t, a, np.array([0.6, 0.4], np.float32), np.array([20, 21], np.int32))
    return t, root, a


def test_native_backup_flips_the_value_at_every_ply_and_takes_in_flight_back():
    t, root, a = _native_tree()
    t.n[root], t.w[root] = 1, -0.1       # the root's own w is negated: it reads +0.1
    leaf = k.new_node(t, a, 0, 20)
    t.vl[[a, leaf]] = 1
    stats = np.zeros(k.STATS_WORDS, np.int64)
    k.backup(t, np.array([a, leaf], np.int32), 2, 0.6, 0.2, 3.0, True, stats)
    assert (t.n[a], t.w[a], t.d[a], t.vl[a]) == (1, pytest.approx(0.6), pytest.approx(0.2), 0)
    assert (t.n[leaf], t.w[leaf], t.d[leaf], t.vl[leaf]) == (1, pytest.approx(-0.6), pytest.approx(0.2), 0)
    assert (t.n[root], -t.w[root], t.d[root]) == (2, pytest.approx(0.7), pytest.approx(0.2))
    assert (t.ssum[leaf], t.ssum[a], -t.ssum[root], t.sn[root]) == (-3.0, 3.0, 3.0, 1)
    assert stats[[k.S_PLAYOUTS, k.S_DEPTH_SUM, k.S_SELDEPTH]].tolist() == [1, 2, 2]
    b = k.new_node(t, root, 1, 11)
    t.vl[b] = 1
    k.backup(t, np.array([b], np.int32), 1, 0.4, 0.0, 0.0, False, stats)
    assert (t.n[b], t.w[b], t.vl[b], t.sn[b]) == (1, pytest.approx(-0.4), 0, 0)
    assert (t.n[root], -t.w[root], t.sn[root]) == (3, pytest.approx(0.3), 1)
    assert stats[[k.S_PLAYOUTS, k.S_DEPTH_SUM, k.S_SELDEPTH]].tolist() == [2, 3, 2]


def test_native_known_nodes_back_up_their_exact_value():
    t, root, a = _native_tree()
    stats = np.zeros(k.STATS_WORDS, np.int64)
    mated, drawn = k.new_node(t, a, 0, 20), k.new_node(t, a, 1, 21)
    k.set_terminal(t, mated, -1.0, 0)
    k.set_terminal(t, drawn, 0.0, 0)
    assert (t.status[mated], t.ecount[mated], t.status[drawn]) == (k.LOST, 0, k.DRAWN)
    k.backup_status(t, np.array([a, mated], np.int32), 2, stats)    # the mover into `mated` wins: +1
    k.backup_status(t, np.array([a, drawn], np.int32), 2, stats)    # a draw: 0, draw probability 1
    assert (t.w[mated], t.d[mated], t.w[drawn], t.d[drawn]) == (1.0, 0.0, 0.0, 1.0)
    assert (t.n[a], t.w[a], t.d[a]) == (2, -1.0, 1.0)


def test_native_dropped_leaves_and_collisions_take_their_in_flight_visits_back():
    t, root, a = _native_tree()
    leaf = k.new_node(t, a, 0, 20)
    t.vl[[a, leaf]] = [2, 1]
    t.ecount[leaf] = k.PENDING
    path = np.zeros((1, k.MAX_DEPTH), np.int32)
    path[0, :2] = [a, leaf]
    k.drop_leaves(t, 1, np.array([leaf], np.int32), path, np.array([2], np.int32))
    assert (t.ecount[leaf], t.vl[a], t.vl[leaf], t.n[leaf]) == (k.UNEXPANDED, 1, 0, 0)
    k.undo_visits(t, np.array([a], np.int32), 1)
    assert t.vl[a] == 0 and t.n[a] == 0


def test_native_proofs_go_up_as_the_references():
    t, root, a = _native_tree()
    mated = k.new_node(t, a, 0, 20)
    k.set_terminal(t, mated, -1.0, 0)
    k.propagate_proof(t, np.array([a, mated], np.int32), 2)
    assert (t.status[a], t.plies[a], t.status[root]) == (k.WON, 1, k.UNKNOWN)
    b = k.new_node(t, root, 1, 11)
    k.set_terminal(t, b, 1.0, 3)          # a quick win for b's side to move, in 3 plies
    k.propagate_proof(t, np.array([b], np.int32), 1)
    assert t.status[root] == k.UNKNOWN    # move 12 not entered yet
    c = k.new_node(t, root, 2, 12)
    k.set_terminal(t, c, 1.0, 5)
    k.propagate_proof(t, np.array([c], np.int32), 1)
    assert (t.status[root], t.plies[root]) == (k.LOST, 6)


def test_native_draws_and_known_parents_stop_the_proof():
    t, root, a = _native_tree()
    drawn = k.new_node(t, a, 0, 20)
    k.set_terminal(t, drawn, 0.0, 0)
    k.propagate_proof(t, np.array([a, drawn], np.int32), 2)
    assert t.status[a] == k.UNKNOWN
    t.status[a], t.plies[a] = k.WON, 7
    mated = k.new_node(t, a, 1, 21)
    k.set_terminal(t, mated, -1.0, 0)
    k.propagate_proof(t, np.array([a, mated], np.int32), 2)
    assert (t.status[a], t.plies[a]) == (k.WON, 7)


# -- what proofs do to the move choice, in both searches ------------------------------------------------

def _python_search(state: ChessState, ev: FakeEvaluator, **kw) -> Search:
    return Search(state, Tree(), ev, EvalCache(100), SearchParams(minibatch=8), **kw)


def _native_search(state: ChessState, ev: FakeEvaluator, **kw) -> NativeSearch:
    tree = NativeTree.for_game("chess", ev.codec, 1 << 20)
    return NativeSearch(state, tree, ev, NativeEvalCache(100), SearchParams(minibatch=8), **kw)


SEARCHES = {"python": _python_search, "native": _native_search}


def _set_child(search: Search | NativeSearch, i: int, n: int, w: float, status: int = 0, plies: int = 0) -> None:
    """Give the root's ``i``-th move ``n`` visits worth ``w`` (mover's view) and a proof status."""
    if isinstance(search, Search):
        t = search.tree
        e = int(t.first[t.root]) + i
        child = int(t.child[e]) if t.child[e] >= 0 else t.new_node(e, t.root)
        t.n[e], t.w[e] = n, w
    else:
        t = search.tree.arrays
        root = search.tree.root
        child = k.child_by_move(t, root, search._root_moves[i])
        if child < 0:
            child = k.new_node(t, root, i, search._root_moves[i])
        t.n[child], t.w[child] = n, w
    t.status[child], t.plies[child] = status, plies


@pytest.mark.parametrize("kind", SEARCHES)
def test_proven_wins_come_first_fastest_first_and_proven_losses_last(kind):
    state = ChessState()
    s = SEARCHES[kind](state, FakeEvaluator(chess_codec()))
    moves = list(state.legal_moves())
    _set_child(s, 5, 90, 60.0, Tree.WON, 1)    # most visited, best Q, but the opponent mates in one
    _set_child(s, 2, 40, 4.0)
    _set_child(s, 7, 1, -1.0)
    assert s.best_move() == moves[2]
    lines = s.lines(20)
    assert (lines[-1].move, lines[-1].mate, lines[-1].q) == (moves[5], -1, -1.0)
    _set_child(s, 7, 1, 1.0, Tree.LOST, 2)     # the opponent is mated two plies after this move: mate in 2
    _set_child(s, 9, 2, 2.0, Tree.LOST, 0)     # mated at once: mate in 1, the faster win
    assert s.best_move() == moves[9]
    first, second = s.lines(2)
    assert (first.move, first.mate, first.q, first.d) == (moves[9], 1, 1.0, 0.0)
    assert (second.move, second.mate) == (moves[7], 2)


@pytest.mark.parametrize("kind", SEARCHES)
def test_a_mate_in_one_is_proven_with_exact_values(kind):
    state = ChessState("k7/8/1K6/8/8/8/8/7R w - - 0 1")
    ev = FakeEvaluator(chess_codec(), q=0.2)
    s = SEARCHES[kind](state, ev)
    while not s.stats().root_proven and s.stats().playouts < 400:
        s.step()
    s.finish(wait=True)
    line = s.lines(1)[0]
    assert state.move_to_text(line.move) == "h1h8"
    # every visit of h1h8 backed up the mate itself: Q exactly 1, no draw
    assert (line.mate, line.q, line.d) == (1, 1.0, 0.0)
    assert s.stats().root_proven


@pytest.mark.parametrize("kind", SEARCHES)
def test_a_stalemate_backs_up_an_exact_draw(kind):
    # c1c7 stalemates; searchmoves keeps the mate c1c8 out, so the search goes on
    state = ChessState("k7/8/1K6/8/8/8/8/2Q5 w - - 0 1")
    root_moves = [state.parse_move("c1c7"), state.parse_move("c1c2")]
    s = SEARCHES[kind](state, FakeEvaluator(chess_codec(), q=0.3, d=0.1), root_moves=root_moves)
    while s.stats().playouts < 60:
        s.step()
    s.finish(wait=True)
    by_move = {line.move: line for line in s.lines(2)}
    stale = by_move[root_moves[0]]
    assert stale.visits > 0 and (stale.q, stale.d, stale.mate) == (0.0, 1.0, None)


@pytest.mark.parametrize("kind", SEARCHES)
def test_finish_without_waiting_leaves_no_visit_in_flight(kind):
    s = SEARCHES[kind](ChessState(), FakeEvaluator(chess_codec(), q=0.1))
    s.step()                                   # gathers a batch and submits it
    assert s.pending > 0
    before = s.stats().nodes
    s.finish(wait=False)
    assert s.pending == 0 and s.stats().nodes == before
    assert all(m.in_flight == 0 for m in s.move_stats())
    s.step()
    s.finish(wait=True)                        # the same leaves again, now completed
    assert s.stats().nodes > before and all(m.in_flight == 0 for m in s.move_stats())


@pytest.mark.parametrize("kind", SEARCHES)
def test_a_search_runs_on_any_evaluator(kind):
    """The fake has the protocol's members and nothing a search could use besides."""
    ev = FakeEvaluator(chess_codec())
    assert isinstance(ev, Evaluator)
    s = SEARCHES[kind](ChessState(), ev)
    for _ in range(3):
        s.step()
    s.finish(wait=True)
    stats = s.stats()
    assert isinstance(stats, SearchStats) and ev.batches >= 2
    assert ev.positions == stats.playouts + 1  # every leaf went to the net once, and the root
