"""lc0's moves-left head in the search (issue 18): M per node, the M utility in PUCT, in both searches.

The utility (lc0's ``MEvaluator::GetMUtility``) of a visited child, with lc0's defaults
(MovesLeftMaxEffect 0.0345, Threshold 0.8, Slope 0.0027, factors 0 / 1.6521 / −0.6521):
``clamp(0.0027·(M_child − M_parent), ±0.0345) · sign(−q) · (1.6521·|q'| − 0.6521·q'²)`` with
``q' = (|q| − 0.8) / 0.2``, only where the parent's |Q| > 0.8.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from tabula.engine.search import kernels as k  # noqa: E402
from tabula.engine.search.mcts import Search, moves_left_utility  # noqa: E402
from tabula.engine.search.native import NativeTree, search_params_array  # noqa: E402
from tabula.engine.search.params import SearchParams  # noqa: E402
from tabula.engine.search.tree import Tree  # noqa: E402

from netfactory import make_lc0_net  # noqa: E402
from search_golden import GOLDEN, SCENARIOS, Scenario, build_nets, compare, native_factory, run_scenario  # noqa: E402

WANT = json.loads(GOLDEN.read_text())
BY_NAME = {sc.name: sc for sc in SCENARIOS}
DEFAULTS = SearchParams()
#: (1.6521·0.5 − 0.6521·0.25): the factor at |q| = 0.9, half way past the threshold
F09 = 1.6521 * 0.5 - 0.6521 * 0.25


# -- the formula ------------------------------------------------------------------------------------
def test_lc0_defaults():
    p = DEFAULTS
    assert (p.moves_left_max_effect, p.moves_left_threshold, p.moves_left_slope, p.moves_left_constant_factor,
            p.moves_left_scaled_factor, p.moves_left_quadratic_factor) == (0.0345, 0.8, 0.0027, 0.0, 1.6521, -0.6521)


@pytest.mark.parametrize("child_m, q, want", [
    (10.0, 0.9, 0.027 * F09),      # winning (q > 0): 10 plies shorter than the parent's 20 is worth +
    (30.0, 0.9, -0.027 * F09),     # winning: 10 plies longer is worth −
    (10.0, -0.9, -0.027 * F09),    # losing: shorter is worth −
    (30.0, -0.9, 0.027 * F09),     # losing: longer is worth +
    (0.0, 0.9, 0.0345 * F09),      # 20 plies shorter: 0.054 clamped at MaxEffect 0.0345
    (60.0, -0.9, 0.0345 * F09),
    (10.0, 0.8, 0.0),              # q' = 0 at the threshold
    (10.0, 1.0, 0.027),            # q' = 1: 1.6521 − 0.6521
])
def test_utility_numbers(child_m, q, want):
    got = moves_left_utility(child_m, 20.0, q, DEFAULTS)
    assert got == pytest.approx(want, abs=1e-12)
    # the kernel computes the same, bit for bit
    assert k.moves_left_utility(child_m, 20.0, q, search_params_array(DEFAULTS)) == got


def test_utility_threshold_outside_0_1_uses_q_itself():
    p = SearchParams(moves_left_threshold=0.0)
    assert moves_left_utility(10.0, 20.0, 0.5, p) == pytest.approx(0.027 * (1.6521 * 0.5 - 0.6521 * 0.25))
    rng = np.random.default_rng(5)
    arr = search_params_array(p)
    for cm, pm, q in rng.uniform([-5, -5, -1], [80, 80, 1], (200, 3)):
        assert k.moves_left_utility(cm, pm, q, arr) == moves_left_utility(cm, pm, q, p)


# -- selection on a hand-built tree, both trees ---------------------------------------------------------
def _qs(child_q) -> list[float]:
    return [child_q] * 3 if isinstance(child_q, float) else list(child_q)


def _python_pick(parent_q: float, child_q, child_ms, params: SearchParams, ml: bool = True) -> int:
    """The reference's choice at a root with 31 visits, Q ``parent_q`` and M 20, whose three
    children (equal priors, 10 visits each) have Q ``child_q`` (root's view; one for all or one
    each) and M ``child_ms``."""
    t = Tree()
    t.expand(t.root, [1, 2, 3], np.full(3, 1 / 3, np.float32))
    t.root_n, t.root_w, t.root_msum = 31, parent_q * 31, 20.0 * 31
    for e, q, m in zip(t.edges(t.root), _qs(child_q), child_ms):
        c = t.new_node(e, t.root)
        t.n[e], t.w[e], t.msum[c] = 10, q * 10, m * 10
    s = Search.__new__(Search)
    s.tree, s.params, s._root_mask, s.root_prune = t, params, None, float("inf")
    s._ml_on = ml and params.moves_left_max_effect > 0
    return s._select(t.root, True) - int(t.first[t.root])


def _native_pick(parent_q: float, child_q, child_ms, params: SearchParams, ml: bool = True) -> int:
    """The kernel's choice on the same tree (node statistics from the mover's view)."""
    t = k.new_tree_arrays(16, 1024, edge_moves=True, scored=False, moves_left=ml)
    root = int(t.meta[k.M_ROOT])
    k.expand(t, root, np.full(3, 1 / 3, np.float32), np.array([1, 2, 3], np.int32))
    t.n[root], t.w[root] = 31, -parent_q * 31
    if ml:
        t.msum[root] = 20.0 * 31
    for i, (q, m) in enumerate(zip(_qs(child_q), child_ms)):
        c = k.new_node(t, root, i, i + 1)
        t.n[c], t.w[c] = 10, q * 10
        if ml:
            t.msum[c] = m * 10
    return int(k.select(t, root, np.zeros(0, np.uint8), k.new_scratch(), search_params_array(params)))


@pytest.mark.parametrize("pick", [_python_pick, _native_pick], ids=["reference", "native"])
def test_winning_parent_prefers_the_shorter_child_losing_the_longer(pick):
    ms = (30.0, 10.0, 20.0)
    assert pick(0.9, 0.9, ms, DEFAULTS) == 1       # winning: 10 plies
    assert pick(-0.9, -0.9, ms, DEFAULTS) == 0     # losing: 30 plies
    # below the threshold, or with MaxEffect 0, or without the head: Q and U alone (a tie: the first)
    assert pick(0.5, 0.9, ms, DEFAULTS) == 0
    assert pick(0.9, 0.9, ms, SearchParams(moves_left_max_effect=0.0)) == 0
    assert pick(0.9, 0.9, ms, DEFAULTS, ml=False) == 0


@pytest.mark.parametrize("pick", [_python_pick, _native_pick], ids=["reference", "native"])
def test_the_clamp_limits_how_much_shorter_helps(pick):
    # child 1, 120 plies shorter than the parent, gains 0.0345·F09 ≈ 0.0229 at most (0.21 unclamped):
    # child 0, as long as the parent but 0.03 better in Q, keeps its lead
    qs, ms = (0.93, 0.9, 0.9), (20.0, -100.0, 20.0)
    assert pick(0.9, qs, ms, DEFAULTS) == 0
    assert pick(0.9, qs, ms, SearchParams(moves_left_max_effect=0.5)) == 1


# -- whole searches ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def nets(tmp_path_factory):
    d = tmp_path_factory.mktemp("mlh_nets")
    out = build_nets(d, {"chess", "chess-mlh"})
    # the MLH net's policy and WDL without the head
    out["chess-nohead"] = make_lc0_net(d / "nohead.onnx", scale=0.02, seed=1, wdl_bias=(3.0, 0.0, -3.0),
                                       metadata={"tabula.game": "chess", "tabula.codec": "lc0-112",
                                                 "tabula.value": "wdl"})
    return out


@pytest.mark.parametrize("compiled", [None, False], ids=["compiled-leaves", "python-leaves"])
def test_native_search_reproduces_the_mlh_golden_search(nets, compiled):
    sc = BY_NAME["chess-mlh-b8"]
    errs = compare(run_scenario(sc, nets[sc.net], native_factory(compiled)), WANT[sc.name])
    assert not errs, "\n".join(errs)


def test_the_reference_reproduces_the_mlh_golden_search(nets):
    sc = BY_NAME["chess-mlh-b8"]
    errs = compare(run_scenario(sc, nets[sc.net]), WANT[sc.name])
    assert not errs, "\n".join(errs)


def test_the_utility_changes_the_search(nets):
    sc = BY_NAME["chess-mlh-b8"]
    off = Scenario("off", sc.game, sc.net, sc.position, sc.nodes, sc.batch,
                   params={**sc.params, "moves_left_max_effect": 0.0})
    assert compare(run_scenario(off, nets[sc.net]), WANT[sc.name])


@pytest.mark.parametrize("factory", ["reference", "compiled-leaves", "python-leaves"])
def test_max_effect_0_is_exactly_the_search_without_the_head(nets, factory):
    make = {"reference": None, "compiled-leaves": native_factory(None), "python-leaves": native_factory(False)}[factory]
    sc = Scenario("x", "chess", "", "startpos moves e2e4 e7e5", 200, 8,
                  params={"moves_left_max_effect": 0.0, "moves_left_threshold": 0.0})
    args = () if make is None else (make,)
    with_head = run_scenario(sc, nets["chess-mlh"], *args)
    without = run_scenario(sc, nets["chess-nohead"], *args)
    assert with_head == without


@pytest.mark.parametrize("compiled", ["reference", None, False])
def test_a_net_without_the_head_ignores_the_options(nets, compiled):
    sc = BY_NAME["chess-italian-b16"]
    odd = Scenario(sc.name, sc.game, sc.net, sc.position, sc.nodes, sc.batch,
                   params={"moves_left_max_effect": 1.0, "moves_left_threshold": 0.0, "moves_left_slope": 1.0,
                           "moves_left_constant_factor": 1.0})
    args = () if compiled == "reference" else (native_factory(compiled),)
    got = run_scenario(odd, nets["chess"], *args)
    assert not compare(got, WANT[sc.name])


def test_trees_keep_moves_left_sums_only_for_nets_with_the_head(nets):
    from tabula.engine.evaluator import OnnxEvaluator
    for name, has in (("chess", False), ("chess-mlh", True)):
        ev = OnnxEvaluator(nets[name], backend="cpu", threads=1, max_batch=1)
        try:
            assert ev.codec.has_moves_left is has
            tree = NativeTree.for_game("chess", ev.codec, 1 << 20)
        finally:
            ev.close()
        assert tree.moves_left is has
        assert tree.node_bytes == k.NODE_BYTES + (k.MOVES_LEFT_BYTES if has else 0)
        assert tree.arrays.msum.size == (tree.capacity[0] if has else 1)


def test_uci_lists_the_options_with_lc0_defaults():
    from tabula.engine.controller import Engine
    from tabula.protocols.uci import UCI_PARAMS
    opts = Engine("chess", extra_params=UCI_PARAMS).options
    got = SearchParams.from_options(opts)
    assert got.moves_left_max_effect == 0.0345 and got.moves_left_quadratic_factor == -0.6521
    for name, v in (("MovesLeftMaxEffect", 0.0345), ("MovesLeftThreshold", 0.8), ("MovesLeftSlope", 0.0027),
                    ("MovesLeftConstantFactor", 0.0), ("MovesLeftScaledFactor", 1.6521),
                    ("MovesLeftQuadraticFactor", -0.6521)):
        assert opts.get(name) == v


# -- reporting -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("compiled", [None, False], ids=["compiled-leaves", "python-leaves"])
def test_lines_report_the_same_m_in_both_searches(nets, compiled):
    from search_golden import reference_factory
    got = {}

    def capture(factory, tag):
        def make(*a, **kw):
            search, tree, cache = factory(*a, **kw)
            got[tag] = search
            return search, tree, cache
        return make

    sc = Scenario("m", "chess", "chess-mlh", "startpos moves e2e4 e7e5", 120, 4)
    run_scenario(sc, nets["chess-mlh"], capture(reference_factory, "ref"))
    run_scenario(sc, nets["chess-mlh"], capture(native_factory(compiled), "nat"))
    ref, nat = got["ref"].lines(3), got["nat"].lines(3)
    assert [(ln.move, ln.m) for ln in ref] == [(ln.move, ln.m) for ln in nat]
    assert all(ln.m is not None and ln.m > 0 for ln in ref)


def test_uci_movesleft_for_nets_with_the_head(nets):
    from linesink import Sink

    from tabula.engine.controller import Engine
    from tabula.protocols.common import Writer
    from tabula.protocols.uci import UCI_PARAMS, UciProtocol
    for name, shown in (("chess-mlh", True), ("chess", False)):
        sink = Sink()
        proto = UciProtocol(Engine("chess", extra_params=UCI_PARAMS), Writer(sink))
        try:
            proto.handle(f"setoption name WeightsFile value {nets[name]}")
            proto.handle("setoption name UCI_ShowWDL value true")
            proto.handle("setoption name UCI_ShowMovesLeft value true")
            proto.handle("isready")
            proto.handle("position startpos")
            proto.handle("go nodes 30")
            sink.wait_for("bestmove", timeout=60)
            info = [ln for ln in sink.lines if ln.startswith("info depth")][-1]
            assert (" movesleft " in info) is shown, info
            if shown:  # lc0's order: score, wdl, movesleft, hashfull
                words = info.split()
                i = words.index("movesleft")
                assert words[i - 4] == "wdl" and words[i + 2] == "hashfull" and int(words[i + 1]) > 0
        finally:
            proto.shutdown()
