"""nets.model + nets.export: ONNX matches PyTorch, with the right names, metadata and batch axis."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from tabula.nets.export import SIGNATURES, export_onnx  # noqa: E402
from tabula.nets.model import NetConfig, PolicyValueNet, count_params, lc0_conv_gather, lc0_moves  # noqa: E402

#: an export takes a second or two: the quick run checks an SE trunk and a convolution head (lc0) and a
#: plain one (go); the slow run adds the dense policy head and dlshogi's two inputs
SLOW = pytest.mark.slow
CONFIGS = [
    NetConfig(codec="lc0-112", blocks=2, filters=16, se=True),
    pytest.param(NetConfig(codec="lc0-112", blocks=1, filters=8, se=False, policy_head="dense", policy_channels=4),
                 marks=SLOW),
    pytest.param(NetConfig(codec="dlshogi", blocks=2, filters=16, se=True), marks=SLOW),
    NetConfig(codec="go", blocks=2, filters=16, se=False, in_channels=18, board_size=9),
]


def _session(path) -> "ort.InferenceSession":
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])


@pytest.mark.parametrize("cfg", CONFIGS, ids=lambda c: f"{c.codec}-{c.arch}-{c.policy_head}")
def test_onnx_matches_torch(cfg: NetConfig, tmp_path) -> None:
    torch.manual_seed(0)
    model = PolicyValueNet(cfg)
    # non-trivial BN statistics so the export's folding is exercised
    model.train()
    with torch.no_grad():
        for _ in range(3):
            model(*model.example_inputs(batch=8))
    model.eval()
    path = export_onnx(model, tmp_path / "net.onnx", provenance="test")
    game, in_names, pol, val, kind = SIGNATURES[cfg.codec]
    sess = _session(path)
    assert [i.name for i in sess.get_inputs()] == list(in_names)
    assert [o.name for o in sess.get_outputs()] == [pol, val]
    for t in (*sess.get_inputs(), *sess.get_outputs()):
        assert isinstance(t.shape[0], str), f"{t.name} batch axis is not dynamic: {t.shape}"
    meta = sess.get_modelmeta().custom_metadata_map
    assert meta["tabula.game"] == game
    assert meta["tabula.codec"] == cfg.codec
    assert meta["tabula.value"] == kind
    assert meta["tabula.arch"] == cfg.arch
    assert meta["tabula.provenance"] == "test"
    if cfg.codec == "go":
        assert meta["tabula.board_size"] == "9"
    for batch in (1, 5):
        inputs = model.example_inputs(batch=batch)
        with torch.no_grad():
            p, v = model(*inputs)
        v = {"wdl": torch.softmax(v, 1), "winprob": torch.sigmoid(v), "tanh": torch.tanh(v)}[kind]
        out = sess.run(None, {n: x.numpy() for n, x in zip(in_names, inputs)})
        assert out[0].shape == (batch, cfg.policy_size)
        assert out[1].shape == (batch, 3 if kind == "wdl" else 1)
        np.testing.assert_allclose(out[0], p.numpy(), atol=1e-4, rtol=1e-4)
        np.testing.assert_allclose(out[1], v.numpy(), atol=1e-4, rtol=1e-4)
    assert count_params(model) > 0


def test_lc0_move_list_fixed_points() -> None:
    moves = lc0_moves()
    sq = lambda s: "abcdefgh".index(s[0]) + 8 * (int(s[1]) - 1)  # noqa: E731
    idx = {(f, t, p): i for i, (f, t, p) in enumerate(moves)}
    # block starts and fixed points from shared/formats/lc0.md §2
    starts = {}
    for i, (f, _, _) in enumerate(moves):
        starts.setdefault(f, i)
    assert [starts[sq(s)] for s in ("a1", "b1", "e1", "g1", "a2", "e2", "e7", "a8", "h8")] == \
        [0, 23, 97, 147, 194, 303, 1489, 1598, 1769]
    for uci, want in [("e2e4", 322), ("d2d4", 293), ("g1f3", 159), ("b1c3", 36), ("e1h1", 103), ("e1a1", 97),
                      ("e7e8q", 1828), ("e7e8r", 1829), ("e7e8b", 1830), ("e7e8", 1515), ("e7d8q", 1825),
                      ("a1h8", 22), ("h8g8", 1791), ("a7b8q", 1795), ("h7g8q", 1852), ("h7h8b", 1857)]:
        assert idx[(sq(uci[:2]), sq(uci[2:4]), uci[4:])] == want, uci
    gather = lc0_conv_gather()
    assert len(set(gather.tolist())) == 1858 and gather.max() < 73 * 64


@pytest.mark.skipif(importlib.util.find_spec("tabula.engine.codecs.lc0") is None, reason="lc0 codec not present")
def test_lc0_move_list_matches_codec() -> None:
    import chess

    from tabula.engine.codecs.lc0 import MOVES

    names = chess.SQUARE_NAMES
    assert [names[f] + names[t] + p for f, t, p in lc0_moves()] == MOVES
