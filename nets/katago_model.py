"""A whole KataGo model file (versions 3-17): header, trunk, policy head, value head.

Layout from KataGo's ``cpp/neuralnet/desc.cpp`` (``ModelDesc``, ``TrunkDesc``,
``PolicyHeadDesc``, ``ValueHeadDesc``); facts for version 8 in ``shared/formats/katago.md``.
What each version adds to the file:

* 11: an activation kind after every activation name (ReLU, identity, Mish, SiLU).
* 12: a second ("optimistic") policy output channel.
* 13: seven post-processing multipliers in the header (score mean/stdev/lead...).
* 15: metadata-encoder version, pass-alive flag and 6 reserved zeros in the header; trunk
  norm kind (batch norm or RMS norm) and 5 reserved zeros in the trunk; the pass logit
  from a small MLP (matmul, bias, activation, matmul) instead of one matmul.
* 16: four policy channels (two more: Q-value predictions nobody reads at inference).
* 17: the policy channel count (2 or 4) and 3 reserved zeros in the policy head, 3 in the
  value head; transformer blocks.
"""

from __future__ import annotations

import gzip
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .katago_blocks import Block, GPoolBlock, NestedBlock, read_block_stack
from .katago_layers import (Activation, BatchNorm, Conv, KataGoFormatError, MatBias, MatMul, Reader, RMSNorm,
                            expect, positive, read_act, read_bn, read_conv, read_matbias, read_matmul, read_rmsnorm)

__all__ = ["KataGoModel", "Trunk", "PolicyHead", "ValueHead", "MetaEncoder", "PostProcess", "parse_model",
           "read_model", "input_version", "INPUT_FEATURES", "MIN_VERSION", "MAX_VERSION", "SUPPORTED"]

#: model versions this importer reads (KataGo 1.17's own range)
MIN_VERSION = 3
MAX_VERSION = 17
SUPPORTED = "model versions 3-17 (KataGo 1.17)"


@dataclass
class PostProcess:
    """Output multipliers (header of version 13+; KataGo's defaults before)."""

    td_score: float = 20.0
    score_mean: float = 20.0
    score_stdev: float = 20.0
    lead: float = 20.0
    variance_time: float = 40.0
    shortterm_value_error: float = 0.25
    shortterm_score_error: float = 30.0

    FIELDS = ("td_score", "score_mean", "score_stdev", "lead", "variance_time", "shortterm_value_error",
              "shortterm_score_error")


@dataclass
class MetaEncoder:
    """The SGF-metadata encoder (human-style nets): 192 inputs → MLP → trunk-wide bias."""

    name: str
    version: int
    mul1: MatMul
    bias1: MatBias
    act1: Activation
    mul2: MatMul
    bias2: MatBias
    act2: Activation
    mul3: MatMul

    def params(self) -> int:
        return sum(x.params() for x in (self.mul1, self.bias1, self.mul2, self.bias2, self.mul3))


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
    tip_norm: BatchNorm | RMSNorm
    tip_act: Activation
    meta_encoder: MetaEncoder | None = None

    def params(self) -> int:
        meta = self.meta_encoder.params() if self.meta_encoder else 0
        return (self.initial_conv.params() + self.initial_matmul.params() + meta
                + sum(b.params() for b in self.blocks) + self.tip_norm.params())


@dataclass
class PolicyHead:
    """``p2_conv`` and the pass layers have one output per policy channel: 0 = policy,
    1 = optimistic policy (v12+), 2-3 = Q-value channels (v16+, unused at inference)."""

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
    pass_bias: MatBias | None = None  # v15+: pass = mul2(act(mul(pooled) + bias))
    pass_act: Activation | None = None
    gpool_to_pass2: MatMul | None = None

    @property
    def channels(self) -> int:
        return self.p2_conv.out_channels

    def params(self) -> int:
        return sum(x.params() for x in (self.p1_conv, self.g1_conv, self.g1_bn, self.gpool_to_bias, self.p1_bn,
                                        self.p2_conv, self.gpool_to_pass, self.pass_bias, self.gpool_to_pass2)
                   if x is not None)


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
    """A whole KataGo net as read from its file."""

    name: str
    version: int
    spatial_inputs: int
    global_inputs: int
    trunk: Trunk
    policy: PolicyHead
    value: ValueHead
    source: str = ""
    block_kinds: list[str] = field(default_factory=list)
    postprocess: PostProcess = field(default_factory=PostProcess)
    pass_alive_under_suicide: bool = False  # v15+ header flag (how KataGo computes the area features)

    @property
    def input_version(self) -> int:
        return input_version(self.version)

    def params(self) -> int:
        """Parameter count as KataGo reports it (BN counts scale + bias only)."""
        return self.trunk.params() + self.policy.params() + self.value.params()

    def inner_block_kinds(self) -> list[str]:
        """Kinds of every block, those inside nested bottleneck blocks included (depth first)."""
        out: list[str] = []
        for b in self.trunk.blocks:
            out.append(b.kind)
            if isinstance(b, NestedBlock):
                out.extend(b.kinds())
        return out

    def gpool_blocks(self) -> int:
        return sum(k == GPoolBlock.kind for k in self.inner_block_kinds())


#: (spatial, global) input feature counts per inputs version (nninputs.h)
INPUT_FEATURES = {3: (22, 14), 4: (22, 14), 5: (13, 12), 6: (22, 16), 7: (22, 19)}


def input_version(model_version: int) -> int:
    """KataGo's input-features version for a model version (``NNModelVersion::getInputsVersion``)."""
    if model_version >= 8:
        return 7
    return {7: 6, 6: 5, 5: 4, 4: 3, 3: 3}[model_version]


def _score_channels(version: int) -> int:
    """Score outputs per model version (sv3 layer width)."""
    return 6 if version >= 9 else 4 if version == 8 else 2 if version >= 4 else 1


def _policy_channels(version: int) -> int:
    return 4 if version == 16 else 2 if version >= 12 else 1


def _reserved(r: Reader, n: int, where: str) -> None:
    """``n`` option fields that KataGo 1.17 requires to be 0."""
    for i in range(n):
        v = r.integer(f"{where} option {i + 1}")
        if v != 0:
            raise KataGoFormatError(f"{where} option {i + 1} is {v}: a feature newer than KataGo 1.17, "
                                    "not supported")


# -- reading ------------------------------------------------------------------------------------

def _read_meta_encoder(r: Reader, version: int, meta_version: int, trunk_ch: int) -> MetaEncoder:
    name = r.word("the metadata encoder")
    n_in = r.integer(f"{name}: input channels")
    expect(n_in == 192, f"{name}: {n_in} metadata inputs, expected 192 (metadata encoder version 1)")
    m = MetaEncoder(name, meta_version, read_matmul(r), read_matbias(r), read_act(r, version), read_matmul(r),
                    read_matbias(r), read_act(r, version), read_matmul(r))
    expect(m.mul1.weight.shape[0] == 192 and m.mul1.weight.shape[1] == m.bias1.bias.size == m.mul2.weight.shape[0]
           and m.mul2.weight.shape[1] == m.bias2.bias.size == m.mul3.weight.shape[0]
           and m.mul3.weight.shape[1] == trunk_ch, f"{name}: layer shapes")
    return m


def _read_trunk(r: Reader, version: int, spatial: int, global_: int, meta_version: int) -> Trunk:
    name = r.word("the trunk")
    nblocks = positive(r, "number of trunk blocks")
    chans = [r.integer(f"trunk {what} channels") for what in ("main", "mid", "regular", "dilated", "gpool")]
    if min(chans[:3] + chans[4:]) <= 0:  # the dilated count is unused and may be 0
        raise KataGoFormatError(f"trunk channel counts must be positive, found {chans}")
    norm_kind = 0
    if version >= 15:
        norm_kind = r.integer("trunk norm kind")
        if norm_kind not in (0, 1):
            raise KataGoFormatError(f"trunk norm kind {norm_kind} is not supported (0 batch norm, 1 RMS norm)")
        _reserved(r, 5, "trunk")
    conv, mm = read_conv(r), read_matmul(r)
    expect(conv.in_channels == spatial and conv.out_channels == chans[0],
           f"initial conv is {conv.in_channels}->{conv.out_channels}, expected {spatial}->{chans[0]}")
    expect(mm.weight.shape == (global_, chans[0]),
           f"global input matmul is {mm.weight.shape}, expected ({global_}, {chans[0]})")
    meta = _read_meta_encoder(r, version, meta_version, chans[0]) if meta_version > 0 else None
    blocks = read_block_stack(r, version, chans[0], nblocks, "the trunk")
    tip: BatchNorm | RMSNorm = read_bn(r) if norm_kind == 0 else read_rmsnorm(r, with_beta=True)
    expect(tip.channels == chans[0], "trunk tip norm channels")
    return Trunk(name, *chans, conv, mm, blocks, tip, read_act(r, version), meta)


def _read_policy(r: Reader, version: int, trunk_ch: int) -> PolicyHead:
    name = r.word("the policy head")
    nout = _policy_channels(version)
    if version >= 17:
        nout = r.integer("policy head output channels")
        if nout not in (2, 4):
            raise KataGoFormatError(f"policy head has {nout} output channels, expected 2 or 4")
        _reserved(r, 3, "policy head")
    h = PolicyHead(name, read_conv(r), read_conv(r), read_bn(r), read_act(r, version), read_matmul(r),
                   read_bn(r), read_act(r, version), read_conv(r), read_matmul(r))
    if version >= 15:
        h.pass_bias, h.pass_act, h.gpool_to_pass2 = read_matbias(r), read_act(r, version), read_matmul(r)
    p1, g1 = h.p1_conv.out_channels, h.g1_conv.out_channels
    expect(h.p1_conv.in_channels == h.g1_conv.in_channels == trunk_ch, "policy head input channels")
    expect(h.g1_bn.channels == g1 and h.p1_bn.channels == p1, "policy head batch norm channels")
    expect(h.gpool_to_bias.weight.shape == (3 * g1, p1), "policy head pooled-bias matmul shape")
    expect(h.p2_conv.in_channels == p1 and h.p2_conv.out_channels == nout,
           f"policy output conv shape ({nout} channels for model version {version})")
    if h.gpool_to_pass2 is None:
        expect(h.gpool_to_pass.weight.shape == (3 * g1, nout), "policy pass matmul shape")
    else:
        assert h.pass_bias is not None
        expect(h.gpool_to_pass.weight.shape == (3 * g1, p1) and h.pass_bias.bias.size == p1
               and h.gpool_to_pass2.weight.shape == (p1, nout), "policy pass MLP shapes")
    return h


def _read_value(r: Reader, version: int, trunk_ch: int) -> ValueHead:
    name = r.word("the value head")
    if version >= 17:
        _reserved(r, 3, "value head")
    h = ValueHead(name, read_conv(r), read_bn(r), read_act(r, version), read_matmul(r), read_matbias(r),
                  read_act(r, version), read_matmul(r), read_matbias(r), read_matmul(r), read_matbias(r),
                  read_conv(r))
    v1, v2 = h.v1_conv.out_channels, h.v2_mul.weight.shape[1]
    nscore = _score_channels(version)
    expect(h.v1_conv.in_channels == trunk_ch and h.v1_bn.channels == v1, "value head first layer")
    expect(h.v2_mul.weight.shape[0] == 3 * v1 and h.v2_bias.bias.size == v2, "value head second layer")
    expect(h.v3_mul.weight.shape == (v2, 3) and h.v3_bias.bias.size == 3, "value output layer (3 outputs)")
    expect(h.sv3_mul.weight.shape == (v2, nscore) and h.sv3_bias.bias.size == nscore,
           f"score output layer ({nscore} outputs for model version {version})")
    expect(h.ownership_conv.in_channels == v1 and h.ownership_conv.out_channels == 1, "ownership conv shape")
    return h


def _check_version(version: int) -> None:
    if MIN_VERSION <= version <= MAX_VERSION:
        return
    if version < MIN_VERSION:
        why = "too old (KataGo itself no longer reads it)" if version >= 0 else "invalid"
    else:
        why = "newer than KataGo 1.17 knows"
    raise KataGoFormatError(f"model version {version} is not supported: {why}; this importer supports "
                            f"{SUPPORTED}")


def _read_header(r: Reader, version: int) -> tuple[PostProcess, int, bool]:
    """Post-processing multipliers (v13+), metadata-encoder version and pass-alive flag (v15+)."""
    post = PostProcess()
    if version >= 13:
        for key in PostProcess.FIELDS:
            val = r.number(f"the {key} multiplier")
            if not (val > 0 and np.isfinite(val)):
                raise KataGoFormatError(f"the {key} multiplier {val} is not positive and finite")
            setattr(post, key, val)
    meta_version, pass_alive = 0, False
    if version >= 15:
        meta_version = r.integer("the metadata encoder version")
        if meta_version not in (0, 1):
            raise KataGoFormatError(f"metadata encoder version {meta_version} is not supported (0 or 1)")
        pass_alive = r.flag("the pass-alive-under-suicide-rules flag")
        _reserved(r, 6, "model header")
    return post, meta_version, pass_alive


def parse_model(data: bytes, source: str = "") -> KataGoModel:
    """Parse a decompressed KataGo model stream (binary or text weights)."""
    r = Reader(data)
    name = r.word("the model name")
    try:
        version = r.integer("the model version")
    except KataGoFormatError as exc:
        raise KataGoFormatError(f"{exc}; is this a KataGo model file?") from None
    _check_version(version)
    spatial = positive(r, "number of spatial inputs")
    global_ = positive(r, "number of global inputs")
    want = INPUT_FEATURES[input_version(version)]
    if (spatial, global_) != want:
        raise KataGoFormatError(f"a version {version} model must have {want[0]} spatial and {want[1]} global "
                                f"inputs (inputs v{input_version(version)}), found {spatial} and {global_}")
    post, meta_version, pass_alive = _read_header(r, version)
    trunk = _read_trunk(r, version, spatial, global_, meta_version)
    policy = _read_policy(r, version, trunk.channels)
    value = _read_value(r, version, trunk.channels)
    if not r.at_end():
        raise KataGoFormatError("unexpected data after the value head (a newer or unknown layout?)")
    return KataGoModel(name, version, spatial, global_, trunk, policy, value, source,
                       [b.kind for b in trunk.blocks], post, pass_alive)


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
