"""KataGo model files, layer by layer: the token/weight reader and the primitive layers.

Facts: ``shared/formats/katago.md`` §1 and KataGo's ``cpp/neuralnet/desc.cpp``. Blocks are
in :mod:`nets.katago_blocks`, whole models in :mod:`nets.katago_import`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

__all__ = ["KataGoFormatError", "Reader", "Conv", "BatchNorm", "Activation", "MatMul", "MatBias",
           "RMSNorm", "positive", "expect", "read_conv", "read_bn", "read_act", "read_matmul",
           "read_matbias", "read_rmsnorm", "ACTIVATIONS"]

class KataGoFormatError(ValueError):
    """The file is not a KataGo model this importer can read (message says why)."""



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
    """``relu`` (every net before version 11), ``identity``, ``mish`` or ``silu``."""

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
class RMSNorm:
    """RMS normalisation over channels (``spatial``: over channels and on-board points) with
    optional ``beta``; the trunk tip's (``gamma`` + ``beta``) and the transformer blocks'
    (weight only) kinds."""

    name: str
    gamma: np.ndarray
    epsilon: float
    beta: np.ndarray | None = None
    spatial: bool = False

    @property
    def channels(self) -> int:
        return int(self.gamma.size)

    def params(self) -> int:
        return int(self.gamma.size) + (0 if self.beta is None else int(self.beta.size))




_TOKEN = re.compile(rb"\s*(\S+)")
_SPACE = b" \t\n\r\x0b\x0c"


class Reader:
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


def positive(r: Reader, what: str) -> int:
    n = r.integer(what)
    if n <= 0:
        raise KataGoFormatError(f"{what} must be positive, found {n}")
    return n


def read_conv(r: Reader) -> Conv:
    name = r.word("a convolution layer name")
    ky, kx = positive(r, f"{name}: kernel height"), positive(r, f"{name}: kernel width")
    cin, cout = positive(r, f"{name}: input channels"), positive(r, f"{name}: output channels")
    dy, dx = positive(r, f"{name}: dilation y"), positive(r, f"{name}: dilation x")
    if ky % 2 == 0 or kx % 2 == 0:
        raise KataGoFormatError(f"{name}: convolution kernel {ky}x{kx} is not odd-sized")
    w = r.floats(ky * kx * cin * cout, name).reshape(ky, kx, cin, cout)
    return Conv(name, np.ascontiguousarray(w.transpose(3, 2, 0, 1)), (dy, dx))


def read_bn(r: Reader) -> BatchNorm:
    name = r.word("a batch norm layer name")
    c = positive(r, f"{name}: channels")
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


#: activation kind in the file (model version 11+) -> our name
ACTIVATIONS = {"ACTIVATION_RELU": "relu", "ACTIVATION_IDENTITY": "identity", "ACTIVATION_MISH": "mish",
               "ACTIVATION_SILU": "silu"}


def read_act(r: Reader, version: int) -> Activation:
    """An activation: just a name before version 11 (always ReLU), name + kind from 11."""
    name = r.word("an activation layer name")
    if version < 11:
        return Activation(name, "relu")
    kind = r.word(f"{name}: activation kind")
    if kind not in ACTIVATIONS:
        raise KataGoFormatError(f"{name}: activation {kind} is not supported (supported: "
                                f"{', '.join(ACTIVATIONS)})")
    return Activation(name, ACTIVATIONS[kind])


def read_matmul(r: Reader) -> MatMul:
    name = r.word("a matmul layer name")
    cin, cout = positive(r, f"{name}: input channels"), positive(r, f"{name}: output channels")
    return MatMul(name, r.floats(cin * cout, name).reshape(cin, cout))


def read_matbias(r: Reader) -> MatBias:
    name = r.word("a bias layer name")
    c = positive(r, f"{name}: channels")
    return MatBias(name, r.floats(c, name))


def expect(cond: bool, msg: str) -> None:
    if not cond:
        raise KataGoFormatError(f"inconsistent shapes: {msg}")


def _rms_header(r: Reader, name: str) -> tuple[int, float]:
    c = positive(r, f"{name}: channels")
    eps = r.number(f"{name}: epsilon")
    if not (0 < eps <= 1):
        raise KataGoFormatError(f"{name}: RMS norm epsilon {eps} is not in (0, 1]")
    return c, eps


def read_rmsnorm(r: Reader, *, with_beta: bool) -> RMSNorm:
    """The trunk tip's RMS norm (``with_beta``: channels, eps, spatial, group size, gamma, beta)
    or a transformer block's (channels, eps, weight)."""
    name = r.word("an RMS norm layer name")
    c, eps = _rms_header(r, name)
    if not with_beta:
        return RMSNorm(name, r.floats(c, name), eps)
    spatial = r.integer(f"{name}: spatial flag") != 0
    group = r.integer(f"{name}: channel group size")
    if group != 0:
        raise KataGoFormatError(f"{name}: grouped RMS norm (group size {group}) is not supported "
                                "(KataGo does not run it either)")
    gamma, beta = r.floats(c, f"{name} (gamma)"), r.floats(c, f"{name} (beta)")
    return RMSNorm(name, gamma, eps, beta, spatial)
