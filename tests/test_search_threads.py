"""Several search threads on one tree (engine/search/workers.py, the ``SearchThreads`` option):
exact ``go nodes``, nothing left in flight, consistent visit counts, ``stop`` at once, and legal
play through UCI, USI and GTP. No wall-clock bounds: timeouts only keep a broken run from hanging."""

from __future__ import annotations

import threading

import numpy as np
import pytest

pytest.importorskip("onnx")

from linesink import Sink  # noqa: E402
from search_golden import build_nets  # noqa: E402

from tabula.engine.controller import Engine, Limits  # noqa: E402
from tabula.engine.evaluator import OnnxEvaluator, TrivialEvaluator, default_search_threads, intra_op_threads  # noqa: E402
from tabula.engine.games.chess_game import ChessState  # noqa: E402
from tabula.engine.games.go import GoState  # noqa: E402
from tabula.engine.games.shogi_game import ShogiState  # noqa: E402
from tabula.engine.search import kernels as k  # noqa: E402
from tabula.engine.search.native import NativeSearch, NativeTree  # noqa: E402
from tabula.engine.search.nncache import NativeEvalCache  # noqa: E402
from tabula.engine.search.params import SearchParams  # noqa: E402

#: a run that takes longer than this is broken (no test relies on it otherwise)
HANG_S = 120.0
STATES = {"chess": ChessState, "shogi": ShogiState, "go9": lambda: GoState.from_moves(9, 7.0, [])}


@pytest.fixture(scope="module")
def nets(tmp_path_factory):
    return build_nets(tmp_path_factory.mktemp("thread_nets"), {"chess", "shogi", "go9"})


@pytest.fixture(scope="module")
def evaluators(nets):
    evs = {name: OnnxEvaluator(path, backend="cpu", threads=1, max_batch=16, callers=4) for name, path in nets.items()}
    yield evs
    for ev in evs.values():
        ev.close()


def _search(ev, game: str, minibatch: int = 8, *, budget: int = 32 << 20, compiled: bool | None = None,
            abort: threading.Event | None = None) -> NativeSearch:
    state = STATES[game]()
    tree = NativeTree.for_game(state.game, ev.codec, budget)
    if compiled is False:
        tree = NativeTree(budget, edge_moves=True)
    return NativeSearch(state, tree, ev, NativeEvalCache(10_000), SearchParams(minibatch=minibatch),
                        compiled=compiled, abort=abort)


def _run_nodes(search: NativeSearch, threads: int, nodes: int) -> None:
    """``go nodes`` on ``threads`` threads, as the controller runs it."""
    search.start_threads(threads, lambda s, in_flight: nodes - s.nodes - in_flight)
    waited = 0.0
    while search.stats().nodes < nodes and not search.stalled and waited < HANG_S:
        search.wait(0.05)
        waited += 0.05
    search.finish(wait=True)


def assert_consistent(tree: NativeTree) -> None:
    """Nothing in flight, no leaf left waiting for the net, and every expanded, unproven
    node's visits are its own evaluation plus its children's visits."""
    t, used = tree.arrays, tree.num_nodes
    assert not np.any(t.vl[:used]), "visits left in flight"
    assert not np.any(t.ecount[:used] == k.PENDING), "a leaf still waits for the network"
    kids = np.zeros(used, np.int64)
    for node in range(used):
        c = t.first_child[node]
        while c >= 0:
            kids[node] += t.n[c]
            c = t.sibling[c]
    open_ = (t.ecount[:used] > 0) & (t.status[:used] == k.UNKNOWN)
    bad = np.nonzero(open_ & (t.n[:used] != 1 + kids))[0]
    assert bad.size == 0, [(int(i), int(t.n[i]), int(kids[i])) for i in bad[:5]]


@pytest.mark.parametrize("threads", [2, 4])
@pytest.mark.parametrize("game,compiled", [("chess", None), ("chess", False), ("shogi", None), ("go9", None)],
                         ids=["chess", "chess-python-leaves", "shogi", "go9"])
def test_go_nodes_gives_exactly_n_playouts_and_leaves_a_consistent_tree(evaluators, game, compiled, threads):
    search = _search(evaluators[game], game, compiled=compiled)
    _run_nodes(search, threads, 300)
    s = search.stats()
    assert s.nodes == 300
    assert search.pending == 0
    assert_consistent(search.tree)
    assert search.best_move() in STATES[game]().legal_moves()


def test_one_thread_checks_pass_on_the_one_thread_search(evaluators):
    """The invariants above hold for the step() search too (so they test the threads, not the tree)."""
    search = _search(evaluators["chess"], "chess")
    while search.stats().nodes < 300:
        s = search.stats()
        search.batch_limit = int(min(8, 300 - s.nodes - search.pending))
        search.remaining_playouts = 300 - s.nodes - search.pending
        search.step()
    search.finish(wait=True)
    assert search.stats().nodes == 300
    assert_consistent(search.tree)


def test_threads_continue_a_reused_tree_to_exactly_n(evaluators):
    ev = evaluators["chess"]
    search = _search(ev, "chess")
    _run_nodes(search, 2, 200)
    tree = search.tree
    again = NativeSearch(ChessState(), tree, ev, search.cache, SearchParams(minibatch=8))
    _run_nodes(again, 3, 450)
    assert again.stats().nodes == 450
    assert_consistent(tree)


def test_abort_drops_every_threads_batch_at_once(evaluators):
    abort = threading.Event()
    search = _search(evaluators["chess"], "chess", abort=abort)
    search.start_threads(4, lambda s, in_flight: float("inf"))
    while search.stats().playouts < 100:
        assert search.wait(HANG_S)
    abort.set()
    search.finish(wait=False)  # drops the leaves in flight without waiting for the network
    assert search.pending == 0
    assert_consistent(search.tree)
    assert search.best_move() in ChessState().legal_moves()
    before = search.stats().playouts
    abort.clear()
    search.start_threads(2, lambda s, in_flight: 400 - s.nodes - in_flight)  # the dropped leaves come again
    while search.stats().nodes < 400:
        search.wait(0.05)
    search.finish(wait=True)
    assert search.stats().nodes == 400 and search.stats().playouts > before
    assert_consistent(search.tree)


def test_a_full_tree_keeps_the_threads_searching_inside_it(evaluators):
    search = _search(evaluators["chess"], "chess", budget=1 << 16)
    _run_nodes(search, 2, 3000)
    assert search.stats().tree_full
    assert_consistent(search.tree)


def test_errors_of_a_search_thread_reach_the_caller(evaluators):
    search = _search(evaluators["chess"], "chess")

    def broken(s, in_flight):
        raise ValueError("boom")

    search.start_threads(2, broken)
    with pytest.raises(ValueError, match="boom"):
        for _ in range(1000):
            search.wait(0.05)
    search.finish(wait=False)
    assert_consistent(search.tree)


def test_the_controllers_wait_ends_when_the_limits_are_reached_not_at_every_batch(evaluators):
    """wait(every_batch=False), as the controller waits: batches do not end it, the limits
    reached with nothing in flight do (at once, not at the timeout), and once only: the next
    wait runs to its timeout."""
    import time
    search = _search(evaluators["chess"], "chess")
    search.start_threads(2, lambda s, in_flight: 300 - s.nodes - in_flight)
    t0 = time.monotonic()
    assert search.wait(HANG_S, every_batch=False)  # playouts were made meanwhile
    assert time.monotonic() - t0 < HANG_S / 4
    assert search.stats().nodes == 300 and search.pending == 0
    t0 = time.monotonic()
    assert not search.wait(0.2, every_batch=False)  # held still, but that was told already
    assert time.monotonic() - t0 >= 0.19
    search.finish(wait=True)
    assert_consistent(search.tree)


def test_the_controllers_wait_is_not_woken_by_batches(evaluators):
    """Over a long search with no limit in reach, wait(every_batch=False) returns only at its
    timeout, while wait() returns at the first batch."""
    import time
    search = _search(evaluators["chess"], "chess")
    search.start_threads(2, lambda s, in_flight: float("inf"))
    try:
        assert search.wait(HANG_S)  # a batch
        before = search.stats().playouts
        t0 = time.monotonic()
        search.wait(0.3, every_batch=False)
        assert time.monotonic() - t0 >= 0.29
        assert search.stats().playouts > before  # the threads searched on meanwhile
    finally:
        search.finish(wait=False)
    assert_consistent(search.tree)


def test_trivial_evaluator_serves_several_threads(nets):
    ev = TrivialEvaluator(nets["chess"], max_batch=16)
    search = _search(ev, "chess", minibatch=16)
    _run_nodes(search, 2, 2000)
    assert search.stats().nodes == 2000
    assert_consistent(search.tree)


def test_intra_op_threads_split_the_network_threads():
    assert intra_op_threads(2, 1) == 2 and intra_op_threads(2, 2) == 1 and intra_op_threads(16, 4) == 13
    assert intra_op_threads(1, 4) == 1


# -- through the controller ------------------------------------------------------------------------
def _engine(game: str, net, threads: int = 2) -> Engine:
    eng = Engine(game)
    eng.set_option("WeightsFile", str(net))
    eng.set_option("Threads", "2")
    eng.set_option("SearchThreads", str(threads))
    eng.set_option("MinibatchSize", "8")
    eng.set_option("SmartPruning", "false")  # `go nodes` to the last playout
    eng.ensure_ready()
    return eng


def _go(eng: Engine, limits: Limits) -> tuple[list, list, threading.Event]:
    done: list = []
    reports: list = []
    finished = threading.Event()

    def on_done(best, ponder):
        done.append(best)
        finished.set()

    eng.go(limits, reports.append, on_done)
    return done, reports, finished


@pytest.mark.parametrize("threads", [2, 4])
def test_the_controller_searches_exactly_the_nodes_asked(nets, threads):
    eng = _engine("chess", nets["chess"], threads)
    eng.set_position(ChessState(), "startpos", [])
    done, reports, finished = _go(eng, Limits(nodes=500))
    assert finished.wait(HANG_S)
    eng.wait()
    assert reports[-1].final and reports[-1].stats.nodes == 500
    assert done[0] in ChessState().legal_moves()
    assert_consistent(eng.tree)


def test_stop_answers_with_a_legal_move_and_leaves_nothing_in_flight(nets):
    eng = _engine("chess", nets["chess"], 2)
    eng.set_position(ChessState(), "startpos", [])
    done, reports, finished = _go(eng, Limits(infinite=True, info_interval=0.05))
    while not reports:  # searching: a progress report came
        finished.wait(0.05)
    eng.stop()
    assert finished.wait(HANG_S)
    eng.wait()
    assert done[0] in ChessState().legal_moves()
    assert_consistent(eng.tree)


def test_search_threads_option_is_shown_by_every_front_end():
    from tabula.protocols.gtp import GTP_PARAMS
    from tabula.protocols.uci import UCI_PARAMS
    from tabula.protocols.usi import USI_PARAMS
    for game, extra in (("chess", UCI_PARAMS), ("shogi", USI_PARAMS), ("go", GTP_PARAMS)):
        p = Engine(game, extra_params=extra).options.param("SearchThreads")
        assert p.kind == "spin" and p.min == 1 and "reference search" in p.help
        # go plays one thread by default (two played worse at a few hundred visits), chess and shogi two
        assert p.default == (1 if game == "go" else default_search_threads())


# -- through the protocols -------------------------------------------------------------------------
def test_a_uci_session_with_two_search_threads_plays_legal_moves(nets):
    from tabula.protocols.common import Writer
    from tabula.protocols.uci import UCI_PARAMS, UciProtocol
    sink = Sink()
    proto = UciProtocol(Engine("chess", extra_params=UCI_PARAMS), Writer(sink))
    try:
        for line in (f"setoption name WeightsFile value {nets['chess']}", "setoption name SearchThreads value 2",
                     "setoption name MinibatchSize value 8", "setoption name SmartPruning value false", "isready"):
            proto.handle(line)
        sink.wait_for("readyok", timeout=HANG_S)
        state, moves = ChessState(), []
        for ply in range(6):
            proto.handle("position startpos" + (" moves " + " ".join(moves) if moves else ""))
            proto.handle("go nodes 120")
            best = sink.wait_for("bestmove", count=ply + 1, timeout=HANG_S)[-1].split()[1]
            move = state.parse_move(best)  # raises on an illegal move
            state.push(move)
            moves.append(best)
        nodes = [ln for ln in sink.lines if ln.startswith("info depth") and " nodes 120 " in ln]
        assert len(nodes) >= 6
    finally:
        proto.shutdown()


def test_a_usi_session_with_two_search_threads_plays_legal_moves(nets):
    from tabula.protocols.common import Writer
    from tabula.protocols.usi import USI_PARAMS, UsiProtocol
    sink = Sink()
    proto = UsiProtocol(Engine("shogi", extra_params=USI_PARAMS), Writer(sink))
    try:
        for line in (f"setoption name WeightsFile value {nets['shogi']}", "setoption name SearchThreads value 2",
                     "isready"):
            proto.handle(line)
        sink.wait_for("readyok", timeout=HANG_S)
        state, moves = ShogiState(), []
        for ply in range(4):
            proto.handle("position startpos" + (" moves " + " ".join(moves) if moves else ""))
            proto.handle("go nodes 100")
            best = sink.wait_for("bestmove", count=ply + 1, timeout=HANG_S)[-1].split()[1]
            state.push(state.parse_move(best))
            moves.append(best)
    finally:
        proto.shutdown()


def test_a_gtp_session_with_two_search_threads_plays_legal_moves(nets):
    from test_gtp import Gtp
    gtp = Gtp(nets["go9"], SearchThreads=2, Visits=60)
    try:
        gtp.ok("boardsize 9")
        gtp.ok("clear_board")
        state = GoState.from_moves(9, 7.5, [])
        for colour in "bwbw":
            move = state.parse_move(gtp.ok(f"genmove {colour}"))
            assert move in state.legal_moves()
            state.push(move)
    finally:
        gtp.close()


# -- the benchmark ---------------------------------------------------------------------------------
def test_bench_runs_the_trivial_backend_on_several_search_threads(nets):
    from tabula.bench.nps import run_bench
    from tabula.bench.nps import search_position
    ev = TrivialEvaluator(nets["chess"], max_batch=16)
    run = search_position(ev, ChessState(), 16, nodes=1500, search_threads=2)
    assert run.playouts == 1500 and run.net_positions == run.playouts and run.cpu > 0
    (r,) = run_bench(nets["chess"], game="chess", backend="trivial", batches=[16], nodes=400, max_positions=2,
                     search_threads=2)
    assert r.search_threads == 2 and r.playouts == 800 and r.search_cpu_us_per_node > 0
