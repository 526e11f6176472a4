"""Go codecs (Tabula's 17-plane format, Leela Zero's 18-plane format) and the Leela Zero importer."""

from __future__ import annotations

import numpy as np
import pytest

from tabula.engine.codecs import codec_for
from tabula.engine.codecs.base import NetSignature, NetworkMismatchError
from tabula.engine.codecs.go_planes import GO_PLANES, GoPlanesCodec, encode_planes
from tabula.engine.codecs.leelaz import LeelaZeroCodec
from tabula.engine.games.go import GoState, parse_vertex
from netfactory import make_net

pytest.importorskip("onnx")

META9 = {"tabula.game": "go", "tabula.codec": "go", "tabula.board_size": "9", "tabula.value": "tanh"}


def sig(planes: int, n: int, meta=None, *, batch="batch", spatial=None, names=("input_planes", "output_policy",
                                                                             "output_value")) -> NetSignature:
    hw = spatial if spatial is not None else (n, n)
    return NetSignature("net.onnx", {names[0]: (batch, planes, *hw)},
                        {names[1]: (batch, n * n + 1), names[2]: (batch, 1)}, dict(meta or {}))


def reference_planes(moves: list[str], n: int, colour_planes: int = 1) -> np.ndarray:
    """Planes rebuilt independently: replay every prefix and read ``stones()``."""
    states = [GoState.from_moves(n, 7.5, moves[:k]) for k in range(len(moves) + 1)]
    cur = states[-1]
    me = cur.turn + 1
    out = np.zeros((16 + colour_planes, n, n), np.float32)
    for t in range(8):
        if len(states) - 1 - t < 0:
            break
        board = states[len(states) - 1 - t].stones()
        out[t] = board == me
        out[8 + t] = board == 3 - me
    out[16] = 1.0 if cur.turn == 0 else 0.0
    if colour_planes == 2:
        out[17] = 1.0 - out[16]
    return out


# -- Tabula's plane format -------------------------------------------------------------------


@pytest.mark.parametrize("moves", [[], ["E5"], ["E5", "D4", "pass", "C3"],
                                   ["C3", "D3", "D4", "C4", "E3", "B3", "D2", "C2", "pass", "C5", "B4", "D5"]])
def test_planes_match_replayed_history(moves):
    s = GoState.from_moves(9, 7.5, moves)
    assert np.array_equal(encode_planes(s), reference_planes(moves, 9))
    assert np.array_equal(encode_planes(s, 2), reference_planes(moves, 9, 2))


def test_history_longer_than_eight_and_capture():
    moves = ["E5", "E4", "D4", "F4", "E3", "D3", "pass", "F3", "E2", "E6", "D5", "F5", "G4"]
    s = GoState.from_moves(9, 7.5, moves)
    assert np.array_equal(encode_planes(s), reference_planes(moves, 9))


def test_capabilities_are_declared_on_the_codec_base():
    from tabula.engine.codecs.base import Codec
    from tabula.engine.codecs.katago import KataGoCodec

    assert (Codec.has_score, Codec.has_ownership) == (False, False)
    assert (Codec.board_size, Codec.max_board_size) == (None, None)
    assert (KataGoCodec.has_score, KataGoCodec.has_ownership, KataGoCodec.max_board_size) == (True, True, 19)
    c = GoPlanesCodec(sig(17, 9, META9))
    assert (c.has_score, c.has_ownership, c.board_size, c.max_board_size) == (False, False, 9, None)
    assert c.supports_size(9) and not c.supports_size(19)
    c.set_board_size(9)  # its own size: nothing to change
    with pytest.raises(NetworkMismatchError, match="9x9 boards, not 19x19"):
        c.set_board_size(19)
    with pytest.raises(NotImplementedError, match="no ownership head"):
        c.decode_ownership({}, 1)
    with pytest.raises(NotImplementedError, match="no score head"):
        c.decode_score({}, 1)


def test_point_mapping_row0_is_gtp_row1():
    s = GoState.from_moves(19, 7.5, ["D4", "Q16"])  # black to move
    p = encode_planes(s)
    assert p[0, 3, 3] == 1.0 and p[8, 15, 15] == 1.0  # [row from bottom, column]
    assert p[0].sum() == 1 and p[8].sum() == 1 and p[16].min() == 1.0
    sig19 = sig(17, 19, {"tabula.codec": "go"})
    idx = GoPlanesCodec(sig19).policy_indices(s, [parse_vertex("A1", 19), parse_vertex("T19", 19), 361])
    assert idx.tolist() == [0, 360, 361]


def test_white_to_move_colour_plane_and_zero_padding():
    s = GoState.from_moves(9, 7.5, ["E5"])
    p = encode_planes(s)
    assert p[16].max() == 0.0
    assert p[8, 4, 4] == 1.0 and p[9].sum() == 0  # t-1 is the empty board
    assert p[2:8].sum() == 0 and p[10:16].sum() == 0  # before the start: zero


def test_handicap_setup_is_the_first_board():
    s = GoState.with_handicap(9, 0.5, 2)
    p = encode_planes(s)  # white to move; black stones are the opponent's
    assert p[8].sum() == 2 and p[9:16].sum() == 0 and p[16].max() == 0.0


# -- signatures ------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [9, 13, 19])
def test_codec_reads_board_size_from_the_input_shape(n):
    c = codec_for(sig(17, n, {"tabula.codec": "go", "tabula.game": "go"}), "go")
    assert isinstance(c, GoPlanesCodec) and c.board_size == n
    assert c.input_shapes == {"input_planes": (17, n, n)} and c.output_names == ["output_policy", "output_value"]


def test_symbolic_spatial_axes_use_metadata():
    s = sig(17, 9, {"tabula.codec": "go", "tabula.board_size": "9"}, spatial=("h", "w"))
    assert GoPlanesCodec(s).board_size == 9
    assert not GoPlanesCodec.accepts(sig(17, 9, {"tabula.codec": "go"}, spatial=("h", "w")))


def test_detection_without_metadata():
    assert isinstance(codec_for(sig(17, 9)), GoPlanesCodec)
    lz = codec_for(sig(18, 19))
    assert isinstance(lz, LeelaZeroCodec) and lz.board_size == 19
    with pytest.raises(NetworkMismatchError):
        codec_for(sig(18, 9))  # Leela Zero nets are 19x19 only


def test_metadata_mismatches_are_refused():
    assert not GoPlanesCodec.accepts(sig(18, 9, {"tabula.codec": "go"}))
    assert not GoPlanesCodec.accepts(sig(17, 9, {"tabula.codec": "leelaz"}))
    assert not GoPlanesCodec.accepts(sig(17, 9, {"tabula.game": "chess"}))
    assert not LeelaZeroCodec.accepts(sig(17, 19, {"tabula.codec": "leelaz"}))
    with pytest.raises(NetworkMismatchError, match="expects"):
        codec_for(sig(18, 9, {"tabula.codec": "go"}))
    bad = NetSignature("x.onnx", {"input_planes": ("batch", 17, 9, 9)},
                       {"output_policy": ("batch", 81), "output_value": ("batch", 1)})
    assert not GoPlanesCodec.accepts(bad)


def test_encode_refuses_another_board_size():
    c = GoPlanesCodec(sig(17, 9, {"tabula.codec": "go"}))
    buf = {"input_planes": np.zeros((1, 17, 9, 9), np.float32)}
    c.encode(GoState(9), buf, 0)
    with pytest.raises(NetworkMismatchError, match="9x9 network; the board is 19x19"):
        c.encode(GoState(19), buf, 0)


def test_decode_value_tanh_and_winprob():
    out = {"output_policy": np.zeros((2, 82), np.float32), "output_value": np.array([[0.5], [-2.0]], np.float32)}
    q, d = GoPlanesCodec(sig(17, 9, {"tabula.codec": "go"})).decode_value(out, 2)
    assert q.tolist() == [0.5, -1.0] and d.tolist() == [0.0, 0.0]
    out["output_value"] = np.array([[0.75], [0.25]], np.float32)
    q, _ = GoPlanesCodec(sig(17, 9, {"tabula.codec": "go", "tabula.value": "winprob"})).decode_value(out, 2)
    assert q.tolist() == [0.5, -0.5]


def test_engine_searches_a_toy_9x9_net(tmp_path):
    from tabula.engine.controller import Engine, Limits

    net = make_net(tmp_path / "go9.onnx", {"input_planes": (17, 9, 9)},
                   {"output_policy": (82, "none"), "output_value": (1, "tanh")}, scale=0.05, metadata=META9)
    eng = Engine("go")
    eng.set_option("WeightsFile", str(net))
    eng.ensure_ready()
    assert eng.evaluator.codec.board_size == 9
    s = GoState.from_moves(9, 7.5, ["E5"])
    eng.set_position(s, "t", [s.last_move()])
    got = {}
    eng.go(Limits(nodes=40), lambda r: None, lambda b, p: got.setdefault("best", b))
    eng.wait()
    assert got["best"] in s.legal_moves()
    eng.evaluator.close()


def test_torch_export_is_read_by_the_go_codec(tmp_path):
    torch = pytest.importorskip("torch")
    from tabula.engine.evaluator import OnnxEvaluator
    from tabula.nets.export import export_onnx
    from tabula.nets.model import NetConfig, PolicyValueNet

    torch.manual_seed(0)
    model = PolicyValueNet(NetConfig(codec="go", blocks=1, filters=8, se=False, in_channels=GO_PLANES,
                                     board_size=9, value_channels=2, value_hidden=16))
    path = export_onnx(model, tmp_path / "go9.onnx", provenance="test")
    ev = OnnxEvaluator(path, backend="cpu", threads=1, max_batch=2)
    try:
        assert isinstance(ev.codec, GoPlanesCodec) and ev.codec.board_size == 9
        s = GoState.from_moves(9, 7.5, ["E5", "C3"])
        b = ev.new_batch(2)
        ev.codec.encode(s, b.inputs, 0)
        out = ev.run(b, 1)
        with torch.no_grad():
            p, v = model.eval()(torch.from_numpy(encode_planes(s)[None]))
        assert np.allclose(out["output_policy"][0], p[0].numpy(), atol=1e-4)
        assert np.allclose(ev.codec.decode_value(out, 1)[0][0], np.tanh(v[0, 0].item()), atol=1e-4)
    finally:
        ev.close()


# -- Leela Zero import -----------------------------------------------------------------------

lz = pytest.importorskip("tabula.nets.leelaz_import")


@pytest.fixture(scope="module")
def lz_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("lz")
    out = {}
    for version in (1, 2):
        w = lz.random_weights(1, 8, seed=version, version=version)
        txt = lz.write_weights(w, d / f"lz-v{version}.txt.gz")
        out[version] = (txt, lz.convert(txt, d / f"lz-v{version}.onnx"))
    return out


def test_text_weights_round_trip_plain_and_gzip(tmp_path):
    w = lz.random_weights(2, 8, seed=3)
    for name in ("w.txt", "w.txt.gz"):
        back = lz.read_weights(lz.write_weights(w, tmp_path / name))
        assert back.arch == "2x8" and back.version == 1
        assert all(np.allclose(a, b, rtol=1e-6) for a, b in zip(w.rows(), back.rows()))


@pytest.mark.parametrize("version", [1, 2])
def test_onnx_matches_numpy_forward_on_random_positions(lz_files, version):
    txt, onnx_path = lz_files[version]
    w = lz.read_weights(txt)
    planes = lz.random_planes(8, seed=11)
    dp, dv = lz.check_onnx(w, onnx_path, planes, atol=1e-3)
    assert dp < 1e-3 and dv < 1e-4
    p, v = lz.forward_numpy(w, planes)
    assert p.std(axis=0).mean() > 1e-3 and v.std() > 1e-3  # the check is not vacuous


def test_onnx_matches_numpy_on_encoded_game_positions(lz_files):
    import onnxruntime as ort

    txt, onnx_path = lz_files[1]
    w = lz.read_weights(txt)
    sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    states = [GoState.from_moves(19, 7.5, ["Q16", "D4", "Q4", "D16", "pass", "C3"][:k]) for k in range(7)]
    planes = np.stack([encode_planes(s, 2) for s in states])
    pol, val = sess.run(["output_policy", "output_value"], {"input_planes": planes})
    ref_p, ref_v = lz.forward_numpy(w, planes)
    assert np.allclose(pol, ref_p, atol=1e-3) and np.allclose(val[:, 0], ref_v, atol=1e-4)


def test_format2_value_is_flipped_for_white(lz_files):
    w2 = lz.read_weights(lz_files[2][0])
    w1 = lz.read_weights(lz_files[2][0])
    w1.version = 1
    planes = lz.random_planes(4, seed=5)  # alternates black / white to move
    _, v1 = lz.forward_numpy(w1, planes)
    _, v2 = lz.forward_numpy(w2, planes)
    assert np.allclose(v2, v1 * np.array([1, -1, 1, -1]), atol=1e-6)


def test_numpy_conv_is_a_plain_cross_correlation():
    rng = np.random.default_rng(0)
    layer = lz.ConvBN(rng.standard_normal((2, 3, 3, 3)).astype(np.float32), np.zeros(2, np.float32),
                      np.zeros(2, np.float32), np.full(2, 1 - lz.BN_EPS, np.float32))
    x = rng.standard_normal((1, 3, 5, 5))
    got = lz._conv_bn_relu(x, layer, relu=False)
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    want = np.zeros((1, 2, 5, 5))
    for o in range(2):
        for r in range(5):
            for c in range(5):
                want[0, o, r, c] = (xp[0, :, r:r + 3, c:c + 3] * layer.w[o]).sum()
    assert np.allclose(got, want, atol=1e-5)


def test_converted_net_drives_the_leelaz_codec_and_engine(lz_files):
    from tabula.engine.controller import Engine, Limits

    eng = Engine("go")
    eng.set_option("WeightsFile", str(lz_files[1][1]))
    eng.ensure_ready()
    codec = eng.evaluator.codec
    assert isinstance(codec, LeelaZeroCodec) and codec.board_size == 19
    assert eng.evaluator.signature.metadata["tabula.codec"] == "leelaz"
    s = GoState.from_moves(19, 7.5, ["Q16"])
    eng.set_position(s, "lz", [s.last_move()])
    got = {}
    eng.go(Limits(nodes=24), lambda r: None, lambda b, p: got.setdefault("best", b))
    eng.wait()
    assert got["best"] in s.legal_moves()
    eng.evaluator.close()


@pytest.mark.parametrize("text, message", [
    ("3\n1 2\n", "format version"),
    ("1\n" + "0\n" * 20, "weight rows"),
])
def test_malformed_weight_files(tmp_path, text, message):
    p = tmp_path / "bad.txt"
    p.write_text(text)
    with pytest.raises(ValueError, match=message):
        lz.read_weights(p)


def test_wrong_row_length_names_the_line(tmp_path):
    w = lz.random_weights(1, 8)
    p = lz.write_weights(w, tmp_path / "w.txt")
    lines = p.read_text().splitlines()
    lines[5] = " ".join(lines[5].split()[:-1])  # block 1 conv 1 weights: one number short
    p.write_text("\n".join(lines) + "\n")
    with pytest.raises(ValueError, match=r"line 6 \(block 1 conv 1 weights\)"):
        lz.read_weights(p)


def test_import_cli(tmp_path, capsys):
    src = lz.write_weights(lz.random_weights(1, 8, seed=9), tmp_path / "w.txt")
    lz.main([str(src), str(tmp_path / "w.onnx"), "--check", "2"])
    assert "checked on 2 positions" in capsys.readouterr().out
