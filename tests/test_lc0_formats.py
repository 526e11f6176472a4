"""Which lc0 input format a net gets: lc0 weights files, ONNX metadata, ``tabula nets tag``,
the ``Lc0InputFormat`` UCI option and the warning when nothing says; the moves-left head.

The lc0 weights files are written here (bench/lc0_check.py's writer); no lc0 is needed.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from tabula.engine.codecs import codec_for
from tabula.engine.codecs.base import NetSignature, NetworkMismatchError
from tabula.engine.codecs.lc0 import Lc0Codec, Lc0Net
from tabula.engine.codecs.lc0_formats import (CLASSICAL, FORMATS, METADATA_KEY, OPTION_CHOICES, parse_format,
                                       read_pb_format, resolve_format)
from tabula.engine.codecs.lc0_planes import Lc0FormatCodec
from tabula.engine.controller import Engine
from tabula.engine.evaluator import OnnxEvaluator, read_signature
from tabula.engine.games.chess_game import ChessState
from tabula.protocols.common import Writer
from tabula.protocols.uci import UCI_PARAMS, UciProtocol

from linesink import Sink
from netfactory import make_net

bench = pytest.importorskip("bench.lc0_check")

OUTPUTS = {"/output/policy": ("batch", 1858), "/output/wdl": ("batch", 3)}


def sig(path="net.onnx", metadata=None, outputs=OUTPUTS) -> NetSignature:
    return NetSignature(str(path), {"/input/planes": ("batch", 112, 8, 8)}, outputs, metadata or {})


def lc0_onnx(path, *, mlh: bool = False, wdl: bool = True, metadata=None, scale: float = 0.0) -> Path:
    """An ONNX with lc0 leela2onnx's names (a toy dense net, no lc0 needed), written at ``path``.

    ``scale`` 0 (the default, for tests of names and metadata) gives a constant net of a few
    bytes; otherwise its random weights are scaled by it (53 MB: netfactory builds each kind once and keeps it)."""
    outputs = {"/output/policy": (1858, "none")}
    outputs.update({"/output/wdl": (3, "softmax")} if wdl else {"/output/value": (1, "tanh")})
    if mlh:
        outputs["/output/mlh"] = (1, "none")
    return make_net(path, {"/input/planes": (112, 8, 8)}, outputs, scale=scale, seed=3, metadata=metadata,
                    bias={"/output/mlh": np.array([40.0])} if mlh else None)


def pb(path, fmt: int, **kw):
    return bench.write_lc0_net(path, bench.NetSpec(fmt, filters=8, blocks=1, **kw))


# -- names --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text,number", [
    ("1", 1), ("classical", 1), ("INPUT_CLASSICAL_112_PLANE", 1), ("castling-plane", 2),
    ("112_with_castling_plane", 2), (3, 3), ("Hectoplies", 4), ("INPUT_112_WITH_CANONICALIZATION_HECTOPLIES", 4),
    ("132", 132), ("hectoplies_armageddon", 132), ("canonical-v2", 5), ("133", 133),
])
def test_parse_format(text, number):
    assert parse_format(text).number == number


@pytest.mark.parametrize("bad", ["0", "6", "v3", "", "auto"])
def test_parse_format_rejects_unknown_values(bad):
    with pytest.raises(ValueError, match="known: 1/classical"):
        parse_format(bad)


def test_option_choices_are_auto_then_every_format():
    assert OPTION_CHOICES == ("auto", "classical", "castling-plane", "canonical", "hectoplies",
                              "hectoplies-armageddon", "canonical-v2", "canonical-v2-armageddon")


# -- lc0 weights files -------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", [f.number for f in FORMATS])
def test_read_pb_format(tmp_path, fmt):
    got = read_pb_format(pb(tmp_path / "n.pb.gz", fmt, moves_left=True, wdl=False))
    assert got == {"input": fmt, "output": 1, "network": 3, "policy": 2, "value": 1, "moves_left": 1}


def test_read_pb_format_plain_and_old_files(tmp_path):
    gz = pb(tmp_path / "n.pb.gz", 4)
    plain = tmp_path / "n.pb"
    plain.write_bytes(gzip.decompress(gz.read_bytes()))
    assert read_pb_format(plain)["input"] == 4
    old = tmp_path / "old.pb.gz"  # magic and weights, no format: lc0 reads it as classical
    with gzip.open(old, "wb") as fh:
        fh.write(bench._field(1, 0x1C0, fixed32=True) + bench._field(10, bench._field(1, b"")))
    assert read_pb_format(old) == {"input": 1}


@pytest.mark.parametrize("content", [b"", b"hello world, not a protobuf", gzip.compress(b"\x08\x01", mtime=0)],
                         ids=["empty", "text", "gzip-of-a-varint"])
def test_read_pb_format_rejects_other_files(tmp_path, content):
    p = tmp_path / "x.pb.gz"
    p.write_bytes(content)
    with pytest.raises(ValueError, match="lc0 weights file"):
        read_pb_format(p)


# -- resolution ----------------------------------------------------------------------------------------

def test_resolution_order(tmp_path):
    net = tmp_path / "net.onnx"
    res = resolve_format(str(net), {})
    assert res.format == CLASSICAL and res.assumed and "does not say" in res.warning
    assert "tabula nets tag net.onnx --lc0-format" in res.warning
    res = resolve_format(str(net), {}, "hectoplies")
    assert (res.format.number, res.source, res.warning) == (4, "option", None)
    assert resolve_format(str(net), {}, "auto").assumed
    pb(tmp_path / "net.pb.gz", 5)
    res = resolve_format(str(net), {})
    assert (res.format.number, res.source, res.warning) == (5, "weights file net.pb.gz", None)
    res = resolve_format(str(net), {}, "canonical")  # the file wins over the option, which is reported
    assert res.format.number == 5 and "Lc0InputFormat=canonical ignored" in res.warning
    res = resolve_format(str(net), {METADATA_KEY: "133"})  # metadata wins over the file
    assert (res.format.number, res.source) == (133, "metadata")
    res = resolve_format(str(net), {"tabula.codec": "lc0-112"})  # Tabula's own export
    assert (res.format, res.source, res.warning) == (CLASSICAL, "tabula export", None)
    with pytest.raises(ValueError, match="tabula.lc0_format metadata: unknown"):
        resolve_format(str(net), {METADATA_KEY: "17"})


def test_codec_for_picks_the_codec_of_the_format(tmp_path):
    c = codec_for(sig(tmp_path / "a.onnx"))
    assert type(c) is Lc0Codec and c.resolution.assumed
    c = codec_for(sig(tmp_path / "a.onnx"), lc0_format="canonical-v2")
    assert type(c) is Lc0FormatCodec and c.input_format.number == 5 and not isinstance(c, Lc0Codec)
    c = codec_for(sig(tmp_path / "a.onnx", {"tabula.codec": "lc0-112", METADATA_KEY: "hectoplies"}), "chess")
    assert c.input_format.number == 4 and c.resolution.source == "metadata"
    with pytest.raises(NetworkMismatchError, match="unknown lc0 input format"):
        codec_for(sig(tmp_path / "a.onnx", {METADATA_KEY: "nonsense"}))
    with pytest.raises(NetworkMismatchError, match="unknown lc0 input format"):
        codec_for(sig(tmp_path / "a.onnx"), lc0_format="nonsense")
    assert type(Lc0Codec(sig())) is Lc0Codec and Lc0Codec(sig()).resolution is None  # direct: as before


# -- heads: value, WDL, moves left ------------------------------------------------------------------

def test_moves_left_head_is_fetched_and_decoded(tmp_path):
    path = lc0_onnx(tmp_path / "m.onnx", mlh=True, wdl=False, metadata={METADATA_KEY: "4", "tabula.codec": "lc0-112"})
    ev = OnnxEvaluator(path, backend="cpu", threads=1, max_batch=2)
    try:
        c = ev.codec
        assert c.input_format.number == 4 and c.has_moves_left and c.moves_left_output == "/output/mlh"
        assert c.output_names == ["/output/policy", "/output/value", "/output/mlh"]
        batch = ev.new_batch(2)
        for i, s in enumerate([ChessState(), ChessState("4k3/8/8/8/8/8/8/R3K3 b Q - 20 60")]):
            c.encode(s, batch.inputs, i)
        out = ev.run(batch, 2)
        q, d = c.decode_value(out, 2)
        m = c.decode_moves_left(out, 2)
        assert q.shape == d.shape == m.shape == (2,) and (np.abs(q) <= 1).all() and not d.any()
        np.testing.assert_allclose(m, out["/output/mlh"][:, 0])
        assert m[0] == 40  # the head's bias (a constant net)
    finally:
        ev.close()
    plain = Lc0Codec(sig())
    assert not plain.has_moves_left and plain.moves_left_output is None
    with pytest.raises(NotImplementedError):
        plain.decode_moves_left({}, 1)


def test_an_unnamed_extra_output_is_not_taken_for_moves_left():
    c = Lc0Codec(sig(outputs={**OUTPUTS, "aux": ("batch", 1)}))
    assert not c.has_moves_left and c.output_names == ["/output/policy", "/output/wdl"]


# -- nets tag / nets info ------------------------------------------------------------------------------

def test_tag_writes_the_format_and_keeps_other_metadata(tmp_path):
    from tabula.nets.tools import net_info, tag_lc0_format

    path = lc0_onnx(tmp_path / "n.onnx", metadata={"licence": "GPL"})
    assert "warning" in " ".join(net_info(path).notes)
    out, name = tag_lc0_format(path, "canonical-v2")
    assert out == path and name == "INPUT_112_WITH_CANONICALIZATION_V2"
    meta = read_signature(path).metadata
    assert meta == {"licence": "GPL", "tabula.game": "chess", "tabula.codec": "lc0-112", METADATA_KEY: name}
    info = net_info(path)
    assert info.notes[0] == "lc0 input format canonical-v2 (5, from metadata)"
    assert "note:       lc0 input format canonical-v2 (5, from metadata)" in info.lines()
    # from the lc0 weights file, into a copy
    weights = pb(tmp_path / "w.pb.gz", 132)
    out, name = tag_lc0_format(path, weights=weights, output=tmp_path / "copy.onnx")
    assert read_signature(out).metadata[METADATA_KEY] == name == "INPUT_112_WITH_CANONICALIZATION_HECTOPLIES_ARMAGEDDON"
    assert read_signature(path).metadata[METADATA_KEY] == "INPUT_112_WITH_CANONICALIZATION_V2"


def test_tag_refuses_what_it_cannot_tag(tmp_path):
    from tabula.nets.tools import tag_lc0_format

    path = lc0_onnx(tmp_path / "n.onnx")
    with pytest.raises(ValueError, match="give the format"):
        tag_lc0_format(path)
    with pytest.raises(ValueError, match="declares hectoplies"):
        tag_lc0_format(path, "3", weights=pb(tmp_path / "w.pb.gz", 4))
    other = make_net(tmp_path / "go.onnx", {"x": (3, 2, 2)}, {"p": (5, "none"), "v": (1, "tanh")})
    with pytest.raises(ValueError, match="not an lc0 net"):
        tag_lc0_format(other, "4")
    with pytest.raises(ValueError, match="unknown lc0 input format"):
        tag_lc0_format(path, "9")


def test_cli_nets_tag(tmp_path):
    from tabula.protocols.cli import main

    path = lc0_onnx(tmp_path / "n.onnx")
    r = CliRunner().invoke(main, ["nets", "tag", str(path), "--lc0-format", "4"])
    assert r.exit_code == 0, r.output
    assert "tabula.lc0_format = INPUT_112_WITH_CANONICALIZATION_HECTOPLIES" in r.output
    r = CliRunner().invoke(main, ["nets", "info", str(path)])
    assert "lc0 input format hectoplies (4, from metadata)" in r.output
    r = CliRunner().invoke(main, ["nets", "tag", str(path)])
    assert r.exit_code != 0 and "give the format" in r.output


# -- UCI ---------------------------------------------------------------------------------------------

@pytest.fixture()
def uci_on(tmp_path):
    made = []

    def start(net):
        sink = Sink()
        proto = UciProtocol(Engine("chess", extra_params=UCI_PARAMS), Writer(sink))
        proto.handle(f"setoption name WeightsFile value {net}")
        made.append(proto)
        return proto, sink

    yield start
    for p in made:
        p.shutdown()


def test_uci_declares_the_option(uci_on, tmp_path):
    proto, sink = uci_on(lc0_onnx(tmp_path / "n.onnx"))
    proto.handle("uci")
    assert ("option name Lc0InputFormat type combo default auto var auto var classical var castling-plane "
            "var canonical var hectoplies var hectoplies-armageddon var canonical-v2 var canonical-v2-armageddon"
            ) in sink.lines


def test_uci_warns_once_when_the_format_is_assumed(uci_on, tmp_path):
    proto, sink = uci_on(lc0_onnx(tmp_path / "n.onnx"))
    proto.handle("isready")
    proto.handle("isready")
    proto.handle("position startpos")
    proto.handle("go nodes 1")
    sink.wait_for("bestmove")
    warnings = [ln for ln in sink.lines if "does not say which lc0 input format" in ln]
    assert len(warnings) == 1 and warnings[0].startswith("info string warning: n.onnx")
    assert sink.lines.index(warnings[0]) < sink.lines.index("readyok")
    assert type(proto.engine.evaluator.codec) is Lc0Codec


def test_uci_option_gives_an_undeclared_net_its_format(uci_on, tmp_path):
    proto, sink = uci_on(lc0_onnx(tmp_path / "n.onnx"))
    proto.handle("setoption name Lc0InputFormat value canonical-v2")
    proto.handle("isready")
    codec = proto.engine.evaluator.codec
    assert codec.input_format.number == 5 and codec.resolution.source == "option"
    assert "info string lc0 input format canonical-v2 (5, from option)" in sink.lines
    assert not [ln for ln in sink.lines if "warning" in ln]
    # changed after loading: the loaded net is re-read with the new format (no reload)
    ev = proto.engine.evaluator
    proto.handle("setoption name Lc0InputFormat value hectoplies")
    proto.handle("position startpos moves e2e4")
    proto.handle("go nodes 1")
    sink.wait_for("bestmove")
    assert proto.engine.evaluator is ev and ev.codec.input_format.number == 4
    proto.handle("setoption name Lc0InputFormat value auto")
    proto.handle("isready")
    assert type(ev.codec) is Lc0Codec
    assert sum("does not say which" in ln for ln in sink.lines) == 1


def test_uci_option_does_not_override_a_declared_format(uci_on, tmp_path):
    proto, sink = uci_on(lc0_onnx(tmp_path / "n.onnx", metadata={METADATA_KEY: "4", "tabula.codec": "lc0-112"}))
    proto.handle("setoption name Lc0InputFormat value classical")
    proto.handle("isready")
    assert proto.engine.evaluator.codec.input_format.number == 4
    assert ("info string warning: Lc0InputFormat=classical ignored: n.onnx declares hectoplies (metadata)"
            in sink.lines)


def test_uci_says_nothing_for_tabulas_own_nets(uci_on, random_chess_net):
    proto, sink = uci_on(random_chess_net)
    proto.handle("isready")
    assert not [ln for ln in sink.lines if "lc0 input format" in ln]
    assert isinstance(proto.engine.evaluator.codec, Lc0Net)


# -- the engine's search -----------------------------------------------------------------------------

def test_engine_search_uses_the_formats_planes_and_policy(uci_on, tmp_path):
    from tabula.engine.codecs.base import softmax_priors

    net = make_net(tmp_path / "n.onnx", {"/input/planes": (112, 8, 8)},
                   {"/output/policy": (1858, "none"), "/output/wdl": (3, "softmax")}, scale=0.3, seed=5,
                   metadata={METADATA_KEY: "canonical-v2", "tabula.codec": "lc0-112"})
    proto, sink = uci_on(net)
    for line in ("setoption name VerboseMoveStats value true", "setoption name PolicyTemperature value 1",
                 "isready", "position fen 8/8/8/8/8/1k6/8/4K2R b - - 3 60 moves b3c3 h1h2", "go nodes 1"):
        proto.handle(line)
    sink.wait_for("bestmove")
    shown = {ln.split()[2]: float(ln.split("(P:")[1].split("%")[0]) / 100
             for ln in sink.lines if ln.startswith("info string ") and "(P:" in ln}
    ev = proto.engine.evaluator
    s = ChessState("8/8/8/8/8/1k6/8/4K2R b - - 3 60")
    for m in ("b3c3", "h1h2"):
        s.push(s.parse_move(m))
    batch = ev.new_batch(1)
    ev.codec.encode(s, batch.inputs, 0)
    logits = ev.run(batch, 1)[ev.codec.policy_output][0, ev.codec.policy_indices(s, s.legal_moves())]
    want = softmax_priors(logits, 1.0)
    got = np.array([shown[s.move_to_text(m)] for m in s.legal_moves()])
    np.testing.assert_allclose(got, want, atol=6e-5)
