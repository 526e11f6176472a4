"""KataGo model import (nets/katago_import.py) and ``tabula nets import-katago``.

A tiny synthetic KataGo-format model (written here, random weights) is converted and
checked against an independent numpy forward pass written from the format notes
(shared/formats/katago.md §2). With the real g170 6-block net present (path in
``TABULA_KATAGO_NET``, default /work/katago/...), the ONNX net must reproduce KataGo's
own ``kata-raw-nn`` outputs (tests/data/katago_rawnn_g170.json, from KataGo's
cpp/tests/results/gtp/rawnn.txt.stdout).
"""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from tabula.nets.katago_import import (KataGoFormatError, default_output, import_katago,  # noqa: E402
                                read_model)
# the g170 net's comparison with KataGo's kata-raw-nn (katago_features is also test_katago_codec's)
from katago_rawnn import apply_symmetry, differences, katago_features, keep_worst, postprocess  # noqa: E402

DATA = Path(__file__).resolve().parent / "data"
REAL_NET = Path(os.environ.get("TABULA_KATAGO_NET", "/work/katago/g170-b6c96-s175395328-d26788732.bin.gz"))
F32 = np.float32


# -- a writer for KataGo's container: the tiny-net helper's (tests/katago_tinynets.py) -----------------

from katago_tinynets import Writer as KataGoWriter, param_count  # noqa: E402


def score_outputs(version: int) -> int:
    return 6 if version >= 9 else 4 if version == 8 else 2 if version >= 4 else 1


def random_model(seed: int = 0, version: int = 8, c: int = 8) -> dict:
    """Random weights in the file's layout (conv HWIO, matmul in×out): 1 ordinary + 1 gpool block."""
    rng = np.random.default_rng(seed)
    ns, ng = (22, 19) if version >= 8 else (22, 14)  # inputs v7; v3/v4 for model versions 3-5

    def conv(k: int, cin: int, cout: int) -> np.ndarray:
        return rng.normal(0, 1 / np.sqrt(k * k * cin), (k, k, cin, cout)).astype(F32)

    def bn(n: int, scale: bool = True) -> dict:
        return {"mean": rng.normal(0, 0.3, n).astype(F32), "var": rng.uniform(0.5, 2, n).astype(F32),
                "eps": 1e-5, "scale": rng.uniform(0.5, 1.5, n).astype(F32) if scale else None,
                "bias": rng.normal(0, 0.3, n).astype(F32)}

    def mm(i: int, o: int) -> np.ndarray:
        return rng.normal(0, 1 / np.sqrt(i), (i, o)).astype(F32)

    def vec(n: int) -> np.ndarray:
        return rng.normal(0, 0.3, n).astype(F32)

    return {
        "name": f"tiny-b2c{c}", "version": version, "spatial": ns, "global": ng,
        "trunk": {"conv": conv(5, ns, c), "global": mm(ng, c), "tip_bn": bn(c, scale=False), "blocks": [
            ("ordinary_block", {"pre_bn": bn(c, False), "conv1": conv(3, c, 6), "mid_bn": bn(6),
                                "conv2": conv(3, 6, c)}),
            ("gpool_block", {"pre_bn": bn(c, False), "regular": conv(3, c, 6), "gpool": conv(3, c, 4),
                             "gpool_bn": bn(4), "to_bias": mm(12, 6), "mid_bn": bn(6), "final": conv(3, 6, c)}),
        ]},
        "policy": {"p1": conv(1, c, 4), "g1": conv(1, c, 3), "g1_bn": bn(3), "to_bias": mm(9, 4), "p1_bn": bn(4),
                   "p2": conv(1, 4, 1), "to_pass": mm(9, 1)},
        "value": {"v1": conv(1, c, 4), "v1_bn": bn(4), "v2": mm(12, 5), "v2b": vec(5), "v3": mm(5, 3),
                  "v3b": vec(3), "sv3": mm(5, score_outputs(version)), "sv3b": vec(score_outputs(version)),
                  "own": conv(1, 4, 1)},
    }


def serialize(m: dict, binary: bool = True, block_kind: str | None = None) -> bytes:
    """The model in KataGo's container order (desc.cpp)."""
    w = KataGoWriter(m["version"], binary)
    t, p, v = m["trunk"], m["policy"], m["value"]
    w.tokens(m["name"])
    w.tokens(m["version"])
    w.tokens(m["spatial"])
    w.tokens(m["global"])
    w.tokens("trunk", len(t["blocks"]), t["conv"].shape[3], 6, 6, 0, 4)
    w.conv("conv1", t["conv"])
    w.matmul("ginputw", t["global"])
    for i, (kind, b) in enumerate(t["blocks"]):
        w.block(f"rconv{i + 1}", kind, {**b, "act": "relu"}, token=block_kind)
    w.bn("trunk/norm", t["tip_bn"])
    w.act("trunk/actv")
    w.policy_head({**p, "act": "relu", "pass1": p["to_pass"]}, p1_name="p1/intermediate_conv/w")
    w.value_head({**v, "act": "relu"})
    return w.data()


# -- an independent numpy forward pass ---------------------------------------------------------------

def np_conv(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Same-size zero-padded convolution; x [B,C,H,W], w [ky,kx,in,out]."""
    ky, kx = w.shape[:2]
    h, wd = x.shape[2:]
    xp = np.pad(x, ((0, 0), (0, 0), (ky // 2, ky // 2), (kx // 2, kx // 2)))
    out = np.zeros((x.shape[0], w.shape[3], h, wd))
    for dy in range(ky):
        for dx in range(kx):
            out += np.einsum("bihw,io->bohw", xp[:, :, dy:dy + h, dx:dx + wd], w[dy, dx])
    return out


def np_bn_relu(x: np.ndarray, bn: dict, mask: np.ndarray) -> np.ndarray:
    shape = (1, -1, 1, 1)
    y = (x - bn["mean"].reshape(shape)) / np.sqrt(bn["var"].reshape(shape) + bn["eps"])
    if bn["scale"] is not None:
        y = y * bn["scale"].reshape(shape)
    if bn["bias"] is not None:
        y = y + bn["bias"].reshape(shape)
    return np.maximum(y, 0) * mask


def np_pool(x: np.ndarray, mask: np.ndarray, value_head: bool = False) -> np.ndarray:
    n = mask.sum(axis=(1, 2, 3))[:, None]
    mean = x.sum(axis=(2, 3)) / n
    k = (np.sqrt(n) - 14) / 10
    if value_head:
        return np.concatenate([mean, mean * k, mean * (k * k - 0.1)], axis=1)
    mx = np.where(mask > 0, x, -np.inf).max(axis=(2, 3))
    return np.concatenate([mean, mean * k, mx], axis=1)


def np_forward(m: dict, spatial: np.ndarray, glob: np.ndarray) -> dict[str, np.ndarray]:
    """KataGo's forward pass (format notes §2) in float64."""
    x64, g64 = spatial.astype(np.float64), glob.astype(np.float64)
    mask = x64[:, :1]
    t, p, v = m["trunk"], m["policy"], m["value"]
    trunk = np_conv(x64, t["conv"]) + (g64 @ t["global"])[:, :, None, None]
    for kind, b in t["blocks"]:
        a = np_bn_relu(trunk, b["pre_bn"], mask)
        if kind == "ordinary_block":
            trunk = trunk + np_conv(np_bn_relu(np_conv(a, b["conv1"]), b["mid_bn"], mask), b["conv2"])
        else:
            g = np_bn_relu(np_conv(a, b["gpool"]), b["gpool_bn"], mask)
            r = np_conv(a, b["regular"]) + (np_pool(g, mask) @ b["to_bias"])[:, :, None, None]
            trunk = trunk + np_conv(np_bn_relu(r, b["mid_bn"], mask), b["final"])
    trunk = np_bn_relu(trunk, t["tip_bn"], mask)
    g1 = np_pool(np_bn_relu(np_conv(trunk, p["g1"]), p["g1_bn"], mask), mask)
    p1 = np_conv(trunk, p["p1"]) + (g1 @ p["to_bias"])[:, :, None, None]
    board = np_conv(np_bn_relu(p1, p["p1_bn"], mask), p["p2"]).reshape(len(x64), -1)
    policy = np.concatenate([board, g1 @ p["to_pass"]], axis=1)
    v1 = np_bn_relu(np_conv(trunk, v["v1"]), v["v1_bn"], mask)
    v2 = np.maximum(np_pool(v1, mask, value_head=True) @ v["v2"] + v["v2b"], 0)
    score = v2 @ v["sv3"] + v["sv3b"]
    if score.shape[1] == 2:  # versions 4-7: lead repeats scoreMean, no varTimeLeft
        score = np.concatenate([score, score[:, :1], np.zeros_like(score[:, :1])], axis=1)
    return {"out_policy": policy, "out_value": v2 @ v["v3"] + v["v3b"], "out_score": score[:, :4],
            "out_ownership": np_conv(v1, v["own"])[:, 0]}


def random_inputs(rng: np.random.Generator, batch: int, h: int, w: int,
                  boards: list[tuple[int, int]] | None = None, ng: int = 19) -> tuple[np.ndarray, np.ndarray]:
    """Random binary features; sample i's board is ``boards[i]`` (rows, cols) in the top-left corner."""
    x = (rng.random((batch, 22, h, w)) < 0.3).astype(F32)
    for i in range(batch):
        bh, bw = boards[i] if boards else (h, w)
        x[i, :, bh:, :] = 0
        x[i, :, :, bw:] = 0
        x[i, 0, :bh, :bw] = 1
    return x, rng.normal(0, 1, (batch, ng)).astype(F32)


def run(path: Path, spatial: np.ndarray, glob: np.ndarray) -> dict[str, np.ndarray]:
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    sess = ort.InferenceSession(str(path), sess_options=so, providers=["CPUExecutionProvider"])
    names = [o.name for o in sess.get_outputs()]
    return dict(zip(names, sess.run(None, {"input_spatial": spatial, "input_global": glob})))


# -- synthetic model tests -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> tuple[dict, Path, Path]:
    """(weights, .bin.gz file, converted .onnx)."""
    d = tmp_path_factory.mktemp("katago")
    m = random_model()
    src = d / "tiny-b2c8.bin.gz"
    src.write_bytes(gzip.compress(serialize(m)))
    dst = d / "tiny.onnx"
    import_katago(src, dst)
    return m, src, dst


@pytest.mark.parametrize("size,boards", [(9, None), (13, [(13, 13), (9, 9), (11, 7)])])
def test_synthetic_net_matches_numpy(tiny, size, boards) -> None:
    m, _, onnx_path = tiny
    rng = np.random.default_rng(size)
    spatial, glob = random_inputs(rng, 3, size, size, boards)
    got, want = run(onnx_path, spatial, glob), np_forward(m, spatial, glob)
    assert got["out_policy"].shape == (3, size * size + 1)
    assert got["out_ownership"].shape == (3, size, size)
    for name, ref in want.items():
        if name == "out_ownership" and boards:  # off-board points are not defined
            ref = ref * spatial[:, 0]
            got[name] = got[name] * spatial[:, 0]
        np.testing.assert_allclose(got[name], ref, atol=1e-4, rtol=1e-4, err_msg=name)


def test_rectangular_board(tiny) -> None:
    m, _, onnx_path = tiny
    spatial, glob = random_inputs(np.random.default_rng(5), 2, 10, 7)
    got, want = run(onnx_path, spatial, glob), np_forward(m, spatial, glob)
    assert got["out_policy"].shape == (2, 71) and got["out_ownership"].shape == (2, 10, 7)
    for name, ref in want.items():
        np.testing.assert_allclose(got[name], ref, atol=1e-4, rtol=1e-4, err_msg=name)


def test_metadata_and_signature(tiny) -> None:
    m, src, onnx_path = tiny
    proto = onnx.load(str(onnx_path))
    meta = {p.key: p.value for p in proto.metadata_props}
    assert meta["tabula.game"] == "go" and meta["tabula.codec"] == "katago-v7"
    assert meta["tabula.value"] == "katago" and meta["tabula.katago.input_version"] == "7"
    assert meta["tabula.katago.model_name"] == "tiny-b2c8" and meta["tabula.katago.model_version"] == "8"
    assert meta["tabula.katago.parameters"] == str(param_count(m))
    assert meta["tabula.source"] == src.name and meta["tabula.converted_by"] == "tabula nets import-katago"
    assert [i.name for i in proto.graph.input] == ["input_spatial", "input_global"]
    assert [o.name for o in proto.graph.output] == ["out_policy", "out_value", "out_score", "out_ownership"]
    assert proto.opset_import[0].version == 17


def test_text_and_plain_variants_read_the_same(tiny, tmp_path) -> None:
    m, src, _ = tiny
    ref = read_model(src)
    for name, data in [("t.txt", serialize(m, binary=False)), ("t.txt.gz", gzip.compress(serialize(m, False))),
                       ("t.bin", serialize(m))]:
        (tmp_path / name).write_bytes(data)
        got = read_model(tmp_path / name)
        assert got.params() == ref.params() == param_count(m)
        np.testing.assert_array_equal(got.trunk.initial_conv.weight, ref.trunk.initial_conv.weight)
        np.testing.assert_array_equal(got.value.sv3_bias.bias, ref.value.sv3_bias.bias)
    # conv weights come out as [out, in, ky, kx]
    np.testing.assert_array_equal(ref.trunk.initial_conv.weight, m["trunk"]["conv"].transpose(3, 2, 0, 1))


@pytest.mark.parametrize("version", [5, 11])
def test_other_versions(tmp_path, version) -> None:
    m = random_model(seed=2, version=version)
    src = tmp_path / "m.bin.gz"
    src.write_bytes(gzip.compress(serialize(m)))
    summary = import_katago(src, tmp_path / "m.onnx")
    assert summary.model_version == version and summary.input_version == (7 if version >= 8 else 4)
    assert summary.codec == f"katago-v{summary.input_version}"
    spatial, glob = random_inputs(np.random.default_rng(0), 2, 7, 7, ng=m["global"])
    got, want = run(tmp_path / "m.onnx", spatial, glob), np_forward(m, spatial, glob)
    for name, ref in want.items():
        np.testing.assert_allclose(got[name], ref, atol=1e-4, rtol=1e-4, err_msg=name)


# -- errors ----------------------------------------------------------------------------------------------

def test_truncated_files(tiny, tmp_path) -> None:
    m, _, _ = tiny
    raw = serialize(m)
    for cut, where in [(len(raw) // 2, "weights"), (len(raw) - 30, "weights"), (12, "header")]:
        (tmp_path / "cut.bin").write_bytes(raw[:cut])
        with pytest.raises(KataGoFormatError, match="truncated"):
            read_model(tmp_path / "cut.bin")
    (tmp_path / "cut.bin.gz").write_bytes(gzip.compress(raw)[:-100])
    with pytest.raises(KataGoFormatError, match="gzip"):
        read_model(tmp_path / "cut.bin.gz")


def test_trailing_data_and_bad_weights(tiny, tmp_path) -> None:
    m, _, _ = tiny
    (tmp_path / "extra.bin").write_bytes(serialize(m) + b"moreheads 1 2 3\n")
    with pytest.raises(KataGoFormatError, match="after the value head"):
        read_model(tmp_path / "extra.bin")
    bad = random_model()
    bad["policy"]["p2"][0, 0, 1, 0] = np.nan
    (tmp_path / "nan.bin").write_bytes(serialize(bad))
    with pytest.raises(KataGoFormatError, match="p2/w: NaN"):
        read_model(tmp_path / "nan.bin")


@pytest.mark.parametrize("version,pattern", [(18, "version 18 .*newer than KataGo 1.17"),
                                             (2, "version 2 .*too old")])
def test_unsupported_versions(tmp_path, version, pattern) -> None:
    m = random_model(version=8)
    raw = serialize(m).replace(b"\n8\n22\n", f"\n{version}\n22\n".encode(), 1)
    (tmp_path / "v.bin").write_bytes(raw)
    with pytest.raises(KataGoFormatError, match=pattern) as info:
        read_model(tmp_path / "v.bin")
    assert "supports model versions 3-17" in str(info.value)


def test_unsupported_activation_and_block(tmp_path) -> None:
    m = random_model(version=11)
    raw = serialize(m).replace(b"rconv1/actv1 ACTIVATION_RELU", b"rconv1/actv1 ACTIVATION_GELU")
    (tmp_path / "gelu.bin").write_bytes(raw)
    with pytest.raises(KataGoFormatError, match="ACTIVATION_GELU is not supported"):
        read_model(tmp_path / "gelu.bin")
    (tmp_path / "db.bin").write_bytes(serialize(random_model(), block_kind="dilated_block"))
    with pytest.raises(KataGoFormatError, match="'dilated_block', which is not supported"):
        read_model(tmp_path / "db.bin")


def test_wrong_input_counts(tmp_path) -> None:
    raw = serialize(random_model()).replace(b"\n8\n22\n19\n", b"\n8\n22\n18\n", 1)
    (tmp_path / "g.bin").write_bytes(raw)
    with pytest.raises(KataGoFormatError, match="22 spatial and 19 global"):
        read_model(tmp_path / "g.bin")


def test_not_a_model(tmp_path) -> None:
    (tmp_path / "x.bin.gz").write_bytes(gzip.compress(b"hello world, this is not a net\n"))
    with pytest.raises(KataGoFormatError, match="model version"):
        read_model(tmp_path / "x.bin.gz")
    (tmp_path / "y.bin").write_bytes(np.random.default_rng(0).bytes(5000))
    with pytest.raises(KataGoFormatError):
        read_model(tmp_path / "y.bin")


def test_default_output_name() -> None:
    assert default_output("/a/b/net-s1.bin.gz") == Path("/a/b/net-s1.onnx")
    assert default_output("net.txt") == Path("net.onnx")
    assert default_output("weird") == Path("weird.onnx")


# -- the CLI ---------------------------------------------------------------------------------------------

def test_cli_import(tiny, tmp_path) -> None:
    from click.testing import CliRunner

    from tabula.protocols.cli import main

    m, src, _ = tiny
    copy = tmp_path / src.name
    copy.write_bytes(src.read_bytes())
    result = CliRunner().invoke(main, ["nets", "import-katago", str(copy)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "tiny-b2c8.onnx").is_file()
    assert f"{param_count(m):,} parameters" in result.output and "katago-v7" in result.output
    out = tmp_path / "sub" / "x.onnx"
    result = CliRunner().invoke(main, ["nets", "import-katago", str(copy), "-o", str(out)])
    assert result.exit_code == 0 and out.is_file()


def test_cli_errors(tmp_path, monkeypatch) -> None:
    import sys

    from click.testing import CliRunner

    from tabula.protocols.cli import main

    bad = tmp_path / "bad.bin.gz"
    bad.write_bytes(gzip.compress(b"name 18 22 19\n"))
    result = CliRunner().invoke(main, ["nets", "import-katago", str(bad)])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].lower().startswith("error: ") and "version 18" in lines[0]
    monkeypatch.setitem(sys.modules, "onnx", None)
    result = CliRunner().invoke(main, ["nets", "import-katago", str(bad)])
    assert result.exit_code == 1 and "pip install onnx" in result.output


# -- the real g170 net against KataGo's own outputs ---------------------------------------------------------

@pytest.fixture(scope="module")
def real_net(tmp_path_factory) -> Path:
    if not REAL_NET.is_file():
        pytest.skip(f"KataGo test net not found at {REAL_NET} (set TABULA_KATAGO_NET to "
                    "g170-b6c96-s175395328-d26788732.bin.gz from lightvector/KataGo cpp/tests/models)")
    out = tmp_path_factory.mktemp("g170") / "g170.onnx"
    summary = import_katago(REAL_NET, out)
    assert summary.parameters == 1_027_911
    return out


def test_real_net_summary(real_net) -> None:
    meta = {p.key: p.value for p in onnx.load(str(real_net)).metadata_props}
    assert meta["tabula.katago.model_name"] == "g170-b6c96-s175395328-d26788732"
    assert meta["tabula.katago.model_version"] == "8" and meta["tabula.katago.parameters"] == "1027911"
    model = read_model(REAL_NET)
    assert model.block_kinds == ["ordinary", "ordinary", "gpool", "ordinary", "gpool", "ordinary"]
    assert model.trunk.channels == 96 and model.params() == 1_027_911


def max_differences(cases: list[dict], real_net: Path) -> dict[str, float]:
    """Largest |ours − KataGo's| per output over ``cases`` (all the same board size)."""
    feats = [katago_features(c) for c in cases]
    spatial = np.stack([apply_symmetry(f[0], c["symmetry"]) for f, c in zip(feats, cases)])
    glob = np.stack([f[1] for f in feats])
    out = run(real_net, spatial, glob)
    worst: dict[str, float] = {}
    for i, (case, (_, _, stones, pla)) in enumerate(zip(cases, feats)):
        got = postprocess(out, i, case, stones, pla)
        diffs = differences(got, case, stones)
        diffs["scoreSq_rel"] = abs(got["whiteScoreSelfplaySq"] / case["whiteScoreSelfplaySq"] - 1)
        keep_worst(worst, diffs)
    return worst


def check_worst(worst: dict[str, float]) -> None:
    limits = {"policy": 2e-3, "policyPass": 1e-5, "ownership": 2e-3, "whiteWin": 2e-3, "whiteLoss": 2e-3,
              "noResult": 1e-5, "whiteLead": 0.02, "whiteScoreSelfplay": 0.02, "scoreSq_rel": 2e-3}
    over = {k: v for k, v in worst.items() if v > limits[k]}
    assert not over, f"differences from KataGo over the limits: {over} (all: {worst})"


def rawnn_cases() -> list[dict]:
    return json.loads((DATA / "katago_rawnn_g170.json").read_text())["cases"]


def test_real_net_reproduces_kata_raw_nn_9x9(real_net) -> None:
    """9×9 Chinese rules, B C3 W C6, symmetries 1, 4, 6."""
    check_worst(max_differences([c for c in rawnn_cases() if c["x_size"] == 9], real_net))


def test_real_net_reproduces_kata_raw_nn_7x10(real_net) -> None:
    """7 wide × 10 tall, New Zealand rules, B C3 W C7 B F7, all 8 symmetries (transposes ignored: not square)."""
    check_worst(max_differences([c for c in rawnn_cases() if c["x_size"] == 7], real_net))
