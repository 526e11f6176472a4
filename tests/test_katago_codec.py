"""The katago-v7 codec end to end: imported nets through the codec, the search and GTP.

A tiny random KataGo-format model (the writer in ``test_katago_import``) stands in
for a real net everywhere; the real g170 test net is used when present.
"""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("onnx")

from tabula.engine.codecs import codec_for  # noqa: E402
from tabula.engine.codecs.katago import KataGoCodec  # noqa: E402
from tabula.engine.codecs.katago_features import KataRules  # noqa: E402
from tabula.engine.controller import Engine, Limits  # noqa: E402
from tabula.engine.evaluator import EvalCache, OnnxEvaluator, read_signature  # noqa: E402
from tabula.engine.games.go import GoState, parse_vertex, vertex  # noqa: E402
from tabula.engine.search.mcts import Search  # noqa: E402
from tabula.engine.search.params import SearchParams  # noqa: E402
from tabula.engine.search.tree import Tree  # noqa: E402
from tabula.nets.katago_import import import_katago  # noqa: E402
from tabula.protocols.gtp import GTP_PARAMS  # noqa: E402
from tests.test_gtp import Gtp, run_analysis, sabaki_parse  # noqa: E402
from tests.test_katago_import import DATA, REAL_NET, katago_features, random_model, serialize  # noqa: E402


@pytest.fixture(scope="module")
def tiny_net(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("katago_codec")
    src = d / "tiny.bin.gz"
    src.write_bytes(gzip.compress(serialize(random_model(seed=3))))
    return import_katago(src, d / "tiny.onnx").output


@pytest.fixture
def ev(tiny_net):
    e = OnnxEvaluator(tiny_net, backend="cpu", threads=1, max_batch=16)
    yield e
    e.close()


def test_detected_from_metadata_and_from_signature(tiny_net) -> None:
    sig = read_signature(tiny_net)
    assert isinstance(codec_for(sig, "go"), KataGoCodec)
    bare = type(sig)(sig.path, sig.inputs, sig.outputs, {})  # an export without our metadata
    assert isinstance(codec_for(bare, "go"), KataGoCodec)
    with pytest.raises(ValueError, match="not a go one|network, not a"):
        codec_for(sig, "chess")


def test_policy_index_is_katago_orientation(ev) -> None:
    codec = ev.codec
    codec.set_board_size(9)
    s = GoState(9, 7.5)
    a1, j9, e5 = (parse_vertex(v, 9) for v in ("A1", "J9", "E5"))
    idx = codec.policy_indices(s, [a1, j9, e5, s.PASS])
    # KataGo: y = 0 is the top row (GTP row 9), pos = y·9 + x, pass = 81
    assert idx.tolist() == [8 * 9 + 0, 0 * 9 + 8, 4 * 9 + 4, 81]


def test_board_size_follows_the_game(ev) -> None:
    codec = ev.codec
    for n in (9, 13, 19, 7):
        codec.set_board_size(n)
        batch = ev.new_batch(2)
        s = GoState.from_moves(n, 7.5, ["C3", "D4"])
        codec.encode(s, batch.inputs, 0)
        out = ev.run(batch, 1)
        assert out[codec.policy_output].shape == (1, n * n + 1)
        assert codec.decode_ownership(out, 1).shape == (1, n * n)
    with pytest.raises(ValueError, match="up to 19x19"):
        codec.set_board_size(21)
    codec.set_board_size(9)
    with pytest.raises(ValueError, match="9x9"):
        codec.encode(GoState(13, 7.5), ev.new_batch(1).inputs, 0)


def test_features_agree_with_the_hand_built_inputs_of_katagos_rawnn_cases(ev) -> None:
    """Our encoder and the importer test's hand-built inputs (which, fed to the real net,
    reproduce KataGo's own kata-raw-nn outputs) agree exactly on the square cases."""
    cases = [c for c in json.loads((DATA / "katago_rawnn_g170.json").read_text())["cases"]
             if c["x_size"] == c["y_size"]]
    assert cases
    for case in cases:
        n = case["x_size"]
        codec = KataGoCodec(ev.signature, rules=KataRules.from_name(case["rules"]))
        codec.set_board_size(n)
        state = GoState(n, case["komi"])
        for colour, coord in case["moves"]:
            state.play_color(colour, parse_vertex(coord, n))
        batch = {"input_spatial": np.zeros((1, 22, n, n), np.float32), "input_global": np.zeros((1, 19), np.float32)}
        codec.encode(state, batch, 0)
        spatial, glob, _, _ = katago_features(case)
        np.testing.assert_array_equal(batch["input_spatial"][0], spatial)
        np.testing.assert_array_equal(batch["input_global"][0], glob)


def test_value_score_and_ownership_decoding(ev) -> None:
    codec = ev.codec
    out = {codec._value: np.array([[2.0, 0.0, 5.0], [0.0, 0.0, -3.0]], np.float32),
           codec._score: np.array([[0.0, 0.0, 0.25, 0.0], [0.0, 0.0, -1.0, 0.0]], np.float32),
           codec._own: np.zeros((2, 9, 9), np.float32)}
    codec.set_board_size(9)
    out[codec._own][0, 0, 0] = 10.0  # KataGo's top-left corner = A9 = our code 8·9 + 0
    q, d = codec.decode_value(out, 2)
    p_win = np.exp(2) / (np.exp(2) + 1)  # noResult does not count under superko + area scoring
    np.testing.assert_allclose(q, [2 * p_win - 1, 0.0], atol=1e-12)
    assert d.tolist() == [0.0, 0.0]
    np.testing.assert_allclose(codec.decode_score(out, 2), [5.0, -20.0])
    own = codec.decode_ownership(out, 2)
    assert own[0, 72] == pytest.approx(np.tanh(10.0)) and np.count_nonzero(own[0]) == 1


def test_search_averages_score_and_ownership(ev) -> None:
    ev.codec.set_board_size(9)
    state = GoState.from_moves(9, 7.5, ["E5", "C3"])
    search = Search(state, Tree(), ev, EvalCache(0), SearchParams(minibatch=8))
    for _ in range(12):
        search.step()
    search.finish(wait=True)
    root = search.root_score()
    assert root is not None and np.isfinite(root)
    lines = search.lines(3)
    assert all(ln.score is not None and np.isfinite(ln.score) for ln in lines)
    own = search.ownership()
    assert own is not None and own.shape == (81,) and np.all(np.abs(own) <= 1.0)
    # every backup through a child also reaches the root, which has its own evaluation besides;
    # children's sums are from the mover's view, which is the root's side to move
    t = search.tree
    kids = [int(t.child[i]) for i in t.edges(t.root) if t.child[i] >= 0]
    assert t.root_sn == sum(int(t.sn[c]) for c in kids) + 1 == t.root_n
    own_eval = t.root_ssum - sum(float(t.ssum[c]) for c in kids)
    batch = ev.new_batch(1)
    ev.codec.encode(state, batch.inputs, 0)
    assert own_eval == pytest.approx(float(ev.codec.decode_score(ev.run(batch, 1), 1)[0]), abs=1e-4)


def test_gtp_with_an_imported_net(tiny_net) -> None:
    g = Gtp(tiny_net, Visits=16)
    try:
        assert g.ok("boardsize 13") == ""  # one KataGo net plays every size
        assert g.fail("boardsize 21").startswith("unacceptable size")
        g.ok("komi 6.5")
        move = g.ok("genmove b")
        assert move == "pass" or move in {vertex(m, 13) for m in GoState(13).legal_moves()}
        infos = run_analysis(g, "kata-analyze w 10 ownership true rootInfo true", 1.2)
        assert infos
        for ln in infos:
            head, _, own = ln.partition(" ownership ")
            values = [float(x) for x in own.split()]
            assert len(values) == 169 and all(-1.0 <= v <= 1.0 for v in values)
            head, _, root = head.partition(" rootInfo ")
            assert re.match(r"visits \d+ winrate [0-9.]+ scoreMean -?[0-9.]+ scoreLead -?[0-9.]+$", root), root
            for d in sabaki_parse(head, "kata-analyze"):
                assert float(d["scoreLead"]) == float(d["scoreMean"])
        assert "true or false" in g.fail("kata-analyze w 10 ownership maybe")
        assert g.ok("name")  # still answering
        assert re.fullmatch(r"0|[BW]\+\d+(\.\d+)?", g.ok("final_score"))
        board = g.ok("tabula-ownership").splitlines()
        assert len(board) == 13 and all(len(r.split()) == 13 for r in board)
        g.ok("boardsize 9")  # scoring right after a size change uses the net at the new size
        g.ok("play b E5")
        assert len(g.ok("tabula-ownership").splitlines()) == 9 and g.engine.evaluator.codec.board_size == 9
    finally:
        g.close()


@pytest.mark.skipif(not REAL_NET.is_file(), reason=f"KataGo test net not found at {REAL_NET} "
                    "(set TABULA_KATAGO_NET to g170-b6c96-s175395328-d26788732.bin.gz)")
def test_real_net_plays_and_analyses(tmp_path) -> None:
    net = import_katago(REAL_NET, tmp_path / "g170.onnx").output
    eng = Engine("go", extra_params=GTP_PARAMS)
    eng.set_option("WeightsFile", str(net))
    eng.set_option("Threads", "1")
    eng.ensure_ready()
    ev = eng.evaluator
    assert isinstance(ev.codec, KataGoCodec)
    chinese = KataGoCodec(ev.signature, KataRules.from_name("chinese"))  # the rules of the figures below
    s = GoState(19, 7.5)
    batch = ev.new_batch(1)
    chinese.encode(s, batch.inputs, 0)
    out = ev.run(batch, 1)
    # the format doc's empty-board figures (KataGo's, Chinese rules): White wins 52.45 %, White's lead −0.18
    q, _ = chinese.decode_value(out, 1)
    assert (1 - q[0]) / 2 == pytest.approx(0.5245, abs=5e-4)
    assert -chinese.decode_score(out, 1)[0] == pytest.approx(-0.18, abs=0.01)
    # a short search opens on a 3-4 or 4-4 point
    g = Gtp(net, Visits=64)
    try:
        g.ok("boardsize 19")
        move = g.ok("genmove b")
        col, row = "ABCDEFGHJKLMNOPQRST".index(move[0]), int(move[1:])
        assert min(col + 1, 19 - col) in (3, 4) and min(row, 20 - row) in (3, 4), move
    finally:
        g.close()
