"""Tests for the dlshogi ONNX codec (engine/codecs/dlshogi.py)."""

from __future__ import annotations

import random

import cshogi
import cshogi.dlshogi
import numpy as np
import pytest

from tabula.engine.codecs.base import NetSignature, NetworkMismatchError, softmax_priors
from tabula.engine.codecs.dlshogi import DlshogiCodec, label_table, policy_label
from tabula.engine.games.shogi_game import STARTING_SFEN, ShogiState

MIDGAME_SFEN = "l6nl/3gk1gs1/p1ns2bp1/1rppppp1p/9/2PPSPPRP/PPB1P1N2/2GSKG3/LN6L b Pp 43"
NYUGYOKU_SFEN = "RRBBGGGGK/SS7/9/9/9/9/9/9/4k4 b 2P 1"  # Black may declare (28 points, 10 in camp)


def play(state: ShogiState, moves: str) -> ShogiState:
    for text in moves.split():
        state.push(state.parse_move(text))
    return state


def random_states(n_games: int, plies: int, seed: int):
    """Positions along seeded random games (yields the live state)."""
    rng = random.Random(seed)
    for _ in range(n_games):
        s = ShogiState(max_moves=0)
        for _ in range(plies):
            moves = s.legal_moves()
            if not moves:
                break
            yield s
            s.push(rng.choice(moves))


def sig(c2: int = 57, *, names=("input1", "input2", "output_policy", "output_value"),
        metadata=None, policy=2187, batch="batch_size") -> NetSignature:
    i1, i2, p, v = names
    return NetSignature("test.onnx", {i1: (batch, 62, 9, 9), i2: (batch, c2, 9, 9)},
                        {p: (batch, policy), v: (batch, 1)}, dict(metadata or {}))


def buffers(codec: DlshogiCodec, batch: int = 4, fill: float = 0.0) -> dict[str, np.ndarray]:
    return {name: np.full((batch, *shape), fill, dtype=np.float32)
            for name, shape in codec.input_shapes.items()}


def encoded(state: ShogiState, c2: int = 57, fill: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    codec = DlshogiCodec(sig(c2))
    bufs = buffers(codec, 2, fill)
    codec.encode(state, bufs, 1)
    return bufs["input1"][1], bufs["input2"][1]


def rotate_sfen(sfen: str) -> str:
    """The same position seen from the other side: board turned 180°, colours swapped."""
    board, turn, hand = sfen.split()[:3]
    cells: list[str] = []
    for rank in board.split("/"):
        i = 0
        while i < len(rank):
            if rank[i].isdigit():
                cells += [""] * int(rank[i])
            elif rank[i] == "+":
                cells.append("+" + rank[i + 1].swapcase())
                i += 1
            else:
                cells.append(rank[i].swapcase())
            i += 1
    cells.reverse()
    ranks = []
    for r in range(9):
        out, empty = "", 0
        for c in cells[r * 9:(r + 1) * 9]:
            if not c:
                empty += 1
                continue
            out += (str(empty) if empty else "") + c
            empty = 0
        ranks.append(out + (str(empty) if empty else ""))
    return f"{'/'.join(ranks)} {'w' if turn == 'b' else 'b'} {hand.swapcase() if hand != '-' else '-'} 1"


# -- signature ----------------------------------------------------------------------------
def test_capabilities_default_to_none():
    codec = DlshogiCodec(sig())
    assert (codec.has_score, codec.has_ownership, codec.board_size) == (False, False, None)
    assert not codec.supports_size(9)


def test_accepts_dlshogi_signatures():
    assert DlshogiCodec.accepts(sig(57)) and DlshogiCodec.accepts(sig(119))
    assert DlshogiCodec.accepts(sig(57, batch=None)) and DlshogiCodec.accepts(sig(57, batch=1))
    assert DlshogiCodec.accepts(sig(57, metadata={"tabula.codec": "dlshogi", "tabula.game": "shogi"}))
    # names differ (e.g. a re-export): fall back to shapes
    other = sig(119, names=("x", "hand", "policy", "value"))
    assert DlshogiCodec.accepts(other)
    c = DlshogiCodec(other)
    assert (c.input1, c.input2, c.policy_output, c.value_name, c.planes2) == ("x", "hand", "policy", "value", 119)
    assert c.output_names == ["policy", "value"] and c.input_shapes == {"x": (62, 9, 9), "hand": (119, 9, 9)}


@pytest.mark.parametrize("bad", [
    sig(58),
    sig(57, policy=2186),
    sig(57, metadata={"tabula.codec": "lc0-112"}),
    sig(57, metadata={"tabula.game": "chess"}),
    NetSignature("lc0.onnx", {"/input/planes": ("b", 112, 8, 8)},
                 {"/output/policy": ("b", 1858), "/output/wdl": ("b", 3)}),
    NetSignature("n.onnx", {"input1": ("b", 62, 9, 9), "input2": ("b", 57, 9, 9)},
                 {"output_policy": ("b", 2187), "output_value": ("b", 3)}),
    NetSignature("n.onnx", {"input1": ("b", 62, 9, 9), "input2": ("b", "c", 9, 9)},
                 {"output_policy": ("b", 2187), "output_value": ("b", 1)}),
    NetSignature("n.onnx", {"a": ("b", 62, 9, 9), "c": ("b", 57, 9, 9), "d": ("b", 57, 9, 9)},
                 {"p": ("b", 2187), "v": ("b", 1)}),
    NetSignature("n.onnx", {"a": ("b", 62, 9, 9), "c": ("b", 57, 9, 9)},
                 {"p": ("b", 2187), "v": ("b", 1), "w": ("b", 1)}),
])
def test_rejects_other_signatures(bad):
    assert not DlshogiCodec.accepts(bad)
    with pytest.raises(NetworkMismatchError) as exc:
        DlshogiCodec(bad)
    assert bad.path in str(exc.value) and "input1[batch,62,9,9]" in str(exc.value)


# -- policy labels --------------------------------------------------------------------------
def label_of(state: ShogiState, text: str) -> int:
    move = state.parse_move(text)
    codec = DlshogiCodec(sig())
    label = int(codec.policy_indices(state, [move])[0])
    assert label == policy_label(move, state.turn) == cshogi.dlshogi.make_move_label(move, state.turn)
    return label


def test_worked_label_examples():
    s = ShogiState()
    assert label_of(s, "7g7f") == 59
    assert label_of(s, "2g2f") == 14
    play(s, "7g7f")
    assert label_of(s, "3c3d") == 59  # White's move, rotated
    play(s, "3c3d")
    assert label_of(s, "8h2b+") == 982
    assert label_of(s, "8h2b") == 172


@pytest.mark.parametrize("turn", ["b", "w"])
def test_drop_labels_onto_5e(turn):
    hand = "RBGSNLP" if turn == "b" else "rbgsnlp"
    s = ShogiState(f"4k4/9/9/9/9/9/9/9/4K4 {turn} {hand} 1")
    expected = {"P": 1660, "L": 1741, "N": 1822, "S": 1903, "B": 1984, "R": 2065, "G": 2146}
    assert {kind: label_of(s, f"{kind}*5e") for kind in expected} == expected


def test_labels_are_a_bijection_on_legal_moves():
    codec = DlshogiCodec(sig())
    positions = 0
    for s in random_states(10, 150, seed=3):
        moves = list(s.legal_moves())
        idx = codec.policy_indices(s, moves)
        assert idx.dtype == np.int64 and idx.shape == (len(moves),)
        assert len(set(idx.tolist())) == len(moves)  # one label per legal move
        assert idx.min() >= 0 and idx.max() < 2187
        assert idx.tolist() == [cshogi.dlshogi.make_move_label(m, s.turn) for m in moves]
        positions += 1
    assert positions > 1000


def test_label_table_matches_cshogi_everywhere_it_is_defined():
    table = label_table()
    assert table.shape == (2, 32768) and not table.flags.writeable
    valid = table >= 0
    assert valid.sum() == 2 * (88 * 81 + 81 * 80)
    assert table[valid].max() < 2187
    assert policy_label(0x12345 << 16 | 0x0F0A, 1) == policy_label(0x0F0A, 1)  # high bits ignored


def test_policy_indices_empty():
    codec = DlshogiCodec(sig())
    assert codec.policy_indices(ShogiState("4k4/4G4/4P4/9/9/9/9/9/4K4 w - 1"), []).shape == (0,)


# -- features -------------------------------------------------------------------------------
def test_startpos_feature_sums():
    f1, f2 = encoded(ShogiState())
    sums = f1.reshape(62, 81).sum(axis=1)
    assert sums[:8].tolist() == [9, 2, 2, 2, 1, 1, 2, 1]  # P L N S B R G K (own)
    assert sums[31:39].tolist() == [9, 2, 2, 2, 1, 1, 2, 1]  # opponent
    assert sums[8:14].sum() == 0 and sums[28] == 30
    assert f2.sum() == 0  # empty hands, no check
    # own pawns stand on rank g (index 6) of every file, from the side to move's view
    assert f1[0, :, 6].tolist() == [1] * 9
    # the opponent's pawns on rank c (index 2)
    assert f1[31, :, 2].tolist() == [1] * 9


@pytest.mark.parametrize("sfen", [STARTING_SFEN, MIDGAME_SFEN, NYUGYOKU_SFEN,
                                  MIDGAME_SFEN.replace(" b ", " w "), "4k4/9/9/9/9/9/9/4l4/4K4 b 2PBr 1"])
@pytest.mark.parametrize("c2", [57, 119])
def test_features_are_from_the_side_to_move(sfen, c2):
    if c2 == 119 and sfen == NYUGYOKU_SFEN:
        pytest.skip("declaration points differ by colour (Black needs 28, White 27)")
    a1, a2 = encoded(ShogiState(sfen), c2)
    b1, b2 = encoded(ShogiState(rotate_sfen(sfen)), c2)
    assert np.array_equal(a1, b1) and np.array_equal(a2, b2)


def test_hand_and_check_planes():
    # Black to move holds 2 pawns and a bishop and is in check from White's lance; White holds a rook.
    f1, f2 = encoded(ShogiState("4k4/9/9/9/9/9/9/4l4/4K4 b 2PBr 1"))
    planes = f2.reshape(57, 81)
    on = [int(p) for p in np.flatnonzero(planes.any(axis=1))]
    # own: P 0-7, L 8-11, N 12-15, S 16-19, G 20-23, B 24-25, R 26-27; opponent +28; check 56
    assert on == [0, 1, 24, 28 + 26, 56]
    assert planes[on].min() == 1.0


def test_nyugyoku_planes_zeroed_in_dirty_buffer():
    for sfen in (STARTING_SFEN, NYUGYOKU_SFEN, MIDGAME_SFEN):
        s = ShogiState(sfen)
        clean1, clean2 = encoded(s, 119, fill=0.0)
        dirty1, dirty2 = encoded(s, 119, fill=7.0)
        assert np.array_equal(clean1, dirty1) and np.array_equal(clean2, dirty2)
        assert set(np.unique(dirty2).tolist()) <= {0.0, 1.0}
    _, f2 = encoded(ShogiState(NYUGYOKU_SFEN), 119, fill=np.nan)
    on = np.flatnonzero(f2.reshape(119, 81).any(axis=1)).tolist()
    # hand pawns 0-1; own king in the enemy camp (57), no more pieces needed there (58),
    # no more points needed (57+1+10 = 68); White's king on 5i also stands in its enemy camp (88)
    assert on == [0, 1, 57, 58, 68, 88]
    assert f2[on].min() == 1.0
    _, f2 = encoded(ShogiState(), 119, fill=np.nan)
    assert f2[57:].max() == 0.0


def test_57_and_119_codecs_share_the_process():
    s = ShogiState(NYUGYOKU_SFEN)
    c57, c119 = DlshogiCodec(sig(57)), DlshogiCodec(sig(119))
    b57, b119 = buffers(c57, 2, fill=-1.0), buffers(c119, 2, fill=-1.0)
    c119.encode(s, b119, 0)
    c57.encode(s, b57, 0)  # must switch cshogi back to 57 planes: row 1 untouched
    assert (b57["input2"][1] == -1.0).all() and (b57["input1"][1] == -1.0).all()
    assert np.array_equal(b57["input2"][0], b119["input2"][0][:57])
    cshogi.dlshogi.use_nyugyoku_features(True)  # someone else flips the global flag
    try:
        c57.encode(s, b57, 0)
        assert (b57["input2"][1] == -1.0).all()
    finally:
        cshogi.dlshogi.use_nyugyoku_features(False)
    assert cshogi.dlshogi.FEATURES2_NUM == 57


def test_encode_overwrites_the_whole_row():
    codec = DlshogiCodec(sig(57))
    bufs = buffers(codec, 3, fill=5.0)
    codec.encode(ShogiState(MIDGAME_SFEN), bufs, 1)
    for b in bufs.values():
        assert (b[0] == 5.0).all() and (b[2] == 5.0).all()
        assert set(np.unique(b[1]).tolist()) <= {0.0, 1.0}


def test_encode_rejects_wrong_buffers():
    codec = DlshogiCodec(sig(57))
    s = ShogiState()
    good = buffers(codec, 2)
    for bad in (
        {**good, "input1": np.zeros((2, 62, 9, 9), np.float64)},
        {**good, "input2": np.zeros((2, 119, 9, 9), np.float32)},
        {**good, "input1": np.zeros((2, 9, 9, 62), np.float32).transpose(0, 3, 1, 2)},
    ):
        with pytest.raises(ValueError, match="float32"):
            codec.encode(s, bad, 0)
    with pytest.raises(IndexError):
        codec.encode(s, good, 2)


# -- values ---------------------------------------------------------------------------------
def test_decode_value():
    codec = DlshogiCodec(sig())
    out = {"output_value": np.array([[0.5], [1.0], [0.0], [0.75], [0.3]], np.float32)}
    q, d = codec.decode_value(out, 4)
    assert q.tolist() == [0.0, 1.0, -1.0, 0.5] and d.tolist() == [0.0] * 4
    assert q.dtype == np.float32 and d.dtype == np.float32


# -- end to end through onnxruntime -----------------------------------------------------------
@pytest.mark.parametrize("c2", [57, 119])
def test_onnx_batch_end_to_end(tmp_path, c2):
    ort = pytest.importorskip("onnxruntime")
    onnx = pytest.importorskip("onnx")
    from onnx import numpy_helper

    from netfactory import make_net

    path = make_net(tmp_path / "dlshogi.onnx", {"input1": (62, 9, 9), "input2": (c2, 9, 9)},
                    {"output_policy": (2187, "none"), "output_value": (1, "sigmoid")},
                    scale=0.05, seed=5, metadata={"tabula.codec": "dlshogi", "tabula.game": "shogi"})
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    signature = NetSignature(str(path), {i.name: tuple(i.shape) for i in sess.get_inputs()},
                             {o.name: tuple(o.shape) for o in sess.get_outputs()},
                             dict(sess.get_modelmeta().custom_metadata_map))
    assert DlshogiCodec.accepts(signature)
    codec = DlshogiCodec(signature)
    assert codec.planes2 == c2

    states = [ShogiState(), ShogiState(MIDGAME_SFEN), ShogiState(NYUGYOKU_SFEN),
              play(ShogiState(), "7g7f 3c3d")]
    bufs = buffers(codec, 6, fill=3.0)  # two rows beyond the batch, left dirty
    for row, s in enumerate(states):
        codec.encode(s, bufs, row)
    n = len(states)
    outputs = dict(zip(codec.output_names,
                       sess.run(codec.output_names, {k: v[:n] for k, v in bufs.items()})))
    assert outputs["output_policy"].shape == (n, 2187) and outputs["output_value"].shape == (n, 1)

    # the net is flatten → concat → Gemm: recompute it from the weights to check the inputs
    weights = {t.name: numpy_helper.to_array(t) for t in onnx.load(str(path)).graph.initializer}
    feats = np.concatenate([bufs["input1"][:n].reshape(n, -1), bufs["input2"][:n].reshape(n, -1)], axis=1)
    p = 1 / (1 + np.exp(-(feats @ weights["output_value__w"] + weights["output_value__b"])))
    np.testing.assert_allclose(outputs["output_value"], p, rtol=1e-4, atol=1e-5)

    q, d = codec.decode_value(outputs, n)
    np.testing.assert_allclose(q, 2 * p[:, 0] - 1, rtol=1e-4, atol=1e-5)
    assert (d == 0).all() and (np.abs(q) <= 1).all()
    for row, s in enumerate(states):
        moves = s.legal_moves()
        idx = codec.policy_indices(s, moves)
        priors = softmax_priors(outputs[codec.policy_output][row, idx], 1.0)
        assert priors.shape == (len(moves),) and abs(float(priors.sum()) - 1) < 1e-5


def test_shogi_random_game_smoke():
    """Encode and label every position of a few random games without errors or overflow."""
    codec = DlshogiCodec(sig(119))
    bufs = buffers(codec, 2, fill=-1.0)
    rng = random.Random(11)
    for s in random_states(3, 200, seed=rng.randrange(1000)):
        codec.encode(s, bufs, 0)
        codec.policy_indices(s, s.legal_moves())
    assert (bufs["input1"][1] == -1).all() and (bufs["input2"][1] == -1).all()
