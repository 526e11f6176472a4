"""KataGo model files → ONNX nets for the go engine (``tabula nets import-katago``).

Reads KataGo's own container (``.bin.gz``, ``.bin``, ``.txt.gz``, ``.txt``; facts in
``shared/formats/katago.md`` §1) into plain dataclasses of numpy arrays, then writes an
ONNX graph (``onnx.helper``, opset 17) that computes exactly KataGo's forward pass
(``cpp/neuralnet/eigenbackend.cpp``): the mask is spatial plane 0, every batch norm +
activation is multiplied by it, global pooling uses the mask sum N per position.

Supported: model versions 3–11 that are plain convnets (``ordinary_block`` /
``gpool_block``) with ReLU (or identity) activations — the g170/g180-era nets
(version 8 is the common one). Anything newer or different raises
:class:`KataGoFormatError` saying what was found.

ONNX signature (batch and board height/width are all dynamic; NCHW, row-major boards,
``y = 0`` is the **top** row as in KataGo, point index ``pos = y * W + x``):

* inputs ``input_spatial`` float32 [batch, 22, H, W] and ``input_global`` float32
  [batch, 19] — KataGo's inputs version 7 features (``NNInputs::fillRowV7``);
  plane 0 must be 1 on the board and 0 elsewhere (boards smaller than H×W go in
  the top-left corner).
* ``out_policy`` [batch, H*W + 1]: raw policy logits, board points then pass.
* ``out_value`` [batch, 3]: raw logits of win / loss / noResult for the side to move.
* ``out_score`` [batch, 4]: raw scoreMean, scoreStdev (before softplus), lead,
  varTimeLeft (before softplus), side to move; KataGo multiplies by 20, 20, 20, 40.
  Version 9–11 nets' two short-term error outputs are dropped; versions 4–7 have no
  lead/varTimeLeft (lead repeats scoreMean, varTimeLeft is 0); version 3's single
  output is its pre-arctan score value (KataGo post-processes it differently).
* ``out_ownership`` [batch, H, W]: raw ownership (tanh → +1 = side to move owns).

Off-board points (plane 0 = 0) get meaningless logits/ownership; all-zero rows (batch
padding) give finite garbage, never NaN.

Metadata: ``tabula.game=go``, ``tabula.codec=katago-v7`` (``katago-vN`` for the older
input versions), ``tabula.value=katago``, ``tabula.katago.*`` (model name, model and
input versions, parameter count as KataGo counts it), ``tabula.source``,
``tabula.converted_by``.

Needs ``onnx`` to convert (the ``test``/``train`` extras); reading needs only numpy.
"""

from __future__ import annotations

import gzip
import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Union

import numpy as np

__all__ = ["KataGoFormatError", "KataGoModel", "read_model", "parse_model", "to_onnx",
           "import_katago", "ImportSummary", "default_output", "input_version",
           "INPUT_NAMES", "OUTPUT_NAMES"]

#: model versions this importer reads (KataGo's own range is 3–17)
MIN_VERSION = 3
MAX_VERSION = 11
INPUT_NAMES = ("input_spatial", "input_global")
OUTPUT_NAMES = ("out_policy", "out_value", "out_score", "out_ownership")
SUPPORTED = ("model versions 3-11, convnets with ordinary_block/gpool_block and ReLU "
             "activations (e.g. the g170 nets, version 8)")


class KataGoFormatError(ValueError):
    """The file is not a KataGo model this importer can read (message says why)."""


# -- in-memory description -------------------------------------------------------------------------

@dataclass
class Conv:
    """Convolution without bias; ``weight`` is [out, in, ky, kx] (converted from the file's HWIO)."""

    name: str
    weight: np.ndarray
    dilation: tuple[int, int] = (1, 1)

    @property
    def in_channels(self) -> int:
        return int(self.weight.shape[1])

    @property
    def out_channels(self) -> int:
        return int(self.weight.shape[0])

    def params(self) -> int:
        return int(self.weight.size)


@dataclass
class BatchNorm:
    """Batch norm as stored; ``scale``/``bias`` are None when the file has none (1 / 0)."""

    name: str
    mean: np.ndarray
    variance: np.ndarray
    epsilon: float
    scale: np.ndarray | None = None
    bias: np.ndarray | None = None

    @property
    def channels(self) -> int:
        return int(self.mean.size)

    def merged(self) -> tuple[np.ndarray, np.ndarray]:
        """Per-channel (multiplier, offset) equivalent to this batch norm (float64)."""
        scale = np.ones(self.channels) if self.scale is None else self.scale.astype(np.float64)
        bias = np.zeros(self.channels) if self.bias is None else self.bias.astype(np.float64)
        mul = scale / np.sqrt(self.variance.astype(np.float64) + self.epsilon)
        return mul, bias - mul * self.mean.astype(np.float64)

    def params(self) -> int:
        """KataGo's count: the learned scale and bias only."""
        return sum(a.size for a in (self.scale, self.bias) if a is not None)


@dataclass
class Activation:
    """``relu`` (every net before version 11) or ``identity``."""

    name: str
    kind: str = "relu"


@dataclass
class MatMul:
    """Dense layer without bias; ``weight`` is [in, out]."""

    name: str
    weight: np.ndarray

    def params(self) -> int:
        return int(self.weight.size)


@dataclass
class MatBias:
    name: str
    bias: np.ndarray

    def params(self) -> int:
        return int(self.bias.size)


@dataclass
class OrdinaryBlock:
    """trunk += conv2(act(midBN(conv1(act(preBN(trunk))))))."""

    name: str
    pre_bn: BatchNorm
    pre_act: Activation
    conv1: Conv
    mid_bn: BatchNorm
    mid_act: Activation
    conv2: Conv

    kind = "ordinary"

    def params(self) -> int:
        return sum(x.params() for x in (self.pre_bn, self.conv1, self.mid_bn, self.conv2))


@dataclass
class GPoolBlock:
    """Residual block whose middle gets a per-channel bias from globally pooled features."""

    name: str
    pre_bn: BatchNorm
    pre_act: Activation
    regular_conv: Conv
    gpool_conv: Conv
    gpool_bn: BatchNorm
    gpool_act: Activation
    gpool_to_bias: MatMul
    mid_bn: BatchNorm
    mid_act: Activation
    final_conv: Conv

    kind = "gpool"

    def params(self) -> int:
        return sum(x.params() for x in (self.pre_bn, self.regular_conv, self.gpool_conv, self.gpool_bn,
                                        self.gpool_to_bias, self.mid_bn, self.final_conv))


Block = Union[OrdinaryBlock, GPoolBlock]


@dataclass
class Trunk:
    name: str
    channels: int
    mid_channels: int
    regular_channels: int
    dilated_channels: int
    gpool_channels: int
    initial_conv: Conv
    initial_matmul: MatMul
    blocks: list[Block]
    tip_bn: BatchNorm
    tip_act: Activation

    def params(self) -> int:
        return (self.initial_conv.params() + self.initial_matmul.params()
                + sum(b.params() for b in self.blocks) + self.tip_bn.params())


@dataclass
class PolicyHead:
    name: str
    p1_conv: Conv
    g1_conv: Conv
    g1_bn: BatchNorm
    g1_act: Activation
    gpool_to_bias: MatMul
    p1_bn: BatchNorm
    p1_act: Activation
    p2_conv: Conv
    gpool_to_pass: MatMul

    def params(self) -> int:
        return sum(x.params() for x in (self.p1_conv, self.g1_conv, self.g1_bn, self.gpool_to_bias,
                                        self.p1_bn, self.p2_conv, self.gpool_to_pass))


@dataclass
class ValueHead:
    name: str
    v1_conv: Conv
    v1_bn: BatchNorm
    v1_act: Activation
    v2_mul: MatMul
    v2_bias: MatBias
    v2_act: Activation
    v3_mul: MatMul
    v3_bias: MatBias
    sv3_mul: MatMul
    sv3_bias: MatBias
    ownership_conv: Conv

    def params(self) -> int:
        return sum(x.params() for x in (self.v1_conv, self.v1_bn, self.v2_mul, self.v2_bias, self.v3_mul,
                                        self.v3_bias, self.sv3_mul, self.sv3_bias, self.ownership_conv))


@dataclass
class KataGoModel:
    """A whole KataGo convnet as read from its file."""

    name: str
    version: int
    spatial_inputs: int
    global_inputs: int
    trunk: Trunk
    policy: PolicyHead
    value: ValueHead
    source: str = ""
    block_kinds: list[str] = field(default_factory=list)

    @property
    def input_version(self) -> int:
        return input_version(self.version)

    def params(self) -> int:
        """Parameter count as KataGo reports it (BN counts scale + bias only)."""
        return self.trunk.params() + self.policy.params() + self.value.params()


#: (spatial, global) input feature counts per inputs version (nninputs.h)
INPUT_FEATURES = {3: (22, 14), 4: (22, 14), 5: (13, 12), 6: (22, 16), 7: (22, 19)}


def input_version(model_version: int) -> int:
    """KataGo's input-features version for a model version (``NNModelVersion::getInputsVersion``)."""
    if model_version >= 8:
        return 7
    return {7: 6, 6: 5, 5: 4, 4: 3, 3: 3}[model_version]


#: score outputs per model version (sv3 layer width)
def _score_channels(version: int) -> int:
    return 6 if version >= 9 else 4 if version == 8 else 2 if version >= 4 else 1


# -- reading -------------------------------------------------------------------------------------

_TOKEN = re.compile(rb"\s*(\S+)")
_SPACE = b" \t\n\r\x0b\x0c"


class _Reader:
    """Whitespace-separated tokens plus weight blocks (binary ``@BIN@`` or decimal text).

    Whether weights are binary or text is decided at the first weight block, so a
    model's file name does not have to tell.
    """

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0
        self.binary: bool | None = None
        self.tokens: list[bytes] | None = None  # text mode: every token after the switch
        self.ti = 0

    def word(self, what: str) -> str:
        if self.tokens is not None:
            if self.ti >= len(self.tokens):
                raise KataGoFormatError(f"file ends before {what} (truncated?)")
            tok = self.tokens[self.ti]
            self.ti += 1
        else:
            m = _TOKEN.match(self.data, self.pos)
            if m is None:
                raise KataGoFormatError(f"file ends before {what} (truncated?)")
            tok, self.pos = m.group(1), m.end()
        if len(tok) > 200:
            raise KataGoFormatError(f"expected {what}, found {len(tok)} bytes of binary data")
        return tok.decode("latin-1")

    def integer(self, what: str) -> int:
        tok = self.word(what)
        try:
            return int(tok)
        except ValueError:
            raise KataGoFormatError(f"expected an integer for {what}, found {tok[:40]!r}") from None

    def number(self, what: str) -> float:
        tok = self.word(what)
        try:
            return float(tok)
        except ValueError:
            raise KataGoFormatError(f"expected a number for {what}, found {tok[:40]!r}") from None

    def flag(self, what: str) -> bool:
        tok = self.word(what)
        if tok not in ("0", "1"):
            raise KataGoFormatError(f"expected 0 or 1 for {what}, found {tok[:40]!r}")
        return tok == "1"

    def floats(self, n: int, what: str) -> np.ndarray:
        """``n`` finite float32 weights of layer ``what``."""
        if self.binary is None:
            self._choose_mode()
        arr = self._binary_floats(n, what) if self.binary else self._text_floats(n, what)
        if not np.isfinite(arr).all():
            raise KataGoFormatError(f"{what}: NaN or infinite weight in the file")
        return arr

    def _choose_mode(self) -> None:
        rest = self.data[self.pos:self.pos + 200].lstrip(_SPACE)
        self.binary = rest.startswith(b"@")
        if not self.binary:
            self.tokens = self.data[self.pos:].split()
            self.ti = 0

    def _binary_floats(self, n: int, what: str) -> np.ndarray:
        start = self.pos
        while self.pos < len(self.data) and self.data[self.pos] in _SPACE and self.pos - start <= 100:
            self.pos += 1
        if self.pos >= len(self.data):
            raise KataGoFormatError(f"{what}: file ends before its weights (truncated?)")
        if self.data[self.pos:self.pos + 5] != b"@BIN@":
            raise KataGoFormatError(f"{what}: expected a binary weight block '@BIN@', found "
                                    f"{self.data[self.pos:self.pos + 12]!r}")
        self.pos += 5
        have = (len(self.data) - self.pos) // 4
        if have < n:
            raise KataGoFormatError(f"{what}: expected {n} float32 weights, the file ends after {have} "
                                    "(truncated?)")
        arr = np.frombuffer(self.data, dtype="<f4", count=n, offset=self.pos).astype(np.float32)
        self.pos += 4 * n
        return arr

    def _text_floats(self, n: int, what: str) -> np.ndarray:
        assert self.tokens is not None
        chunk = self.tokens[self.ti:self.ti + n]
        if len(chunk) < n:
            raise KataGoFormatError(f"{what}: expected {n} weights, the file ends after {len(chunk)} "
                                    "(truncated?)")
        try:
            arr = np.array(chunk).astype(np.float32)
        except ValueError:
            raise KataGoFormatError(f"{what}: weights are neither a binary '@BIN@' block nor decimal "
                                    "numbers") from None
        self.ti += n
        return arr

    def at_end(self) -> bool:
        if self.tokens is not None:
            return self.ti >= len(self.tokens)
        return not self.data[self.pos:].strip(_SPACE)


def _positive(r: _Reader, what: str) -> int:
    n = r.integer(what)
    if n <= 0:
        raise KataGoFormatError(f"{what} must be positive, found {n}")
    return n


def _read_conv(r: _Reader) -> Conv:
    name = r.word("a convolution layer name")
    ky, kx = _positive(r, f"{name}: kernel height"), _positive(r, f"{name}: kernel width")
    cin, cout = _positive(r, f"{name}: input channels"), _positive(r, f"{name}: output channels")
    dy, dx = _positive(r, f"{name}: dilation y"), _positive(r, f"{name}: dilation x")
    if ky % 2 == 0 or kx % 2 == 0:
        raise KataGoFormatError(f"{name}: convolution kernel {ky}x{kx} is not odd-sized")
    w = r.floats(ky * kx * cin * cout, name).reshape(ky, kx, cin, cout)
    return Conv(name, np.ascontiguousarray(w.transpose(3, 2, 0, 1)), (dy, dx))


def _read_bn(r: _Reader) -> BatchNorm:
    name = r.word("a batch norm layer name")
    c = _positive(r, f"{name}: channels")
    eps = r.number(f"{name}: epsilon")
    if not (eps > 0 and np.isfinite(eps)):
        raise KataGoFormatError(f"{name}: epsilon {eps} is not positive and finite")
    has_scale, has_bias = r.flag(f"{name}: has-scale flag"), r.flag(f"{name}: has-bias flag")
    mean, var = r.floats(c, f"{name} (mean)"), r.floats(c, f"{name} (variance)")
    scale = r.floats(c, f"{name} (scale)") if has_scale else None
    bias = r.floats(c, f"{name} (bias)") if has_bias else None
    if (var + eps <= 0).any():
        raise KataGoFormatError(f"{name}: variance + epsilon is not positive")
    return BatchNorm(name, mean, var, eps, scale, bias)


def _read_act(r: _Reader, version: int) -> Activation:
    name = r.word("an activation layer name")
    if version < 11:
        return Activation(name, "relu")
    kind = r.word(f"{name}: activation kind")
    if kind == "ACTIVATION_RELU":
        return Activation(name, "relu")
    if kind == "ACTIVATION_IDENTITY":
        return Activation(name, "identity")
    raise KataGoFormatError(f"{name}: activation {kind} is not supported (only ACTIVATION_RELU and "
                            f"ACTIVATION_IDENTITY); this importer supports {SUPPORTED}")


def _read_matmul(r: _Reader) -> MatMul:
    name = r.word("a matmul layer name")
    cin, cout = _positive(r, f"{name}: input channels"), _positive(r, f"{name}: output channels")
    return MatMul(name, r.floats(cin * cout, name).reshape(cin, cout))


def _read_matbias(r: _Reader) -> MatBias:
    name = r.word("a bias layer name")
    c = _positive(r, f"{name}: channels")
    return MatBias(name, r.floats(c, name))


def _expect(cond: bool, msg: str) -> None:
    if not cond:
        raise KataGoFormatError(f"inconsistent shapes: {msg}")


def _read_ordinary(r: _Reader, version: int, trunk_ch: int) -> OrdinaryBlock:
    name = r.word("block name")
    b = OrdinaryBlock(name, _read_bn(r), _read_act(r, version), _read_conv(r), _read_bn(r),
                      _read_act(r, version), _read_conv(r))
    _expect(b.pre_bn.channels == trunk_ch == b.conv1.in_channels == b.conv2.out_channels,
            f"{name}: block channels do not match the trunk's {trunk_ch}")
    _expect(b.mid_bn.channels == b.conv1.out_channels == b.conv2.in_channels,
            f"{name}: mid batch norm / conv channels differ")
    return b


def _read_gpool(r: _Reader, version: int, trunk_ch: int) -> GPoolBlock:
    name = r.word("block name")
    b = GPoolBlock(name, _read_bn(r), _read_act(r, version), _read_conv(r), _read_conv(r), _read_bn(r),
                   _read_act(r, version), _read_matmul(r), _read_bn(r), _read_act(r, version),
                   _read_conv(r))
    _expect(b.pre_bn.channels == trunk_ch == b.regular_conv.in_channels == b.gpool_conv.in_channels
            == b.final_conv.out_channels, f"{name}: block channels do not match the trunk's {trunk_ch}")
    _expect(b.gpool_bn.channels == b.gpool_conv.out_channels
            and b.gpool_to_bias.weight.shape[0] == 3 * b.gpool_bn.channels,
            f"{name}: global pooling channels differ")
    _expect(b.mid_bn.channels == b.regular_conv.out_channels == b.gpool_to_bias.weight.shape[1]
            == b.final_conv.in_channels, f"{name}: mid channels differ")
    return b


_BLOCK_READERS = {"ordinary_block": _read_ordinary, "gpool_block": _read_gpool}


def _read_trunk(r: _Reader, version: int, spatial: int, global_: int) -> Trunk:
    name = r.word("the trunk")
    nblocks = _positive(r, "number of trunk blocks")
    chans = [r.integer(f"trunk {what} channels") for what in ("main", "mid", "regular", "dilated", "gpool")]
    if min(chans[:3] + chans[4:]) <= 0:  # the dilated count is unused and may be 0
        raise KataGoFormatError(f"trunk channel counts must be positive, found {chans}")
    conv, mm = _read_conv(r), _read_matmul(r)
    _expect(conv.in_channels == spatial and conv.out_channels == chans[0],
            f"initial conv is {conv.in_channels}->{conv.out_channels}, expected {spatial}->{chans[0]}")
    _expect(mm.weight.shape == (global_, chans[0]),
            f"global input matmul is {mm.weight.shape}, expected ({global_}, {chans[0]})")
    blocks: list[Block] = []
    for i in range(nblocks):
        kind = r.word(f"the kind of block {i + 1}")
        reader = _BLOCK_READERS.get(kind)
        if reader is None:
            raise KataGoFormatError(f"block {i + 1} is a {kind!r}, which is not supported; this importer "
                                    f"supports {SUPPORTED}")
        blocks.append(reader(r, version, chans[0]))
    tip = _read_bn(r)
    _expect(tip.channels == chans[0], "trunk tip batch norm channels")
    return Trunk(name, *chans, conv, mm, blocks, tip, _read_act(r, version))


def _read_policy(r: _Reader, version: int, trunk_ch: int) -> PolicyHead:
    name = r.word("the policy head")
    h = PolicyHead(name, _read_conv(r), _read_conv(r), _read_bn(r), _read_act(r, version), _read_matmul(r),
                   _read_bn(r), _read_act(r, version), _read_conv(r), _read_matmul(r))
    p1, g1 = h.p1_conv.out_channels, h.g1_conv.out_channels
    _expect(h.p1_conv.in_channels == h.g1_conv.in_channels == trunk_ch, "policy head input channels")
    _expect(h.g1_bn.channels == g1 and h.p1_bn.channels == p1, "policy head batch norm channels")
    _expect(h.gpool_to_bias.weight.shape == (3 * g1, p1), "policy head pooled-bias matmul shape")
    _expect(h.p2_conv.in_channels == p1 and h.p2_conv.out_channels == 1, "policy output conv shape")
    _expect(h.gpool_to_pass.weight.shape == (3 * g1, 1), "policy pass matmul shape")
    return h


def _read_value(r: _Reader, version: int, trunk_ch: int) -> ValueHead:
    name = r.word("the value head")
    h = ValueHead(name, _read_conv(r), _read_bn(r), _read_act(r, version), _read_matmul(r), _read_matbias(r),
                  _read_act(r, version), _read_matmul(r), _read_matbias(r), _read_matmul(r), _read_matbias(r),
                  _read_conv(r))
    v1, v2 = h.v1_conv.out_channels, h.v2_mul.weight.shape[1]
    nscore = _score_channels(version)
    _expect(h.v1_conv.in_channels == trunk_ch and h.v1_bn.channels == v1, "value head first layer")
    _expect(h.v2_mul.weight.shape[0] == 3 * v1 and h.v2_bias.bias.size == v2, "value head second layer")
    _expect(h.v3_mul.weight.shape == (v2, 3) and h.v3_bias.bias.size == 3, "value output layer (3 outputs)")
    _expect(h.sv3_mul.weight.shape == (v2, nscore) and h.sv3_bias.bias.size == nscore,
            f"score output layer ({nscore} outputs for model version {version})")
    _expect(h.ownership_conv.in_channels == v1 and h.ownership_conv.out_channels == 1, "ownership conv shape")
    return h


_NEWER_FEATURES = {
    12: "an optimistic policy channel",
    13: "post-processing multipliers in the header",
    14: "post-processing multipliers in the header",
    15: "a pass-move MLP, metadata encoder and extra header fields",
    16: "Q-value policy channels and a pass-move MLP",
    17: "transformer options and a pass-move MLP",
}


def _check_version(version: int) -> None:
    if MIN_VERSION <= version <= MAX_VERSION:
        return
    if version < MIN_VERSION:
        why = "too old (KataGo itself no longer reads it)" if version >= 0 else "invalid"
    else:
        why = f"it has {_NEWER_FEATURES.get(version, 'a layout newer than KataGo 1.17 knows')}"
    raise KataGoFormatError(f"model version {version} is not supported: {why}; this importer supports "
                            f"{SUPPORTED}")


def parse_model(data: bytes, source: str = "") -> KataGoModel:
    """Parse a decompressed KataGo model stream (binary or text weights)."""
    r = _Reader(data)
    name = r.word("the model name")
    try:
        version = r.integer("the model version")
    except KataGoFormatError as exc:
        raise KataGoFormatError(f"{exc}; is this a KataGo model file?") from None
    _check_version(version)
    spatial = _positive(r, "number of spatial inputs")
    global_ = _positive(r, "number of global inputs")
    want = INPUT_FEATURES[input_version(version)]
    if (spatial, global_) != want:
        raise KataGoFormatError(f"a version {version} model must have {want[0]} spatial and {want[1]} global "
                                f"inputs (inputs v{input_version(version)}), found {spatial} and {global_}")
    trunk = _read_trunk(r, version, spatial, global_)
    policy = _read_policy(r, version, trunk.channels)
    value = _read_value(r, version, trunk.channels)
    if not r.at_end():
        raise KataGoFormatError("unexpected data after the value head (a newer or unknown layout?)")
    return KataGoModel(name, version, spatial, global_, trunk, policy, value, source,
                       [b.kind for b in trunk.blocks])


def _load_bytes(path: Path) -> bytes:
    raw = path.read_bytes()
    if raw[:2] != b"\x1f\x8b":
        return raw
    try:
        return gzip.decompress(raw)
    except (EOFError, OSError, zlib.error) as exc:
        raise KataGoFormatError(f"broken gzip data ({exc or 'truncated'})") from None


def read_model(path: str | Path) -> KataGoModel:
    """Read a ``.bin.gz`` / ``.bin`` / ``.txt.gz`` / ``.txt`` KataGo model (gzip detected by content)."""
    path = Path(path)
    try:
        return parse_model(_load_bytes(path), path.name)
    except KataGoFormatError as exc:
        raise KataGoFormatError(f"{path.name}: {exc}") from None


# -- ONNX ---------------------------------------------------------------------------------------

class _Graph:
    """Accumulates ONNX nodes and initialisers with unique names."""

    def __init__(self) -> None:
        from onnx import helper, numpy_helper

        self.helper, self.numpy_helper = helper, numpy_helper
        self.nodes: list = []
        self.inits: list = []
        self.n = 0

    def const(self, name: str, arr: np.ndarray) -> str:
        self.inits.append(self.numpy_helper.from_array(np.ascontiguousarray(arr), name))
        return name

    def op(self, op: str, inputs: list[str], name: str, out: str | None = None, **attrs) -> str:
        self.n += 1
        out = out or f"{name}/{op}{self.n}"
        self.nodes.append(self.helper.make_node(op, inputs, [out], name=f"{name}/{op}{self.n}", **attrs))
        return out


def _f32(a: np.ndarray) -> np.ndarray:
    return np.asarray(a, dtype=np.float32)


class _Builder:
    """Emits KataGo's forward pass; batch norms that follow a convolution are folded into it."""

    def __init__(self, g: _Graph, spatial: str, global_: str) -> None:
        self.g = g
        self.g.const("k/axes23", np.array([2, 3], np.int64))
        self.g.const("k/axes1", np.array([1], np.int64))
        self.g.const("k/one", np.array(1.0, np.float32))
        self.g.const("k/minus1", np.array(-1.0, np.float32))
        self.g.const("k/14", np.array(14.0, np.float32))
        self.g.const("k/0.1", np.array(0.1, np.float32))
        self.g.const("k/start0", np.array([0], np.int64))
        self.g.const("k/end1", np.array([1], np.int64))
        self.mask = g.op("Slice", [spatial, "k/start0", "k/end1", "k/axes1"], "mask", out="mask")  # [B,1,H,W]
        self.mask_m1 = g.op("Sub", [self.mask, "k/one"], "mask", out="mask_minus_1")
        n = g.op("ReduceSum", [self.mask, "k/axes23"], "mask", keepdims=0)  # [B, 1]
        n = g.op("Max", [n, "k/one"], "mask", out="mask_sum")  # all-zero padding rows give no NaN
        k1 = g.op("Mul", [g.op("Sub", [g.op("Sqrt", [n], "mask"), "k/14"], "mask"), "k/0.1"], "mask",
                  out="pool_k1")
        self.n, self.k1 = n, k1
        self.k2 = g.op("Sub", [g.op("Mul", [k1, k1], "mask"), "k/0.1"], "mask", out="pool_k2")
        self.spatial, self.global_ = spatial, global_

    # layers
    def conv(self, x: str, conv: Conv, name: str, mul: np.ndarray | None = None,
             bias: np.ndarray | None = None) -> str:
        """Convolution, optionally with a folded per-output-channel (mul, bias)."""
        w = conv.weight.astype(np.float64)
        if mul is not None:
            w = w * mul[:, None, None, None]
        ky, kx = conv.weight.shape[2:]
        dy, dx = conv.dilation
        py, px = dy * (ky // 2), dx * (kx // 2)
        ins = [x, self.g.const(f"{name}/w", _f32(w))]
        if bias is not None:
            ins.append(self.g.const(f"{name}/b", _f32(bias)))
        return self.g.op("Conv", ins, name, kernel_shape=[ky, kx], pads=[py, px, py, px], dilations=[dy, dx])

    def act_mask(self, x: str, act: Activation, name: str) -> str:
        if act.kind == "relu":
            x = self.g.op("Relu", [x], name)
        return self.g.op("Mul", [x, self.mask], name)

    def bn_act(self, x: str, bn: BatchNorm, act: Activation, name: str) -> str:
        mul, add = bn.merged()
        c = bn.channels
        x = self.g.op("Mul", [x, self.g.const(f"{name}/scale", _f32(mul).reshape(1, c, 1, 1))], name)
        x = self.g.op("Add", [x, self.g.const(f"{name}/bias", _f32(add).reshape(1, c, 1, 1))], name)
        return self.act_mask(x, act, name)

    def conv_bn_act(self, x: str, conv: Conv, bn: BatchNorm, act: Activation, name: str) -> str:
        mul, add = bn.merged()
        return self.act_mask(self.conv(x, conv, name, mul, add), act, name)

    def matmul(self, v: str, w: np.ndarray, name: str, bias: np.ndarray | None = None) -> str:
        wname = self.g.const(f"{name}/w", _f32(w))
        if bias is None:
            return self.g.op("MatMul", [v, wname], name)
        return self.g.op("Gemm", [v, wname, self.g.const(f"{name}/b", _f32(bias))], name)

    def add_channel_bias(self, x: str, v: str, name: str) -> str:
        return self.g.op("Add", [x, self.g.op("Unsqueeze", [v, "k/axes23"], name)], name)

    def mean(self, x: str, name: str) -> str:
        s = self.g.op("ReduceSum", [x, "k/axes23"], name, keepdims=0)
        return self.g.op("Div", [s, self.n], name)

    def gpool(self, x: str, name: str) -> str:
        """[mean, mean*(sqrt N - 14)/10, masked max] per channel → [B, 3C]."""
        mean = self.mean(x, name)
        scaled = self.g.op("Mul", [mean, self.k1], name)
        mx = self.g.op("ReduceMax", [self.g.op("Add", [x, self.mask_m1], name)], name, axes=[2, 3], keepdims=0)
        mx = self.g.op("Max", [mx, "k/minus1"], name)  # KataGo starts its max at -1
        return self.g.op("Concat", [mean, scaled, mx], name, axis=1)

    def value_pool(self, x: str, name: str) -> str:
        """[mean, mean*k1, mean*(k1² - 0.1)] per channel → [B, 3C]."""
        mean = self.mean(x, name)
        a = self.g.op("Mul", [mean, self.k1], name)
        b = self.g.op("Mul", [mean, self.k2], name)
        return self.g.op("Concat", [mean, a, b], name, axis=1)

    # blocks and heads
    def trunk(self, t: Trunk) -> str:
        x = self.conv(self.spatial, t.initial_conv, "trunk/conv")
        x = self.add_channel_bias(x, self.matmul(self.global_, t.initial_matmul.weight, "trunk/global"), "trunk")
        for i, b in enumerate(t.blocks):
            name = f"block{i}"
            y = self.ordinary(x, b, name) if isinstance(b, OrdinaryBlock) else self.gpool_block(x, b, name)
            x = self.g.op("Add", [x, y], name)
        return self.bn_act(x, t.tip_bn, t.tip_act, "trunk/tip")

    def ordinary(self, x: str, b: OrdinaryBlock, name: str) -> str:
        a = self.bn_act(x, b.pre_bn, b.pre_act, f"{name}/pre")
        m = self.conv_bn_act(a, b.conv1, b.mid_bn, b.mid_act, f"{name}/conv1")
        return self.conv(m, b.conv2, f"{name}/conv2")

    def gpool_block(self, x: str, b: GPoolBlock, name: str) -> str:
        a = self.bn_act(x, b.pre_bn, b.pre_act, f"{name}/pre")
        g = self.conv_bn_act(a, b.gpool_conv, b.gpool_bn, b.gpool_act, f"{name}/gpool")
        mul, add = b.mid_bn.merged()
        r = self.conv(a, b.regular_conv, f"{name}/regular", mul, add)
        bias = self.matmul(self.gpool(g, f"{name}/pool"), b.gpool_to_bias.weight * mul[None, :], f"{name}/tobias")
        m = self.act_mask(self.add_channel_bias(r, bias, name), b.mid_act, f"{name}/mid")
        return self.conv(m, b.final_conv, f"{name}/final")

    def policy(self, trunk: str, h: PolicyHead) -> None:
        g = self.conv_bn_act(trunk, h.g1_conv, h.g1_bn, h.g1_act, "policy/g1")
        pooled = self.gpool(g, "policy/pool")
        mul, add = h.p1_bn.merged()
        p = self.conv(trunk, h.p1_conv, "policy/p1", mul, add)
        bias = self.matmul(pooled, h.gpool_to_bias.weight * mul[None, :], "policy/tobias")
        p = self.act_mask(self.add_channel_bias(p, bias, "policy/p1"), h.p1_act, "policy/p1")
        board = self.g.op("Flatten", [self.conv(p, h.p2_conv, "policy/p2")], "policy", axis=1)
        passes = self.matmul(pooled, h.gpool_to_pass.weight, "policy/pass")
        self.g.op("Concat", [board, passes], "policy", out="out_policy", axis=1)

    def value(self, trunk: str, h: ValueHead, version: int) -> None:
        mul, add = h.v1_bn.merged()
        v1 = self.act_mask(self.conv(trunk, h.v1_conv, "value/v1", mul, add), h.v1_act, "value/v1")
        v2 = self.matmul(self.value_pool(v1, "value/pool"), h.v2_mul.weight, "value/v2", h.v2_bias.bias)
        if h.v2_act.kind == "relu":
            v2 = self.g.op("Relu", [v2], "value/v2")
        self.g.op("Gemm", [v2, self.g.const("value/v3/w", h.v3_mul.weight),
                           self.g.const("value/v3/b", h.v3_bias.bias)], "value/v3", out="out_value")
        w, b = _score_layer(h, version)
        self.g.op("Gemm", [v2, self.g.const("value/sv3/w", w), self.g.const("value/sv3/b", b)], "value/sv3",
                  out="out_score")
        own = self.conv(v1, h.ownership_conv, "value/ownership")
        self.g.op("Squeeze", [own, "k/axes1"], "value/ownership", out="out_ownership")


def _score_layer(h: ValueHead, version: int) -> tuple[np.ndarray, np.ndarray]:
    """The score layer as 4 outputs: scoreMean, scoreStdev, lead, varTimeLeft (raw)."""
    w, b = h.sv3_mul.weight, h.sv3_bias.bias
    if version >= 8:
        return _f32(w[:, :4]), _f32(b[:4])
    zero_w, zero_b = np.zeros((w.shape[0], 1), np.float32), np.zeros(1, np.float32)
    if version >= 4:  # mean, stdev; lead = mean; no varTimeLeft
        return _f32(np.concatenate([w, w[:, :1], zero_w], 1)), _f32(np.concatenate([b, b[:1], zero_b]))
    return _f32(np.concatenate([w, zero_w, w, zero_w], 1)), _f32(np.concatenate([b, zero_b, b, zero_b]))


def codec_name(model: KataGoModel) -> str:
    return f"katago-v{model.input_version}"


def to_onnx(model: KataGoModel, *, opset: int = 17):
    """The ONNX ``ModelProto`` for ``model`` (signature in the module docstring)."""
    import onnx
    from onnx import TensorProto, helper

    g = _Graph()
    b = _Builder(g, INPUT_NAMES[0], INPUT_NAMES[1])
    trunk = b.trunk(model.trunk)
    b.policy(trunk, model.policy)
    b.value(trunk, model.value, model.version)
    f = TensorProto.FLOAT
    graph = helper.make_graph(
        g.nodes, f"katago-{model.name}",
        [helper.make_tensor_value_info(INPUT_NAMES[0], f, ["batch", model.spatial_inputs, "height", "width"]),
         helper.make_tensor_value_info(INPUT_NAMES[1], f, ["batch", model.global_inputs])],
        [helper.make_tensor_value_info("out_policy", f, ["batch", "moves"]),
         helper.make_tensor_value_info("out_value", f, ["batch", 3]),
         helper.make_tensor_value_info("out_score", f, ["batch", 4]),
         helper.make_tensor_value_info("out_ownership", f, ["batch", "height", "width"])],
        g.inits)
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="tabula")
    proto.ir_version = 8
    for k, v in metadata(model).items():
        proto.metadata_props.add(key=k, value=v)
    onnx.checker.check_model(proto)
    return proto


def metadata(model: KataGoModel) -> dict[str, str]:
    """The ``metadata_props`` written into the ONNX file."""
    return {
        "tabula.game": "go",
        "tabula.codec": codec_name(model),
        "tabula.value": "katago",
        "tabula.arch": f"b{len(model.trunk.blocks)}c{model.trunk.channels}",
        "tabula.katago.model_name": model.name,
        "tabula.katago.model_version": str(model.version),
        "tabula.katago.input_version": str(model.input_version),
        "tabula.katago.parameters": str(model.params()),
        "tabula.source": model.source,
        "tabula.converted_by": "tabula nets import-katago",
    }


# -- the command's entry point -------------------------------------------------------------------

_SUFFIXES = (".bin.gz", ".txt.gz", ".bin", ".txt", ".gz")


def default_output(src: str | Path) -> Path:
    """``dir/name.bin.gz`` → ``dir/name.onnx`` (likewise for .txt.gz, .bin, .txt)."""
    src = Path(src)
    for suffix in _SUFFIXES:
        if src.name.endswith(suffix) and len(src.name) > len(suffix):
            return src.with_name(src.name[: -len(suffix)] + ".onnx")
    return src.with_name(src.name + ".onnx")


@dataclass
class ImportSummary:
    """What ``tabula nets import-katago`` reports."""

    model_name: str
    model_version: int
    input_version: int
    blocks: int
    gpool_blocks: int
    channels: int
    parameters: int
    output: str
    size_bytes: int
    codec: str

    def lines(self) -> list[str]:
        out = [f"model:      {self.model_name} (KataGo model version {self.model_version}, "
               f"inputs v{self.input_version})",
               f"network:    {self.blocks} blocks ({self.gpool_blocks} global-pooling) x {self.channels} channels, "
               f"{self.parameters:,} parameters",
               f"wrote:      {self.output} ({self.size_bytes / 1e6:.2f} MB, codec {self.codec})"]
        if self.input_version != 7:
            out.append(f"note:       tabula's KataGo codec encodes inputs v7 (model versions 8-11); this net "
                       f"needs inputs v{self.input_version}")
        return out


def import_katago(src: str | Path, dst: str | Path | None = None) -> ImportSummary:
    """Convert the KataGo model ``src`` to ONNX at ``dst`` (default: :func:`default_output`)."""
    try:
        import onnx
    except ImportError:
        raise RuntimeError("converting KataGo models needs the onnx package: pip install onnx") from None
    model = read_model(src)
    out = Path(dst) if dst is not None else default_output(src)
    proto = to_onnx(model)
    out.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(proto, str(out))
    return ImportSummary(model.name, model.version, model.input_version, len(model.trunk.blocks),
                         model.block_kinds.count("gpool"), model.trunk.channels, model.params(), str(out),
                         out.stat().st_size, codec_name(model))
