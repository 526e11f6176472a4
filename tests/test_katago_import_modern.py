"""KataGo model versions 12-17 (nets/katago_model.py and friends) through ``import-katago``.

Tiny random nets in each new format (tests/katago_tinynets.py writes them in KataGo's own
file format) are converted and checked against an independent numpy forward pass, and
against KataGo's own ``kata-raw-nn`` outputs on the same nets, recorded with KataGo 1.17's
Eigen backend (tests/data/katago_rawnn_tiny.json, made by tests/katago_record.py). The
features each version refuses are refused by name.
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

import katago_tinynets as T  # noqa: E402
from tabula.nets.katago_import import (KataGoFormatError, import_katago, parse_model,  # noqa: E402
                                       read_model, to_onnx)

DATA = Path(__file__).resolve().parent / "data"


def session(m: dict) -> ort.InferenceSession:
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    proto = to_onnx(parse_model(T.serialize(m)))
    return ort.InferenceSession(proto.SerializeToString(), sess_options=so, providers=["CPUExecutionProvider"])


def run(sess: ort.InferenceSession, spatial: np.ndarray, glob: np.ndarray) -> dict[str, np.ndarray]:
    names = [o.name for o in sess.get_outputs()]
    return dict(zip(names, sess.run(None, {"input_spatial": spatial, "input_global": glob})))


def inputs(rng: np.random.Generator, h: int, w: int, boards: list[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
    """Random binary features; board i is ``boards[i]`` (rows, cols) in the top-left corner."""
    x = (rng.random((len(boards), 22, h, w)) < 0.3).astype(np.float32)
    for i, (bh, bw) in enumerate(boards):
        x[i, :, bh:, :] = 0
        x[i, :, :, bw:] = 0
        x[i, 0, :bh, :bw] = 1
    return x, rng.normal(0, 1, (len(boards), 19)).astype(np.float32)


def check_against_numpy(m: dict, seed: int = 0) -> None:
    sess = session(m)
    rng = np.random.default_rng(seed)
    for h, w, boards in [(9, 9, [(9, 9), (9, 9)]), (10, 7, [(10, 7)]), (13, 13, [(13, 13), (9, 9), (11, 7)])]:
        x, g = inputs(rng, h, w, boards)
        got, want = run(sess, x, g), T.forward(m, x, g)
        assert set(got) == set(want)
        on = x[:, 0].reshape(len(boards), -1) > 0
        for name, ref in want.items():
            val = got[name]
            if name == "out_ownership":  # off-board points are not defined
                val, ref = val * x[:, 0], ref * x[:, 0]
            elif name.startswith("out_policy"):
                keep = np.concatenate([on, np.ones((len(boards), 1), bool)], axis=1)
                val, ref = np.where(keep, val, 0), np.where(keep, ref, 0)
            np.testing.assert_allclose(val, ref, atol=2e-5, rtol=1e-4, err_msg=f"{m['name']} {name} {h}x{w}")


# -- every new block kind, head and activation against numpy ----------------------------------------------

@pytest.mark.parametrize("version,act", [(12, "relu"), (13, "mish"), (14, "silu"), (15, "mish"), (16, "silu")])
def test_nested_bottleneck_nets(version, act) -> None:
    """Nested bottleneck blocks (ordinary + gpool inside), optimistic policy, v15+ pass MLP."""
    check_against_numpy(T.random_model(version, "nbt", act, seed=version))


@pytest.mark.parametrize("layout,tip,act,channels", [
    ("tf-fixed", "rms", "silu", 2), ("tf-learnable", "bn", "relu", 4), ("tf-gqa", "rms-spatial", "mish", 2),
    ("tf-none", "bn", "identity", 4)])
def test_transformer_nets(layout, tip, act, channels) -> None:
    """Version 17: attention (fixed / learnable / no RoPE, grouped KV heads), SwiGLU FFN, RMS-norm tips."""
    check_against_numpy(T.random_model(17, layout, act, seed=7, tip=tip, policy_channels=channels))


def test_metadata_encoder_is_fed_no_metadata(tmp_path) -> None:
    """A v15 net with an SGF-metadata encoder computes the same as without it (encoder left out)."""
    m = T.random_model(15, "nbt", "relu", seed=3, meta=True, pass_alive=True)
    model = parse_model(T.serialize(m))
    assert model.trunk.meta_encoder is not None and model.pass_alive_under_suicide
    check_against_numpy(m)
    src = tmp_path / "meta.bin.gz"
    src.write_bytes(gzip.compress(T.serialize(m)))
    summary = import_katago(src, tmp_path / "meta.onnx")
    text = "\n".join(summary.lines())
    assert "fed no metadata" in text and "as if suicide were legal" in text
    meta = {p.key: p.value for p in onnx.load(str(tmp_path / "meta.onnx")).metadata_props}
    assert meta["tabula.katago.metadata_encoder"].startswith("1")
    assert meta["tabula.katago.pass_alive_under_suicide_rules"] == "1"


def test_header_multipliers_and_signature(tmp_path) -> None:
    post = (21.0, 15.0, 25.0, 12.0, 41.0, 0.5, 150.0)
    m = T.random_model(13, "nbt", "mish", seed=4, post=post)
    src = tmp_path / "m.bin.gz"
    src.write_bytes(gzip.compress(T.serialize(m)))
    summary = import_katago(src, tmp_path / "m.onnx")
    assert summary.model_version == 13 and summary.gpool_blocks == 1 and summary.codec == "katago-v7"
    proto = onnx.load(str(tmp_path / "m.onnx"))
    meta = {p.key: p.value for p in proto.metadata_props}
    keys = ("td_score", "score_mean", "score_stdev", "lead", "variance_time", "shortterm_value_error",
            "shortterm_score_error")
    assert [float(meta[f"tabula.katago.{k}_multiplier"]) for k in keys] == list(post)
    assert meta["tabula.arch"] == "b2c8nbt"
    assert [o.name for o in proto.graph.output] == ["out_policy", "out_policy_optimistic", "out_value",
                                                     "out_score", "out_ownership"]


def test_text_format_reads_the_same() -> None:
    m = T.random_model(17, "tf-gqa", "silu", seed=5, tip="rms")
    a, b = parse_model(T.serialize(m)), parse_model(T.serialize(m, binary=False))
    assert a.params() == b.params() and a.inner_block_kinds() == b.inner_block_kinds()
    np.testing.assert_array_equal(a.trunk.blocks[0].rope_freqs, b.trunk.blocks[0].rope_freqs)


def test_parameter_count_as_katago_counts() -> None:
    """Every weight, but of a batch norm only scale and bias; RMS norms count gamma (and beta)."""
    m = T.random_model(17, "tf-learnable", "relu", seed=6, tip="rms")
    assert parse_model(T.serialize(m)).params() == T.param_count(m)


# -- refusals, by name ----------------------------------------------------------------------------------

def refuse(raw: bytes, pattern: str) -> None:
    with pytest.raises(KataGoFormatError, match=pattern):
        parse_model(raw)


def test_refusals() -> None:
    base = T.serialize(T.random_model(17, "tf-fixed", "relu", seed=8))
    # a feed-forward block without SwiGLU (KataGo's CPU backend refuses it too)
    refuse(base.replace(b"rconv2 8 12 1\n", b"rconv2 8 12 0\n", 1), "rconv2: a transformer_ffn_block without SwiGLU")
    # a grouped RMS norm at the trunk tip
    rms = T.serialize(T.random_model(17, "tf-fixed", "relu", seed=8, tip="rms"))
    refuse(rms.replace(b"trunk/rmsnorm 8 1e-06 0 0", b"trunk/rmsnorm 8 1e-06 0 4"), "grouped RMS norm")
    refuse(base.replace(b"\n17\n", b"\n18\n", 1), "model version 18 is not supported: newer than KataGo 1.17")
    refuse(base.replace(b"policyhead\n2 0 0 0", b"policyhead\n3 0 0 0"), "policy head has 3 output channels")
    refuse(base.replace(b"policyhead\n2 0 0 0", b"policyhead\n2 0 1 0"), "policy head option 2 is 1")
    refuse(base.replace(b"valuehead\n0 0 0", b"valuehead\n0 0 7"), "value head option 3 is 7")
    refuse(base.replace(b"ACTIVATION_RELU", b"ACTIVATION_GELU", 1), "ACTIVATION_GELU is not supported")
    refuse(base.replace(b"transformer_ffn_block", b"moe_block", 1), "'moe_block', which is not supported")
    v15 = T.serialize(T.random_model(15, "nbt", "relu", seed=9))
    refuse(v15.replace(b"\n0 0 0 0 0 0 0 0\ntrunk", b"\n2 0 0 0 0 0 0 0\ntrunk"), "metadata encoder version 2")
    refuse(v15.replace(b"\n0 0 0 0 0 0 0 0\ntrunk", b"\n0 0 0 0 0 0 0 5\ntrunk"), "model header option 6 is 5")
    refuse(v15.replace(b"0 3\n0 0 0 0 0 0\nconv1", b"0 3\n2 0 0 0 0 0\nconv1"), "trunk norm kind 2")
    v13 = T.serialize(T.random_model(13, "nbt", "relu", seed=10))
    refuse(v13.replace(b"\n20.0 20.0 20.0", b"\n-1.0 20.0 20.0", 1), "td_score multiplier -1.0")


# -- the codec reads the new signature ----------------------------------------------------------------------

def test_codec_reads_optimistic_nets_and_lead_multiplier(tmp_path) -> None:
    from tabula.engine.codecs.base import NetSignature
    from tabula.engine.codecs.katago import KataGoCodec

    m = T.random_model(13, "nbt", "relu", seed=11, post=(20.0, 20.0, 20.0, 12.5, 40.0, 0.25, 30.0))
    src = tmp_path / "m.bin.gz"
    src.write_bytes(gzip.compress(T.serialize(m)))
    import_katago(src, tmp_path / "m.onnx")
    proto = onnx.load(str(tmp_path / "m.onnx"))
    shape = lambda vi: tuple(d.dim_value or d.dim_param for d in vi.type.tensor_type.shape.dim)  # noqa: E731
    sig = NetSignature(str(tmp_path / "m.onnx"), {i.name: shape(i) for i in proto.graph.input},
                       {o.name: shape(o) for o in proto.graph.output}, {p.key: p.value for p in proto.metadata_props})
    assert KataGoCodec.accepts(sig)
    codec = KataGoCodec(sig)
    assert codec.policy_output == "out_policy" and codec.lead_scale == 12.5
    out = {"out_score": np.array([[0.0, 0.0, 2.0, 0.0]], np.float32)}
    assert codec.decode_score(out, 1)[0] == pytest.approx(25.0)


# -- KataGo's own outputs on the tiny nets ------------------------------------------------------------------

def recorded() -> dict:
    path = DATA / "katago_rawnn_tiny.json"
    if not path.is_file():
        pytest.skip(f"{path.name} not recorded (tests/katago_record.py with a KataGo binary)")
    return json.loads(path.read_text())


@pytest.mark.parametrize("net", sorted(T.RECORDED))
def test_tiny_nets_reproduce_kata_raw_nn(net) -> None:
    """KataGo 1.17 (Eigen, CPU) ``kata-raw-nn`` on our own tiny nets: policy, pass, value, lead, ownership."""
    from katago_record import compare_cases

    data = recorded()
    cases = [c for c in data["cases"] if c["net"] == net]
    assert cases, f"no recorded cases for {net}"
    worst = compare_cases(T.recorded_model(net), cases)
    limits = {"policy": 1e-3, "policyPass": 1e-3, "whiteWin": 1e-3, "whiteLoss": 1e-3, "noResult": 1e-3,
              "whiteLead": 1e-3 * 20, "whiteScoreSelfplay": 1e-3 * 20, "ownership": 1e-3}
    over = {k: v for k, v in worst.items() if v > limits.get(k, 1e-3)}
    assert not over, f"{net}: differences from KataGo over the limits: {over} (all: {worst})"


def test_file_round_trip(tmp_path) -> None:
    m = T.recorded_model("v17-tf-gqa-bn")
    src = tmp_path / "g.bin.gz"
    src.write_bytes(gzip.compress(T.serialize(m)))
    model = read_model(src)
    assert model.version == 17 and model.policy.channels == 4
    assert model.inner_block_kinds()[:2] == ["transformer_attention", "transformer_ffn"]


# -- KataGo's own v17 test models, live against a KataGo binary ------------------------------------------

KATAGO_BIN = Path(os.environ.get("TABULA_KATAGO_BIN", "/root/katago-build/katago"))
KATAGO_MODELS = Path(os.environ.get("TABULA_KATAGO_MODELS", "/root/katago-src/cpp/tests/models"))


#: parameter counts KataGo 1.17 logs for its test nets ("transformer, N params")
KATAGO_PARAMS = {"b7c96h3tfrs-test5-cnorm": 818_953, "b7c96h6kv3qk32v16tflrs-fson-bnh": 851_881}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(KATAGO_PARAMS))
def test_katago_test_models_match_katago(name) -> None:
    """KataGo's v17 transformer test nets (cpp/tests/models): ours vs its Eigen ``kata-raw-nn``, live."""
    from katago_record import CONFIG, compare_proto, record_cases

    path = KATAGO_MODELS / f"{name}.bin.gz"
    if not (KATAGO_BIN.is_file() and path.is_file() and Path(CONFIG).is_file()):
        pytest.skip(f"needs KataGo's {path.name} (TABULA_KATAGO_MODELS, from lightvector/KataGo cpp/tests/models), "
                    "a KataGo 1.17 binary (TABULA_KATAGO_BIN) and its gtp_example.cfg (TABULA_KATAGO_CONFIG)")
    model = read_model(path)
    assert model.version == 17 and model.params() == KATAGO_PARAMS[name]
    post = (model.postprocess.td_score, model.postprocess.score_mean, model.postprocess.score_stdev,
            model.postprocess.lead)
    worst = compare_proto(to_onnx(model), post, record_cases(str(KATAGO_BIN), path))
    over = {k: v for k, v in worst.items() if v > (0.02 if k in ("whiteLead", "whiteScoreSelfplay") else 1e-3)}
    assert not over, f"{name}: differences from KataGo over the limits: {over} (all: {worst})"
