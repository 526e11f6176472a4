"""The compiled search (engine/search/native.py) against the Python reference, its tree and cache."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest

pytest.importorskip("onnx")

from search_golden import GOLDEN, SCENARIOS, build_nets, compare, drive, native_factory, run_scenario  # noqa: E402

from tabula.engine.evaluator import EvalCache, OnnxEvaluator  # noqa: E402
from tabula.engine.games.chess_game import ChessState  # noqa: E402
from tabula.engine.search import kernels as k  # noqa: E402
from tabula.engine.search.native import NativeSearch, NativeTree  # noqa: E402
from tabula.engine.search.nncache import NativeEvalCache  # noqa: E402
from tabula.engine.search.params import SearchParams  # noqa: E402

WANT = json.loads(GOLDEN.read_text())
BY_NAME = {sc.name: sc for sc in SCENARIOS}
#: one or two per game and feature in the quick suite; every scenario in the slow one
QUICK = ("chess-start-b1", "chess-italian-b16", "chess-mate1-b4", "chess-twofold-b8", "chess-searchmoves-b1",
         "chess-reuse-b8", "shogi-mate3-b4", "go9-b8", "go9-passes-b4", "katago9-b8")


@pytest.fixture(scope="module")
def golden_nets(tmp_path_factory):
    return build_nets(tmp_path_factory.mktemp("golden_nets"))


@pytest.mark.parametrize("name", QUICK)
def test_native_search_reproduces_the_golden_searches(golden_nets, name):
    sc = BY_NAME[name]
    errs = compare(run_scenario(sc, golden_nets[sc.net], native_factory()), WANT[name])
    assert not errs, "\n".join(errs)


@pytest.mark.slow
@pytest.mark.parametrize("compiled", [None, False], ids=["auto", "python-leaves"])
@pytest.mark.parametrize("sc", SCENARIOS, ids=lambda sc: sc.name)
def test_native_search_reproduces_every_golden_search(golden_nets, sc, compiled):
    if compiled is False and sc.game != "chess":
        pytest.skip("only chess has two leaf paths")
    errs = compare(run_scenario(sc, golden_nets[sc.net], native_factory(compiled)), WANT[sc.name])
    assert not errs, "\n".join(errs)


# -- the tree --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def chess_ev(golden_nets):
    ev = OnnxEvaluator(golden_nets["chess"], backend="cpu", threads=1, max_batch=16)
    yield ev
    ev.close()


def test_chess_nodes_cost_under_200_bytes(chess_ev):
    tree = NativeTree.for_game("chess", chess_ev.codec, 64 << 20)
    state = ChessState()
    for m in ("e2e4", "e7e5", "g1f3", "b8c6", "f1c4", "f8c5"):
        state.push(state.parse_move(m))
    search = NativeSearch(state, tree, chess_ev, NativeEvalCache(10_000), SearchParams(minibatch=16))
    drive(search, 1500, 16)
    per_node = tree.bytes_used() / tree.expanded_nodes()
    assert tree.edge_bytes == k.EDGE_BYTES == 2 and tree.node_bytes == k.NODE_BYTES <= 48
    assert per_node <= 200, per_node
    assert not np.any(tree.arrays.vl[:tree.num_nodes])  # nothing left in flight


def test_tree_arrays_are_zero_pages_of_their_own():
    """Big tree arrays are anonymous mappings (kernels.fresh_zeros), not malloc blocks that
    calloc must clear: zero even after a dropped tree wrote its memory, writable, the dtype
    asked; small ones stay plain numpy arrays."""
    import mmap

    def mapped(a: np.ndarray) -> bool:
        return isinstance(getattr(a.base, "obj", a.base), mmap.mmap)

    for count, dtype in ((10, np.int32), (k.FRESH_PAGES_BYTES, np.uint16), (300_000, np.float64)):
        a = k.fresh_zeros(count, dtype)
        assert a.shape == (count,) and a.dtype == dtype and a.flags.writeable and not a.any()
        assert mapped(a) == (a.nbytes >= k.FRESH_PAGES_BYTES)
    old = NativeTree(64 << 20, edge_moves=False)
    for arr in old.arrays:
        arr[...] = 7
    del old, arr
    tree = NativeTree(64 << 20, edge_moves=False)
    assert tree.num_nodes == 1 and all(not arr[1:].any() for arr in tree.arrays[:12])
    assert sum(mapped(arr) for arr in tree.arrays) >= 12


def test_a_full_tree_keeps_searching_inside_itself(chess_ev):
    tree = NativeTree(1 << 16, edge_moves=False, branching=36)  # a few hundred nodes
    nodes, edges = tree.capacity
    state = ChessState("r1bqkbnr/pppp1ppp/2n5/4p3/4P3/5N2/PPPP1PPP/RNBQKB1R w KQkq - 2 3")
    search = NativeSearch(state.copy(), tree, chess_ev, NativeEvalCache(1000), SearchParams(minibatch=16))
    for _ in range(400):
        search.step()
    search.finish(wait=True)
    s = search.stats()
    assert s.tree_full and tree.full
    assert tree.num_nodes <= nodes and tree.num_edges <= edges and tree.bytes_used() <= tree.budget
    assert s.collisions > 0
    before, collided = s.playouts, s.collisions
    for _ in range(20):  # still steps: descents end as collisions, nothing grows
        search.step()
    search.finish(wait=True)
    assert search.stats().playouts >= before and search.stats().collisions > collided
    assert tree.num_nodes <= nodes and tree.num_edges <= edges
    assert search.best_move() in state.legal_moves()
    assert not np.any(tree.arrays.vl[:tree.num_nodes])


def test_abort_drops_both_batches_and_their_visits(chess_ev):
    import threading
    abort = threading.Event()
    tree = NativeTree.for_game("chess", chess_ev.codec, 16 << 20)
    search = NativeSearch(ChessState(), tree, chess_ev, NativeEvalCache(0), SearchParams(minibatch=8), abort=abort)
    for _ in range(5):
        search.step()
    assert search.pending > 0
    abort.set()
    search.step()
    assert search.pending == 0
    t = tree.arrays
    assert not np.any(t.vl[:tree.num_nodes])
    assert not np.any(t.ecount[:tree.num_nodes] == k.PENDING)
    abort.clear()
    drive(search, 200, 8)  # the dropped leaves are evaluated again later
    assert search.stats().nodes >= 200


def test_reroot_keeps_the_subtree_as_tree_reroot(chess_ev):
    state = ChessState()
    tree = NativeTree.for_game("chess", chess_ev.codec, 16 << 20)
    search = NativeSearch(state.copy(), tree, chess_ev, NativeEvalCache(1000), SearchParams(minibatch=8))
    drive(search, 300, 8)
    line = search.lines(1)[0]
    first = line.pv[0]
    assert tree.reroot([]) and tree.reroot([first])
    assert tree.arrays.n[tree.root] == line.visits
    assert not tree.reroot([first, 0])  # the null move is no child


# -- the cache -------------------------------------------------------------------------------------
def test_native_cache_behaves_as_eval_cache():
    rng = random.Random(0)
    for _ in range(150):
        cap = rng.randint(0, 20)
        hint = rng.choice([3, 10, 100])
        ref, nat = EvalCache(cap), NativeEvalCache(cap, moves_hint=hint)
        roomy = cap * hint >= (cap + 1) * 10  # no eviction for lack of prior room
        keys = [rng.getrandbits(64) for _ in range(30)]
        sizes = {key: rng.randint(1, 10) for key in keys}
        for op in range(300):
            key = rng.choice(keys)
            if rng.random() < 0.5:
                p = np.random.default_rng(op).random(sizes[key]).astype(np.float32)
                q, s = rng.random(), rng.choice([None, rng.random()])
                ref.put(key, p, q, 0.5, s)
                nat.put(key, p, q, 0.5, s)
                continue
            a, b = ref.get(key), nat.get(key)
            if roomy:
                assert (a is None) == (b is None)
                assert len(ref) == len(nat)
            if a is not None and b is not None:
                assert np.array_equal(a[0], b[0]) and a[1:] == b[1:]
            elif b is not None:
                assert len(b[0]) == sizes[key]
        nat.clear()
        assert len(nat) == 0 and nat.get(keys[0]) is None


# -- the controller ----------------------------------------------------------------------------------
def test_engine_says_once_that_the_tree_is_full_and_searches_on(golden_nets, monkeypatch):
    from tabula.engine.controller import Engine, Limits
    from tabula.engine.search import native
    from tabula.protocols.uci import UCI_PARAMS
    monkeypatch.setattr(native.NativeTree, "for_game",
                        classmethod(lambda cls, game, codec, budget: cls(1 << 16, edge_moves=False)))
    engine = Engine("chess", extra_params=UCI_PARAMS)
    engine.set_option("WeightsFile", str(golden_nets["chess"]))
    engine.ensure_ready()
    try:
        engine.set_position(ChessState(), "startpos", [])
        reports, done = [], []
        engine.go(Limits(movetime_ms=1500, info_interval=0.05), reports.append, lambda b, p: done.append(b))
        engine.wait()
        assert engine.last_error is None and done and done[0] in ChessState().legal_moves()
        notices = [r.notice for r in reports if r.notice]
        assert len(notices) == 1 and "tree full" in notices[0]
        assert reports[-1].final and reports[-1].stats.tree_full
        # a full tree is no reason to stop: it ends when its descents only collide (nothing left to add)
        assert reports[-1].stats.collisions > 0 and engine.tree.num_nodes <= engine.tree.capacity[0]
    finally:
        engine.evaluator.close()


@pytest.mark.parametrize("name", ["chess-searchmoves-b1", "chess-start-b8"])
def test_stats_match_the_reference(golden_nets, name):
    """What stoppers read (root visits, the two largest root moves' visits, depth) as the reference."""
    from search_golden import reference_factory
    sc = BY_NAME[name]
    seen = {}

    def capture(factory, tag):
        def make(*args, **kwargs):
            search, tree, cache = factory(*args, **kwargs)
            seen[tag] = search
            return search, tree, cache
        return make

    run_scenario(sc, golden_nets[sc.net], capture(reference_factory, "ref"))
    run_scenario(sc, golden_nets[sc.net], capture(native_factory(), "nat"))
    a, b = seen["ref"].stats(), seen["nat"].stats()
    assert (a.nodes, a.playouts, a.top_visits, a.depth_sum, a.seldepth, a.collisions) == \
        (b.nodes, b.playouts, b.top_visits, b.depth_sum, b.seldepth, b.collisions)
    assert [(ln.move, ln.visits, ln.pv) for ln in seen["ref"].lines(3)] == \
        [(ln.move, ln.visits, ln.pv) for ln in seen["nat"].lines(3)]


def test_batch_priors_are_softmax_priors_bit_for_bit():
    """The compiled completion (exponents, numpy's exp, pairwise sum) gives softmax_priors' floats."""
    from tabula.engine.codecs.base import softmax_priors
    rng = np.random.default_rng(7)
    rows, width = 12, k.MAX_EDGES
    policy = (rng.standard_normal((rows, 2000)) * rng.choice([0.01, 1.0, 6.0], size=(rows, 1))).astype(np.float32)
    counts = np.array([1, 2, 7, 8, 9, 35, 127, 128, 129, 300, 593, 1024], np.int32)
    idx = np.zeros((rows, width), np.int64)
    for r, n in enumerate(counts):
        idx[r, :n] = rng.choice(2000, size=n, replace=False)
    z, e, offs = np.zeros(rows * width, np.float32), np.zeros(rows * width, np.float32), np.zeros(rows + 1, np.int64)
    for temp in (1.0, 1.359, 0.7):
        total = k.softmax_logits(policy, idx, counts, rows, np.float32(1.0 / temp), z, offs)
        np.exp(z[:total], out=e[:total])
        for r, n in enumerate(counts):
            o = offs[r]
            got = (e[o:o + n] / k.pairwise_sum(e, o, n)).astype(np.float32)
            assert np.array_equal(got, softmax_priors(policy[r, idx[r, :n]], temp)), (temp, n)
            assert k.pairwise_sum(e, o, n) == e[o:o + n].sum()


def test_warm_up_compiles_every_leaf_path_kernel_a_search_calls(golden_nets):
    """After warm_up, the shogi search (the Python leaf path) and the KataGo search compile no
    leaf-path kernel again. A KataGo net searches with compiled leaves (its own compile set,
    "katago"); it takes the leaf path only while that set compiles apart, or under rules the
    compiled features do not serve."""
    from tabula.engine.search import leafpath as lp
    from tabula.engine.search.native import warm_up
    warm_up(False)
    kernels = [getattr(lp, f) for f in ("descend", "collide", "release", "back_up", "end", "from_cache", "queue",
                                        "cache_or_queue")]
    before = [len(f.signatures) for f in kernels]
    for name in ("shogi-mate3-b4", "katago9-b8"):
        sc = BY_NAME[name]
        run_scenario(sc, golden_nets[sc.net], native_factory())
    assert [len(f.signatures) for f in kernels] == before == [1] * len(kernels)


def test_shogi_leaves_carry_the_codecs_policy_indices(golden_nets):
    """The shogi leaf path looks each move's policy index up in the kernel that queues the leaf
    (leafpath.cache_or_queue, the codec's move_labels): every queued row holds exactly what
    the codec's policy_indices gives for the leaf's position and legal moves."""
    from tabula.engine.games.shogi_game import ShogiState
    ev = OnnxEvaluator(golden_nets["shogi"], backend="cpu", threads=1, max_batch=16)
    try:
        search = NativeSearch(ShogiState(), NativeTree.for_game("shogi", ev.codec, 1 << 22), ev,
                              NativeEvalCache(0), SearchParams(minibatch=16))
        assert search._labels is not None
        for _ in range(6):
            search.step()
        lane = search.new_lane()
        with search.lock:
            search.batch_limit = 16
            search.remaining_playouts = float("inf")
            rows = search.gather(lane)
        assert rows >= 8
        lb, t = lane.leaves, search.tree.arrays
        for r in range(rows):
            leaf = ShogiState()
            for j in range(int(lb.depth[r])):
                leaf.push(int(t.move[lb.path[r, j]]))
            moves = leaf.legal_moves()
            assert int(lb.count[r]) == len(moves)
            assert np.array_equal(lb.idx[r, :len(moves)], ev.codec.policy_indices(leaf, moves)), r
        with search.lock:
            search.drop(lane, rows)
    finally:
        ev.close()
