"""Search: mates with a uniform net, terminal handling, proofs, tree reuse, limits."""

from __future__ import annotations

import threading

import pytest

from tabula.engine.controller import Engine, Limits
from tabula.engine.evaluator import EvalCache, OnnxEvaluator
from tabula.engine.games.chess_game import ChessState
from tabula.engine.search.mcts import Search
from tabula.engine.search.params import SearchParams
from tabula.engine.search.tree import Tree
from tabula.protocols.uci import UCI_PARAMS


@pytest.fixture()
def engine(uniform_chess_net):
    e = Engine("chess", extra_params=UCI_PARAMS)
    e.set_option("WeightsFile", str(uniform_chess_net))
    e.ensure_ready()
    yield e
    e.stop()
    e.wait()
    e.evaluator.close()


def run(engine: Engine, fen: str | None, limits: Limits, moves: tuple[str, ...] = ()):
    state = ChessState(fen)
    codes = []
    for m in moves:
        codes.append(state.parse_move(m))
        state.push(codes[-1])
    engine.set_position(state, fen, codes)
    out: dict = {}
    engine.go(limits, lambda r: out.__setitem__("report", r),
              lambda b, p: out.__setitem__("best", (b, p)))
    engine.wait()
    best, ponder = out["best"]
    return state, (state.move_to_text(best) if best is not None else None), out.get("report")


@pytest.mark.parametrize("fen,mate_move,mate", [
    ("k7/8/1K6/8/8/8/8/7R w - - 0 1", "h1h8", 1),
    ("r1bqkb1r/pppp1ppp/2n2n2/4p2Q/2B1P3/8/PPPP1PPP/RNB1K1NR w KQkq - 4 4", "h5f7", 1),
    ("r2qkb1r/pp2nppp/3p4/2pNN1B1/2BnP3/3P4/PPP2PPP/R2bK2R w KQkq - 1 1", "d5f6", 2),
    ("6k1/pp4p1/2p5/2bp4/8/P5Pb/1P3rrP/2BRRN1K b - - 0 1", "g2g1", 2),
])
def test_finds_short_mates_with_uniform_policy(engine, fen, mate_move, mate):
    _, best, report = run(engine, fen, Limits(nodes=30000))
    assert best == mate_move
    assert report.lines[0].mate == mate
    assert report.stats.root_proven


def test_getting_mated_is_reported_negative(engine):
    # black's only move Kb8 walks into Rh8#
    _, best, report = run(engine, "k7/8/1K6/8/8/8/8/7R b - - 0 1", Limits(nodes=2000))
    assert best == "a8b8"
    assert report.lines[0].mate == -1


def test_root_without_moves_answers_none(engine):
    _, best, _ = run(engine, "7k/5Q2/6K1/8/8/8/8/8 b - - 0 1", Limits(nodes=100))
    assert best is None


@pytest.mark.parametrize("history,drawn", [
    # f6g8 repeats the start position, seen before the root: one repetition of game history
    # is no draw (lc0's TwoFoldDraws counts a position repeated inside the tree only)
    (["g1f3", "g8f6", "f3g1"], False),
    # here f6g8 brings the start position back a third time: a draw wherever the others were
    (["g1f3", "g8f6", "f3g1", "f6g8", "g1f3", "g8f6", "f3g1"], True),
])
def test_repetition_draws_in_the_tree(uniform_chess_net, history, drawn):
    ev = OnnxEvaluator(uniform_chess_net, backend="cpu")
    state = ChessState()
    for m in history:
        state.push(state.parse_move(m))
    tree = Tree()
    search = Search(state, tree, ev, EvalCache(1000), SearchParams(minibatch=8))
    while search.stats().playouts < 400:
        search.step()
    search.finish(wait=True)
    e = tree.child_by_move(tree.root, state.parse_move("f6g8"))
    child = int(tree.child[e])
    assert child >= 0 and tree.n[e] > 0
    assert (tree.status[child] == Tree.DRAWN) == drawn
    if drawn:
        assert tree.w[e] == 0.0
    ev.close()


def test_fifty_move_and_material_draws_are_terminal():
    assert ChessState("8/8/8/4k3/8/8/8/4K3 w - - 0 1").terminal() == 0.0
    assert ChessState("7k/8/8/8/8/8/8/R6K w - - 100 80").terminal() == 0.0
    # checkmate on the 100th half-move still wins
    assert ChessState("k6R/8/1K6/8/8/8/8/8 b - - 100 80").terminal() == -1.0


def test_nodes_limit_is_met_exactly_enough(engine):
    _, best, report = run(engine, None, Limits(nodes=300))
    assert best is not None
    # `go nodes` counts root visits as lc0 does: the root's own evaluation is the first
    assert report.stats.nodes == 300
    assert report.stats.playouts == 299


def test_go_nodes_one_is_the_root_evaluation_alone(engine):
    _, best, report = run(engine, None, Limits(nodes=1))
    assert best is not None
    assert report.stats.nodes == 1 and report.stats.playouts == 0


def test_depth_limit_stops(engine):
    _, _, report = run(engine, None, Limits(depth=2))
    assert report.stats.depth >= 2


def test_searchmoves_restricts_the_root(engine):
    state = ChessState()
    limits = Limits(nodes=200, searchmoves=[state.parse_move("a2a3"), state.parse_move("h2h3")])
    _, best, report = run(engine, None, limits)
    assert best in ("a2a3", "h2h3")
    assert all(state.move_to_text(line.move) in ("a2a3", "h2h3") for line in report.lines)


def test_tree_reuse_keeps_visits(engine):
    state, best, report = run(engine, None, Limits(nodes=2000))
    pv = [state.move_to_text(m) for m in report.lines[0].pv[:2]]
    assert len(pv) == 2
    tree_before = engine.tree
    _, _, report2 = run(engine, None, Limits(nodes=1), moves=tuple(pv))
    assert engine.tree is tree_before
    assert report2.stats.nodes > report2.stats.playouts  # visits carried over


def test_multipv_lines_are_distinct(engine):
    engine.set_option("MultiPV", "3")
    _, _, report = run(engine, None, Limits(nodes=500))
    moves = [line.move for line in report.lines]
    assert len(moves) == 3 and len(set(moves)) == 3
    assert report.lines[0].visits >= report.lines[1].visits >= report.lines[2].visits


def _reported(pred=lambda r: True):
    """An on_info callback and an event set once a report satisfies ``pred``."""
    seen = threading.Event()
    return (lambda r: pred(r) and seen.set()), seen


def test_infinite_waits_for_stop(engine):
    state = ChessState()
    engine.set_position(state, None, [])
    done = []
    on_info, searched = _reported(lambda r: r.stats.playouts >= 50)
    engine.go(Limits(infinite=True, info_interval=0.02), on_info, lambda b, p: done.append(b))
    assert searched.wait(60)
    assert not done and engine.searching()
    engine.stop()
    engine.wait()
    assert len(done) == 1 and done[0] in state.legal_moves()


def test_infinite_on_proven_root_still_waits(engine):
    state = ChessState("k7/8/1K6/8/8/8/8/7R w - - 0 1")
    engine.set_position(state, "m1", [])
    done = []
    on_info, proven = _reported(lambda r: r.stats.root_proven)
    engine.go(Limits(infinite=True, info_interval=0.02), on_info, lambda b, p: done.append(b))
    assert proven.wait(60)
    assert not done and engine.searching()
    engine.stop()
    engine.wait()
    assert state.move_to_text(done[0]) == "h1h8"


def test_tree_budget_bounds_memory(uniform_chess_net):
    ev = OnnxEvaluator(uniform_chess_net, backend="cpu")
    tree = Tree(budget_bytes=1 << 16)
    search = Search(ChessState(), tree, ev, EvalCache(0), SearchParams(minibatch=16))
    for _ in range(200):
        if search.stats().tree_full:
            break
        search.step()
    search.finish(wait=True)
    assert search.stats().tree_full
    assert tree.bytes_used() < (1 << 16) + 64 * 40 * 60
    ev.close()


def test_collision_budget_grows_with_the_tree_as_lc0s():
    from tabula.engine.search.mcts import collision_budget
    p = SearchParams()
    assert [collision_budget(v, p) for v in (0, 1, 28)] == [1, 1, 1]
    # 1 + 79999·((400−28)/(145000−28))^1.25 = 47.2; at 1600 visits 281
    assert collision_budget(400, p) == 47
    assert collision_budget(1600, p) == 281
    assert collision_budget(145_000, p) == collision_budget(10**9, p) == 80_000


def _hand_tree() -> Tree:
    """A root with 11 visits (mean 0.1) and three moves: P .6/.3/.1, N 6/4/0, Q .2/.05/-, 2 in flight on the first."""
    t = Tree()
    t.expand(t.root, [1, 2, 3], [0.6, 0.3, 0.1])
    t.root_n, t.root_w = 11, 1.1
    t.n[0:3] = [6, 4, 0]
    t.w[0:3] = [1.2, 0.2, 0.0]
    t.vl[0:3] = [2, 0, 0]
    return t


def test_puct_terms_on_a_hand_built_tree():
    from types import SimpleNamespace
    t = _hand_tree()
    q, u = Search._puct_terms(SimpleNamespace(tree=t, params=SearchParams()), t.root, True)
    # the tree keeps lc0's 16-bit priors: .6/.3/.1 are .600098/.300049/.100006
    # FPU = 0.1 − 0.33·sqrt(0.900146) = −0.213091; Q counts completed visits only
    assert q == pytest.approx([0.2, 0.05, -0.213091], abs=1e-6)
    # c = 1.745 + 3.894·ln((11 + 38739)/38739) = 1.746106; U = c·sqrt(10)·P/(1 + n + in-flight)
    assert u == pytest.approx([0.368171, 0.331354, 0.552201], abs=1e-6)


def test_in_flight_visits_lower_only_the_exploration_term():
    from types import SimpleNamespace
    t = _hand_tree()
    ns = SimpleNamespace(tree=t, params=SearchParams())
    q0, u0 = Search._puct_terms(ns, t.root, True)
    t.vl[1] = 3
    q1, u1 = Search._puct_terms(ns, t.root, True)
    assert list(q1) == list(q0)  # no virtual loss in Q
    assert u1[1] == pytest.approx(u0[1] * 5 / 8)
