"""Leela Zero text weights (``.txt`` or ``.gz``) → ONNX for :class:`~engine.codecs.leelaz.LeelaZeroCodec`.

Format (``shared/formats/go.md`` §1): line 1 is the version (1: value for the side
to move; 2: ELF OpenGo nets, value from Black's view), then one row of
space-separated floats per tensor: the 3×3 input convolution 18→C (weights, biases,
BN means, BN variances), 8 rows per residual block (two such convolutions), the
policy head (1×1 conv C→2 with BN, FC 722→362) and the value head (1×1 conv C→1
with BN, FC 361→256, FC 256→1). BN has no scale/shift:
``y = (conv(x) + bias − mean) / sqrt(var + 1e-5)``; ReLU after every BN, the
residual added before the block's second ReLU.

The ONNX graph folds each BN into its convolution and outputs ``output_policy``
[B, 362] as **logits** (Leela Zero softmaxes them; our search softmaxes over the
legal moves) and ``output_value`` [B, 1] = tanh(value) for the side to move (a
format-2 net's Black-view value is multiplied by +1/−1 read from input planes
16/17 inside the graph). :func:`forward_numpy` is an independent numpy forward
pass (unfolded BN, explicit 3×3 taps) to check the graph against.

Usage::

    python -m tabula.nets.leelaz_import weights.txt.gz lz.onnx --check 16

Needs ``onnx`` (the ``test``/``train`` extras) to convert; reading and the numpy
forward pass need only numpy.
"""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

__all__ = ["LeelaZeroWeights", "read_weights", "write_weights", "random_weights", "forward_numpy",
           "to_onnx", "convert", "check_onnx", "random_planes"]

BOARD = 19
POINTS = BOARD * BOARD
PLANES = 18
POLICY = POINTS + 1
VALUE_HIDDEN = 256
BN_EPS = 1e-5
#: rows besides the residual blocks (input conv 4, policy 4+2, value 4+2+2)
FIXED_ROWS = 4 + 6 + 8


@dataclass
class ConvBN:
    """One convolution with its bias and batch-norm statistics (Leela Zero's 4 rows)."""

    w: np.ndarray     #: [out, in, k, k]
    b: np.ndarray     #: [out]
    mean: np.ndarray  #: [out]
    var: np.ndarray   #: [out]

    def rows(self) -> list[np.ndarray]:
        return [self.w, self.b, self.mean, self.var]


@dataclass
class LeelaZeroWeights:
    """A Leela Zero network's tensors, shaped."""

    version: int
    input: ConvBN
    blocks: list[tuple[ConvBN, ConvBN]]
    policy_conv: ConvBN
    policy_fc_w: np.ndarray  #: [362, 722]
    policy_fc_b: np.ndarray
    value_conv: ConvBN
    value_fc1_w: np.ndarray  #: [256, 361]
    value_fc1_b: np.ndarray
    value_fc2_w: np.ndarray  #: [1, 256]
    value_fc2_b: np.ndarray
    source: dict[str, str] = field(default_factory=dict)

    @property
    def filters(self) -> int:
        return int(self.input.w.shape[0])

    @property
    def arch(self) -> str:
        """``blocks x filters``, e.g. ``6x128``."""
        return f"{len(self.blocks)}x{self.filters}"

    def rows(self) -> list[np.ndarray]:
        """Every tensor in file order."""
        out = self.input.rows()
        for c1, c2 in self.blocks:
            out += c1.rows() + c2.rows()
        out += self.policy_conv.rows() + [self.policy_fc_w, self.policy_fc_b]
        out += self.value_conv.rows() + [self.value_fc1_w, self.value_fc1_b, self.value_fc2_w, self.value_fc2_b]
        return out


# -- reading and writing the text format ------------------------------------------------


def _open_text(path: Path):
    with open(path, "rb") as f:
        magic = f.read(2)
    if magic == b"\x1f\x8b":
        return gzip.open(path, "rt", encoding="ascii")
    return open(path, "rt", encoding="ascii")


def _parse_row(line: str, lineno: int) -> np.ndarray:
    try:
        return np.array(line.split(), dtype=np.float32)
    except ValueError:
        raise ValueError(f"line {lineno}: not a row of numbers") from None


def read_weights(path: str | Path) -> LeelaZeroWeights:
    """Read a Leela Zero weights file (plain or gzip); raises ValueError saying what is wrong."""
    path = Path(path)
    with _open_text(path) as f:
        head = f.readline().strip()
        if head not in ("1", "2"):
            raise ValueError(f"{path}: first line must be the format version 1 or 2, got {head[:20]!r}")
        rows = [_parse_row(line, i + 2) for i, line in enumerate(f) if line.strip()]
    n = len(rows)
    blocks, rem = divmod(n - FIXED_ROWS, 8)
    if n < FIXED_ROWS + 8 or rem:
        raise ValueError(f"{path}: {n} weight rows; a Leela Zero net has {FIXED_ROWS} + 8 per residual "
                         f"block (at least one)")
    c = rows[1].size
    if c == 0:
        raise ValueError(f"{path}: empty input-convolution bias row")
    it = iter(enumerate(rows, start=2))

    def take(shape: tuple[int, ...], what: str) -> np.ndarray:
        lineno, row = next(it)
        if row.size != int(np.prod(shape)):
            raise ValueError(f"{path}: line {lineno} ({what}) has {row.size} numbers, expected "
                             f"{int(np.prod(shape))} for {blocks} blocks x {c} filters")
        return row.reshape(shape)

    def conv(cin: int, cout: int, k: int, what: str) -> ConvBN:
        w = take((cout, cin, k, k), f"{what} weights")
        b = take((cout,), f"{what} biases")
        mean = take((cout,), f"{what} BN means")
        var = take((cout,), f"{what} BN variances")
        if (var < 0).any():
            raise ValueError(f"{path}: {what} has negative BN variances")
        return ConvBN(w, b, mean, var)

    inp = conv(PLANES, c, 3, "input conv")
    res = [(conv(c, c, 3, f"block {i + 1} conv 1"), conv(c, c, 3, f"block {i + 1} conv 2"))
           for i in range(blocks)]
    pconv = conv(c, 2, 1, "policy conv")
    pw, pb = take((POLICY, 2 * POINTS), "policy FC weights"), take((POLICY,), "policy FC biases")
    vconv = conv(c, 1, 1, "value conv")
    v1w, v1b = take((VALUE_HIDDEN, POINTS), "value FC1 weights"), take((VALUE_HIDDEN,), "value FC1 biases")
    v2w, v2b = take((1, VALUE_HIDDEN), "value FC2 weights"), take((1,), "value FC2 biases")
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    return LeelaZeroWeights(int(head), inp, res, pconv, pw, pb, vconv, v1w, v1b, v2w, v2b,
                            source={"file": path.name, "sha256": sha})


def write_weights(weights: LeelaZeroWeights, path: str | Path) -> Path:
    """Write ``weights`` in the text format (gzip when the name ends in ``.gz``)."""
    path = Path(path)
    lines = [str(weights.version)] + [" ".join(f"{x:.8g}" for x in r.ravel()) for r in weights.rows()]
    text = "\n".join(lines) + "\n"
    if path.suffix == ".gz":
        # gzip(1)'s own level: 9 (Python's default) takes three times as long for 1 % less
        with gzip.open(path, "wt", encoding="ascii", compresslevel=6) as f:
            f.write(text)
    else:
        path.write_text(text, encoding="ascii")
    return path


def random_weights(blocks: int = 1, filters: int = 8, *, seed: int = 0, version: int = 1,
                   scale: float = 1.0) -> LeelaZeroWeights:
    """A random (untrained) net of the given size, e.g. for tests."""
    rng = np.random.default_rng(seed)

    def conv(cin: int, cout: int, k: int) -> ConvBN:
        w = rng.standard_normal((cout, cin, k, k)).astype(np.float32) * scale * np.sqrt(2.0 / (cin * k * k))
        return ConvBN(w, rng.uniform(0.0, 0.5, cout).astype(np.float32),
                      rng.standard_normal(cout).astype(np.float32) * 0.05,
                      rng.uniform(0.5, 1.5, cout).astype(np.float32))

    def fc(cin: int, cout: int) -> tuple[np.ndarray, np.ndarray]:
        return (rng.standard_normal((cout, cin)).astype(np.float32) / np.sqrt(cin),
                rng.standard_normal(cout).astype(np.float32) * 0.1)

    inp = conv(PLANES, filters, 3)
    res = [(conv(filters, filters, 3), conv(filters, filters, 3)) for _ in range(blocks)]
    pconv, (pw, pb) = conv(filters, 2, 1), fc(2 * POINTS, POLICY)
    vconv, (v1w, v1b), (v2w, v2b) = conv(filters, 1, 1), fc(POINTS, VALUE_HIDDEN), fc(VALUE_HIDDEN, 1)
    return LeelaZeroWeights(version, inp, res, pconv, pw, pb, vconv, v1w, v1b, v2w, v2b,
                            source={"file": f"random-{blocks}x{filters}-seed{seed}"})


# -- independent numpy forward pass -----------------------------------------------------------


def _conv_bn_relu(x: np.ndarray, layer: ConvBN, relu: bool = True) -> np.ndarray:
    """Convolution ('same' padding, by summing the k×k taps), bias, BN, optional ReLU."""
    k = layer.w.shape[2]
    pad = k // 2
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad))) if pad else x
    h, w = x.shape[2], x.shape[3]
    y = np.zeros((x.shape[0], layer.w.shape[0], h, w), np.float64)
    for dy in range(k):
        for dx in range(k):
            y += np.einsum("bchw,oc->bohw", xp[:, :, dy:dy + h, dx:dx + w], layer.w[:, :, dy, dx],
                           optimize=True)
    y = (y + layer.b[None, :, None, None] - layer.mean[None, :, None, None]) / \
        np.sqrt(layer.var[None, :, None, None] + BN_EPS)
    return np.maximum(y, 0.0) if relu else y


def forward_numpy(weights: LeelaZeroWeights, planes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(policy logits [B, 362], value [B] = tanh for the side to move) for input planes [B, 18, 19, 19]."""
    x = np.asarray(planes, np.float64)
    x = _conv_bn_relu(x, weights.input)
    for c1, c2 in weights.blocks:
        y = _conv_bn_relu(_conv_bn_relu(x, c1), c2, relu=False)
        x = np.maximum(x + y, 0.0)
    p = _conv_bn_relu(x, weights.policy_conv).reshape(x.shape[0], -1)
    policy = p @ weights.policy_fc_w.T.astype(np.float64) + weights.policy_fc_b
    v = _conv_bn_relu(x, weights.value_conv).reshape(x.shape[0], -1)
    v = np.maximum(v @ weights.value_fc1_w.T.astype(np.float64) + weights.value_fc1_b, 0.0)
    value = np.tanh(v @ weights.value_fc2_w.T.astype(np.float64) + weights.value_fc2_b)[:, 0]
    if weights.version == 2:  # ELF: Black's view → side to move's
        value = value * (np.asarray(planes)[:, 16, 0, 0] - np.asarray(planes)[:, 17, 0, 0])
    return policy.astype(np.float32), value.astype(np.float32)


# -- ONNX --------------------------------------------------------------------------------------


def _fold(layer: ConvBN) -> tuple[np.ndarray, np.ndarray]:
    """Convolution weights and bias with the BN folded in."""
    inv = 1.0 / np.sqrt(layer.var.astype(np.float64) + BN_EPS)
    w = layer.w * inv[:, None, None, None]
    b = (layer.b - layer.mean) * inv
    return w.astype(np.float32), b.astype(np.float32)


def to_onnx(weights: LeelaZeroWeights, *, provenance: str = "", opset: int = 17):
    """The ONNX ``ModelProto`` of ``weights`` (input ``input_planes``, outputs as above)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    nodes: list = []
    inits: list = []

    def const(name: str, arr: np.ndarray) -> str:
        inits.append(numpy_helper.from_array(np.ascontiguousarray(arr), name))
        return name

    def conv(x: str, layer: ConvBN, name: str, relu: bool = True) -> str:
        w, b = _fold(layer)
        k = w.shape[2]
        out = f"{name}/conv"
        nodes.append(helper.make_node("Conv", [x, const(f"{name}/w", w), const(f"{name}/b", b)], [out],
                                      kernel_shape=[k, k], pads=[k // 2] * 4, name=f"{name}/Conv"))
        if not relu:
            return out
        nodes.append(helper.make_node("Relu", [out], [f"{name}/relu"], name=f"{name}/Relu"))
        return f"{name}/relu"

    def gemm(x: str, w: np.ndarray, b: np.ndarray, name: str, out: str | None = None) -> str:
        out = out or f"{name}/out"
        nodes.append(helper.make_node("Gemm", [x, const(f"{name}/w", w), const(f"{name}/b", b)], [out],
                                      transB=1, name=f"{name}/Gemm"))
        return out

    x = conv("input_planes", weights.input, "input")
    for i, (c1, c2) in enumerate(weights.blocks):
        y = conv(conv(x, c1, f"block{i}/1"), c2, f"block{i}/2", relu=False)
        nodes.append(helper.make_node("Add", [x, y], [f"block{i}/sum"], name=f"block{i}/Add"))
        nodes.append(helper.make_node("Relu", [f"block{i}/sum"], [f"block{i}/out"], name=f"block{i}/Relu"))
        x = f"block{i}/out"
    p = conv(x, weights.policy_conv, "policy")
    nodes.append(helper.make_node("Flatten", [p], ["policy/flat"], axis=1, name="policy/Flatten"))
    gemm("policy/flat", weights.policy_fc_w, weights.policy_fc_b, "policy/fc", out="output_policy")
    v = conv(x, weights.value_conv, "value")
    nodes.append(helper.make_node("Flatten", [v], ["value/flat"], axis=1, name="value/Flatten"))
    h = gemm("value/flat", weights.value_fc1_w, weights.value_fc1_b, "value/fc1")
    nodes.append(helper.make_node("Relu", [h], ["value/fc1/relu"], name="value/fc1/Relu"))
    raw = gemm("value/fc1/relu", weights.value_fc2_w, weights.value_fc2_b, "value/fc2")
    if weights.version == 2:
        nodes.append(helper.make_node("Tanh", [raw], ["value/black"], name="value/Tanh"))
        starts = const("sl/starts", np.array([16, 0, 0], np.int64))
        ends = const("sl/ends", np.array([18, 1, 1], np.int64))
        axes = const("sl/axes", np.array([1, 2, 3], np.int64))
        nodes.append(helper.make_node("Slice", ["input_planes", starts, ends, axes], ["value/colour"],
                                      name="value/Slice"))
        nodes.append(helper.make_node("Conv", ["value/colour", const("value/sign_w",
                                      np.array([1.0, -1.0], np.float32).reshape(1, 2, 1, 1))],
                                      ["value/sign4"], kernel_shape=[1, 1], name="value/Sign"))
        nodes.append(helper.make_node("Flatten", ["value/sign4"], ["value/sign"], axis=1, name="value/SignFlat"))
        nodes.append(helper.make_node("Mul", ["value/black", "value/sign"], ["output_value"], name="value/Mul"))
    else:
        nodes.append(helper.make_node("Tanh", [raw], ["output_value"], name="value/Tanh"))
    graph = helper.make_graph(
        nodes, f"leelaz-{weights.arch}",
        [helper.make_tensor_value_info("input_planes", TensorProto.FLOAT, ["batch", PLANES, BOARD, BOARD])],
        [helper.make_tensor_value_info("output_policy", TensorProto.FLOAT, ["batch", POLICY]),
         helper.make_tensor_value_info("output_value", TensorProto.FLOAT, ["batch", 1])],
        inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="tabula")
    model.ir_version = 8
    meta = {
        "tabula.game": "go", "tabula.codec": "leelaz", "tabula.value": "tanh",
        "tabula.board_size": str(BOARD), "tabula.arch": weights.arch,
        "tabula.lz_format": str(weights.version),
        "tabula.provenance": provenance or "Leela Zero weights " + ", ".join(
            f"{k} {v}" for k, v in weights.source.items()),
    }
    for k, v in meta.items():
        model.metadata_props.add(key=k, value=v)
    onnx.checker.check_model(model)
    return model


def convert(src: str | Path, dst: str | Path, *, provenance: str = "") -> Path:
    """Read a Leela Zero weights file and write the ONNX net; returns ``dst``."""
    import onnx

    weights = read_weights(src)
    dst = Path(dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(to_onnx(weights, provenance=provenance), str(dst))
    return dst


def random_planes(n: int, seed: int = 0) -> np.ndarray:
    """``n`` plausible input planes: random stones (no overlaps), one colour plane set."""
    rng = np.random.default_rng(seed)
    out = np.zeros((n, PLANES, BOARD, BOARD), np.float32)
    for i in range(n):
        board = rng.choice(3, size=(8, BOARD, BOARD), p=[0.6, 0.2, 0.2])
        out[i, :8] = board == 1
        out[i, 8:16] = board == 2
        out[i, 16 + (i % 2)] = 1.0
    return out


def check_onnx(weights: LeelaZeroWeights, onnx_path: str | Path, planes: np.ndarray,
               atol: float = 1e-3) -> tuple[float, float]:
    """Max |difference| of (policy, value) between onnxruntime and :func:`forward_numpy`.

    Raises AssertionError when either exceeds ``atol`` (scaled by the largest
    reference logit when that is above 1: float32 rounding grows with the logits).
    """
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    sess = ort.InferenceSession(str(onnx_path), sess_options=so, providers=["CPUExecutionProvider"])
    pol, val = sess.run(["output_policy", "output_value"], {"input_planes": planes.astype(np.float32)})
    ref_p, ref_v = forward_numpy(weights, planes)
    dp, dv = float(np.abs(pol - ref_p).max()), float(np.abs(val[:, 0] - ref_v).max())
    if dp > atol * max(1.0, float(np.abs(ref_p).max())) or dv > atol:
        raise AssertionError(f"ONNX and numpy disagree: policy {dp:.3g}, value {dv:.3g} (atol {atol})")
    return dp, dv


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m tabula.nets.leelaz_import WEIGHTS OUT.onnx [--check N] [--provenance TEXT]``."""
    import argparse

    ap = argparse.ArgumentParser(description="Convert Leela Zero text weights to ONNX.")
    ap.add_argument("weights", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--check", type=int, default=8, metavar="N",
                    help="compare onnxruntime with the numpy forward pass on N random positions (0: skip)")
    ap.add_argument("--provenance", default="")
    a = ap.parse_args(argv)
    weights = read_weights(a.weights)
    import onnx

    onnx.save(to_onnx(weights, provenance=a.provenance), str(a.out))
    msg = f"{a.out}: Leela Zero format {weights.version}, {weights.arch}"
    if a.check > 0:
        dp, dv = check_onnx(weights, a.out, random_planes(a.check))
        msg += f"; checked on {a.check} positions (max diff policy {dp:.2g}, value {dv:.2g})"
    print(msg)


if __name__ == "__main__":
    main()
